/*
 * Instances: field reads decode straight from the instance's snapshot of
 * the record; assignments are validated at once and re-encode the
 * snapshot into a fresh buffer. Each model has its own instance metatable,
 * whose __index/__newindex closures hold the model's field map (upvalue 1)
 * and method table (upvalue 2).
 */
#include <stdio.h>
#include <string.h>

#include "bindings.h"

static void push_field(lua_State *L, const l_instance *u, int field) {
  rm_value v;
  rm_record_get(u->schema, u->data, field, &v);
  rml_pushvalue(L, &v);
}

void rml_check_loaded(lua_State *L, const l_instance *u, int field) {
  rm_diag d;
  if (u->mask == NULL || u->mask[field]) return;
  rm_diag_init(&d);
  rm_diag_field_error(&d, rm_field_name(u->schema, field), "not_loaded",
                      "%s.%s: not loaded (the query selected other fields), "
                      "so it cannot be read or saved",
                      rm_schema_name(u->schema), rm_field_name(u->schema, field));
  rml_raise(L, &d);
}

/* Reading or assigning a key (at 2) that names neither a field nor a
 * method: a ValidationError naming the model and the key, as the same
 * typo in a constructor gives. */
static int unknown_name(lua_State *L, const l_instance *u, const char *what) {
  char label[RML_LABEL_MAX];
  size_t len;
  const char *name = luaL_tolstring(L, 2, &len);
  rm_diag d;
  rm_diag_init(&d);
  rml_key_label(name, len, label, sizeof label);
  rm_diag_field_error(&d, lua_type(L, 2) == LUA_TSTRING ? label : "?",
                      "unknown_field", "%s: %s '%s'",
                      rm_schema_name(u->schema), what, label);
  return rml_raise(L, &d);
}

/* Fields first, then methods; anything else is an error naming the
 * model. */
static int inst_index(lua_State *L) {
  l_instance *u = lua_touserdata(L, 1);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) == LUA_TNUMBER) {
    int field = (int)lua_tointeger(L, -1);
    if (u->mask != NULL) rml_check_loaded(L, u, field);
    push_field(L, u, field);
    return 1;
  }
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) return 1;
  return unknown_name(L, u, "has no field or method");
}

static void check_key_change(lua_State *L, const l_instance *u, int field,
                             const rm_value *v) {
  rm_value old;
  rm_diag d;
  if (!u->persisted || field != rm_schema_primary_key(u->schema)) return;
  rm_record_get(u->schema, u->data, field, &old);
  if (rm_value_equal(&old, v)) return;
  rm_diag_init(&d);
  rm_diag_field_error(&d, rm_field_name(u->schema, field), "readonly",
                      "%s.%s: the primary key of a saved record cannot "
                      "change", rm_schema_name(u->schema),
                      rm_field_name(u->schema, field));
  rml_raise(L, &d);
}

/* Replaces one field's value: validate, then re-encode the snapshot into
 * a new buffer (the old one stays referenced until the swap). */
static void assign(lua_State *L, l_instance *u, int field, int value) {
  rm_value vals[RM_MAX_FIELDS];
  rm_diag d;
  unsigned char *buf;
  size_t size;
  rm_diag_init(&d);
  rm_record_get_all(u->schema, u->data, vals);
  if (rml_tofield(L, value, u->schema, field, &vals[field], &d) < 0 ||
      rm_field_validate(u->schema, field, &vals[field], &d) < 0)
    rml_raise(L, &d);
  check_key_change(L, u, field, &vals[field]);
  size = rm_record_encoded_size(u->schema, vals);
  buf = lua_newuserdatauv(L, size ? size : 1, 0);
  rm_record_encode(u->schema, vals, buf);
  lua_setiuservalue(L, 1, INST_BUFFER);
  u->data = buf;
  u->size = size;
}

static int inst_newindex(lua_State *L) {
  l_instance *u = lua_touserdata(L, 1);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) == LUA_TNUMBER) {
    int field = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (u->mask != NULL) rml_check_loaded(L, u, field);
    assign(L, u, field, 3);
    return 0;
  }
  return unknown_name(L, u, "unknown field");
}

/* Appends a string quoted and escaped as Lua's %q would. */
static void add_quoted(luaL_Buffer *b, const char *s, size_t len) {
  size_t i;
  luaL_addchar(b, '"');
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    if (c == '"' || c == '\\') {
      luaL_addchar(b, '\\');
      luaL_addchar(b, (char)c);
    } else if (c == '\n') {
      luaL_addstring(b, "\\n");
    } else if (c < 32 || c == 127) {
      snprintf(esc, sizeof esc, "\\%03d", c);
      luaL_addstring(b, esc);
    } else {
      luaL_addchar(b, (char)c);
    }
  }
  luaL_addchar(b, '"');
}

