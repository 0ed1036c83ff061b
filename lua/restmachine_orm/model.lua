-- Model declaration: reads the spec (declare.lua), builds the C schema and
-- returns the model's class table. Storage, validation and queries run in
-- the C core; models with hooks, auto_now fields, extensions or result
-- filters route their writes and loads through lifecycle.lua.
local core = require("restmachine_orm.core")
local errors = require("restmachine_orm.errors")
local declare = require("restmachine_orm.declare")
local lifecycle = require("restmachine_orm.lifecycle")
local Query = require("restmachine_orm.query")

local M = {}

local function check_backend(name, backend)
  if backend ~= nil and (type(backend) ~= "table" or backend._store == nil) then
    errors.raise("ConfigurationError",
      ("%s: model_backend must be a backend such as InMemoryBackend(), got %s")
        :format(name, type(backend)), nil, 4)
  end
  return backend
end

-- A deep copy of a field description for introspection: its choices and
-- a json default are tables the caller may change.
local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = type(v) == "table" and copy(v) or v end
  return c
end

-- Every choice and default of a field must keep the field's other rules
-- (checked by the C core, which raises ConfigurationError). Tables are
-- kept as copies, so that changing the caller's tables later changes
-- nothing.
local function take_values(model_core, fields)
  for i, f in ipairs(fields) do
    if f.choices then
      for n, choice in ipairs(f.choices) do core.check_choice(model_core, i - 1, choice, n) end
      f.choices = table.move(f.choices, 1, #f.choices, 1, {})
    end
    if f.default ~= nil and type(f.default) ~= "function" then
      f.default = core.set_default(model_core, i - 1, f.default)
    end
  end
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

  function fn.where(a, b) return Query.new(m):where(arg(a, b)) end
  -- User:count{age = 30} would count every record: conditions go to
  -- where.
  local function no_conditions(a, b, method)
    local extra = arg(a, b)
    if extra ~= nil then
      errors.raise("ValidationError", ("%s:%s takes no conditions (got %s): use %s:where{...}:%s()")
        :format(m.name, method, type(extra), m.name, method), nil, 3)
    end
  end
  function fn.all(a, b) no_conditions(a, b, "all"); return Query.new(m):all() end
  function fn.count(a, b) no_conditions(a, b, "count"); return Query.new(m):count() end
  function fn.find_by(a, b) return Query.first_match(m, arg(a, b)) end

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
    local n = #specs
    for k in pairs(specs) do
      if math.type(k) ~= "integer" or k < 1 or k > n then
        errors.raise("ValidationError", ("%s:create_many expects a list (keys 1 to n, no holes), "
          .. "got the key %s"):format(m.name, tostring(k)))
      end
    end
    local built = {}
    for i = 1, n do
      local spec = specs[i]
      if type(spec) ~= "table" then
        errors.raise("ValidationError", ("%s:create_many item %d is not a table"):format(m.name, i))
      end
      -- before_save hooks run before the required fields are checked.
      built[i] = core.instance(m.core, spec, lifecycle.stores(m))
    end
    if lifecycle.stores(m) then return lifecycle.store_many(m, built, "create") end
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

  -- An unsaved instance from JSON text (core/jsontext.c).
  function fn.from_json(a, b)
    local text = arg(a, b)
    if type(text) ~= "string" then
      errors.raise("ValidationError", ("%s:from_json expects JSON text, got %s")
        :format(m.name, type(text)), nil, 2)
    end
    return core.from_json(m.core, text)
  end

  -- User:before_save(fn) and the other hooks: appended after those
  -- declared.
  for _, kind in ipairs(declare.HOOKS) do
    fn[kind] = function(a, b)
      local hook = arg(a, b)
      if type(hook) ~= "function" and not (getmetatable(hook) or {}).__call then
        errors.raise("ConfigurationError", ("%s:%s expects a function, got %s")
          :format(m.name, kind, type(hook)), nil, 2)
      end
      m.hooks[kind][#m.hooks[kind] + 1] = hook
      m.refresh()
      return cls
    end
  end

  -- get with a table: by key when it names only the primary key, else the
  -- first match in insertion order.
  m.get_by_conditions = function(conds)
    local key = m.primary_key and conds[m.primary_key]
    if key ~= nil and next(conds, next(conds)) == nil and next(conds) == m.primary_key then
      return cls.get(key)
    end
    return Query.first_match(m, conds)
  end

  return fn
end

-- u.save() for u:save(), or another model's instance, would fail inside
-- the lifecycle or run this model's hooks on it: a clear error instead.
-- The model's C methods (core.instance_methods) refuse them with the same
-- messages.
local function own(m, u, method)
  local model = core.instance_model(u)
  if model == m.class then return u end
  if model ~= nil then
    errors.raise("ConfigurationError", ("%s: %s expects an instance of %s, got one of %s")
      :format(m.name, method, m.name, model.name), nil, 3)
  end
  errors.raise("ConfigurationError", ("%s: %s expects an instance of %s, got %s: call instance "
    .. "methods with a colon, u:%s() rather than u.%s()")
    :format(m.name, method, m.name, type(u), method, method), nil, 3)
end

-- The class functions and instance methods that depend on the lifecycle:
-- the C fast paths, or Lua wrappers when hooks, auto_now fields,
-- extensions or query filters are declared. Run again when hooks are
-- added or the backend changes. The fast instance methods are the model's
-- own C closures (m.fast_methods), which refuse other models' instances.
-- The C core is told which paths are Lua now: a fast function kept from
-- before (local create = User.create) then calls the one installed here.
-- The wrappers store and load through the raw C closures (`raw`,
-- m.raw_delete, m.fast_get), which never hand over, or they would call
-- themselves.
local function install_paths(m, funcs, fast, raw, methods)
  lifecycle.refresh(m)
  local stores, loads = lifecycle.stores(m), lifecycle.loads(m)
  -- Query filters and modify_query extensions apply to get as to any
  -- query, so get goes through a query then.
  local filtered = m.filtered
  core.model_set_lifecycle(m.core, stores, loads, loads or filtered)
  local own_c = m.fast_methods
  methods.save = stores and function(u) return lifecycle.save(m, own(m, u, "save")) end
    or own_c.save
  methods.delete = stores and function(u) return lifecycle.delete(m, own(m, u, "delete")) end
    or own_c.delete
  -- A reloaded instance is loaded again, in place: deserialized by
  -- extensions, then after_load.
  methods.reload = loads and function(u) return lifecycle.reload(m, own(m, u, "reload")) end
    or own_c.reload
  local cls = m.class
  local function arg(a, b)
    if rawequal(a, cls) then return b end
    return a
  end
  funcs.new = fast.new
  funcs.create = stores and function(a, b)
    local spec = arg(a, b)
    if type(spec) ~= "table" then return raw.create(spec) end -- raises as C does
    core.model_check(m.core)
    return lifecycle.store(m, core.instance(m.core, spec, true), "create")
  end or fast.create
  funcs.upsert = stores and function(a, b)
    local spec = arg(a, b)
    if type(spec) ~= "table" then return raw.upsert(spec) end
    core.model_check(m.core)
    return lifecycle.store(m, core.instance(m.core, spec, true), "upsert")
  end or fast.upsert
  funcs.get = (loads or filtered) and function(a, b)
    local key = arg(a, b)
    if type(key) == "table" then return m.get_by_conditions(key) end
    if filtered then
      if m.primary_key == nil then return nil end
      return Query.new(m):and_({ [m.primary_key] = key }):first()
    end
    return lifecycle.load(m, raw.get(key))
  end or fast.get
end

--- Model(name, spec) -> the model's class table.
function M.Model(name, spec)
  if type(name) ~= "string" or name == "" or name:find("\0", 1, true) then
    errors.raise("ConfigurationError", "Model expects a name string (non-empty, "
      .. "without zero bytes) as first argument", nil, 2)
  end
  if type(spec) ~= "table" then
    errors.raise("ConfigurationError", ("Model %s expects a spec table"):format(name), nil, 2)
  end
  local decl = declare.read(name, spec)
  -- save, delete and reload are set by install_paths.
  local methods = {
    is_persisted = core.is_persisted, to_table = core.to_table, to_json = core.to_json,
  }
  for k, v in pairs(decl.methods) do methods[k] = v end

  local cls, class_meta = {}, {}
  local m = { name = name, class = cls, fields = decl.fields, by_name = decl.by_name,
              hooks = decl.hooks, extensions = decl.extensions,
              query_filters = decl.query_filters, configured = setmetatable({}, { __mode = "k" }),
              auto_now = {}, auto_now_add = {} }
  for _, f in ipairs(decl.fields) do
    if f.primary_key then m.primary_key = f.name end
    if f.auto_now then m.auto_now[#m.auto_now + 1] = f.name end
    if f.auto_now_add then m.auto_now_add[#m.auto_now_add + 1] = f.name end
  end
  local ok, result = pcall(core.model_new, name, decl.fields, cls, methods)
  if not ok then error(result, 2) end
  m.core = result
  ok, result = pcall(take_values, m.core, decl.fields)
  if not ok then error(result, 2) end

  local funcs = lua_class_functions(m)
  local fast, raw = core.class_functions(m.core, cls, m.get_by_conditions, funcs)
  local raw_methods
  m.fast_methods, raw_methods = core.instance_methods(m.core, methods)
  m.raw_delete = raw_methods.delete -- deletes, without hooks
  m.fast_get = raw.get -- the stored record by key, without hooks or filters
  funcs.name = name
  m.refresh = function() install_paths(m, funcs, fast, raw, methods) end

  local function set_backend(backend)
    funcs.model_backend = check_backend(name, backend)
    core.model_set_store(m.core, backend and backend._store)
    m.refresh()
    lifecycle.configure(m, backend)
  end

  class_meta.__index = funcs
  class_meta.__call = function(_, values) return funcs.new(values) end
  class_meta.__tostring = function() return "Model(" .. name .. ")" end
  class_meta.__name = "restmachine_orm.Model"
  class_meta.__newindex = function(t, k, v)
    if k == "model_backend" then
      set_backend(v)
    elseif k == "name" then
      errors.raise("ConfigurationError", name .. ": a model's name cannot change", nil, 2)
    else
      rawset(t, k, v)
    end
  end
  setmetatable(cls, class_meta)
  set_backend(decl.options.model_backend)
  return cls
end

return M
