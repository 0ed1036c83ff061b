/*
 * json field values between Lua and the engine's encoding (engine/json.c):
 * a Lua value is encoded into a deep copy the engine stores, and each read
 * builds fresh Lua tables from it, so that changing a table read from an
 * instance never changes the instance or the store.
 *
 * Lua to JSON:
 *   nil or orm.null at the top   the field is nil
 *   orm.null inside              JSON null
 *   boolean, string (UTF-8)      themselves
 *   integer, float               kept apart (math.type); NaN and inf refused
 *   table with keys 1..n         array (an empty table is an empty array)
 *   table with string keys       object, keys stored in byte order
 * Anything else is refused with a "json" rule naming model and field and
 * saying where in the value the problem is: functions, userdata, threads,
 * tables with keys of both kinds, sparse arrays, other keys, cycles, and
 * more than RM_JSON_MAX_DEPTH nested tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings.h"

/* orm.null: its address is the light userdata. Never written. */
static const char null_sentinel = 0;

void rml_pushnull(lua_State *L) { lua_pushlightuserdata(L, (void *)&null_sentinel); }

int rml_isnull(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TLIGHTUSERDATA &&
         lua_touserdata(L, idx) == (void *)&null_sentinel;
}

/* ---------------------------------------------------------- Lua to JSON */

/* One step of the path to the value being encoded, for messages. */
typedef struct path_step {
  const char *key; /* NULL: an array index */
  size_t klen;
  lua_Integer index;
} path_step;

/* An encoding in progress. The bytes live in a userdata at stack slot
 * `box`, replaced by a larger one as they grow, so that an error raised
 * by Lua midway leaves nothing to free. */
typedef struct encoder {
  lua_State *L;
  int box;
  unsigned char *buf;
  size_t len, cap;
  int depth;                                   /* tables open */
  const void *open[RM_JSON_MAX_DEPTH];         /* those tables (cycles) */
  path_step path[RM_JSON_MAX_DEPTH];
  char why[120];                               /* the first problem */
} encoder;

static void reserve(encoder *e, size_t more) {
  unsigned char *grown;
  size_t cap;
  if (e->len + more <= e->cap) return;
  cap = e->cap * 2;
  if (cap < e->len + more) cap = e->len + more;
  grown = lua_newuserdatauv(e->L, cap, 0);
  memcpy(grown, e->buf, e->len);
  lua_replace(e->L, e->box);
  e->buf = grown;
  e->cap = cap;
}

static void put_item(encoder *e, rm_jtag tag, size_t n) {
  rm_json_item it;
  memset(&it, 0, sizeof it);
  it.tag = tag;
  it.n = n;
  reserve(e, RM_JSON_HEAD_MAX);
  e->len += rm_json_put(e->buf + e->len, &it);
}

static void put_bytes(encoder *e, const char *s, size_t len) {
  reserve(e, len);
  if (len) memcpy(e->buf + e->len, s, len);
  e->len += len;
}

/* Records the first problem; returns -1 for the caller to pass up. */
static int refuse(encoder *e, const char *fmt, const char *arg) {
  snprintf(e->why, sizeof e->why, fmt, arg);
  return -1;
}

static int put_text(encoder *e, const char *s, size_t len, int key) {
  if (!rm_utf8_check(s, len, NULL))
    return refuse(e, "%s is not valid UTF-8 text", key ? "a key" : "a string");
  if (key) {
    reserve(e, RM_JSON_HEAD_MAX);
    e->len += rm_json_put_key(e->buf + e->len, len);
  } else {
    put_item(e, RM_J_STR, len);
  }
  put_bytes(e, s, len);
  return 0;
}

static int put_number(encoder *e, int idx) {
  rm_json_item it;
  memset(&it, 0, sizeof it);
  if (lua_isinteger(e->L, idx)) {
    it.tag = RM_J_INT;
    it.i = lua_tointeger(e->L, idx);
  } else {
    it.tag = RM_J_FLOAT;
    it.f = lua_tonumber(e->L, idx);
    if (it.f != it.f) return refuse(e, "%s is not a JSON value", "NaN");
    if (it.f - it.f != 0) return refuse(e, "%s is not a JSON value", "infinity");
  }
  reserve(e, RM_JSON_HEAD_MAX);
  e->len += rm_json_put(e->buf + e->len, &it);
  return 0;
}

