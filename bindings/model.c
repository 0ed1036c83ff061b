/*
 * Models: the C side of a declared model: its schema built from the
 * field declarations of model.lua, its field names and defaults, the
 * checks of declared defaults and choices, and the table it reaches in
 * its backend's store.
 */
#include <stdio.h>
#include <string.h>

#include "bindings.h"

l_model *rml_checkmodel(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, RM_MODEL_MT);
}

static int model_gc(lua_State *L) {
  l_model *m = luaL_checkudata(L, 1, RM_MODEL_MT);
  rm_schema_unref(m->schema);
  m->schema = NULL;
  return 0;
}

/* ------------------------------------------------------------ declaring */

static const struct { const char *name; rm_ftype type; } type_names[] = {
  {"string", RM_T_STRING}, {"bytes", RM_T_BYTES}, {"integer", RM_T_INTEGER},
  {"number", RM_T_NUMBER}, {"boolean", RM_T_BOOLEAN},
  {"datetime", RM_T_DATETIME}, {"json", RM_T_JSON}
};

static int parse_type(const char *name, rm_ftype *out) {
  size_t i;
  for (i = 0; i < sizeof type_names / sizeof *type_names; i++)
    if (strcmp(type_names[i].name, name) == 0) {
      *out = type_names[i].type;
      return 0;
    }
  return -1;
}

static int flag(lua_State *L, int desc, const char *key, unsigned bit) {
  int on = lua_getfield(L, desc, key) != LUA_TNIL && lua_toboolean(L, -1);
  lua_pop(L, 1);
  return on ? (int)bit : 0;
}

static int64_t opt_length(lua_State *L, int desc, const char *key) {
  int64_t n = -1;
  if (lua_getfield(L, desc, key) != LUA_TNIL) {
    n = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -2;
  }
  lua_pop(L, 1);
  return n;
}

/* The pattern option, compiled by the engine once. */
static int add_pattern(lua_State *L, rm_schema *s, int i, int desc, rm_diag *d) {
  int rc = 0;
  if (lua_getfield(L, desc, "pattern") == LUA_TSTRING) {
    size_t len;
    const char *p = lua_tolstring(L, -1, &len);
    rc = rm_schema_set_pattern(s, i, p, len, d);
  }
  lua_pop(L, 1);
  return rc;
}

/* Applies gt/ge/lt/le, lengths, choices and the pattern of the field
 * description at `desc` to field i. */
