/*
 * Queries: condition tables parsed into engine condition trees (validated
 * when the query is built), tree combinators, order_by terms, and running
 * a query in the engine, building instances only for the records
 * returned.
 */
#include <string.h>

#include "bindings.h"

static l_node *check_node(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, RM_NODE_MT);
}

/* A node userdata, empty until set_node: made before the engine node so
 * that a failing allocation cannot leak it. [-0, +1] */
static l_node *new_node(lua_State *L) {
  l_node *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->node = NULL;
  luaL_setmetatable(L, RM_NODE_MT);
  return u;
}

static void set_node(lua_State *L, l_node *u, rm_node *n, const rm_diag *d) {
  if (n == NULL) rml_raise(L, d);
  u->node = n;
}

static int node_gc(lua_State *L) {
  l_node *u = luaL_checkudata(L, 1, RM_NODE_MT);
  rm_node_unref(u->node);
  u->node = NULL;
  return 0;
}

/* Finds "field" or "field__op" in a condition key. */
static int parse_key(const rm_schema *s, const char *key, size_t len,
                     int *field, int *op, rm_diag *d) {
  const char *sep = NULL, *p;
  *op = RM_OP_EQ;
  if ((*field = rm_schema_find(s, key, len)) >= 0) return 0;
  for (p = key; p + 1 < key + len; p++)
    if (p[0] == '_' && p[1] == '_') sep = p;
  if (sep == NULL || (*field = rm_schema_find(s, key, (size_t)(sep - key))) < 0) {
    rm_diag_field_error(d, key, "unknown_field",
                        "%s: unknown field in condition '%s'",
                        rm_schema_name(s), key);
    return -1;
  }
  if ((*op = rm_op_parse(sep + 2, len - (size_t)(sep - key) - 2)) < 0) {
    rm_diag_field_error(d, rm_field_name(s, *field), "lookup",
                        "%s.%s: unknown lookup '%s' in '%s'",
                        rm_schema_name(s), rm_field_name(s, *field), sep + 2,
                        key);
    return -1;
  }
  return 0;
}

/* Values of an `in` condition from the list at the top of the stack,
 * into a scratch userdata pushed above it. Strings stay valid: the list
 * holds them. */
static rm_value *list_values(lua_State *L, size_t *n) {
  size_t i, len = (size_t)lua_rawlen(L, -1);
  rm_value *vals = lua_newuserdatauv(L, (len ? len : 1) * sizeof *vals, 0);
  for (i = 0; i < len; i++) {
    lua_rawgeti(L, -2, (lua_Integer)i + 1);
    vals[i] = rml_tovalue(L, -1);
    lua_pop(L, 1);
  }
  *n = len;
  return vals;
}

/* One condition (key at -2, value at -1) into a node, or NULL with d
 * filled. Leaves the stack as it found it. */
static rm_node *parse_cond(lua_State *L, const rm_schema *s, rm_diag *d) {
  rm_value one, *vals = &one;
  int field, op, top = lua_gettop(L);
  size_t len, n = 1;
  const char *key;
  rm_node *node;
  if (lua_type(L, -2) != LUA_TSTRING) {
    rm_diag_field_error(d, "?", "unknown_field",
                        "%s: condition keys must be field names",
                        rm_schema_name(s));
    return NULL;
  }
  key = lua_tolstring(L, -2, &len);
  if (parse_key(s, key, len, &field, &op, d) < 0) return NULL;
  if (op == RM_OP_IN && lua_type(L, -1) != LUA_TTABLE) {
    rm_diag_field_error(d, rm_field_name(s, field), "type",
                        "%s.%s: lookup in expects a list, got %s",
                        rm_schema_name(s), rm_field_name(s, field),
                        luaL_typename(L, -1));
    return NULL;
  }
  if (op == RM_OP_IN) vals = list_values(L, &n);
  else one = rml_tovalue(L, -1);
  node = rm_node_cond(s, field, (rm_op)op, vals, n, d);
  lua_settop(L, top);
  return node;
}

