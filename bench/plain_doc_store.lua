-- The baseline of the benchmark's Doc workload (issue 4): the store a Lua
-- programmer would write by hand for
--
--   Doc{ id string pk, title string, tags json } + created_at, updated_at
--
-- (restmachine_orm's Doc has Field.json tags and the Timestamp mixin).
-- Records are Lua tables keyed by id. create checks the type of every
-- field, deep-copies the tags value (checking on the way that it holds only
-- strings, numbers, booleans and tables, as a json field's value must), sets
-- created_at and updated_at to os.time() (whole seconds; restmachine_orm's
-- clock is clock_gettime with microseconds) and stores a new row table, so
-- that the caller's table stays the caller's. get returns a new table with
-- a deep copy of the tags, so that what it returns cannot alter the store,
-- as restmachine_orm's instances (snapshots) cannot.

local Store = {}
Store.__index = Store

local type, pairs, error, os_time = type, pairs, error, os.time

-- Returns a new, empty store.
function Store.new()
  return setmetatable({ rows = {}, count = 0 }, Store)
end

-- A deep copy of a json table; a value in it that is not a string, number,
-- boolean or table (of those) is an error. The element checks are inline,
-- so that a list of scalars costs one call.
local function copy(v)
  local out = {}
  for k, x in pairs(v) do
    local t = type(x)
    if t == "table" then
      x = copy(x)
    elseif t ~= "string" and t ~= "number" and t ~= "boolean" then
      error("Doc.tags: a " .. t .. " is not a json value", 0)
    end
    out[k] = x
  end
  return out
end

-- Validates and stores a new record; an existing id is an error. Returns
-- the stored row's id.
function Store:create(r)
  local id, title, tags = r.id, r.title, r.tags
  if type(id) ~= "string" or id == "" then
    error("Doc.id: a non-empty string is required", 2)
  end
  if type(title) ~= "string" then error("Doc.title: a string is required", 2) end
  if type(tags) ~= "table" then error("Doc.tags: a table is required", 2) end
  local rows = self.rows
  if rows[id] ~= nil then error("Doc " .. id .. " exists", 2) end
  local now = os_time()
  rows[id] = { id = id, title = title, tags = copy(tags), created_at = now, updated_at = now }
  self.count = self.count + 1
  return id
end

-- A copy of the record with this id (tags deep-copied), or nil.
function Store:get(id)
  local r = self.rows[id]
  if r == nil then return nil end
  return { id = r.id, title = r.title, tags = copy(r.tags),
           created_at = r.created_at, updated_at = r.updated_at }
end

return Store
