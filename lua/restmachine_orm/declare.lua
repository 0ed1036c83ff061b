-- Reading a model declaration: the spec table and its mixins become an
-- ordered list of field descriptions (for the C schema), instance methods,
-- hooks, extensions, query filters and model options, with a
-- ConfigurationError naming the model and field for every mistake.
local errors = require("restmachine_orm.errors")
local Field = require("restmachine_orm.field")

local declare = {}

-- Instance methods every model has: fields and user methods may not take
-- these names.
declare.RESERVED = {
  save = true, delete = true, is_persisted = true, to_table = true,
  to_json = true, reload = true,
}

declare.HOOKS = { "before_save", "after_save", "after_load", "before_delete", "after_delete" }
local IS_HOOK = {}
for _, h in ipairs(declare.HOOKS) do IS_HOOK[h] = true end

local KNOWN_TYPES = {}
for _, t in ipairs(Field.types) do KNOWN_TYPES[t] = true end

local OPTIONS = {
  primary_key = "boolean", unique = "boolean", index = "boolean",
  optional = "boolean", default = "any", gt = "any", ge = "any", lt = "any",
  le = "any", min_length = "integer", max_length = "integer",
  choices = "table", description = "string",
  pattern = "string", auto_now = "boolean", auto_now_add = "boolean",
}

-- The boolean options fields() and field() always show.
local FLAGS = { "primary_key", "unique", "index", "optional" }

-- Declared by API.md but delivered by later work; refused clearly rather
-- than ignored.
local NOT_YET = {
  options = {},
  types = {},
  model = { partition_key = true, sort_key = true },
}

local function config_error(fmt, ...)
  errors.raise("ConfigurationError", fmt:format(...), nil, 5)
end

-- True for a plain list: a table without a metatable whose keys are
-- exactly 1..n. `#` and ipairs would let a __len, a hole or a stray key
-- pass and then silently ignore part of the table.
local function is_list(t)
  if type(t) ~= "table" or getmetatable(t) ~= nil then return false end
  local n = 0
  for _ in next, t do n = n + 1 end
  for i = 1, n do
    if rawget(t, i) == nil then return false end
  end
  return true
end

-- Functions, and tables with a __call metamethod, can be called.
local function is_callable(v)
  return type(v) == "function" or (type(v) == "table" and (getmetatable(v) or {}).__call ~= nil)
end

local function check_option(model_name, field_name, key, value)
  local want = OPTIONS[key]
  if type(key) ~= "string" or not want then
    config_error("%s.%s: unknown field option '%s'", model_name, field_name, tostring(key))
  end
  if NOT_YET.options[key] then
    config_error("%s.%s: option '%s' is not supported yet", model_name, field_name, key)
  end
  local ok
  if want == "any" then
    ok = true
  elseif want == "integer" then
    ok = math.type(value) == "integer" and value >= 0
  else
    ok = type(value) == want
  end
  if not ok then
    config_error("%s.%s: option '%s' must be a %s%s, got %s", model_name, field_name, key,
      want == "integer" and "non-negative " or "", want, tostring(value))
  end
end

-- A key is always required: declared optional, or given its value only
-- when saved (auto_now, auto_now_add: after the instance is built and
-- checked), it would be nil and every create would fail.
local function check_key_options(model_name, name, options)
  if not options.primary_key then return end
  for _, key in ipairs { "optional", "auto_now", "auto_now_add" } do
    if options[key] then
      config_error("%s.%s: a primary key is always required; it cannot be %s",
        model_name, name, key)
    end
  end
end

-- The description of one field that the C core reads.
local function describe_field(model_name, name, decl)
  -- Conditions name fields as field__lookup: a name holding "__" (or a
  -- zero byte, or none at all) could not be told apart from a lookup.
  if name == "" or name:find("__", 1, true) or name:find("\0", 1, true) then
    config_error("%s: the field name %q cannot be used in conditions: a name must be "
      .. "non-empty, without \"__\" (which separates a field from its lookup) and without "
      .. "zero bytes", model_name, name)
  end
  if declare.RESERVED[name] then
    config_error("%s.%s: a field cannot be named like the instance method '%s'",
      model_name, name, name)
  end
  if not KNOWN_TYPES[decl.type] then
    config_error("%s.%s: unknown field type '%s'", model_name, name, tostring(decl.type))
  end
  if NOT_YET.types[decl.type] then
    config_error("%s.%s: %s fields are not supported yet", model_name, name, decl.type)
  end
  local desc = { name = name, type = decl.type }
  for key, value in pairs(decl.options) do
    check_option(model_name, name, key, value)
    desc[key] = value
  end
  if (desc.auto_now or desc.auto_now_add) and desc.type ~= "datetime" then
    config_error("%s.%s: auto_now and auto_now_add apply to datetime fields, not %s",
      model_name, name, desc.type)
  end
  check_key_options(model_name, name, desc)
  if desc.default ~= nil or desc.auto_now or desc.auto_now_add then desc.optional = true end
  -- Introspection shows these flags as true or false, set or not.
  for _, flag in ipairs(FLAGS) do desc[flag] = desc[flag] == true end
  if desc.choices ~= nil and not (is_list(desc.choices) and desc.choices[1] ~= nil) then
    config_error("%s.%s: choices must be a non-empty list (keys 1 to n, no holes, no other "
      .. "keys, no metatable)", model_name, name)
  end
  return desc
