-- Model declaration: checks the spec, builds the C schema and returns the
-- model's class table. Storage, validation and queries run in the C core;
-- this file only arranges names, options and functions.
local core = require("restmachine_orm.core")
local errors = require("restmachine_orm.errors")
local Field = require("restmachine_orm.field")
local Query = require("restmachine_orm.query")

local M = {}

-- Instance methods every model has; fields and user methods may not take
-- these names.
local BUILTIN_METHODS = {
  save = core.save, delete = core.delete,
  is_persisted = core.is_persisted, to_table = core.to_table,
}
local RESERVED = { to_json = true, reload = true }
for name in pairs(BUILTIN_METHODS) do RESERVED[name] = true end

local KNOWN_TYPES = {}
for _, t in ipairs(Field.types) do KNOWN_TYPES[t] = true end

local OPTIONS = {
  primary_key = "boolean", unique = "boolean", index = "boolean",
  optional = "boolean", default = "any", gt = "any", ge = "any", lt = "any",
  le = "any", min_length = "integer", max_length = "integer",
  choices = "table", description = "string",
  pattern = "string", auto_now = "boolean", auto_now_add = "boolean",
}

-- Declared by API.md but delivered by later work; refused clearly rather
-- than ignored.
local NOT_YET = {
  options = { pattern = true, auto_now = true, auto_now_add = true },
  types = { json = true },
  model = { mixins = true, before_save = true, after_save = true, after_load = true,
            before_delete = true, after_delete = true, partition_key = true,
            sort_key = true, extensions = true },
}

local function config_error(fmt, ...)
  errors.raise("ConfigurationError", fmt:format(...), nil, 4)
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

-- The description of one field that the C core reads.
local function describe_field(model_name, name, decl)
  if RESERVED[name] then
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
  if desc.default ~= nil then desc.optional = true end
  if desc.choices ~= nil and #desc.choices == 0 then
    config_error("%s.%s: choices must be a non-empty list", model_name, name)
  end
  return desc
end