static int add_rules(lua_State *L, rm_schema *s, int i, int desc, rm_diag *d) {
  static const char *const bounds[] = {"gt", "ge", "lt", "le"};
  size_t b;
  lua_Integer k;
  for (b = 0; b < 4; b++) {
    int rc = 0;
    if (lua_getfield(L, desc, bounds[b]) != LUA_TNIL)
      rc = rm_schema_set_bound(s, i, bounds[b], rml_tovalue(L, -1), d);
    lua_pop(L, 1);
    if (rc < 0) return -1;
  }
  if (opt_length(L, desc, "min_length") != -1 ||
      opt_length(L, desc, "max_length") != -1) {
    if (rm_schema_set_length(s, i, opt_length(L, desc, "min_length"),
                             opt_length(L, desc, "max_length"), d) < 0)
      return -1;
  }
  if (lua_getfield(L, desc, "choices") == LUA_TTABLE) {
    for (k = 1; lua_rawgeti(L, -1, k) != LUA_TNIL; k++) {
      int rc = rm_schema_add_choice(s, i, rml_tovalue(L, -1), d);
      lua_pop(L, 1);
      if (rc < 0) return -1;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return add_pattern(L, s, i, desc, d);
}

static int add_field(lua_State *L, rm_schema *s, int desc, rm_diag *d) {
  const char *name, *type;
  rm_ftype t;
  unsigned flags;
  int i;
  lua_getfield(L, desc, "name");
  lua_getfield(L, desc, "type");
  name = luaL_checkstring(L, -2);
  type = luaL_checkstring(L, -1);
  if (parse_type(type, &t) < 0) {
    lua_pop(L, 2);
    rm_diag_set(d, RM_E_CONFIG, "%s.%s: unknown field type '%s'",
                rm_schema_name(s), name, type);
    return -1;
  }
  flags = (unsigned)(flag(L, desc, "primary_key", RM_F_PRIMARY_KEY) |
                     flag(L, desc, "unique", RM_F_UNIQUE) |
                     flag(L, desc, "index", RM_F_INDEX) |
                     flag(L, desc, "optional", RM_F_OPTIONAL));
  i = rm_schema_add_field(s, name, t, flags, d);
  lua_pop(L, 2);
  return i < 0 ? -1 : add_rules(L, s, i, desc, d);
}

/* Builds the schema from a list of field descriptions into m, which owns
 * it from the start: a Lua error raised midway leaves it to the model's
 * finalizer. Raises ConfigurationError naming model and field. */
static void build_schema(lua_State *L, l_model *m, const char *name,
                         int fields) {
  rm_diag d;
  lua_Integer i;
  m->schema = rm_schema_new(name);
  if (m->schema == NULL) luaL_error(L, "out of memory");
  rm_diag_init(&d);
  for (i = 1; lua_rawgeti(L, fields, i) == LUA_TTABLE; i++) {
    int rc = add_field(L, m->schema, lua_gettop(L), &d);
    lua_pop(L, 1);
    if (rc < 0) rml_raise(L, &d);
  }
  lua_pop(L, 1);
  if (rm_schema_finish(m->schema, &d) < 0) rml_raise(L, &d);
}

/* Field names by index, the name -> index map and defaults. */
static void fill_field_tables(lua_State *L, int model, int fields, int n) {
  int i;
  lua_createtable(L, n, 0);
  lua_createtable(L, 0, n);
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, fields, i + 1);
    lua_getfield(L, -1, "name");
    lua_pushvalue(L, -1);
    lua_rawseti(L, -6, i + 1);          /* names[i+1] = name */
    lua_pushinteger(L, i);
    lua_rawset(L, -5);                  /* fieldmap[name] = i */
    lua_getfield(L, -1, "default");
    lua_rawseti(L, -3, i + 1);          /* defaults[i+1] = default */
    lua_pop(L, 1);
  }
  lua_setiuservalue(L, model, MODEL_DEFAULTS);
  lua_setiuservalue(L, model, MODEL_FIELDMAP);
  lua_setiuservalue(L, model, MODEL_NAMES);
}

/* core.model_new(name, fields, class, methods) -> model core. `fields` is
 * the ordered list of field descriptions made by model.lua; `methods` the
 * table instances look methods up in. */
static int l_model_new(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  l_model *m;
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  m = lua_newuserdatauv(L, sizeof *m, MODEL_NUSERVALUES);
  m->schema = NULL;
  m->table = NULL;
  m->lifecycle = 0;
  luaL_setmetatable(L, RM_MODEL_MT);
  build_schema(L, m, name, 2);
  fill_field_tables(L, 5, 2, rm_schema_nfields(m->schema));
  lua_pushvalue(L, 3);
  lua_setiuservalue(L, 5, MODEL_CLASS);
  rml_instance_metatable(L, 5, 4);
  lua_setiuservalue(L, 5, MODEL_INSTANCE_MT);
  return 1;
}

/* core.model_set_store(model, store or nil) */
static int l_model_set_store(lua_State *L) {
  l_model *m = rml_checkmodel(L, 1);
  if (!lua_isnil(L, 2)) luaL_checkudata(L, 2, RM_STORE_MT);
  lua_settop(L, 2);
  lua_setiuservalue(L, 1, MODEL_STORE);
  m->table = NULL;
  return 0;
}

/* core.model_set_lifecycle(model, stores, loads, gets): which writes and
 * loads now go through lifecycle.lua (RML_LC_*), set by model.lua each
 * time it installs the model's paths. */
static int l_model_set_lifecycle(lua_State *L) {
  l_model *m = rml_checkmodel(L, 1);
  m->lifecycle = (lua_toboolean(L, 2) ? RML_LC_STORES : 0u) |
                 (lua_toboolean(L, 3) ? RML_LC_LOADS : 0u) |
                 (lua_toboolean(L, 4) ? RML_LC_GETS : 0u);
  return 0;
}

/* The model's table in its backend's store; raises ConfigurationError
 * when the model has no backend. */
