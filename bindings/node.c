/*
 * Query building: condition tables parsed into engine condition trees
 * (validated when the query is built, naming the field), tree combinators,
 * order_by terms and select masks.
 */
#include <string.h>

#include "bindings.h"

l_node *rml_checknode(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, RM_NODE_MT);
}

/* A node userdata, empty until set_node: made before the engine node so
 * that a failing allocation cannot leak it. [-0, +1] */
static l_node *new_node(lua_State *L) {
  l_node *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->node = NULL;
  u->schema = NULL;
  luaL_setmetatable(L, RM_NODE_MT);
  return u;
}

/* The tree in u belongs to model schema s (NULL: any model). */
static void set_schema(l_node *u, rm_schema *s) {
  if (s != NULL) rm_schema_ref(s);
  u->schema = s;
}

static void set_node(lua_State *L, l_node *u, rm_node *n, const rm_diag *d) {
  if (n == NULL) rml_raise(L, d);
  u->node = n;
}

static int node_gc(lua_State *L) {
  l_node *u = luaL_checkudata(L, 1, RM_NODE_MT);
  rm_node_unref(u->node);
  u->node = NULL;
  if (u->schema != NULL) rm_schema_unref(u->schema);
  u->schema = NULL;
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
    char label[RML_LABEL_MAX];
    rml_key_label(key, len, label, sizeof label);
    rm_diag_field_error(d, label, "unknown_field",
                        "%s: unknown field in condition '%s'",
                        rm_schema_name(s), label);
    return -1;
  }
  if ((*op = rm_op_parse(sep + 2, len - (size_t)(sep - key) - 2)) < 0) {
    char lookup[RML_LABEL_MAX], label[RML_LABEL_MAX];
    rml_key_label(sep + 2, len - (size_t)(sep - key) - 2, lookup, sizeof lookup);
    rml_key_label(key, len, label, sizeof label);
    rm_diag_field_error(d, rm_field_name(s, *field), "lookup",
                        "%s.%s: unknown lookup '%s' in '%s'",
                        rm_schema_name(s), rm_field_name(s, *field), lookup,
                        label);
    return -1;
  }
  return 0;
}

/* True when the table at the top of the stack is a list: keys 1..n and
 * nothing else. */
static int is_list(lua_State *L) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, -1), count = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
        lua_tointeger(L, -1) > n) {
      lua_pop(L, 1);
      return 0;
    }
    count++;
  }
  return count == n;
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
  if (rml_isnull(L, -1)) {
    /* A comparison with nil is false: the lookup the user meant is
     * isnull. */
    rm_diag_field_error(d, rm_field_name(s, field), "type",
                        "%s.%s: conditions cannot compare with orm.null (a "
                        "comparison with nil is false); use %s__isnull = true",
                        rm_schema_name(s), rm_field_name(s, field),
                        rm_field_name(s, field));
    return NULL;
  }
  if (op == RM_OP_IN && (lua_type(L, -1) != LUA_TTABLE || !is_list(L))) {
    rm_diag_field_error(d, rm_field_name(s, field), "type",
                        "%s.%s: lookup in expects a list, got %s",
                        rm_schema_name(s), rm_field_name(s, field),
                        luaL_typename(L, -1));
    return NULL;
  }
  if (op == RM_OP_IN) {
    vals = list_values(L, &n);
  } else if (rm_field_type(s, field) == RM_T_JSON &&
             (op == RM_OP_EQ || op == RM_OP_NE)) {
    /* Deep equality with a json value given as a Lua value. */
    if (rml_tojson(L, -1, s, field, &one, d) < 0) {
      lua_settop(L, top);
      return NULL;
    }
  } else {
    one = rml_tovalue(L, -1);
  }
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
  set_schema(u, m->schema);
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

/* The model two trees to be joined belong to; trees of two models do not
 * mix (a query table changed by hand could try). */
static rm_schema *joint_schema(lua_State *L, const l_node *a, const l_node *b) {
  if (a->schema != NULL && b->schema != NULL && a->schema != b->schema)
    rml_raise_kind(L, RM_E_CONFIG, "%s: its conditions cannot be combined "
                   "with conditions of model %s", rm_schema_name(a->schema),
                   rm_schema_name(b->schema));
  return a->schema != NULL ? a->schema : b->schema;
}