static int put_value(encoder *e, int idx);

/* What the keys of the table at idx make it: 1 an array of *n elements,
 * 2 an object of *n pairs, or -1 (refused). An empty table is an array. */
static int classify(encoder *e, int idx, lua_Integer *n) {
  lua_State *L = e->L;
  lua_Integer count = 0, max = 0;
  int kind = 1, top = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING && (count == 0 || kind == 2)) {
      kind = 2;
    } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 &&
               (count == 0 || kind == 1)) {
      if (lua_tointeger(L, -1) > max) max = lua_tointeger(L, -1);
    } else {
      int mixed = lua_type(L, -1) == LUA_TSTRING ||
                  (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1);
      lua_settop(L, top);
      return mixed ? refuse(e, "%s", "a table with both string keys and "
                            "array indexes")
                   : refuse(e, "%s", "a table key that is neither a string "
                            "nor an array index 1..n");
    }
    count++;
  }
  if (kind == 1 && max != count)
    return refuse(e, "%s", "a sparse array (its indexes are not 1..n)");
  *n = count;
  return kind;
}

static int put_array(encoder *e, int idx, lua_Integer n) {
  lua_Integer i;
  put_item(e, RM_J_ARRAY, (size_t)n);
  e->path[e->depth - 1].key = NULL;
  for (i = 1; i <= n; i++) {
    int rc;
    e->path[e->depth - 1].index = i;
    lua_rawgeti(e->L, idx, i);
    rc = put_value(e, lua_gettop(e->L));
    lua_pop(e->L, 1);
    if (rc < 0) return -1;
  }
  return 0;
}

/* A key of an object, with its place in the list of keys. */
typedef struct key_ref {
  const char *s;
  size_t len;
  lua_Integer slot;
} key_ref;

static int compare_keys(const void *x, const void *y) {
  const key_ref *a = x, *b = y;
  size_t n = a->len < b->len ? a->len : b->len;
  int c = n ? memcmp(a->s, b->s, n) : 0;
  if (c != 0) return c;
  return (a->len > b->len) - (a->len < b->len);
}

/* Keys are written in byte order, so that equal tables encode alike and
 * to_json is stable. The keys are kept in a list table (so that their
 * bytes stay valid whatever runs meanwhile) and sorted through refs. */
static int put_object(encoder *e, int idx, lua_Integer n) {
  lua_State *L = e->L;
  int keys, rc = 0;
  lua_Integer i = 0;
  key_ref *refs;
  lua_createtable(L, (int)(n < 1 << 20 ? n : 1 << 20), 0);
  keys = lua_gettop(L);
  refs = lua_newuserdatauv(L, (size_t)n * sizeof *refs, 0);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0 && i < n) {
    lua_pop(L, 1);
    refs[i].s = lua_tolstring(L, -1, &refs[i].len); /* a string key */
    refs[i].slot = i + 1;
    lua_pushvalue(L, -1);
    lua_rawseti(L, keys, ++i);
  }
  lua_settop(L, keys + 1);
  n = i; /* the same unless something changed the table meanwhile */
  qsort(refs, (size_t)n, sizeof *refs, compare_keys);
  put_item(e, RM_J_OBJECT, (size_t)n);
  for (i = 0; i < n && rc == 0; i++) {
    e->path[e->depth - 1].key = refs[i].s;
    e->path[e->depth - 1].klen = refs[i].len;
    if ((rc = put_text(e, refs[i].s, refs[i].len, 1)) < 0) break;
    lua_rawgeti(L, keys, refs[i].slot);
    lua_rawget(L, idx);
    rc = put_value(e, lua_gettop(L));
    lua_pop(L, 1);
  }
  lua_settop(L, keys - 1);
  return rc;
}

static int put_table(encoder *e, int idx) {
  const void *self = lua_topointer(e->L, idx);
  lua_Integer n;
  int i, kind, rc;
  if (e->depth == RM_JSON_MAX_DEPTH)
    return refuse(e, "%s", "tables nested more than 64 deep");
  for (i = 0; i < e->depth; i++)
    if (e->open[i] == self) return refuse(e, "%s", "a table that contains itself (a cycle)");
  luaL_checkstack(e->L, 8, "json value");
  if ((kind = classify(e, idx, &n)) < 0) return -1;
  e->open[e->depth++] = self;
  rc = kind == 1 ? put_array(e, idx, n) : put_object(e, idx, n);
  if (rc == 0) e->depth--;
  return rc;
}