end

-- A hook option: a function or a list of functions.
local function hook_list(model_name, key, value)
  local list = (type(value) == "table" and not is_callable(value)) and value or { value }
  if not is_list(list) then
    config_error("%s: %s must be a function or a list of functions (keys 1 to n, no holes)",
      model_name, key)
  end
  for i, fn in ipairs(list) do
    if not is_callable(fn) then
      config_error("%s: %s hook #%d is a %s, not a function", model_name, key, i, type(fn))
    end
  end
  return list
end

-- A mixin's query_filters: a list of functions query -> query, copied.
local function filter_list(model_name, value, who)
  local function refuse()
    config_error("%s: query_filters of %s must be a list of functions (query -> query)",
      model_name, who)
  end
  if not is_list(value) then refuse() end
  for _, f in ipairs(value) do
    if not is_callable(f) then refuse() end
  end
  return table.move(value, 1, #value, 1, {})
end

-- The functions an extension may have (API.md section 8).
local EXTENSION_KEYS = { "configure_backend", "serialize", "deserialize", "validate",
                         "modify_query" }
local IS_EXTENSION_KEY = {}
for _, k in ipairs(EXTENSION_KEYS) do IS_EXTENSION_KEY[k] = true end

-- One backend's extension: only known keys, each a function. Copied, so
-- that what was checked is what runs. The functions are read with
-- ordinary indexing: an extension object may inherit them (__index).
local function extension(model_name, ext, backend, who)
  local where = ("extensions[%q]"):format(backend)
  if type(ext) ~= "table" then
    config_error("%s: %s of %s must be a table, got %s", model_name, where, who, type(ext))
  end
  for key in next, ext do
    if not IS_EXTENSION_KEY[key] then
      config_error("%s: %s of %s has an unknown key '%s' (an extension has %s)", model_name,
        where, who, tostring(key), table.concat(EXTENSION_KEYS, ", "))
    end
  end
  local copy = {}
  for _, key in ipairs(EXTENSION_KEYS) do
    local fn = ext[key]
    if fn ~= nil and not is_callable(fn) then
      config_error("%s: %s.%s of %s must be a function, got %s", model_name, where, key, who,
        type(fn))
    end
    copy[key] = fn
  end
  return copy
end

-- extensions = { [backend name or "*"] = extension }, checked for every
-- backend, not only the one in use, and copied.
local function extension_map(model_name, value, who)
  if type(value) ~= "table" then
    config_error("%s: extensions of %s must be a table keyed by backend name", model_name, who)
  end
  local map = {}
  for backend, ext in next, value do
    if type(backend) ~= "string" then
      config_error("%s: extensions of %s must be keyed by backend name (or \"*\"), got %s",
        model_name, who, tostring(backend))
    end
    map[backend] = extension(model_name, ext, backend, who)
  end
  return map
end

-- One part of a declaration (the model's spec, or the mixin labelled
-- mixin_label): its fields in order, methods, hooks, extensions, query
-- filters and options.
local function read_part(model_name, spec, mixin_label)
  local is_mixin, who = mixin_label ~= nil, mixin_label or "the model"
  local part = { declared = {}, shorthand = {}, methods = {}, hooks = {}, options = {} }
  for key, value in pairs(spec) do
    if type(key) ~= "string" then
      config_error("%s: spec keys must be names, got %s", model_name, tostring(key))
    elseif key == "model_backend" and not is_mixin then
      part.options.model_backend = value
    elseif key == "mixins" and not is_mixin then
      part.options.mixins = value
    elseif NOT_YET.model[key] then
      config_error("%s: model option '%s' is not supported yet", model_name, key)
    elseif IS_HOOK[key] then
      part.hooks[key] = hook_list(model_name, key, value)
    elseif key == "extensions" then
      part.extensions = extension_map(model_name, value, who)
    elseif key == "query_filters" and is_mixin then
      part.query_filters = filter_list(model_name, value, who)
    elseif Field.is_field(value) then
      part.declared[#part.declared + 1] = { name = key, decl = value }
    elseif type(value) == "string" then
      part.shorthand[#part.shorthand + 1] = { name = key, decl = { type = value, options = {} } }
    elseif type(value) == "function" then
      if declare.RESERVED[key] then
        config_error("%s.%s: a method cannot replace the built-in method '%s'", model_name, key, key)
      end
      part.methods[key] = value
    else
      config_error("%s.%s: expected a Field, a type name or a function, got %s",
        model_name, key, type(value))
    end
  end
  -- Field calls in call order, then shorthand fields sorted by name.
  table.sort(part.declared, function(a, b) return a.decl.seq < b.decl.seq end)
  table.sort(part.shorthand, function(a, b) return a.name < b.name end)
  part.fields = {}
  for _, f in ipairs(part.declared) do
    part.fields[#part.fields + 1] = describe_field(model_name, f.name, f.decl)
  end
  for _, f in ipairs(part.shorthand) do
    part.fields[#part.fields + 1] = describe_field(model_name, f.name, f.decl)
  end
  return part
end

local function same_field(a, b)
  for k, v in pairs(a) do if b[k] ~= v then return false end end
  for k, v in pairs(b) do if a[k] ~= v then return false end end
  return true
end

-- Adds a part's fields after those already declared; a name declared
-- twice must be declared the same way.
local function merge_fields(model_name, decl, part, label)
  for _, f in ipairs(part.fields) do
    local seen = decl.by_name[f.name]
    if seen == nil then
      decl.fields[#decl.fields + 1] = f
      decl.by_name[f.name] = f
      decl.origin[f.name] = label
    elseif not same_field(seen, f) then
      config_error("%s.%s: declared differently by %s and %s", model_name, f.name,
        decl.origin[f.name], label)
    end
  end
end

local function merge_part(model_name, decl, part, label)
  merge_fields(model_name, decl, part, label)
  for k, fn in pairs(part.methods) do
    decl.methods[k] = fn
    decl.method_origin[k] = label
  end
  for _, h in ipairs(declare.HOOKS) do
    for _, fn in ipairs(part.hooks[h] or {}) do decl.hooks[h][#decl.hooks[h] + 1] = fn end
  end
  if part.extensions then decl.extensions[#decl.extensions + 1] = part.extensions end
  for _, f in ipairs(part.query_filters or {}) do
    decl.query_filters[#decl.query_filters + 1] = f
  end
end

-- A name is a field or an instance method, not both: on instances one
-- would hide the other.
local function check_names(model_name, decl)
  for _, f in ipairs(decl.fields) do
    if decl.methods[f.name] then
      config_error("%s.%s: declared as a field by %s and as an instance method by %s",
        model_name, f.name, decl.origin[f.name], decl.method_origin[f.name])
    end
  end
end

--- Reads Model(name, spec): mixin parts first, in mixin order, then the
--- model's own. Returns { fields, by_name, methods, hooks, extensions,
--- query_filters, options }.
function declare.read(model_name, spec)
  local own = read_part(model_name, spec, nil)
  local decl = { fields = {}, by_name = {}, origin = {}, methods = {}, method_origin = {},
                 hooks = {}, extensions = {}, query_filters = {}, options = own.options }
  for _, h in ipairs(declare.HOOKS) do decl.hooks[h] = {} end
  local mixins = own.options.mixins
  if mixins ~= nil and not is_list(mixins) then
    config_error("%s: mixins must be a list of tables (keys 1 to n, no holes), got %s",
      model_name, type(mixins))
  end
  for i, mixin in ipairs(mixins or {}) do
    if type(mixin) ~= "table" or Field.is_field(mixin) then
      config_error("%s: mixin #%d is a %s, not a table", model_name, i, type(mixin))
    end
    local name = (getmetatable(mixin) or {}).__name
    local label = "mixin " .. (type(name) == "string" and name or ("#" .. i))
    merge_part(model_name, decl, read_part(model_name, mixin, label), label)
  end
  merge_part(model_name, decl, own, "the model")
  check_names(model_name, decl)
  return decl
end

return declare
