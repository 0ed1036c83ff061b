-- Error tables (API.md §10): every error the library raises is a table with
-- `name`, `message` and a `__tostring` giving "<name>: <message>";
-- ValidationError also has `errors`, one entry per broken rule.
local core = require("restmachine_orm.core")

local errors = {}

-- Each kind and its parent kind.
local parent = {
  BackendError = false,
  NotFoundError = "BackendError",
  DuplicateKeyError = "BackendError",
  ValidationError = "BackendError",
  MultipleResultsError = false,
  ConfigurationError = false,
}

-- The metatable the C core gives the errors it raises; shared so that
-- tostring and errors.is treat both alike.
local Error = core.error_metatable()
Error.__index = Error
errors.Error = Error

for name in pairs(parent) do errors[name] = name end

--- True when err is an error of `kind` or of a kind below it.
function errors.is(err, kind)
  if type(err) ~= "table" or type(err.name) ~= "string" then return false end
  local name = err.name
  while name do
    if name == kind then return true end
    name = parent[name]
  end
  return false
end

-- Tracebacks of errors raised by user hooks, by error value (weak keys:
-- a table error's entry goes with it; the last string error is kept).
local tracebacks = setmetatable({}, { __mode = "k" })
local last_string, last_string_traceback

--- Records where a hook raised err (lifecycle.lua).
function errors.note_traceback(err, tb)
  if type(err) == "table" then
    tracebacks[err] = tb
  else
    last_string, last_string_traceback = err, tb
  end
end

--- The traceback of the place a hook raised err, or nil.
function errors.traceback(err)
  if type(err) == "table" then return tracebacks[err] end
  if err ~= nil and err == last_string then return last_string_traceback end
  return nil
end

--- A new error table (not raised).
function errors.new(name, message, field_errors)
  assert(parent[name] ~= nil, "unknown error kind " .. tostring(name))
  local err = { name = name, message = message }
  -- An error that is not about one field is one rule of field "*".
  if name == "ValidationError" then
    err.errors = field_errors or { { field = "*", code = "invalid", message = message } }
  end
  return setmetatable(err, Error)
end

--- Raises a new error; level as for error().
function errors.raise(name, message, field_errors, level)
  error(errors.new(name, message, field_errors), level or 2)
end

--- Raises a ValidationError for one rule of one field.
function errors.invalid(field, code, message, level)
  errors.raise("ValidationError", message,
    { { field = field, code = code, message = message } }, (level or 2) + 1)
end

return errors
