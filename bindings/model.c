/*
 * Models: the C side of a declared model (its schema, field names and
 * defaults), building validated instances, and the writes and key lookups
 * that go straight to the engine.
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

/* ------------------------------------------------------------ instances */

l_instance *rml_push_instance(lua_State *L, int model_idx,
                              const unsigned char *data, size_t size,
                              int persisted) {
  l_model *m = lua_touserdata(L, model_idx);
  l_instance *u = lua_newuserdatauv(L, sizeof *u + size, INST_NUSERVALUES);
  u->magic = RM_INSTANCE_MAGIC;
  u->persisted = (unsigned)persisted;
  u->pending = 0;
  u->schema = m->schema;
  u->size = size;
  u->data = u->inline_data;
  u->mask = NULL;
  if (data != NULL && size) memcpy(u->inline_data, data, size);
  lua_getiuservalue(L, model_idx, MODEL_INSTANCE_MT);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, model_idx);
  lua_setiuservalue(L, -2, INST_MODEL);
  return u;
}

l_instance *rml_push_record(lua_State *L, int model_idx, const rm_table *t,
                            const rm_record *r) {
  uint64_t version = rm_table_version(t);
  size_t size = rm_record_size(rm_table_schema(t), r);
  l_instance *u = rml_push_instance(L, model_idx, NULL, size, 1);
  if (rm_table_version(t) != version) {
    lua_pop(L, 1);
    return NULL;
  }
  memcpy(u->inline_data, rm_record_data(r), size);
  return u;
}

void rml_set_mask(lua_State *L, int idx, int mask_idx) {
  l_instance *u = lua_touserdata(L, idx);
  lua_pushvalue(L, mask_idx);
  u->mask = lua_tostring(L, -1);
  lua_setiuservalue(L, idx, INST_MASK);
}

/* The usual cause is u.save() written for u:save(): the error says so,
 * naming the method when the call site tells its name. */
static void not_an_instance(lua_State *L, int idx) {
  lua_Debug ar;
  const char *name = "save";
  if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && ar.name != NULL &&
      strcmp(ar.name, "?") != 0)
    name = ar.name;
  rml_raise_kind(L, RM_E_CONFIG, "expected a model instance, got %s: call "
                 "instance methods with a colon, u:%s() rather than u.%s()",
                 luaL_typename(L, idx), name, name);
}

l_instance *rml_toinstance(lua_State *L, int idx) {
  l_instance *u = lua_touserdata(L, idx);
  if (u == NULL || lua_type(L, idx) != LUA_TUSERDATA ||
      lua_rawlen(L, idx) < sizeof *u || u->magic != RM_INSTANCE_MAGIC)
    return NULL;
  return u;
}

l_instance *rml_checkinstance(lua_State *L, int idx) {
  l_instance *u = rml_toinstance(L, idx);
  if (u == NULL) not_an_instance(L, idx);
  return u;
}

/* Reports every key of `spec` that names no field. */
static void check_unknown_keys(lua_State *L, int model, int spec, rm_diag *d) {
  l_model *m = lua_touserdata(L, model);
  lua_getiuservalue(L, model, MODEL_FIELDMAP);
  lua_pushnil(L);
  while (lua_next(L, spec) != 0) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, -3) == LUA_TNIL) {
      char label[RML_LABEL_MAX];
      const char *key = luaL_typename(L, -2);
      if (lua_type(L, -2) == LUA_TSTRING) {
        size_t len;
        const char *name = lua_tolstring(L, -2, &len);
        key = rml_key_label(name, len, label, sizeof label);
      }
      rm_diag_field_error(d, key, "unknown_field", "%s: unknown field '%s'",
                          rm_schema_name(m->schema), key);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* Pushes the value of each field: from spec, else its default (a function
 * default is called now). With null_is_nil (from_json), orm.null in spec
 * stands for a nil given on purpose: the default does not apply. Returns
 * how many came from spec. */
static int push_field_values(lua_State *L, int model, int spec, int n,
                             int null_is_nil) {
  int i, given = 0;
  lua_getiuservalue(L, model, MODEL_NAMES);
  lua_getiuservalue(L, model, MODEL_DEFAULTS);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, -2 - i, i + 1);
    if (lua_rawget(L, spec) != LUA_TNIL) {
      if (null_is_nil && rml_isnull(L, -1)) {
        lua_pushnil(L);
        lua_replace(L, -2);
      }
      given++;
      continue;
    }
    lua_pop(L, 1);
    if (lua_rawgeti(L, -1 - i, i + 1) == LUA_TFUNCTION) lua_call(L, 0, 1);
  }
  return given;
}

