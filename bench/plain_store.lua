-- The baseline of the benchmark: the store a Lua programmer would write by
-- hand for the User model. Records are Lua tables keyed by id; create and
-- save check the type of every field, the age range and that is_active is
-- a boolean, as the model's declaration does in restmachine_orm. It has no
-- index: every query below loops over all the records, as code written by
-- hand over such a table would.

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
  if math.type(r.age_copy) ~= "integer" then error("User.age_copy: an integer is required", 3) end
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

-- ------------------------------------------------------------------ queries

-- The list of records whose `field` equals `value`.
function Store:where_eq(field, value)
  local out, n = {}, 0
  for _, r in pairs(self.rows) do
    if r[field] == value then
      n = n + 1
      out[n] = r
    end
  end
  return out
end

-- How many records have `field` >= `value`.
function Store:count_gte(field, value)
  local n = 0
  for _, r in pairs(self.rows) do
    if r[field] >= value then n = n + 1 end
  end
  return n
end

-- The k records with the smallest `field` (ties broken by id), smallest
-- first: one pass keeping a sorted list of the best k (insertion into it),
-- rather than sorting every record.
function Store:smallest_by(field, k)
  local best, n = {}, 0
  for id, r in pairs(self.rows) do
    local v = r[field]
    if n < k or v < best[n][field] or (v == best[n][field] and id < best[n].id) then
      local i = n < k and n + 1 or n
      -- shift larger entries right, dropping the last when the list is full
      while i > 1 do
        local p = best[i - 1]
        local pv = p[field]
        if pv < v or (pv == v and p.id < id) then break end
        best[i] = p
        i = i - 1
      end
      best[i] = r
      if n < k then n = n + 1 end
    end
  end
  return best
end

-- The ids of every record, sorted: the order a walk in pages follows.
function Store:sorted_ids()
  local ids, n = {}, 0
  for id in pairs(self.rows) do
    n = n + 1
    ids[n] = id
  end
  table.sort(ids)
  return ids
end

-- The page of at most `size` records at positions first .. first+size-1 of
-- the id list `ids` (from sorted_ids), skipping ids deleted since.
function Store:page(ids, first, size)
  local rows, out, n = self.rows, {}, 0
  for i = first, math.min(first + size - 1, #ids) do
    local r = rows[ids[i]]
    if r ~= nil then
      n = n + 1
      out[n] = r
    end
  end
  return out
end

return Store
