-- restmachine_orm: an ActiveRecord-style ORM for Lua 5.4 with its engine in C.
-- One C module (restmachine_orm.core, built from every engine and binding
-- source) and the pure-Lua modules around it. No rock dependencies; the
-- system requirements are uthash's header and the jansson and PCRE2
-- libraries (Debian: uthash-dev, libjansson-dev, libpcre2-dev).
-- The build table below is generated: after adding or removing a source
-- file run `make rockspec`; `make test` fails when it is out of date.
rockspec_format = "3.0"
package = "restmachine_orm"
version = "dev-1"
source = {
   -- No public home yet; `luarocks make` builds from the working tree and
   -- never fetches this.
   url = "git+https://example.invalid/restmachine_orm.git",
}
description = {
   summary = "ActiveRecord-style ORM for Lua 5.4 with a C engine",
   detailed = [[
restmachine_orm declares models in Lua (fields, types, validation rules,
unique keys) and keeps their records in C memory. It re-creates the Python
library restmachine-orm, starting from its in-memory backend: create, get,
update, delete and query records with Django-style lookups.
]],
   labels = { "orm", "database", "activerecord", "in-memory" },
}
dependencies = {
   "lua >= 5.4",
}
-- jansson for to_json/from_json, PCRE2 (8-bit) for string field patterns.
external_dependencies = {
   JANSSON = { header = "jansson.h", library = "jansson" },
   PCRE2 = { header = "pcre2.h", library = "pcre2-8" },
}
build = {
   type = "builtin",
   modules = {
      ["restmachine_orm.core"] = {
         sources = {
            "engine/btree.c",
            "engine/btree_check.c",
            "engine/btree_delete.c",
            "engine/btree_insert.c",
            "engine/btree_unput.c",
            "engine/cursor.c",
            "engine/datetime.c",
            "engine/diag.c",
            "engine/hashmap.c",
            "engine/index.c",
            "engine/json.c",
            "engine/mem.c",
            "engine/node.c",
            "engine/pattern.c",
            "engine/plan.c",
            "engine/query.c",
            "engine/record.c",
            "engine/schema.c",
            "engine/slab.c",
            "engine/store.c",
            "engine/table.c",
            "engine/text.c",
            "engine/validate.c",
            "engine/value.c",
            "engine/write.c",
            "bindings/build.c",
            "bindings/convert.c",
            "bindings/core.c",
            "bindings/instance.c",
            "bindings/instance_state.c",
            "bindings/json.c",
            "bindings/jsontext.c",
            "bindings/model.c",
            "bindings/node.c",
            "bindings/paths.c",
            "bindings/run.c",
            "bindings/store.c",
         },
         incdirs = { "engine", "$(JANSSON_INCDIR)", "$(PCRE2_INCDIR)" },
         libdirs = { "$(JANSSON_LIBDIR)", "$(PCRE2_LIBDIR)" },
         libraries = { "jansson", "pcre2-8" },
         defines = { "_POSIX_C_SOURCE=200809L" },
      },
      ["restmachine_orm.backends"] = "lua/restmachine_orm/backends.lua",
      ["restmachine_orm.declare"] = "lua/restmachine_orm/declare.lua",
      ["restmachine_orm.errors"] = "lua/restmachine_orm/errors.lua",
      ["restmachine_orm.field"] = "lua/restmachine_orm/field.lua",
      ["restmachine_orm"] = "lua/restmachine_orm/init.lua",
      ["restmachine_orm.lifecycle"] = "lua/restmachine_orm/lifecycle.lua",
      ["restmachine_orm.mixins"] = "lua/restmachine_orm/mixins.lua",
      ["restmachine_orm.model"] = "lua/restmachine_orm/model.lua",
      ["restmachine_orm.q"] = "lua/restmachine_orm/q.lua",
      ["restmachine_orm.query"] = "lua/restmachine_orm/query.lua",
      ["restmachine_orm.testing"] = "lua/restmachine_orm/testing.lua",
   },
}