rm_table *rml_model_table(lua_State *L, int model_idx) {
  l_model *m = lua_touserdata(L, model_idx);
  l_store *st;
  rm_diag d;
  if (m->table != NULL && rm_table_schema(m->table) == m->schema)
    return m->table;
  if (lua_getiuservalue(L, model_idx, MODEL_STORE) == LUA_TNIL) {
    const char *n = rm_schema_name(m->schema);
    lua_pop(L, 1);
    rml_raise_kind(L, RM_E_CONFIG,
                   "%s has no backend: declare it with model_backend = "
                   "backend, or set %s.model_backend = backend", n, n);
  }
  st = lua_touserdata(L, -1);
  lua_pop(L, 1);
  rm_diag_init(&d);
  m->table = rm_store_table(st->store, m->schema, &d);
  if (m->table == NULL) rml_raise(L, &d);
  return m->table;
}

/* Checks a value declared for a field (a default or a choice), at stack
 * index 3, against every rule of the field; raises ConfigurationError
 * naming the model, the field and `what` when it breaks one, so that a
 * bad declaration fails when it is made, not at the first instance. A
 * json value is encoded into a buffer pushed above it. */
static void check_declared(lua_State *L, const l_model *m, int field,
                           const char *what, rm_value *v) {
  rm_diag d;
  rm_diag_init(&d);
  if (rml_tofield(L, 3, m->schema, field, v, &d) == 0 &&
      rm_field_validate(m->schema, field, v, &d) == 0)
    return;
  rml_raise_kind(L, RM_E_CONFIG, "%s.%s: %s is invalid: %s",
                 rm_schema_name(m->schema), rm_field_name(m->schema, field),
                 what, d.message);
}

/* The field index argument of the check functions. */
static int field_arg(lua_State *L, const l_model *m) {
  int field = (int)luaL_checkinteger(L, 2);
  luaL_argcheck(L, field >= 0 && field < rm_schema_nfields(m->schema), 2,
                "no such field");
  return field;
}

/* core.set_default(model, field index, value) -> the value kept: raises
 * ConfigurationError when a default value breaks its field's rules, else
 * keeps it for new instances. A table (a json default) is kept as a copy
 * built from its checked encoding, so that changing the caller's table
 * later changes nothing. */
static int l_set_default(lua_State *L) {
  l_model *m = rml_checkmodel(L, 1);
  int field = field_arg(L, m);
  rm_value v;
  lua_settop(L, 3);
  check_declared(L, m, field, "the default value", &v);
  if (v.tag == RM_V_JSON && lua_type(L, 3) == LUA_TTABLE) {
    rml_pushjson(L, (const unsigned char *)v.u.s.ptr); /* encoding above 3 */
    lua_replace(L, 3);
  }
  lua_settop(L, 3);
  lua_getiuservalue(L, 1, MODEL_DEFAULTS);
  lua_pushvalue(L, 3);
  lua_rawseti(L, -2, field + 1);
  lua_settop(L, 3);
  return 1;
}

/* core.check_choice(model, field index, value, n): raises
 * ConfigurationError when the n-th choice breaks its field's other rules
 * (a length, a bound, a pattern, UTF-8): no value could take it. */
static int l_check_choice(lua_State *L) {
  l_model *m = rml_checkmodel(L, 1);
  int field = field_arg(L, m);
  char what[40];
  rm_value v;
  snprintf(what, sizeof what, "choice #%lld", (long long)luaL_checkinteger(L, 4));
  lua_settop(L, 3);
  check_declared(L, m, field, what, &v);
  return 0;
}

/* core.model_table_check(model): raises unless the model can reach its
 * table (it has a backend, and the backend accepts its fields). */
static int l_model_check(lua_State *L) {
  rml_checkmodel(L, 1);
  rml_model_table(L, 1);
  return 0;
}

void rml_open_model(lua_State *L) {
  static const luaL_Reg meta[] = {{"__gc", model_gc}, {NULL, NULL}};
  static const luaL_Reg fns[] = {{"model_new", l_model_new},
                                 {"model_set_store", l_model_set_store},
                                 {"model_set_lifecycle", l_model_set_lifecycle},
                                 {"model_check", l_model_check},
                                 {"set_default", l_set_default},
                                 {"check_choice", l_check_choice},
                                 {NULL, NULL}};
  if (luaL_newmetatable(L, RM_MODEL_MT)) luaL_setfuncs(L, meta, 0);
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
}
