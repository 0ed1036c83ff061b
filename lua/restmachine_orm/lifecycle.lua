-- The lifecycle around storage (API.md §7, §8): hooks, auto_now fields and
-- backend extensions. A model with none of them stores and loads straight
-- through the C core; one with any of them goes through the functions
-- here, which keep the engine consistent before every call into user code
-- (a hook may query the store or write other records) and re-raise user
-- errors unchanged.
local core = require("restmachine_orm.core")
local errors = require("restmachine_orm.errors")

local lifecycle = {}

-- Hooks run under xpcall: the error a hook raises is re-raised unchanged,
-- and the traceback of where it was raised is kept for
-- errors.traceback(err).
local function keep_traceback(err)
  -- tostring runs the error's own __tostring, which may itself raise: the
  -- hook's error is still the one re-raised.
  local ok, text = pcall(tostring, err)
  errors.note_traceback(err, debug.traceback(ok and text or "(error object)", 2))
  return err
end

local function run_hooks(m, kind, u)
  for _, fn in ipairs(m.hooks[kind]) do
    local ok, err = xpcall(fn, keep_traceback, u)
    if not ok then error(err, 0) end
  end
end
lifecycle.run_hooks = run_hooks

--- The extension tables that apply on a backend: "*" and the backend's
--- name, for each mixin in order, then the model's own (their shape was
--- checked at declaration, declare.lua).
function lifecycle.extensions_for(m, backend)
  local list = {}
  if backend == nil then return list end
  for _, ext in ipairs(m.extensions) do
    for _, key in ipairs({ "*", backend.backend_name }) do
      if ext[key] then list[#list + 1] = ext[key] end
    end
  end
  return list
end

--- Calls configure_backend once per model and backend.
function lifecycle.configure(m, backend)
  if backend == nil or m.configured[backend] then return end
  m.configured[backend] = true
  for _, e in ipairs(lifecycle.extensions_for(m, backend)) do
    if e.configure_backend then e.configure_backend(m.class) end
  end
end

-- The extensions of the model's current backend (cached by refresh).
local function exts(m)
  return m.exts
end

-- auto_now fields get the time of every save; auto_now_add fields the
-- time of the first save, when no value was given. `stored` is the record
-- an upsert overwrites (or nil): its first save was its own, so its
-- auto_now_add values are kept.
local function stamp(m, u, stored)
  if #m.auto_now == 0 and #m.auto_now_add == 0 then return end
  local now = core.now()
  for _, f in ipairs(m.auto_now) do u[f] = now end
  if not u:is_persisted() then
    for _, f in ipairs(m.auto_now_add) do
      if u[f] == nil then u[f] = stored and stored[f] or now end
    end
  end
end

-- The data extensions turn u into before storage: serialize, then
-- validate (a rejection is a ValidationError). Returns nil when no
-- extension changes the stored data.
local function serialized(m, u)
  local list = exts(m)
  local data
  for _, e in ipairs(list) do
    if e.serialize or e.validate then data = data or u:to_table() end
    if e.serialize then
      data = e.serialize(data)
      if type(data) ~= "table" then
        errors.raise("ConfigurationError", ("%s: an extension's serialize returned a %s, not a table")
          :format(m.name, type(data)), nil, 4)
      end
    end
    if e.validate then
      local ok, err = pcall(e.validate, data)
      if not ok then
        local msg = type(err) == "table" and err.message or tostring(err)
        -- A ValidationError of the extension's own keeps its rules.
        local rules = errors.is(err, "ValidationError") and type(err.errors) == "table"
          and #err.errors > 0 and err.errors
          or { { field = "*", code = "extension", message = msg } }
        errors.raise("ValidationError", ("%s: rejected by an extension: %s"):format(m.name, msg),
          rules, 4)
      end
    end
  end
  return data
end

-- The stored record that upserting u would overwrite, when auto_now_add
-- needs it; nil otherwise (a key the store refuses is left to the write,
-- which reports it).
local function overwritten(m, u, mode)
  if mode ~= "upsert" or #m.auto_now_add == 0 or u:is_persisted() then return nil end
  local key = m.primary_key and u[m.primary_key]
  if key == nil then return nil end
  local ok, stored = pcall(m.fast_get, key)
  return ok and stored or nil
end

-- Stores u (mode "create", "upsert" or "update"), hooks and extensions
-- around it. The record written is u itself, or the instance made from
-- the serialized data.
function lifecycle.store(m, u, mode)
  stamp(m, u, overwritten(m, u, mode))
  run_hooks(m, "before_save", u)
  -- Extensions see, and the store gets, every field: not a select()
  -- instance, nor one whose required values are still missing.
  core.check_storable(u)
  local data = serialized(m, u)
  if data == nil then
    core.put(u, mode)
  else
    core.put(core.instance(m.core, data), mode)
    core.set_persisted(u, true)
  end
  run_hooks(m, "after_save", u)
  return u
end

--- u:save() with the lifecycle.
function lifecycle.save(m, u)
  return lifecycle.store(m, u, u:is_persisted() and "update" or "create")
end

--- u:delete() with the lifecycle.
function lifecycle.delete(m, u)
  run_hooks(m, "before_delete", u)
  local deleted = m.raw_delete(u)
  run_hooks(m, "after_delete", u)
  return deleted
end

-- The data of u as the extensions' deserialize functions turn it, in
-- order; nil when none has one.
local function deserialized(m, u, level)
  local data
  for _, e in ipairs(exts(m)) do
    if e.deserialize then
      data = e.deserialize(data or u:to_table())
      if type(data) ~= "table" then
        errors.raise("ConfigurationError", ("%s: an extension's deserialize returned a %s, not a table")
          :format(m.name, type(data)), nil, level + 1)
      end
    end
  end
  return data
end

-- The stored instance u as the extensions' deserialize functions turn
-- it: u itself when none has one, otherwise a new stored instance.
local function deserialized_instance(m, u, level)
  local data = deserialized(m, u, level + 1)
  if data == nil then return u end
  local v = core.instance(m.core, data)
  core.set_persisted(v, true)
  return v
end

--- An instance as loaded: deserialized by extensions, then after_load.
function lifecycle.load(m, u)
  if u == nil then return nil end
  u = deserialized_instance(m, u, 3)
  run_hooks(m, "after_load", u)
  return u
end

--- u:reload() with the lifecycle: u takes the stored data again, in
--- place, deserialized as any load is, then after_load runs on it. The
--- stored data is deserialized in a copy first, so that u is left as it
--- was when an extension raises.
function lifecycle.reload(m, u)
  core.take_data(u, deserialized_instance(m, core.stored(u), 3))
  core.set_persisted(u, true)
  run_hooks(m, "after_load", u)
  return u
end

-- Whether loads need lifecycle.load.
local function needs_load(m)
  if #m.hooks.after_load > 0 then return true end
  for _, e in ipairs(m.exts) do if e.deserialize then return true end end
  return false
end

-- Whether stores need lifecycle.store.
local function needs_store(m)
  if #m.auto_now > 0 or #m.auto_now_add > 0 then return true end
  for _, h in ipairs({ "before_save", "after_save", "before_delete", "after_delete" }) do
    if #m.hooks[h] > 0 then return true end
  end
  for _, e in ipairs(m.exts) do if e.serialize or e.validate then return true end end
  return false
end

--- Works out, once per change of hooks or backend, which extensions apply
--- and whether stores and loads need the lifecycle.
function lifecycle.refresh(m)
  m.exts = lifecycle.extensions_for(m, m.class.model_backend)
  m.needs_store = needs_store(m)
  m.needs_load = needs_load(m)
  -- Query filters and modify_query extensions change every query, get
  -- and find_by included.
  m.filtered = #m.query_filters > 0
  for _, e in ipairs(m.exts) do m.filtered = m.filtered or e.modify_query ~= nil end
end

function lifecycle.loads(m) return m.needs_load end
function lifecycle.stores(m) return m.needs_store end

--- Many records at once, all or nothing: hooks for each, one batch write.
function lifecycle.store_many(m, list, mode)
  local stored = {}
  for i, u in ipairs(list) do
    stamp(m, u, overwritten(m, u, mode))
    run_hooks(m, "before_save", u)
    core.check_storable(u)
    local data = serialized(m, u)
    stored[i] = data and core.instance(m.core, data) or u
  end
  core.put_many(stored, mode)
  for i, u in ipairs(list) do
    if stored[i] ~= u then core.set_persisted(u, true) end
    run_hooks(m, "after_save", u)
  end
  return list
end

--- Deletes loaded instances: every before_delete first (one raising stops
--- all), then the deletes, then every after_delete.
function lifecycle.delete_many(m, list)
  for _, u in ipairs(list) do run_hooks(m, "before_delete", u) end
  for _, u in ipairs(list) do m.raw_delete(u) end
  for _, u in ipairs(list) do run_hooks(m, "after_delete", u) end
  return #list
end

return lifecycle