static int put_value(encoder *e, int idx) {
  switch (lua_type(e->L, idx)) {
    case LUA_TBOOLEAN:
      put_item(e, lua_toboolean(e->L, idx) ? RM_J_TRUE : RM_J_FALSE, 0);
      return 0;
    case LUA_TNUMBER: return put_number(e, idx);
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(e->L, idx, &len);
      return put_text(e, s, len, 0);
    }
    case LUA_TTABLE: return put_table(e, idx);
    case LUA_TLIGHTUSERDATA:
      if (rml_isnull(e->L, idx)) {
        put_item(e, RM_J_NULL, 0);
        return 0;
      }
      break;
    case LUA_TNIL:
      return refuse(e, "%s", "nil inside a json value (use orm.null)");
    default: break;
  }
  return refuse(e, "a %s is not a JSON value", luaL_typename(e->L, idx));
}

/* "tags[3].name", or the field name alone at the top. */
static void describe_path(const encoder *e, const char *field, char *buf,
                          size_t cap) {
  size_t n = (size_t)snprintf(buf, cap, "%s", field);
  int i;
  for (i = 0; i < e->depth && n < cap; i++) {
    const path_step *p = &e->path[i];
    if (p->key == NULL)
      n += (size_t)snprintf(buf + n, cap - n, "[%lld]", (long long)p->index);
    else
      n += (size_t)snprintf(buf + n, cap - n, "[\"%.*s\"]",
                            p->klen > 24 ? 24 : (int)p->klen, p->key);
  }
}

int rml_tojson(lua_State *L, int idx, const rm_schema *s, int field,
               rm_value *out, rm_diag *d) {
  encoder e;
  char where[96];
  idx = lua_absindex(L, idx);
  if (lua_isnil(L, idx) || rml_isnull(L, idx)) {
    lua_pushnil(L);
    *out = rm_nil();
    return 0;
  }
  e.L = L;
  e.cap = 64;
  e.len = 0;
  e.depth = 0;
  e.buf = lua_newuserdatauv(L, e.cap, 0);
  e.box = lua_gettop(L);
  if (put_value(&e, idx) == 0) {
    *out = rm_json(e.buf, e.len);
    return 0;
  }
  describe_path(&e, rm_field_name(s, field), where, sizeof where);
  rm_diag_field_error(d, rm_field_name(s, field), "json",
                      "%s.%s: cannot store %s: %s", rm_schema_name(s),
                      rm_field_name(s, field), where, e.why);
  lua_settop(L, e.box - 1);
  lua_pushnil(L);
  *out = rm_nil();
  return -1;
}

/* ---------------------------------------------------------- JSON to Lua */

static const unsigned char *push_at(lua_State *L, const unsigned char *p) {
  rm_json_item it;
  size_t i, klen;
  const char *key;
  p = rm_json_get(p, &it);
  switch (it.tag) {
    case RM_J_NULL: rml_pushnull(L); break;
    case RM_J_FALSE: lua_pushboolean(L, 0); break;
    case RM_J_TRUE: lua_pushboolean(L, 1); break;
    case RM_J_INT: lua_pushinteger(L, (lua_Integer)it.i); break;
    case RM_J_FLOAT: lua_pushnumber(L, (lua_Number)it.f); break;
    case RM_J_STR: lua_pushlstring(L, it.s, it.n); break;
    case RM_J_ARRAY:
      luaL_checkstack(L, 4, "json value");
      lua_createtable(L, it.n < 1 << 24 ? (int)it.n : 1 << 24, 0);
      for (i = 0; i < it.n; i++) {
        p = push_at(L, p);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
      }
      break;
    case RM_J_OBJECT:
      luaL_checkstack(L, 4, "json value");
      lua_createtable(L, 0, it.n < 1 << 24 ? (int)it.n : 1 << 24);
      for (i = 0; i < it.n; i++) {
        p = rm_json_get_key(p, &key, &klen);
        lua_pushlstring(L, key, klen);
        p = push_at(L, p);
        lua_rawset(L, -3);
      }
      break;
  }
  return p;
}

/* The encoding must stay valid meanwhile: the caller keeps what holds it
 * (an instance) on the stack. */
void rml_pushjson(lua_State *L, const unsigned char *p) { push_at(L, p); }
