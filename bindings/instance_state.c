/*
 * Instance state the Lua lifecycle code needs to set: whether an instance
 * counts as stored (after a write made from serialized data, or a load
 * rebuilt by an extension's deserialize), its data (a reload that an
 * extension's deserialize rebuilt), and which fields it holds (select());
 * and whether it may be stored.
 */
#include <string.h>

#include "bindings.h"

/* core.set_persisted(u, flag) */
static int l_set_persisted(lua_State *L) {
  l_instance *u = rml_checkinstance(L, 1);
  u->persisted = (unsigned)lua_toboolean(L, 2);
  return 0;
}

/* core.take_data(u, from): u's fields become a copy of from's, an instance
 * of the same model; every field counts as loaded. Returns u. */
static int l_take_data(lua_State *L) {
  l_instance *u = rml_checkinstance(L, 1);
  const l_instance *from = rml_checkinstance(L, 2);
  unsigned char *buf;
  if (u->schema != from->schema)
    return luaL_error(L, "take_data: the instances are of different models");
  buf = lua_newuserdatauv(L, from->size ? from->size : 1, 0);
  memcpy(buf, from->data, from->size);
  lua_setiuservalue(L, 1, INST_BUFFER);
  lua_pushnil(L);
  lua_setiuservalue(L, 1, INST_MASK);
  u->data = buf;
  u->size = from->size;
  u->mask = NULL;
  lua_settop(L, 1);
  return 1;
}

/* core.set_mask(u, mask): u keeps only the fields select() chose (mask,
 * from core.select_mask: a byte per field, 1 to keep). Result filters and
 * hooks read whole instances; the instances returned get the mask after.
 * Returns u. */
static int l_set_mask(lua_State *L) {
  l_instance *u = rml_checkinstance(L, 1);
  size_t len;
  luaL_checklstring(L, 2, &len);
  if (len != (size_t)rm_schema_nfields(u->schema))
    return luaL_error(L, "set_mask: the mask is for another model");
  rml_set_mask(L, 1, 2);
  lua_settop(L, 1);
  return 1;
}

/* core.check_storable(u): raises as storing u would when u lacks fields
 * (select()) or required values (a pending instance). For writes that
 * store another instance built from u's serialized data. */
static int l_check_storable(lua_State *L) {
  rml_check_complete(L, rml_checkinstance(L, 1));
  return 0;
}

void rml_open_instance_state(lua_State *L) {
  static const luaL_Reg fns[] = {{"set_persisted", l_set_persisted},
                                 {"take_data", l_take_data},
                                 {"set_mask", l_set_mask},
                                 {"check_storable", l_check_storable},
                                 {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
