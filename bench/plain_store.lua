-- The baseline of the benchmark: the store a Lua programmer would write by
-- hand for the User model. Records are Lua tables keyed by id; create and
-- save check the type of every field, the age range and that is_active is
-- a boolean, as the model's declaration does in restmachine_orm.

local Store = {}
Store.__index = Store

-- Returns a new, empty store.
function Store.new()
  return setmetatable({ rows = {}, count = 0 }, Store)
end

-- Raises an error naming the first field of `r` that breaks its rule.
local function check(r)
  local id, email, name, age, active = r.id, r.email, r.name, r.age, r.is_active
  if type(id) ~= "string" or id == "" then
    error("User.id: a non-empty string is required", 3)
  end
  if type(email) ~= "string" then error("User.email: a string is required", 3) end
  if type(name) ~= "string" then error("User.name: a string is required", 3) end
  if math.type(age) ~= "integer" then error("User.age: an integer is required", 3) end
  if age < 0 or age > 150 then error("User.age: must be between 0 and 150", 3) end
  if type(active) ~= "boolean" then error("User.is_active: a boolean is required", 3) end
end

-- Validates and stores a new record; an existing id is an error.
function Store:create(r)
  check(r)
  local rows = self.rows
  if rows[r.id] ~= nil then error("User " .. r.id .. " exists", 2) end
  rows[r.id] = r
  self.count = self.count + 1
  return r
end

-- The record with this id, or nil.
function Store:get(id)
  return self.rows[id]
end

-- Validates a changed record and stores it under its id.
function Store:save(r)
  check(r)
  if self.rows[r.id] == nil then error("User " .. r.id .. " does not exist", 2) end
  self.rows[r.id] = r
  return r
end

-- Removes the record with this id; returns whether there was one.
function Store:delete(id)
  local rows = self.rows
  if rows[id] == nil then return false end
  rows[id] = nil
  self.count = self.count - 1
  return true
end

return Store