static int count_keys(lua_State *L, int spec) {
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, spec) != 0) {
    lua_pop(L, 1);
    n++;
  }
  return n;
}

static int is_required(const rm_schema *s, int field) {
  return !(rm_field_flags(s, field) & RM_F_OPTIONAL);
}

/* Validates the field values on the stack (from `first`) into vals,
 * collecting every broken rule; with defer_required, a required field
 * left nil is not one. Returns how many required fields are nil. json
 * values are encoded into buffers pushed above the field values, which
 * stay there while vals are used. */
static int validate_values(lua_State *L, const rm_schema *s, int first,
                           rm_value *vals, rm_diag *d, int defer_required) {
  int i, n = rm_schema_nfields(s), missing = 0;
  for (i = 0; i < n; i++) {
    if (rml_tofield(L, first + i, s, i, &vals[i], d) != 0) continue;
    if (vals[i].tag == RM_V_NIL && is_required(s, i) && defer_required)
      missing++;
    else
      rm_field_validate(s, i, &vals[i], d);
  }
  return missing;
}

l_instance *rml_build_instance(lua_State *L, int model, int spec, rm_diag *d,
                               int how) {
  l_model *m = lua_touserdata(L, model);
  int n = rm_schema_nfields(m->schema), top = lua_gettop(L), given, missing;
  rm_value vals[RM_MAX_FIELDS];
  l_instance *u;
  size_t size;
  luaL_checkstack(L, 2 * n + 8, "too many fields");
  given = push_field_values(L, model, spec, n, how & RML_NULL_IS_NIL);
  if (given != count_keys(L, spec)) check_unknown_keys(L, model, spec, d);
  missing = validate_values(L, m->schema, top + 3, vals, d,
                            how & RML_DEFER_REQUIRED);
  if (d->kind != RM_OK) rml_raise(L, d);
  size = rm_record_encoded_size(m->schema, vals);
  u = rml_push_instance(L, model, NULL, size, 0);
  u->pending = missing > 0;
  rm_record_encode(m->schema, vals, u->inline_data);
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
  return u;
}

/* Builds an instance from the spec table at `spec`: defaults, unknown
 * keys, validation of every field. Leaves the instance on the stack. */
static l_instance *build_instance(lua_State *L, int model, int spec,
                                  int how) {
  rm_diag d;
  rm_diag_init(&d);
  return rml_build_instance(L, model, spec, &d, how);
}

/* Class functions accept both User:fn(x) and User.fn(x): the argument is
 * after the model's table when that comes first. Returns its index. */
static int class_arg(lua_State *L) {
  return lua_rawequal(L, 1, lua_upvalueindex(2)) ? 2 : 1;
}

static int check_spec(lua_State *L, int arg, const char *what) {
  if (lua_type(L, arg) != LUA_TTABLE) {
    l_model *m = lua_touserdata(L, lua_upvalueindex(1));
    rml_raise_kind(L, RM_E_VALIDATION, "%s:%s expects a table of field "
                   "values, got %s", rm_schema_name(m->schema), what,
                   luaL_typename(L, arg));
  }
  return arg;
}

/* A pending instance's required fields that are still nil, each a
 * broken rule, all raised at once. */
static void check_required(lua_State *L, const l_instance *u) {
  int i, n = rm_schema_nfields(u->schema);
  rm_diag d;
  rm_diag_init(&d);
  for (i = 0; i < n; i++) {
    rm_value v;
    rm_record_get(u->schema, u->data, i, &v);
    if (v.tag == RM_V_NIL && is_required(u->schema, i))
      rm_field_validate(u->schema, i, &v, &d);
  }
  if (d.kind != RM_OK) rml_raise(L, &d);
}

/* A select() instance lacks fields: storing it would lose them. A pending
 * one may lack required values. */
void rml_check_complete(lua_State *L, l_instance *u) {
  int i, n = rm_schema_nfields(u->schema);
  if (u->pending) {
    check_required(L, u);
    u->pending = 0;
  }
  if (u->mask == NULL) return;
  for (i = 0; i < n; i++) rml_check_loaded(L, u, i);
}

