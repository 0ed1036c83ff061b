-- Backends (API.md §2). The in-memory backend keeps its records in a C
-- engine store; several models may share one backend, kept apart by model
-- name.
local core = require("restmachine_orm.core")
local errors = require("restmachine_orm.errors")

local backends = {}

local InMemoryAdapter = { __name = "restmachine_orm.InMemoryAdapter" }
InMemoryAdapter.__index = InMemoryAdapter

--- InMemoryAdapter(): maps models to the in-memory store (records are
--- kept as they are declared; nothing to configure).
function backends.InMemoryAdapter()
  return setmetatable({ name = "memory" }, InMemoryAdapter)
end

local InMemoryBackend = { __name = "restmachine_orm.InMemoryBackend" }
InMemoryBackend.__index = InMemoryBackend

--- InMemoryBackend([adapter])
function backends.InMemoryBackend(adapter)
  if adapter ~= nil and getmetatable(adapter) ~= InMemoryAdapter then
    errors.raise("ConfigurationError",
      "InMemoryBackend expects an InMemoryAdapter() or nothing, got " .. type(adapter), nil, 2)
  end
  return setmetatable({
    adapter = adapter or backends.InMemoryAdapter(),
    backend_name = "memory",
    _store = core.store_new(),
  }, InMemoryBackend)
end

local function model_name(model)
  if type(model) == "string" then return model end
  if type(model) == "table" and type(model.name) == "string" then return model.name end
  errors.raise("ConfigurationError", "clear expects a model (or nothing), got " .. type(model), nil, 3)
end

-- backend.clear() for backend:clear(): a clear error, not one about nil.
local function check_self(self, method)
  if getmetatable(self) ~= InMemoryBackend then
    errors.raise("ConfigurationError", ("InMemoryBackend: %s is a method: call backend:%s(...)")
      :format(method, method), nil, 3)
  end
end

--- Drops every record of one model, or of every model when called with
--- no argument.
function InMemoryBackend:clear(model)
  check_self(self, "clear")
  if model == nil then
    core.store_clear(self._store)
  else
    core.store_clear(self._store, model_name(model))
  end
end

--- { records = total, models = { name = count }, bytes = engine bytes }
function InMemoryBackend:stats()
  check_self(self, "stats")
  return core.store_stats(self._store)
end

function InMemoryBackend:__tostring()
  return "InMemoryBackend"
end

backends.InMemoryAdapterClass = InMemoryAdapter
backends.InMemoryBackendClass = InMemoryBackend

return backends
