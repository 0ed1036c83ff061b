/*
 * Stores: the engine store behind each backend object, with clear() and
 * stats().
 */
#include "bindings.h"

static l_store *check_store(lua_State *L, int idx) {
  l_store *s = luaL_checkudata(L, idx, RM_STORE_MT);
  if (s->store == NULL) luaL_argerror(L, idx, "store is closed");
  return s;
}

/* The userdata exists (with NULL) before the store is made, so a failing
 * allocation leaves nothing to free. */
static int l_store_new(lua_State *L) {
  l_store *s = lua_newuserdatauv(L, sizeof *s, 0);
  s->store = NULL;
  luaL_setmetatable(L, RM_STORE_MT);
  s->store = rm_store_new();
  if (s->store == NULL) return luaL_error(L, "out of memory");
  return 1;
}

static int store_gc(lua_State *L) {
  l_store *s = luaL_checkudata(L, 1, RM_STORE_MT);
  rm_store_free(s->store);
  s->store = NULL;
  return 0;
}

static void clear_table(rm_table *t, void *ud) {
  (void)ud;
  rm_table_clear(t);
}

/* core.store_clear(store [, model name]) */
static int l_store_clear(lua_State *L) {
  l_store *s = check_store(L, 1);
  if (lua_isnoneornil(L, 2)) {
    rm_store_each_table(s->store, clear_table, NULL);
  } else {
    rm_table *t = rm_store_find(s->store, luaL_checkstring(L, 2));
    if (t != NULL) rm_table_clear(t);
  }
  return 0;
}

static void count_table(rm_table *t, void *ud) {
  lua_State *L = ud;
  lua_pushinteger(L, (lua_Integer)rm_table_count(t));
  lua_setfield(L, -2, rm_table_name(t));
}

/* core.store_stats(store) -> {records=, models={name=count}, bytes=} */
static int l_store_stats(lua_State *L) {
  l_store *s = check_store(L, 1);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)rm_store_records(s->store));
  lua_setfield(L, -2, "records");
  lua_pushinteger(L, (lua_Integer)rm_store_bytes(s->store));
  lua_setfield(L, -2, "bytes");
  lua_pushinteger(L, (lua_Integer)rm_store_reserved(s->store));
  lua_setfield(L, -2, "reserved");
  lua_newtable(L);
  rm_store_each_table(s->store, count_table, L);
  lua_setfield(L, -2, "models");
  return 1;
}

/* core.store_set_limit(store, bytes): caps the store's memory (tests). */
static int l_store_set_limit(lua_State *L) {
  l_store *s = check_store(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 0, 2, "must be non-negative");
  rm_store_set_limit(s->store, (size_t)n);
  return 0;
}

void rml_open_store(lua_State *L) {
  static const luaL_Reg meta[] = {{"__gc", store_gc}, {NULL, NULL}};
  static const luaL_Reg fns[] = {{"store_new", l_store_new},
                                 {"store_clear", l_store_clear},
                                 {"store_stats", l_store_stats},
                                 {"store_set_limit", l_store_set_limit},
                                 {NULL, NULL}};
  if (luaL_newmetatable(L, RM_STORE_MT)) luaL_setfuncs(L, meta, 0);
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
}