/* A new node joining the nodes at 1 and 2 with `join` (and, or). */
static int join_nodes(lua_State *L,
                      rm_node *(*join)(rm_node *, rm_node *, rm_diag *)) {
  l_node *a = rml_checknode(L, 1), *b = rml_checknode(L, 2);
  rm_schema *s = joint_schema(L, a, b);
  l_node *u = new_node(L);
  rm_diag d;
  rm_diag_init(&d);
  set_schema(u, s);
  set_node(L, u, join(a->node, b->node, &d), &d);
  return 1;
}

static int l_node_and(lua_State *L) { return join_nodes(L, rm_node_and); }
static int l_node_or(lua_State *L) { return join_nodes(L, rm_node_or); }

static int l_node_not(lua_State *L) {
  l_node *a = rml_checknode(L, 1);
  l_node *u = new_node(L);
  rm_diag d;
  rm_diag_init(&d);
  set_schema(u, a->schema);
  set_node(L, u, rm_node_not(a->node, &d), &d);
  return 1;
}

/* Argument i of q:<what>(...), which must be a field name. */
static const char *name_arg(lua_State *L, const l_model *m, int i,
                            const char *what, size_t *len) {
  if (lua_type(L, i) != LUA_TSTRING)
    rml_raise_kind(L, RM_E_VALIDATION, "%s: %s takes field names, got %s "
                   "(argument %d)", rm_schema_name(m->schema), what,
                   luaL_typename(L, i), i - 1);
  return lua_tolstring(L, i, len);
}

/* core.order_terms(model, name...) -> flat list {field, desc, ...}:
 * "-age" sorts by age descending. */
static int l_order_terms(lua_State *L) {
  l_model *m = rml_checkmodel(L, 1);
  int i, n = lua_gettop(L);
  rm_diag d;
  rm_diag_init(&d);
  if (n - 1 > RM_MAX_ORDER)
    return rml_raise_kind(L, RM_E_VALIDATION, "%s: order_by takes at most "
                          "%d fields", rm_schema_name(m->schema), RM_MAX_ORDER);
  lua_createtable(L, 2 * (n - 1), 0);
  for (i = 2; i <= n; i++) {
    size_t len;
    const char *name = name_arg(L, m, i, "order_by", &len);
    int desc = len > 0 && name[0] == '-';
    int field = rm_schema_find(m->schema, name + desc, len - (size_t)desc);
    if (field < 0) {
      char label[RML_LABEL_MAX];
      rml_key_label(name + desc, len - (size_t)desc, label, sizeof label);
      rm_diag_field_error(&d, label, "unknown_field",
                          "%s: order_by names an unknown field '%s'",
                          rm_schema_name(m->schema), label);
      continue;
    }
    if (rm_field_type(m->schema, field) == RM_T_JSON) {
      rm_diag_field_error(&d, name + desc, "lookup",
                          "%s.%s: json values have no order to sort by",
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

/* core.select_mask(model, name...) -> a string with one byte per field,
 * 1 for the fields to load. */
static int l_select_mask(lua_State *L) {
  l_model *m = rml_checkmodel(L, 1);
  int i, n = rm_schema_nfields(m->schema), top = lua_gettop(L);
  char mask[RM_MAX_FIELDS];
  rm_diag d;
  rm_diag_init(&d);
  memset(mask, 0, sizeof mask);
  for (i = 2; i <= top; i++) {
    size_t len;
    const char *name = name_arg(L, m, i, "select", &len);
    int field = rm_schema_find(m->schema, name, len);
    if (field >= 0) {
      mask[field] = 1;
    } else {
      char label[RML_LABEL_MAX];
      rml_key_label(name, len, label, sizeof label);
      rm_diag_field_error(&d, label, "unknown_field",
                          "%s: select names an unknown field '%s'",
                          rm_schema_name(m->schema), label);
    }
  }
  if (d.kind != RM_OK) return rml_raise(L, &d);
  lua_pushlstring(L, mask, (size_t)n);
  return 1;
}

void rml_open_node(lua_State *L) {
  static const luaL_Reg meta[] = {{"__gc", node_gc}, {NULL, NULL}};
  static const luaL_Reg fns[] = {{"node_conds", l_node_conds},
                                 {"node_true", l_node_true},
                                 {"node_and", l_node_and},
                                 {"node_or", l_node_or},
                                 {"node_not", l_node_not},
                                 {"order_terms", l_order_terms},
                                 {"select_mask", l_select_mask},
                                 {NULL, NULL}};
  if (luaL_newmetatable(L, RM_NODE_MT)) luaL_setfuncs(L, meta, 0);
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
}
