-- Testing helpers (API.md §11).
local backends = require("restmachine_orm.backends")

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

return testing