/* core.node_conds(model, conditions) -> node: the AND of the table's
 * conditions. Every broken condition is reported in one ValidationError.
 * The conjunction grows inside the result userdata, so an error raised by
 * Lua midway leaves it to the garbage collector. */
static int l_node_conds(lua_State *L) {
  l_model *m = rml_checkmodel(L, 1);
  l_node *u;
  rm_node *n;
  rm_diag d;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  u = new_node(L);
  rm_diag_init(&d);
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    n = parse_cond(L, m->schema, &d);
    lua_pop(L, 1);
    if (n == NULL || d.kind != RM_OK) {
      rm_node_unref(n);
    } else if (u->node == NULL) {
      u->node = n;
    } else {
      rm_node *both = rm_node_and(u->node, n, &d);
      rm_node_unref(n);
      if (both == NULL) break;
      rm_node_unref(u->node);
      u->node = both;
    }
  }
  if (d.kind != RM_OK) return rml_raise(L, &d);
  if (u->node == NULL) set_node(L, u, rm_node_true(&d), &d);
  return 1;
}

static int l_node_true(lua_State *L) {
  l_node *u = new_node(L);
  rm_diag d;
  rm_diag_init(&d);
  set_node(L, u, rm_node_true(&d), &d);
  return 1;
}

static int l_node_and(lua_State *L) {
  rm_node *a = check_node(L, 1)->node, *b = check_node(L, 2)->node;
  l_node *u = new_node(L);
  rm_diag d;
  rm_diag_init(&d);
  set_node(L, u, rm_node_and(a, b, &d), &d);
  return 1;
}

static int l_node_or(lua_State *L) {
  rm_node *a = check_node(L, 1)->node, *b = check_node(L, 2)->node;
  l_node *u = new_node(L);
  rm_diag d;
  rm_diag_init(&d);
  set_node(L, u, rm_node_or(a, b, &d), &d);
  return 1;
}

static int l_node_not(lua_State *L) {
  rm_node *a = check_node(L, 1)->node;
  l_node *u = new_node(L);
  rm_diag d;
  rm_diag_init(&d);
  set_node(L, u, rm_node_not(a, &d), &d);
  return 1;
}

/* core.order_terms(model, name...) -> flat list {field, desc, ...}:
 * "-age" sorts by age descending. */
static int l_order_terms(lua_State *L) {
  l_model *m = rml_checkmodel(L, 1);
  int i, n = lua_gettop(L);
  rm_diag d;
  rm_diag_init(&d);
  if (n - 1 > RM_MAX_ORDER)
    return luaL_error(L, "order_by takes at most %d fields", RM_MAX_ORDER);
  lua_createtable(L, 2 * (n - 1), 0);
  for (i = 2; i <= n; i++) {
    size_t len;
    const char *name = luaL_checklstring(L, i, &len);
    int desc = len > 0 && name[0] == '-';
    int field = rm_schema_find(m->schema, name + desc, len - (size_t)desc);
    if (field < 0) {
      rm_diag_field_error(&d, name + desc, "unknown_field",
                          "%s: order_by names an unknown field '%s'",
                          rm_schema_name(m->schema), name + desc);
      continue;
    }
    lua_pushinteger(L, field);
    lua_rawseti(L, -2, 2 * (i - 2) + 1);
    lua_pushboolean(L, desc);
    lua_rawseti(L, -2, 2 * (i - 2) + 2);
  }
  if (d.kind != RM_OK) return rml_raise(L, &d);
  return 1;
}

static void read_order(lua_State *L, int idx, rm_order *o) {
  int i, n;
  o->nterms = 0;
  if (lua_isnil(L, idx)) return;
  n = (int)lua_rawlen(L, idx) / 2;
  for (i = 0; i < n && i < RM_MAX_ORDER; i++) {
    lua_rawgeti(L, idx, 2 * i + 1);
    lua_rawgeti(L, idx, 2 * i + 2);
    o->field[i] = (int)lua_tointeger(L, -2);
    o->desc[i] = lua_toboolean(L, -1);
    lua_pop(L, 2);
  }
  o->nterms = i;
}

