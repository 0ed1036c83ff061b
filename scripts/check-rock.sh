#!/usr/bin/env bash
# Installs the rock with `luarocks make` into a temporary tree, from a copy
# of the files the rockspec needs (so luarocks writes no objects into the
# work tree and the rockspec is shown to be self-contained), then loads it
# with package.path and package.cpath pointing only into that tree and
# creates a record. Nothing is fetched: no rock dependencies, --deps-mode=none.
#
#   check-rock.sh ROCKSPEC
set -eu
rockspec=${1:?rockspec}
lua=${LUA:-lua5.4}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cp -R engine bindings lua "$rockspec" "$work/src/"
rm -f "$work"/src/engine/*.o "$work"/src/bindings/*.o

tree="$work/tree"
(cd "$work/src" && luarocks --lua-version 5.4 make --deps-mode=none --tree "$tree" "$(basename "$rockspec")")

env -u LUA_PATH -u LUA_PATH_5_4 -u LUA_CPATH -u LUA_CPATH_5_4 "$lua" -e "
package.path = '$tree/share/lua/5.4/?.lua;$tree/share/lua/5.4/?/init.lua'
package.cpath = '$tree/lib/lua/5.4/?.so'
local orm = require('restmachine_orm')
local Model, Field = orm.Model, orm.Field
local backend = orm.backends.InMemoryBackend()
local User = Model('User', {
  model_backend = backend,
  id = Field.string { primary_key = true },
  name = Field.string {},
})
local u = User:create { id = 'user-1', name = 'Alice' }
assert(User:get('user-1').name == 'Alice', 'record not found after create')
assert(User:count() == 1, 'count is not 1')
-- jansson and PCRE2 are linked: a pattern, a json field, JSON text.
local Doc = Model('Doc', {
  model_backend = backend,
  id = Field.string { primary_key = true, pattern = '^d-[0-9]+\$' },
  tags = Field.json {},
})
local d = Doc:create { id = 'd-1', tags = { 'a', 1 } }
assert(d:to_json() == '{\"id\":\"d-1\",\"tags\":[\"a\",1]}', 'to_json: ' .. d:to_json())
assert(Doc:from_json(d:to_json()) == d, 'from_json does not round-trip')
assert(not pcall(Doc, { id = 'x', tags = {} }), 'the pattern was not applied')
print('check-rock: require from the installed tree works: ' .. tostring(u))
"
