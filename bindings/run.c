/*
 * Running queries: reads a Lua query object (conditions, order, offset,
 * limit, select, cursor), runs it in the engine and builds instances only
 * for the records returned; also pages (keyset cursors), bulk deletes and
 * updates, and explains.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bindings.h"

/* Scratch memory that belongs to Lua, so that an error raised later
 * cannot leak it: [-0, +1]. */
static void *scratch(lua_State *L, size_t size) {
  return lua_newuserdatauv(L, size ? size : 1, 0);
}

/* ------------------------------------------------- reading query tables
 *
 * Query objects are plain Lua tables that anyone can change, and the
 * engine trusts the field indexes and trees it is given: every value read
 * from one is checked here, and a wrong one raises ConfigurationError
 * naming the model (the query object was used wrongly; the builders that
 * take user values raise ValidationError themselves). */

static int bad_query(lua_State *L, const rm_schema *s, const char *fmt, ...) {
  char what[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return rml_raise_kind(L, RM_E_CONFIG, "%s: invalid query (%s)",
                        rm_schema_name(s), what);
}

/* The condition tree in field `key` of the query at q: nil or false for
 * none, else a tree built for this model. The value stays on the stack,
 * so that the tree lives while the query runs whatever finalizers do to
 * the table: [-0, +1]. */
static const rm_node *read_node(lua_State *L, int q, const rm_schema *s,
                                const char *key) {
  int type = lua_getfield(L, q, key);
  l_node *u = luaL_testudata(L, -1, RM_NODE_MT);
  if (type == LUA_TNIL || (type == LUA_TBOOLEAN && !lua_toboolean(L, -1)))
    return NULL;
  if (u == NULL)
    bad_query(L, s, "%s is a %s, not a condition tree", key, luaL_typename(L, -1));
  if (u->schema != NULL && u->schema != s)
    bad_query(L, s, "its conditions were built for model %s",
              rm_schema_name(u->schema));
  return u->node;
}

/* Order term i of the flat list {field, desc, ...} at the top of the
 * stack (core.order_terms): a field of the model that has an order, and
 * a boolean. */
static void read_term(lua_State *L, const rm_schema *s, int i, rm_order *o) {
  lua_Integer f = -1;
  lua_rawgeti(L, -1, 2 * i + 1);
  lua_rawgeti(L, -2, 2 * i + 2);
  if (lua_isinteger(L, -2)) f = lua_tointeger(L, -2);
  if (f < 0 || f >= rm_schema_nfields(s) || rm_field_type(s, (int)f) == RM_T_JSON)
    bad_query(L, s, "order term %d names no field to sort by", i + 1);
  if (!lua_isboolean(L, -1))
    bad_query(L, s, "order term %d has a %s for its direction, not a boolean",
              i + 1, luaL_typename(L, -1));
  o->field[i] = (int)f;
  o->desc[i] = lua_toboolean(L, -1);
  lua_pop(L, 2);
}

static void read_order(lua_State *L, int q, const rm_schema *s, rm_order *o) {
  int type = lua_getfield(L, q, "order");
  size_t len;
  o->nterms = 0;
  if (type == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (type != LUA_TTABLE)
    bad_query(L, s, "order is a %s, not a table", luaL_typename(L, -1));
  len = (size_t)lua_rawlen(L, -1);
  if (len % 2 != 0 || len / 2 > RM_MAX_ORDER)
    bad_query(L, s, "order must hold a field and a direction per term, for "
              "at most %d terms", RM_MAX_ORDER);
  for (o->nterms = 0; o->nterms < (int)len / 2; o->nterms++)
    read_term(L, s, o->nterms, o);
  lua_pop(L, 1);
}

/* Field `key` of the query at q: nil for `none`, else a non-negative
 * integer. */
static int64_t read_count(lua_State *L, int q, const rm_schema *s,
                          const char *key, int64_t none) {
  int64_t n = none;
  if (lua_getfield(L, q, key) != LUA_TNIL) {
    n = lua_isinteger(L, -1) ? (int64_t)lua_tointeger(L, -1) : -1;
    if (n < 0)
      bad_query(L, s, "%s must be a non-negative integer, got %s", key,
                luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return n;
}

/* The engine query described by the Lua query table at q, for the model
 * of schema s. Leaves the two condition trees on the stack: [-0, +2]. */
static void read_query(lua_State *L, int q, const rm_schema *s, rm_query *out) {
  rm_query_init(out);
  out->where = read_node(L, q, s, "node");
  out->identity = read_node(L, q, s, "identity");
  out->identity_set = !lua_isnil(L, -1);
  read_order(L, q, s, &out->order);
  out->offset = read_count(L, q, s, "offset_n", 0);
  out->limit = read_count(L, q, s, "limit_n", -1);
}

/* The query's select mask, one byte per field of the model, pushed (or
 * nil: every field): [-0, +1]. Returns its index, or 0. */
static int read_mask(lua_State *L, int q, const rm_schema *s) {
  switch (lua_getfield(L, q, "mask")) {
    case LUA_TNIL: return 0;
    case LUA_TSTRING:
      if (lua_rawlen(L, -1) == (size_t)rm_schema_nfields(s)) return lua_gettop(L);
      /* fall through */
    default:
      return bad_query(L, s, "mask is not a select mask of the model");
  }
}

/* Decodes the query's cursor, if it has one, into pos (strings point into
 * a scratch userdata left on the stack). */
static void read_cursor(lua_State *L, int q, const rm_table *t, rm_query *rq,
                        rm_position *pos) {
  size_t len;
  const char *text;
  rm_diag d;
  switch (lua_getfield(L, q, "cursor_text")) {
    case LUA_TNIL: lua_pop(L, 1); return;
    case LUA_TSTRING: break;
    default:
      bad_query(L, rm_table_schema(t), "cursor_text is a %s, not a string",
                luaL_typename(L, -1));
  }
  text = lua_tolstring(L, -1, &len);
  rm_diag_init(&d);
  if (rm_cursor_decode(t, rq, text, len, pos, scratch(L, len), &d) < 0)
    rml_raise(L, &d);
  rq->after = pos;
  rq->offset = 0; /* offset applies to the first page only */
}

/* A finalizer run by an allocation while a result is built can write to
 * the table and free the records found: no record found before an
 * allocation is read after it unless the table's version is unchanged. */
static void changed_while_built(lua_State *L, const rm_table *t) {
  rml_raise_kind(L, RM_E_BACKEND, "%s: records changed while a query result "
                 "was built", rm_table_name(t));
}

static void check_version(lua_State *L, const rm_table *t, uint64_t version) {
  if (rm_table_version(t) != version) changed_while_built(L, t);
}

/* Instance for r, limited to the query's select mask (at mask_idx, or 0
 * for none). */
static void push_record(lua_State *L, int model, const rm_table *t,
                        const rm_record *r, int mask_idx) {
  if (r == NULL) {
    lua_pushnil(L);
    return;
  }
  if (rml_push_record(L, model, t, r) == NULL) changed_while_built(L, t);
  if (mask_idx) rml_set_mask(L, lua_gettop(L), mask_idx);
}

/* Pushes the list of instances for out[0..n-1]; the table's version is
 * checked before each copy, as the list's own allocation may change it. */
static void push_list(lua_State *L, int model, const rm_table *t,
                      const rm_record **out, long n, int mask_idx) {
  uint64_t version = rm_table_version(t);
  long i;
  lua_createtable(L, (int)n, 0);
  check_version(L, t, version);
  for (i = 0; i < n; i++) {
    if (rml_push_record(L, model, t, out[i]) == NULL) changed_while_built(L, t);
    if (mask_idx) rml_set_mask(L, lua_gettop(L), mask_idx);
    lua_rawseti(L, -2, i + 1);
  }
}

/* Runs rq into a scratch array left on the stack; returns the count. */
static long run_into(lua_State *L, const rm_table *t, const rm_query *rq,
                     const rm_record ***out) {
  size_t cap = rm_query_capacity(t, rq);
  rm_diag d;
  long n;
  *out = scratch(L, (cap + 1) * sizeof **out);
  rm_diag_init(&d);
  n = rm_query_run(t, rq, *out, cap, &d);
  if (n < 0) rml_raise(L, &d);
  return n;
}

/* The cursor for the position after record r (or pos when r is NULL):
 * [-0, +1]. */
static void push_cursor(lua_State *L, const rm_table *t, const rm_query *rq,
                        const rm_record *r, const rm_position *pos) {
  rm_position here;
  uint64_t version = rm_table_version(t);
  char *text;
  size_t len;
  if (r != NULL) {
    rm_query_position(t, rq, r, &here); /* may point into r */
    pos = &here;
  }
  text = scratch(L, rm_cursor_size(pos));
  check_version(L, t, version);
  len = rm_cursor_encode(t, rq, pos, text);
  if (len == 0) luaL_error(L, "%s: out of memory", rm_table_name(t));
  lua_pushlstring(L, text, len);
  lua_remove(L, -2);
}

/* paginate(): the page, and a cursor when records follow it. Asks the
 * engine for one record more than the page holds to know. */
static int run_page(lua_State *L, int model, const rm_table *t, rm_query *rq,
                    int mask_idx) {
  int64_t limit = rq->limit;
  const rm_record **out;
  rm_position start;
  long n;
  if (limit >= 0 && limit < INT64_MAX) rq->limit = limit + 1;
  n = run_into(L, t, rq, &out);
  rq->limit = limit;
  push_list(L, model, t, out, limit >= 0 && n > limit ? (long)limit : n, mask_idx);
  if (limit < 0 || n <= limit) {
    lua_pushnil(L);
  } else if (limit > 0) {
    push_cursor(L, t, rq, out[limit - 1], NULL);
  } else if (rq->after == NULL && rq->offset > 0) {
    /* limit(0) past an offset: the cursor is the last record skipped. */
    rm_query skipped = *rq;
    skipped.offset = rq->offset - 1;
    skipped.limit = 1;
    run_into(L, t, &skipped, &out);
    push_cursor(L, t, rq, out[0], NULL);
    lua_remove(L, -2); /* the scratch array */
  } else {
    /* limit(0): an empty page; the cursor stays where the page began. */
    memset(&start, 0, sizeof start);
    start.start = 1;
    start.nterms = rq->order.nterms;
    push_cursor(L, t, rq, NULL, rq->after ? rq->after : &start);
  }
  return 2;
}

/* q:delete(): removes every match; returns the count. */
static int run_delete(lua_State *L, rm_table *t, const rm_query *rq) {
  const rm_record **out;
  long i, n = run_into(L, t, rq, &out);
  rm_diag d;
  rm_diag_init(&d);
  /* Cannot fail: every record of the result is live in t, and removing
   * one leaves the others in place. */
  for (i = 0; i < n; i++)
    if (rm_table_remove(t, out[i], &d) < 0) return rml_raise(L, &d);
  lua_pushinteger(L, n);
  return 1;
}

/* The assignments of q:update{...}, validated once: fields[] and vals[]
 * (strings point into the Lua table at idx, encoded json values into
 * buffers kept in a list left on the stack: [-0, +1]). */
static int read_assignments(lua_State *L, int idx, const rm_schema *s,
                            int *fields, rm_value *vals) {
  int n = 0, held;
  rm_diag d;
  rm_diag_init(&d);
  lua_newtable(L);
  held = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    char label[RML_LABEL_MAX];
    const char *key = "?";
    int f = -1;
    if (lua_type(L, -2) == LUA_TSTRING) {
      size_t len;
      const char *name = lua_tolstring(L, -2, &len);
      f = rm_schema_find(s, name, len);
      key = rml_key_label(name, len, label, sizeof label);
    }
    if (f < 0) {
      rm_diag_field_error(&d, key, "unknown_field", "%s: unknown field '%s'",
                          rm_schema_name(s), key);
    } else if (f == rm_schema_primary_key(s)) {
      rm_diag_field_error(&d, key, "readonly", "%s.%s: update cannot change "
                          "primary keys", rm_schema_name(s), key);
    } else if (n < RM_MAX_FIELDS) {
      int json = rm_field_type(s, f) == RM_T_JSON;
      if (rml_tofield(L, -1, s, f, &vals[n], &d) == 0 &&
          rm_field_validate(s, f, &vals[n], &d) == 0)
        fields[n++] = f;
      if (json) lua_rawseti(L, held, (lua_Integer)lua_rawlen(L, held) + 1);
    }
    lua_pop(L, 1);
  }
  if (d.kind != RM_OK) rml_raise(L, &d);
  return n;
}

/* q:update{...}: every match with the assignments applied, stored all or
 * nothing (unique values checked across the batch). */
static int run_update(lua_State *L, rm_table *t, const rm_query *rq, int values) {
  const rm_schema *s = rm_table_schema(t);
  int fields[RM_MAX_FIELDS], nassign, j;
  rm_value assigned[RM_MAX_FIELDS], vals[RM_MAX_FIELDS];
  const rm_record **out;
  const unsigned char **data;
  size_t *size, total = 0;
  unsigned char *buf;
  uint64_t version;
  long i, n;
  rm_diag d;
  nassign = read_assignments(L, values, s, fields, assigned);
  n = run_into(L, t, rq, &out);
  version = rm_table_version(t);
  data = scratch(L, (size_t)n * sizeof *data);
  size = scratch(L, (size_t)n * sizeof *size);
  check_version(L, t, version);
  for (i = 0; i < n; i++) {
    rm_record_get_all(s, rm_record_data(out[i]), vals);
    for (j = 0; j < nassign; j++) vals[fields[j]] = assigned[j];
    total += size[i] = rm_record_encoded_size(s, vals);
  }
  buf = scratch(L, total);
  check_version(L, t, version);
  for (i = 0; i < n; i++) {
    rm_record_get_all(s, rm_record_data(out[i]), vals);
    for (j = 0; j < nassign; j++) vals[fields[j]] = assigned[j];
    rm_record_encode(s, vals, buf);
    data[i] = buf;
    buf += size[i];
  }
  rm_diag_init(&d);
  if (n > 0 && rm_table_put_many(t, data, size, (size_t)n, RM_PUT_UPDATE, &d) < 0)
    return rml_raise(L, &d);
  lua_pushinteger(L, n);
  return 1;
}

/* q:explain(): how the query runs. */
static int run_explain(lua_State *L, const rm_table *t, const rm_query *rq) {
  rm_explain e;
  rm_diag d;
  rm_diag_init(&d);
  if (rm_query_explain(t, rq, &e, &d) < 0) return rml_raise(L, &d);
  lua_createtable(L, 0, 5);
  if (e.index) lua_pushstring(L, e.index);
  else lua_pushnil(L);
  lua_setfield(L, -2, "index");
  lua_pushboolean(L, e.scan);
  lua_setfield(L, -2, "scan");
  lua_pushstring(L, e.plan);
  lua_setfield(L, -2, "plan");
  lua_pushinteger(L, (lua_Integer)e.estimate);
  lua_setfield(L, -2, "estimate");
  lua_pushboolean(L, e.sorted);
  lua_setfield(L, -2, "sorted");
  return 1;
}

typedef enum {
  RUN_ALL, RUN_FIRST, RUN_LAST, RUN_COUNT, RUN_EXISTS, RUN_GET, RUN_PAGE,
  RUN_DELETE, RUN_UPDATE, RUN_EXPLAIN
} run_mode;

/* A buffer on the C stack for results this small, so that the common
 * lookups (a key, a unique value, first()) plan once and allocate nothing
 * for their results. */
#define SMALL_RESULT 16

static int run_fetch(lua_State *L, const rm_table *t, rm_query *rq,
                     run_mode mode, int mask_idx) {
  const rm_record *small[SMALL_RESULT];
  const rm_record **out = small;
  size_t need;
  rm_diag d;
  long n;
  if (mode == RUN_FIRST && (rq->limit < 0 || rq->limit > 1)) rq->limit = 1;
  if (mode == RUN_GET && (rq->limit < 0 || rq->limit > 2)) rq->limit = 2;
  rm_diag_init(&d);
  n = rm_query_run_within(t, rq, small, SMALL_RESULT, &need, &d);
  if (n == -2) { /* more than fits here: a buffer of the size needed */
    out = scratch(L, (need + 1) * sizeof *out);
    n = rm_query_run(t, rq, out, need, &d);
  }
  if (n < 0) rml_raise(L, &d);
  if (mode == RUN_ALL) {
    push_list(L, 1, t, out, n, mask_idx);
  } else if (mode == RUN_GET && n > 1) {
    return rml_raise_kind(L, RM_E_MULTIPLE,
                          "%s: get matched more than one record", rm_table_name(t));
  } else {
    push_record(L, 1, t, n > 0 ? out[mode == RUN_LAST ? n - 1 : 0] : NULL, mask_idx);
  }
  return 1;
}

/* core.run(model, query, mode [, values]) */
static int l_run(lua_State *L) {
  static const char *const modes[] = {"all", "first", "last", "count",
                                      "exists", "get", "page", "delete",
                                      "update", "explain", NULL};
  run_mode mode;
  rm_position pos;
  rm_query rq;
  rm_table *t;
  int mask_idx;
  const rm_schema *s = rml_checkmodel(L, 1)->schema;
  luaL_checktype(L, 2, LUA_TTABLE);
  mode = (run_mode)luaL_checkoption(L, 3, NULL, modes);
  if (mode == RUN_UPDATE) luaL_checktype(L, 4, LUA_TTABLE);
  lua_settop(L, 4);
  read_query(L, 2, s, &rq);
  mask_idx = read_mask(L, 2, s);
  t = rml_model_table(L, 1);
  read_cursor(L, 2, t, &rq, &pos);
  switch (mode) {
    case RUN_COUNT: lua_pushinteger(L, rm_query_count(t, &rq)); return 1;
    case RUN_EXISTS:
      if (rq.limit < 0 || rq.limit > 1) rq.limit = 1;
      lua_pushboolean(L, rm_query_count(t, &rq) > 0);
      return 1;
    case RUN_PAGE: return run_page(L, 1, t, &rq, mask_idx);
    case RUN_DELETE: return run_delete(L, t, &rq);
    case RUN_UPDATE: return run_update(L, t, &rq, 4);
    case RUN_EXPLAIN: return run_explain(L, t, &rq);
    default: return run_fetch(L, t, &rq, mode, mask_idx);
  }
}

/* core.put_many(list of instances, mode): stores them all or none. */
static int l_put_many(lua_State *L) {
  static const char *const modes[] = {"create", "upsert", "update", NULL};
  static const rm_put_mode values[] = {RM_PUT_CREATE, RM_PUT_UPSERT,
                                       RM_PUT_UPDATE};
  int mode = luaL_checkoption(L, 2, NULL, modes);
  size_t i, n;
  const unsigned char **data;
  size_t *size;
  rm_table *t;
  rm_diag d;
  luaL_checktype(L, 1, LUA_TTABLE);
  n = (size_t)lua_rawlen(L, 1);
  if (n == 0) return 0;
  lua_settop(L, 2);
  data = scratch(L, n * sizeof *data);
  size = scratch(L, n * sizeof *size);
  lua_rawgeti(L, 1, 1);
  rml_checkinstance(L, -1);
  lua_getiuservalue(L, -1, INST_MODEL);
  t = rml_model_table(L, lua_gettop(L));
  for (i = 0; i < n; i++) {
    l_instance *u;
    lua_rawgeti(L, 1, (lua_Integer)i + 1);
    u = rml_checkinstance(L, -1);
    rml_check_complete(L, u);
    if (u->schema != rm_table_schema(t) && !rm_schema_compatible(u->schema, rm_table_schema(t)))
      return luaL_error(L, "put_many: instances of different models");
    data[i] = u->data;
    size[i] = u->size;
    lua_pop(L, 1);
  }
  rm_diag_init(&d);
  if (rm_table_put_many(t, data, size, n, values[mode], &d) < 0) return rml_raise(L, &d);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 1, (lua_Integer)i + 1);
    ((l_instance *)lua_touserdata(L, -1))->persisted = 1;
    lua_pop(L, 1);
  }
  return 0;
}

/* core.check_assignments(model, values): raises the ValidationError
 * q:update(values) would, every broken rule at once, whether or not
 * anything matches. For the update that runs in Lua (with save hooks),
 * before any hook runs. */
static int l_check_assignments(lua_State *L) {
  l_model *m = rml_checkmodel(L, 1);
  int fields[RM_MAX_FIELDS];
  rm_value vals[RM_MAX_FIELDS];
  luaL_checktype(L, 2, LUA_TTABLE);
  read_assignments(L, 2, m->schema, fields, vals);
  return 0;
}

void rml_open_run(lua_State *L) {
  static const luaL_Reg fns[] = {{"run", l_run},
                                 {"put_many", l_put_many},
                                 {"check_assignments", l_check_assignments},
                                 {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
