/*
 * restmachine_orm.core: the one C module. It registers the binding
 * functions of each part (stores, models, instances, queries), the shared
 * error metatable, and the datetime helpers. Pure-Lua code in
 * lua/restmachine_orm/ builds the public API on top of it.
 */
#include "bindings.h"

/* "<name>: <message>", as API.md §10 asks. */
static int error_tostring(lua_State *L) {
  lua_getfield(L, 1, "name");
  lua_getfield(L, 1, "message");
  lua_pushfstring(L, "%s: %s", luaL_optstring(L, -2, "Error"),
                  luaL_optstring(L, -1, ""));
  return 1;
}

/* core.error_metatable() -> the metatable every raised error table has. */
static int l_error_metatable(lua_State *L) {
  luaL_getmetatable(L, RM_ERROR_MT);
  return 1;
}

/* core.now() -> epoch seconds with microseconds. */
static int l_now(lua_State *L) {
  lua_pushnumber(L, rm_datetime_now());
  return 1;
}

/* core.isoformat(t) -> "2025-01-15T10:30:00Z"; t may also be ISO text. */
static int l_isoformat(lua_State *L) {
  char buf[40];
  double t;
  if (lua_type(L, 1) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    if (rm_datetime_parse(s, len, &t) < 0)
      return rml_raise_kind(L, RM_E_VALIDATION, "isoformat: the text is "
                            "not an ISO-8601 datetime");
  } else if (lua_type(L, 1) == LUA_TNUMBER) {
    t = lua_tonumber(L, 1);
  } else {
    return rml_raise_kind(L, RM_E_VALIDATION, "isoformat expects epoch "
                          "seconds or ISO-8601 text, got %s",
                          luaL_typename(L, 1));
  }
  if (!rm_datetime_valid(t))
    return rml_raise_kind(L, RM_E_VALIDATION, "isoformat: %.17g is not a "
                          "time in the years 1 to 9999", t);
  lua_pushlstring(L, buf, rm_datetime_format(t, buf));
  return 1;
}

/* core.parse_datetime(text) -> epoch seconds, or nil if not ISO-8601. */
static int l_parse_datetime(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  double t;
  if (rm_datetime_parse(s, len, &t) < 0) return 0;
  lua_pushnumber(L, t);
  return 1;
}

/* Idempotent and global-free: busted's insulate() may require the module
 * again in the same state. */
int luaopen_restmachine_orm_core(lua_State *L);
int luaopen_restmachine_orm_core(lua_State *L) {
  static const luaL_Reg fns[] = {{"error_metatable", l_error_metatable},
                                 {"now", l_now},
                                 {"isoformat", l_isoformat},
                                 {"parse_datetime", l_parse_datetime},
                                 {NULL, NULL}};
  if (luaL_newmetatable(L, RM_ERROR_MT)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  lua_newtable(L);
  luaL_setfuncs(L, fns, 0);
  rml_open_store(L);
  rml_open_model(L);
  rml_open_paths(L);
  rml_open_instance(L);
  rml_open_node(L);
  rml_open_run(L);
  rml_open_instance_state(L);
  rml_open_jsontext(L);
  return 1;
}
