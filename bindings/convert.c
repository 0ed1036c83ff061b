/*
 * Value conversion between Lua and the engine, and raising engine
 * diagnostics as the error tables of API.md §10.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bindings.h"

/* Keeps integers and floats apart and never converts between strings and
 * numbers: "5" given for a number field is a string. Strings point into
 * the Lua value, which the caller keeps on the stack. */
rm_value rml_tovalue(lua_State *L, int idx) {
  size_t len;
  const char *s;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: return rm_nil();
    case LUA_TBOOLEAN: return rm_bool(lua_toboolean(L, idx));
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) return rm_int(lua_tointeger(L, idx));
      return rm_float(lua_tonumber(L, idx));
    case LUA_TSTRING:
      s = lua_tolstring(L, idx, &len);
      return rm_str(s, len);
    default: {
      rm_value v;
      v.tag = RM_V_OTHER;
      v.u.type_name = luaL_typename(L, idx);
      return v;
    }
  }
}

int rml_tofield(lua_State *L, int idx, const rm_schema *s, int field,
                rm_value *out, rm_diag *d) {
  if (rm_field_type(s, field) == RM_T_JSON)
    return rml_tojson(L, idx, s, field, out, d);
  /* orm.null: a nil given on purpose, where a table cannot hold nil
   * (q:update{email = orm.null} clears email). */
  *out = rml_isnull(L, idx) ? rm_nil() : rml_tovalue(L, idx);
  return 0;
}

/* json values become fresh tables (rml_pushjson): the encoding they are
 * read from must stay valid while they are built. */
void rml_pushvalue(lua_State *L, const rm_value *v) {
  switch (v->tag) {
    case RM_V_FALSE: lua_pushboolean(L, 0); break;
    case RM_V_TRUE: lua_pushboolean(L, 1); break;
    case RM_V_INT: lua_pushinteger(L, v->u.i); break;
    case RM_V_FLOAT: lua_pushnumber(L, v->u.f); break;
    case RM_V_STR: lua_pushlstring(L, v->u.s.ptr, v->u.s.len); break;
    case RM_V_JSON: rml_pushjson(L, (const unsigned char *)v->u.s.ptr); break;
    default: lua_pushnil(L); break;
  }
}

static void push_field_error(lua_State *L, const char *field,
                             const char *code, const char *message) {
  lua_createtable(L, 0, 3);
  lua_pushstring(L, field);
  lua_setfield(L, -2, "field");
  lua_pushstring(L, code);
  lua_setfield(L, -2, "code");
  lua_pushstring(L, message);
  lua_setfield(L, -2, "message");
}

/* {field=, code=, message=} for each broken rule. An error that is not
 * about one field (a call's argument, say) is one rule of field "*", so
 * that a caller listing err.errors still shows it. */
static void push_field_errors(lua_State *L, const rm_diag *d) {
  int i;
  lua_createtable(L, d->nerrors, 0);
  if (d->nerrors == 0) {
    push_field_error(L, "*", "invalid", d->message);
    lua_rawseti(L, -2, 1);
  }
  for (i = 0; i < d->nerrors; i++) {
    push_field_error(L, d->errors[i].field, d->errors[i].code,
                     d->errors[i].message);
    lua_rawseti(L, -2, i + 1);
  }
}

/* The diag lives on the C stack, so building the table may fail with a
 * memory error without leaking anything. */
int rml_raise(lua_State *L, const rm_diag *d) {
  lua_createtable(L, 0, 4);
  lua_pushstring(L, rm_errkind_name(d->kind));
  lua_setfield(L, -2, "name");
  lua_pushstring(L, d->message);
  lua_setfield(L, -2, "message");
  if (d->kind == RM_E_VALIDATION) {
    push_field_errors(L, d);
    lua_setfield(L, -2, "errors");
  }
  luaL_getmetatable(L, RM_ERROR_MT);
  lua_setmetatable(L, -2);
  return lua_error(L);
}

int rml_raise_kind(lua_State *L, rm_errkind kind, const char *fmt, ...) {
  rm_diag d;
  va_list ap;
  rm_diag_init(&d);
  d.kind = kind;
  va_start(ap, fmt);
  vsnprintf(d.message, sizeof d.message, fmt, ap);
  va_end(ap);
  return rml_raise(L, &d);
}

const char *rml_key_label(const char *key, size_t len, char *out, size_t cap) {
  size_t i, n = 0;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)key[i];
    char esc[8];
    int w = c < 32 || c == 127 ? snprintf(esc, sizeof esc, "\\%d", c) : 1;
    if (w == 1) esc[0] = (char)c;
    if (n + (size_t)w + 4 > cap) { /* keep room for "..." and the 0 */
      memcpy(out + n, "...", 3);
      n += 3;
      break;
    }
    memcpy(out + n, esc, (size_t)w);
    n += (size_t)w;
  }
  out[n] = '\0';
  return out;
}