-- Splits the spec into fields (in declaration order), methods and model
-- options.
local function read_spec(name, spec)
  local declared, shorthand, methods, options = {}, {}, {}, {}
  for key, value in pairs(spec) do
    if type(key) ~= "string" then
      config_error("%s: spec keys must be names, got %s", name, tostring(key))
    elseif key == "model_backend" then
      options.model_backend = value
    elseif NOT_YET.model[key] then
      config_error("%s: model option '%s' is not supported yet", name, key)
    elseif Field.is_field(value) then
      declared[#declared + 1] = { name = key, decl = value }
    elseif type(value) == "string" then
      shorthand[#shorthand + 1] = { name = key, decl = { type = value, options = {} } }
    elseif type(value) == "function" then
      if RESERVED[key] then
        config_error("%s.%s: a method cannot replace the built-in method '%s'", name, key, key)
      end
      methods[key] = value
    else
      config_error("%s.%s: expected a Field, a type name or a function, got %s",
        name, key, type(value))
    end
  end
  -- Field calls in call order, then shorthand fields sorted by name.
  table.sort(declared, function(a, b) return a.decl.seq < b.decl.seq end)
  table.sort(shorthand, function(a, b) return a.name < b.name end)
  local fields = {}
  for _, f in ipairs(declared) do fields[#fields + 1] = describe_field(name, f.name, f.decl) end
  for _, f in ipairs(shorthand) do fields[#fields + 1] = describe_field(name, f.name, f.decl) end
  return fields, methods, options
end

local function check_backend(name, backend)
  if backend ~= nil and (type(backend) ~= "table" or backend._store == nil) then
    config_error("%s: model_backend must be a backend such as InMemoryBackend(), got %s",
      name, type(backend))
  end
  return backend
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- Class functions written in Lua; `m` is the model's private state.
local function lua_class_functions(m)
  local cls = m.class
  local fn = {}

  -- Accepts User:fn(x) and User.fn(x).
  local function arg(a, b)
    if rawequal(a, cls) then return b end
    return a
  end

  function fn.where(a, b) return Query.new(m):and_(arg(a, b)) end
  function fn.all(a) return Query.new(m):all() end
  function fn.count(a) return Query.new(m):count() end
  function fn.find_by(a, b) return Query.new(m):and_(arg(a, b)):first() end

  function fn.get_many(a, b)
    local keys, out = arg(a, b), {}
    if type(keys) ~= "table" then
      errors.raise("ValidationError", ("%s:get_many expects a list of keys, got %s")
        :format(m.name, type(keys)))
    end
    local n = #keys
    for i = 1, n do out[i] = cls.get(keys[i]) end
    out.n = n
    return out
  end

  -- All or nothing: every spec is validated, then the engine stores the
  -- batch at once (keys and unique values checked across it too).
  function fn.create_many(a, b)
    local specs = arg(a, b)
    if type(specs) ~= "table" then
      errors.raise("ValidationError", ("%s:create_many expects a list of tables, got %s")
        :format(m.name, type(specs)))
    end
    core.model_check(m.core)
    local built = {}
    for i, spec in ipairs(specs) do
      if type(spec) ~= "table" then
        errors.raise("ValidationError", ("%s:create_many item %d is not a table"):format(m.name, i))
      end
      built[i] = core.instance(m.core, spec)
    end
    core.put_many(built, "create")
    return built
  end

  function fn.fields()
    local out = {}
    for i, f in ipairs(m.fields) do out[i] = copy(f) end
    return out
  end

  function fn.field(a, b)
    local f = m.by_name[arg(a, b)]
    return f and copy(f)
  end

  function fn.primary_key() return m.primary_key end

  -- get with a table: by key when it names only the primary key, else the
  -- first match in insertion order.
  m.get_by_conditions = function(conds)
    local key = m.primary_key and conds[m.primary_key]
    if key ~= nil and next(conds, next(conds)) == nil and next(conds) == m.primary_key then
      return cls.get(key)
    end
    return Query.new(m):and_(conds):first()
  end

  return fn
end

--- Model(name, spec) -> the model's class table.
function M.Model(name, spec)
  if type(name) ~= "string" or name == "" then
    errors.raise("ConfigurationError", "Model expects a name string as first argument", nil, 2)
  end
  if type(spec) ~= "table" then
    errors.raise("ConfigurationError", ("Model %s expects a spec table"):format(name), nil, 2)
  end
  local fields, user_methods, options = read_spec(name, spec)
  local methods = copy(BUILTIN_METHODS)
  for k, v in pairs(user_methods) do methods[k] = v end

  local cls, class_meta = {}, {}
  local m = { name = name, class = cls, fields = fields, by_name = {} }
  for _, f in ipairs(fields) do
    m.by_name[f.name] = f
    if f.primary_key then m.primary_key = f.name end
  end
  local ok, result = pcall(core.model_new, name, fields, cls, methods)
  if not ok then error(result, 2) end
  m.core = result
  for i, f in ipairs(fields) do
    if f.default ~= nil and type(f.default) ~= "function" then
      ok, result = pcall(core.check_default, m.core, i - 1, f.default)
      if not ok then error(result, 2) end
    end
  end

  local funcs = lua_class_functions(m)
  for k, v in pairs(core.class_functions(m.core, cls, m.get_by_conditions)) do funcs[k] = v end
  funcs.name = name
  funcs.model_backend = check_backend(name, options.model_backend)
  core.model_set_store(m.core, funcs.model_backend and funcs.model_backend._store)

  class_meta.__index = funcs
  class_meta.__call = function(_, values) return funcs.new(values) end
  class_meta.__tostring = function() return "Model(" .. name .. ")" end
  class_meta.__name = "restmachine_orm.Model"
  class_meta.__newindex = function(t, k, v)
    if k == "model_backend" then
      funcs.model_backend = check_backend(name, v)
      core.model_set_store(m.core, v and v._store)
    elseif k == "name" then
      errors.raise("ConfigurationError", name .. ": a model's name cannot change", nil, 2)
    else
      rawset(t, k, v)
    end
  end
  return setmetatable(cls, class_meta)
end

return M
