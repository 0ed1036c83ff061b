/*
 * Shared declarations of the Lua bindings: the userdata layouts of models,
 * instances, stores and query nodes, and the helpers that convert values
 * and raise the error tables of API.md §10.
 */
#ifndef RM_BINDINGS_H
#define RM_BINDINGS_H

#include <lauxlib.h>
#include <lua.h>

#include "restmachine_orm.h"

#define RM_STORE_MT "restmachine_orm.Store"
#define RM_MODEL_MT "restmachine_orm.ModelCore"
#define RM_NODE_MT "restmachine_orm.Node"
#define RM_ERROR_MT "restmachine_orm.Error" /* set by errors.lua */
#define RM_JSONBOX_MT "restmachine_orm.JsonBox"

/* A backend's engine store. */
typedef struct l_store {
  rm_store *store;
} l_store;

/* User values of a model userdata. */
enum {
  MODEL_NAMES = 1,   /* field index + 1 -> field name */
  MODEL_FIELDMAP,    /* field name -> field index */
  MODEL_DEFAULTS,    /* field index + 1 -> default value or function */
  MODEL_INSTANCE_MT, /* metatable of the model's instances */
  MODEL_CLASS,       /* the model's Lua table */
  MODEL_STORE,       /* the l_store of model_backend, or nil */
  MODEL_NUSERVALUES = MODEL_STORE
};

/* The C side of a model: its schema, the table it last used, and which
 * of its C functions now hand over to the Lua lifecycle (RML_LC_*). */
typedef struct l_model {
  rm_schema *schema;
  rm_table *table;  /* in the store of MODEL_STORE; NULL until used */
  unsigned lifecycle;
} l_model;

/* l_model.lifecycle, set by core.model_set_lifecycle whenever model.lua
 * installs the model's paths: which writes and loads go through
 * lifecycle.lua, so that a C function kept from before (local create =
 * User.create) calls the one installed now. */
enum {
  RML_LC_STORES = 1, /* create, upsert, u:save(), u:delete() */
  RML_LC_LOADS = 2,  /* u:reload() */
  RML_LC_GETS = 4    /* get: loads, query filters or modify_query */
};

/* User values of an instance. */
enum {
  INST_MODEL = 1,  /* the model core */
  INST_BUFFER,     /* the data, once a field has been assigned */
  INST_MASK,       /* select(): the fields loaded, one byte each */
  INST_NUSERVALUES = INST_MASK
};

#define RM_INSTANCE_MAGIC 0x524d494eu /* "RMIN" */

/* An instance: a snapshot of one record's encoded data. The data lives
 * inline after the struct, or, once a field has been assigned, in a
 * buffer userdata held as the INST_BUFFER user value. No finalizer is
 * needed: every byte belongs to Lua. */
typedef struct l_instance {
  unsigned magic;
  unsigned persisted : 1;
  /* Built for a write whose before_save hooks run first: a required
   * field may still be nil; storing it checks them (rml_check_complete). */
  unsigned pending : 1;
  const rm_schema *schema; /* kept alive by the INST_MODEL user value */
  const unsigned char *data;
  size_t size;
  const char *mask;        /* select(): NULL, or 1 per loaded field */
  unsigned char inline_data[];
} l_instance;

/* A query condition tree and the schema of the model it was built for
 * (one reference; NULL for TRUE, which fits every model). Queries are
 * plain Lua tables, so core.run checks that a tree it is given belongs
 * to the model run: field indexes and value types are that schema's. */
typedef struct l_node {
  rm_node *node;
  rm_schema *schema;
} l_node;

/* json.c */
/* orm.null, the JSON null inside json values: [-0, +1]. */
void rml_pushnull(lua_State *L);
int rml_isnull(lua_State *L, int idx);
/* Encodes the Lua value at idx for json field `field` of s into a buffer
 * pushed on the stack ([-0, +1]; nil is pushed when the value is nil or
 * orm.null, which make the field nil). *out points into the buffer, which
 * must stay on the stack while *out is used. A value that is not JSON
 * adds a "json" rule to d and returns -1. */
