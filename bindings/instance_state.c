/*
 * Instance state the Lua lifecycle code needs to set: whether an instance
 * counts as stored (after a write made from serialized data, or a load
 * rebuilt by an extension's deserialize).
 */
#include "bindings.h"

/* core.set_persisted(u, flag) */
static int l_set_persisted(lua_State *L) {
  l_instance *u = rml_checkinstance(L, 1);
  u->persisted = (unsigned)lua_toboolean(L, 2);
  return 0;
}

void rml_open_instance_state(lua_State *L) {
  static const luaL_Reg fns[] = {{"set_persisted", l_set_persisted}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
