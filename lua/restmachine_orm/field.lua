-- Field declarations: Field.string{...}, Field.integer{...}, ... Each call
-- records its options and a sequence number, because field order is the
-- order of the Field calls. Options are checked by Model, which knows the
-- model and field names to put in the error.
local errors = require("restmachine_orm.errors")

local Field = {}

local FieldMeta = { __name = "restmachine_orm.Field" }
FieldMeta.__index = FieldMeta

-- Types a model can declare, in the order of API.md §3.
Field.types = { "string", "bytes", "integer", "number", "boolean", "datetime", "json" }

local sequence = 0

local function declare(type_name, options)
  if options ~= nil and type(options) ~= "table" then
    errors.raise("ConfigurationError", ("Field.%s expects a table of options, got %s")
      :format(type_name, type(options)), nil, 4)
  end
  sequence = sequence + 1
  local copy = {}
  for k, v in pairs(options or {}) do copy[k] = v end
  return setmetatable({ type = type_name, options = copy, seq = sequence }, FieldMeta)
end

for _, type_name in ipairs(Field.types) do
  Field[type_name] = function(options) return declare(type_name, options) end
end

--- True for values made by Field.<type>{...}.
function Field.is_field(v)
  return getmetatable(v) == FieldMeta
end

return Field
