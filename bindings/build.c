/*
 * Building instances: the instance userdata (new, from a stored record,
 * limited by select()), telling instances from other values, building a
 * validated instance from a spec table (defaults, unknown keys, every
 * rule), and checking an instance is complete before it is stored.
 */
#include <string.h>

#include "bindings.h"

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