typedef enum { RUN_ALL, RUN_FIRST, RUN_LAST, RUN_COUNT, RUN_EXISTS, RUN_GET } run_mode;

/* Pushes the list of instances for out[0..n-1]. A finalizer run by the
 * allocations here could write to the table and free those records, so
 * the table's version is checked before each copy. */
static void push_results(lua_State *L, int model, const rm_table *t,
                         const rm_record **out, long n) {
  uint64_t version = rm_table_version(t);
  const rm_schema *s = rm_table_schema(t);
  long i;
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    size_t size = rm_record_size(s, out[i]);
    l_instance *u = rml_push_instance(L, model, NULL, size, 1);
    if (rm_table_version(t) != version)
      luaL_error(L, "%s records changed while a query result was built",
                 rm_table_name(t));
    memcpy(u->inline_data, rm_record_data(out[i]), size);
    lua_rawseti(L, -2, i + 1);
  }
}

static void push_one(lua_State *L, int model, const rm_table *t,
                     const rm_record *r) {
  if (r == NULL) lua_pushnil(L);
  else rml_push_instance(L, model, rm_record_data(r),
                         rm_record_size(rm_table_schema(t), r), 1);
}

/* core.run(model, node|nil, order|nil, offset, limit, mode) */
static int l_run(lua_State *L) {
  static const char *const modes[] = {"all", "first", "last", "count",
                                      "exists", "get", NULL};
  const rm_node *where;
  const rm_table *t;
  const rm_record **out;
  int64_t offset, limit;
  rm_order order;
  run_mode mode;
  long n;
  rm_diag d;
  rml_checkmodel(L, 1);
  where = lua_isnil(L, 2) ? NULL : check_node(L, 2)->node;
  offset = luaL_checkinteger(L, 4);
  limit = luaL_optinteger(L, 5, -1);
  mode = (run_mode)luaL_checkoption(L, 6, NULL, modes);
  read_order(L, 3, &order);
  lua_settop(L, 6);
  t = rml_model_table(L, 1);
  if (mode == RUN_COUNT || mode == RUN_EXISTS) {
    if (mode == RUN_EXISTS && (limit < 0 || limit > 1)) limit = 1;
    int64_t c = rm_query_count(t, where, offset, limit);
    if (mode == RUN_COUNT) lua_pushinteger(L, c);
    else lua_pushboolean(L, c > 0);
    return 1;
  }
  if (mode == RUN_FIRST && (limit < 0 || limit > 1)) limit = 1;
  if (mode == RUN_GET && (limit < 0 || limit > 2)) limit = 2;
  /* Scratch space belongs to Lua, so an error below cannot leak it. */
  out = lua_newuserdatauv(L, (rm_table_count(t) + 1) * sizeof *out, 0);
  rm_diag_init(&d);
  n = rm_query_run(t, where, &order, offset, limit, out, rm_table_count(t), &d);
  if (n < 0) return rml_raise(L, &d);
  switch (mode) {
    case RUN_ALL: push_results(L, 1, t, out, n); break;
    case RUN_FIRST: push_one(L, 1, t, n > 0 ? out[0] : NULL); break;
    case RUN_LAST: push_one(L, 1, t, n > 0 ? out[n - 1] : NULL); break;
    default:
      if (n > 1)
        return rml_raise_kind(L, RM_E_MULTIPLE, "%s: get matched more than "
                              "one record", rm_table_name(t));
      push_one(L, 1, t, n > 0 ? out[0] : NULL);
  }
  return 1;
}

void rml_open_query(lua_State *L) {
  static const luaL_Reg meta[] = {{"__gc", node_gc}, {NULL, NULL}};
  static const luaL_Reg fns[] = {{"node_conds", l_node_conds},
                                 {"node_true", l_node_true},
                                 {"node_and", l_node_and},
                                 {"node_or", l_node_or},
                                 {"node_not", l_node_not},
                                 {"order_terms", l_order_terms},
                                 {"run", l_run},
                                 {NULL, NULL}};
  if (luaL_newmetatable(L, RM_NODE_MT)) luaL_setfuncs(L, meta, 0);
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
}
