/*
 * The model's fast C paths: the class functions (new, create, upsert,
 * get) and instance methods (save, delete, reload) as C closures bound to
 * one model, which hand over to the Lua lifecycle once the model needs
 * it, and the writes and key lookups the Lua paths call (core.instance,
 * core.put, core.stored).
 */
#include <stdio.h>
#include <string.h>

#include "bindings.h"

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

void rml_open_paths(lua_State *L) {
  static const luaL_Reg fns[] = {{"class_functions", l_class_functions},
                                 {"instance", l_instance_new},
                                 {"instance_methods", l_instance_methods},
                                 {"put", l_put},
                                 {"stored", l_stored},
                                 {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