/* Stores the instance at idx in the model's table. */
static void put_instance(lua_State *L, int model, l_instance *u,
                         rm_put_mode mode) {
  rm_table *t = rml_model_table(L, model);
  rm_diag d;
  rml_check_complete(L, u);
  rm_diag_init(&d);
  if (rm_table_put(t, u->data, u->size, mode, NULL, &d) < 0) rml_raise(L, &d);
  u->persisted = 1;
}

/* User(spec), User:new(spec): a new, unsaved instance. */
static int l_class_new(lua_State *L) {
  int arg = check_spec(L, class_arg(L), "new");
  lua_settop(L, arg);
  lua_pushvalue(L, lua_upvalueindex(1));
  build_instance(L, arg + 1, arg, 0);
  return 1;
}

static int write_new(lua_State *L, const char *what, rm_put_mode mode) {
  int arg = check_spec(L, class_arg(L), what);
  l_instance *u;
  lua_settop(L, arg);
  lua_pushvalue(L, lua_upvalueindex(1));
  rml_model_table(L, arg + 1); /* no backend: fail before building */
  u = build_instance(L, arg + 1, arg, 0);
  put_instance(L, arg + 1, u, mode);
  return 1;
}

/* ------------------------------------------------ handing over to Lua */

/* The public C functions of a model (class functions and instance
 * methods) are installed by model.lua only while the model needs no
 * lifecycle; but a program may keep one (local create = User.create)
 * and call it after hooks were appended or a backend brought extensions.
 * Each tests the model's flag first (upvalue 1), one branch, and when it
 * is set calls the function installed now. The Lua paths themselves call
 * the raw closures (l_raw_*), which never hand over. */
static int handed_over(lua_State *L, unsigned bit) {
  const l_model *m = lua_touserdata(L, lua_upvalueindex(1));
  return (m->lifecycle & bit) != 0;
}

/* Calls the function installed as `name` in the table at upvalue `tbl`
 * (the class functions or the instance methods) with this call's
 * arguments and returns its results. While the flag is set that function
 * is a Lua wrapper, not this closure, so this does not come back here. */