/* Appends a json value as compact JSON text. */
static void add_json(luaL_Buffer *b, const rm_value *v) {
  const unsigned char *p = (const unsigned char *)v->u.s.ptr;
  size_t n = rm_json_text(p, NULL);
  rm_json_text(p, luaL_prepbuffsize(b, n));
  luaL_addsize(b, n);
}

/* Appends a value as Lua source would show it; strings and datetimes
 * quoted, json values as JSON text. */
static void add_value(lua_State *L, luaL_Buffer *b, const l_instance *u,
                      int field) {
  rm_value v;
  char text[64];
  size_t n;
  rm_record_get(u->schema, u->data, field, &v);
  switch (v.tag) {
    case RM_V_STR:
      add_quoted(b, v.u.s.ptr, v.u.s.len);
      return;
    case RM_V_JSON:
      add_json(b, &v);
      return;
    case RM_V_FLOAT:
    case RM_V_INT:
      if (rm_field_type(u->schema, field) == RM_T_DATETIME) {
        n = rm_datetime_format(v.u.f, text);
        luaL_addchar(b, '"');
        luaL_addlstring(b, text, n);
        luaL_addchar(b, '"');
        return;
      }
      rml_pushvalue(L, &v);
      luaL_tolstring(L, -1, NULL);
      lua_remove(L, -2);
      luaL_addvalue(b);
      return;
    case RM_V_TRUE: luaL_addstring(b, "true"); return;
    case RM_V_FALSE: luaL_addstring(b, "false"); return;
    default: luaL_addstring(b, "nil"); return;
  }
}

static int inst_tostring(lua_State *L) {
  l_instance *u = rml_checkinstance(L, 1);
  int i, n = rm_schema_nfields(u->schema), first = 1;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, rm_schema_name(u->schema));
  luaL_addchar(&b, '(');
  for (i = 0; i < n; i++) {
    if (u->mask != NULL && !u->mask[i]) continue;
    if (!first) luaL_addstring(&b, ", ");
    first = 0;
    luaL_addstring(&b, rm_field_name(u->schema, i));
    luaL_addchar(&b, '=');
    add_value(L, &b, u, i);
  }
  luaL_addchar(&b, ')');
  luaL_pushresult(&b);
  return 1;
}

/* Same model, and every field equal (1 equals 1.0 in a number field). */
static int inst_eq(lua_State *L) {
  l_instance *a = rml_checkinstance(L, 1), *b = rml_checkinstance(L, 2);
  int i, n = rm_schema_nfields(a->schema);
  if (a->schema != b->schema) {
    lua_pushboolean(L, 0);
    return 1;
  }
  for (i = 0; i < n; i++) {
    rm_value va, vb;
    rm_record_get(a->schema, a->data, i, &va);
    rm_record_get(b->schema, b->data, i, &vb);
    if (!rm_value_equal(&va, &vb)) {
      lua_pushboolean(L, 0);
      return 1;
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* Builds the model's instance metatable from its field map and methods:
 * [-0, +1]. */
void rml_instance_metatable(lua_State *L, int model_idx, int methods_idx) {
  lua_createtable(L, 0, 6);
  lua_getiuservalue(L, model_idx, MODEL_FIELDMAP);
  lua_pushvalue(L, methods_idx);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, inst_index, 2);
  lua_setfield(L, -4, "__index");
  lua_pushcclosure(L, inst_newindex, 2);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, inst_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, inst_eq);
  lua_setfield(L, -2, "__eq");
  lua_pushstring(L, rm_schema_name(((l_model *)lua_touserdata(L, model_idx))->schema));
  lua_setfield(L, -2, "__name");
  lua_pushliteral(L, "restmachine_orm.Instance");
  lua_setfield(L, -2, "__metatable");
}

static int l_is_persisted(lua_State *L) {
  lua_pushboolean(L, rml_checkinstance(L, 1)->persisted != 0);
  return 1;
}

/* A plain table of the fields (nil fields absent). */
static int l_to_table(lua_State *L) {
  l_instance *u = rml_checkinstance(L, 1);
  int i, n = rm_schema_nfields(u->schema);
  lua_createtable(L, 0, n);
  for (i = 0; i < n; i++) {
    if (u->mask != NULL && !u->mask[i]) continue;
    lua_pushstring(L, rm_field_name(u->schema, i));
    push_field(L, u, i);
    lua_rawset(L, -3);
  }
  return 1;
}

/* core.instance_model(u) -> the model's Lua table (nil if not an
 * instance). */
static int l_instance_model(lua_State *L) {
  if (rml_toinstance(L, 1) == NULL) return 0;
  lua_getiuservalue(L, 1, INST_MODEL);
  lua_getiuservalue(L, -1, MODEL_CLASS);
  return 1;
}

void rml_open_instance(lua_State *L) {
  static const luaL_Reg fns[] = {{"is_persisted", l_is_persisted},
                                 {"to_table", l_to_table},
                                 {"instance_model", l_instance_model},
                                 {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
