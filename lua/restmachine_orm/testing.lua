-- Testing helpers (API.md §11).
local backends = require("restmachine_orm.backends")
local core = require("restmachine_orm.core")

local testing = {}

--- Runs block(backend_name, new_backend) once per enabled backend: the
--- memory backend always. (DynamoDB, when RESTMACHINE_ORM_DYNAMODB_ENDPOINT
--- is set, joins once that backend exists.)
function testing.each_backend(block)
  local enabled = {
    { name = "memory", new = function() return backends.InMemoryBackend() end },
  }
  for _, b in ipairs(enabled) do
    if describe ~= nil then
      describe(b.name .. " backend", function() block(b.name, b.new) end)
    else
      block(b.name, b.new)
    end
  end
end

--- Caps the memory a backend's engine store may hold (0: no cap), so
--- tests can check that running out of memory is a clean error that
--- leaves the store as it was.
function testing.set_memory_limit(backend, bytes)
  core.store_set_limit(backend._store, bytes)
end

return testing