static int hand_over(lua_State *L, int tbl, const char *name) {
  int n = lua_gettop(L);
  lua_pushstring(L, name);
  lua_rawget(L, lua_upvalueindex(tbl));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

/* ----------------------------------------------------- class functions */

static int l_raw_create(lua_State *L) {
  return write_new(L, "create", RM_PUT_CREATE);
}

static int l_raw_upsert(lua_State *L) {
  return write_new(L, "upsert", RM_PUT_UPSERT);
}

static int l_class_create(lua_State *L) {
  if (handed_over(L, RML_LC_STORES)) return hand_over(L, 4, "create");
  return l_raw_create(L);
}

static int l_class_upsert(lua_State *L) {
  if (handed_over(L, RML_LC_STORES)) return hand_over(L, 4, "upsert");
  return l_raw_upsert(L);
}

/* User:get(key) by primary key value; a table argument goes to the
 * query-based get (upvalue 3). */
static int l_raw_get(lua_State *L) {
  int arg = class_arg(L);
  const rm_record *r;
  rm_table *t;
  rm_diag d;
  if (lua_type(L, arg) == LUA_TTABLE) {
    lua_pushvalue(L, lua_upvalueindex(3));
    lua_pushvalue(L, arg);
    lua_call(L, 1, 1);
    return 1;
  }
  lua_settop(L, arg);
  lua_pushvalue(L, lua_upvalueindex(1));
  t = rml_model_table(L, arg + 1);
  /* Looked up again when the instance's allocation ran a finalizer that
   * wrote to the table (rml_push_record). */
  do {
    rm_diag_init(&d);
    if (rm_table_get(t, rml_tovalue(L, arg), &r, &d) < 0) rml_raise(L, &d);
    if (r == NULL) {
      lua_pushnil(L);
      return 1;
    }
  } while (rml_push_record(L, arg + 1, t, r) == NULL);
  return 1;
}

static int l_class_get(lua_State *L) {
  if (handed_over(L, RML_LC_GETS)) return hand_over(L, 4, "get");
  return l_raw_get(L);
}

/* Pushes a new table of the closures fns, each with the values at stack
 * indexes 1 to nup as upvalues. */
static void push_closures(lua_State *L, const luaL_Reg *fns, int nup) {
  int i;
  lua_newtable(L);
  for (i = 1; i <= nup; i++) lua_pushvalue(L, i);
  luaL_setfuncs(L, fns, nup);
}

/* core.class_functions(model, class, get_fallback, funcs) -> {new=,
 * create=, upsert=, get=}, {create=, upsert=, get=}: C closures bound to
 * the model. The first are the public ones, which hand over to funcs (the
 * table of the class functions installed) once the model needs its
 * lifecycle; the second the raw ones the Lua paths call to store and load. */
static int l_class_functions(lua_State *L) {
  static const luaL_Reg fns[] = {{"new", l_class_new},
                                 {"create", l_class_create},
                                 {"upsert", l_class_upsert},
                                 {"get", l_class_get},
                                 {NULL, NULL}};
  static const luaL_Reg raw[] = {{"create", l_raw_create},
                                 {"upsert", l_raw_upsert},
                                 {"get", l_raw_get},
                                 {NULL, NULL}};
  rml_checkmodel(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  luaL_checktype(L, 4, LUA_TTABLE);
  lua_settop(L, 4);
  push_closures(L, fns, 4);
  push_closures(L, raw, 4);
  return 2;
}

/* Raises for own_instance: u is another model's instance, or NULL when
 * the value at 1 is none (u.save() written for u:save(), mostly). */
static void not_own(lua_State *L, const l_model *m, const l_instance *u,
                    const char *method) {
  const char *name = rm_schema_name(m->schema);
  if (u != NULL)
    rml_raise_kind(L, RM_E_CONFIG, "%s: %s expects an instance of %s, got "
                   "one of %s", name, method, name, rm_schema_name(u->schema));
  rml_raise_kind(L, RM_E_CONFIG, "%s: %s expects an instance of %s, got %s: "
                 "call instance methods with a colon, u:%s() rather than "
                 "u.%s()", name, method, name,
                 lua_isnone(L, 1) ? "nil" : luaL_typename(L, 1), method,
                 method);
}

/* The instance methods save, delete and reload are C closures of one
 * model (upvalue 1, its core), not functions shared by every model: one
 * model's method given another model's instance (U.delete(h), or u.delete
 * kept and called on h) would write h without h's hooks, extensions and
 * auto_now stamps. The check is one pointer comparison, each model
 * having its own schema; the messages are those of model.lua's own(). */
static l_instance *own_instance(lua_State *L, const char *method) {
  const l_model *m = lua_touserdata(L, lua_upvalueindex(1));
  l_instance *u = rml_toinstance(L, 1);
  if (u == NULL || u->schema != m->schema) not_own(L, m, u, method);
  return u;
}

/* u:save(): insert if new, else update. Returns u. */
static int l_save(lua_State *L) {
  l_instance *u;
  if (handed_over(L, RML_LC_STORES)) return hand_over(L, 2, "save");
  u = own_instance(L, "save");
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  put_instance(L, 2, u, u->persisted ? RM_PUT_UPDATE : RM_PUT_CREATE);
  lua_settop(L, 1);
  return 1;
}

/* u:delete() -> true if a stored record was deleted. */
static int l_raw_delete(lua_State *L) {
  l_instance *u = own_instance(L, "delete");
  rm_table *t;
  rm_value key;
  rm_diag d;
  int rc;
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  t = rml_model_table(L, 2);
  rm_record_get(u->schema, u->data, rm_schema_primary_key(u->schema), &key);
  rm_diag_init(&d);
  rc = rm_table_delete(t, key, &d);
  if (rc < 0) rml_raise(L, &d);
  u->persisted = 0;
  lua_pushboolean(L, rc);
  return 1;
}

static int l_delete(lua_State *L) {
  if (handed_over(L, RML_LC_STORES)) return hand_over(L, 2, "delete");
  return l_raw_delete(L);
}

/* core.instance(model, spec[, pending]) -> new unsaved instance (for Lua
 * paths). With pending, required fields may be left nil for before_save
 * hooks to set: storing the instance checks them. */
static int l_instance_new(lua_State *L) {
  int how = lua_toboolean(L, 3) ? RML_DEFER_REQUIRED : 0;
  rml_checkmodel(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_pushvalue(L, 1);
  build_instance(L, 3, 2, how);
  return 1;
}

/* core.put(instance, mode): mode "create", "upsert" or "update". */
static int l_put(lua_State *L) {
  static const char *const modes[] = {"create", "upsert", "update", NULL};
  static const rm_put_mode values[] = {RM_PUT_CREATE, RM_PUT_UPSERT,
                                       RM_PUT_UPDATE};
  l_instance *u = rml_checkinstance(L, 1);
  int mode = luaL_checkoption(L, 2, NULL, modes);
  lua_settop(L, 1);
  lua_getiuservalue(L, 1, INST_MODEL);
  put_instance(L, 2, u, values[mode]);
  lua_settop(L, 1);
  return 1;
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

/* Quotes a key value for messages. */
static void key_text(const rm_value *v, char *buf, size_t cap) {
  if (v->tag == RM_V_STR)
    snprintf(buf, cap, "\"%.*s%s\"", v->u.s.len > 60 ? 60 : (int)v->u.s.len,
             v->u.s.ptr, v->u.s.len > 60 ? "..." : "");
  else if (v->tag == RM_V_INT)
    snprintf(buf, cap, "%lld", (long long)v->u.i);
  else
    snprintf(buf, cap, "%s", "nil");
}

/* The stored record with u's primary key, or NotFoundError. */
static const rm_record *stored_record(lua_State *L, rm_table *t,
                                      const l_instance *u) {
  const rm_schema *s = u->schema;
  const rm_record *r;
  rm_value key;
  rm_diag d;
  char text[80];
  rm_record_get(s, u->data, rm_schema_primary_key(s), &key);
  rm_diag_init(&d);
  if (rm_table_get(t, key, &r, &d) < 0) rml_raise(L, &d);
  if (r != NULL) return r;
  key_text(&key, text, sizeof text);
  rml_raise_kind(L, RM_E_NOT_FOUND, "%s: no record with %s %s to reload "
                 "(it was deleted, or never saved)", rm_schema_name(s),
                 rm_field_name(s, rm_schema_primary_key(s)), text);
  return NULL;
}

/* u:reload(): replaces u's data with a copy of the stored record of its
 * primary key, as an assignment replaces it (INST_BUFFER), and returns u,
 * now persisted with every field loaded. The buffer is made before the
 * copy; should a finalizer run by that allocation write to the table, the
 * record is looked up again. */
static int l_reload(lua_State *L) {
  l_instance *u;
  const rm_record *r;
  rm_table *t;
  unsigned char *buf;
  uint64_t version;
  size_t size;
  if (handed_over(L, RML_LC_LOADS)) return hand_over(L, 2, "reload");
  u = own_instance(L, "reload");
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  t = rml_model_table(L, 2);
  for (;;) {
    r = stored_record(L, t, u);
    version = rm_table_version(t);
    size = rm_record_size(rm_table_schema(t), r);
    buf = lua_newuserdatauv(L, size ? size : 1, 0);
    if (rm_table_version(t) == version) break;
    lua_pop(L, 1);
  }
  memcpy(buf, rm_record_data(r), size);
  lua_setiuservalue(L, 1, INST_BUFFER);
  lua_pushnil(L);
  lua_setiuservalue(L, 1, INST_MASK);
  u->data = buf;
  u->size = size;
  u->mask = NULL;
  u->persisted = 1;
  lua_settop(L, 1);
  return 1;
}

/* core.stored(u): a new stored instance holding the record with u's
 * primary key, or NotFoundError; u is left as it is. */
static int l_stored(lua_State *L) {
  l_instance *u = rml_checkinstance(L, 1);
  rm_table *t;
  lua_settop(L, 1);
  lua_getiuservalue(L, 1, INST_MODEL);
  t = rml_model_table(L, 2);
  /* Again when a finalizer wrote to the table (rml_push_record). */
  while (rml_push_record(L, 2, t, stored_record(L, t, u)) == NULL) continue;
  return 1;
}

/* core.instance_methods(model, methods) -> {save=, delete=, reload=},
 * {delete=}: the model's own C closures (own_instance). The first hand
 * over to `methods` (the table instances look methods up in) once the
 * model needs its lifecycle; the second is the raw delete the Lua paths
 * call. */
static int l_instance_methods(lua_State *L) {
  static const luaL_Reg fns[] = {{"save", l_save},
                                 {"delete", l_delete},
                                 {"reload", l_reload},
                                 {NULL, NULL}};
  static const luaL_Reg raw[] = {{"delete", l_raw_delete}, {NULL, NULL}};
  rml_checkmodel(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  push_closures(L, fns, 2);
  push_closures(L, raw, 2);
  return 2;
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
                                 {"class_functions", l_class_functions},
                                 {"instance", l_instance_new},
                                 {"instance_methods", l_instance_methods},
                                 {"put", l_put},
                                 {"stored", l_stored},
                                 {NULL, NULL}};
  if (luaL_newmetatable(L, RM_MODEL_MT)) luaL_setfuncs(L, meta, 0);
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
}