int rml_tojson(lua_State *L, int idx, const rm_schema *s, int field,
               rm_value *out, rm_diag *d);
/* Pushes a fresh Lua value built from an encoded json value. */
void rml_pushjson(lua_State *L, const unsigned char *p);
/* The Lua value at idx for field `field` as an engine value: rml_tovalue,
 * or for json fields rml_tojson, which pushes its buffer: [-0, +(0|1)].
 * Returns -1 when a json value was refused (d says why). */
int rml_tofield(lua_State *L, int idx, const rm_schema *s, int field,
                rm_value *out, rm_diag *d);

/* jsontext.c */
void rml_open_jsontext(lua_State *L);

/* convert.c */
rm_value rml_tovalue(lua_State *L, int idx);
void rml_pushvalue(lua_State *L, const rm_value *v);
int rml_raise(lua_State *L, const rm_diag *d);
int rml_raise_kind(lua_State *L, rm_errkind kind, const char *fmt, ...);
/* A key as error messages name it, written to out (cap > 4 bytes): the
 * key's bytes, but a control byte (a zero byte above all, which would end
 * the message there) as a Lua escape such as \0; a label too long for out
 * ends in "...". Returns out. */
const char *rml_key_label(const char *key, size_t len, char *out, size_t cap);
/* Room for a label in an error message (rm_diag keeps 192 bytes). */
#define RML_LABEL_MAX 96

/* model.c */
l_model *rml_checkmodel(lua_State *L, int idx);
rm_table *rml_model_table(lua_State *L, int model_idx);
void rml_open_model(lua_State *L);

/* build.c */
l_instance *rml_push_instance(lua_State *L, int model_idx,
                              const unsigned char *data, size_t size,
                              int persisted);
/* Pushes a stored (persisted) instance holding a copy of the record r of
 * t. The allocation can run a finalizer that writes to t and frees r: then
 * nothing is copied or left on the stack, and it returns NULL for the
 * caller to look r up again. */
l_instance *rml_push_record(lua_State *L, int model_idx, const rm_table *t,
                            const rm_record *r);
/* The instance at idx, or NULL when the value there is none. */
l_instance *rml_toinstance(lua_State *L, int idx);
l_instance *rml_checkinstance(lua_State *L, int idx);
/* How rml_build_instance reads its spec. */
enum {
  RML_NULL_IS_NIL = 1,      /* orm.null is a nil given on purpose (from_json) */
  RML_DEFER_REQUIRED = 2    /* a required field may be nil: the instance is
                               pending until stored */
};
/* Builds a validated, unsaved instance of the model at `model` from the
 * spec table at `spec` (defaults, unknown keys, every rule), adding to the
 * broken rules d holds already; raises them all at once. `how`: RML_*
 * flags. Leaves the instance on the stack. */
l_instance *rml_build_instance(lua_State *L, int model, int spec, rm_diag *d,
                               int how);
/* Limits the instance at idx to the fields of the mask string at
 * mask_idx (select()). */
void rml_set_mask(lua_State *L, int idx, int mask_idx);
/* Raises unless u can be stored: every field loaded (select) and, when u
 * is pending, every required field set. */
void rml_check_complete(lua_State *L, l_instance *u);

/* paths.c */
void rml_open_paths(lua_State *L);

/* instance.c */
/* Pushes a new instance metatable for the model: [-0, +1]. */
void rml_instance_metatable(lua_State *L, int model_idx, int methods_idx);
void rml_open_instance(lua_State *L);

/* store.c */
void rml_open_store(lua_State *L);

/* node.c */
l_node *rml_checknode(lua_State *L, int idx);
void rml_open_node(lua_State *L);

/* run.c */
void rml_open_run(lua_State *L);

/* instance_state.c */
void rml_open_instance_state(lua_State *L);

/* instance.c: raises unless field `field` of u was loaded. */
void rml_check_loaded(lua_State *L, const l_instance *u, int field);

#endif
