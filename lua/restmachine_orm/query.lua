-- Queries (API.md §6): immutable builders. Conditions are parsed and
-- checked by the C core when the query is built, and kept as C condition
-- trees; running a query evaluates it over the engine's records in C.
--
-- A query is a list of OR-groups, each the AND of its conditions: where,
-- and_ and not_ add to the current (last) group, or_ starts a new one. A
-- group with no conditions at all (User:where() before an or_) is left out
-- once another group exists, so User:where():or_{a=1} means just a = 1.
local core = require("restmachine_orm.core")
local errors = require("restmachine_orm.errors")

local Query = {}
Query.__index = Query
Query.__name = "restmachine_orm.Query"

local function clone(q)
  local c = {}
  for k, v in pairs(q) do c[k] = v end
  c.node = nil -- the combined tree is rebuilt for the new query
  return setmetatable(c, Query)
end

--- A query over every record of model m (its private state).
function Query.new(m)
  return setmetatable({ m = m, groups = {}, offset_n = 0 }, Query)
end

local function conditions(q, conds, method)
  if getmetatable(conds) == Query then
    errors.raise("ValidationError", ("%s:%s expects a table of conditions, not a query")
      :format(q.m.name, method), nil, 3)
  end
  if type(conds) ~= "table" then
    errors.raise("ValidationError", ("%s:%s expects a table of conditions, got %s")
      :format(q.m.name, method, type(conds)), nil, 3)
  end
  return core.node_conds(q.m.core, conds)
end

-- Adds a node to the current group (making one when there is none).
local function add_to_group(q, node)
  local c = clone(q)
  local groups = {}
  for i, g in ipairs(q.groups) do groups[i] = g end
  local last = groups[#groups]
  if last == nil then
    groups[1] = { node = node, empty = false }
  elseif last.empty then
    groups[#groups] = { node = node, empty = false }
  else
    groups[#groups] = { node = core.node_and(last.node, node), empty = false }
  end
  c.groups = groups
  return c
end

function Query:and_(conds)
  if conds == nil then
    if #self.groups > 0 then return self end
    local c = clone(self)
    c.groups = { { node = core.node_true(), empty = true } }
    return c
  end
  return add_to_group(self, conditions(self, conds, "and_"))
end

Query.where = Query.and_

function Query:not_(conds)
  return add_to_group(self, core.node_not(conditions(self, conds, "not_")))
end

function Query:or_(conds)
  local node = conditions(self, conds, "or_")
  local c = clone(self)
  local groups = {}
  for _, g in ipairs(self.groups) do
    if not g.empty then groups[#groups + 1] = g end
  end
  groups[#groups + 1] = { node = node, empty = false }
  c.groups = groups
  return c
end

function Query:order_by(...)
  local c = clone(self)
  c.order = core.order_terms(self.m.core, ...)
  return c
end

local function count_arg(q, what, n)
  if math.type(n) ~= "integer" or n < 0 then
    errors.invalid(what, "type", ("%s: %s must be a non-negative integer, got %s")
      :format(q.m.name, what, type(n) == "string" and ("%q"):format(n) or tostring(n)), 3)
  end
  return n
end

function Query:limit(n)
  local c = clone(self)
  c.limit_n = count_arg(self, "limit", n)
  return c
end

function Query:offset(n)
  local c = clone(self)
  c.offset_n = count_arg(self, "offset", n)
  return c
end

-- The OR of the groups, built once per query object (queries are
-- immutable, so the cache never goes stale).
local function where_node(q)
  if q.node == nil then
    local node = false
    for _, g in ipairs(q.groups) do
      if not g.empty then node = node and core.node_or(node, g.node) or g.node end
    end
    rawset(q, "node", node)
  end
  return q.node or nil
end

local function run(q, mode)
  return core.run(q.m.core, where_node(q), q.order, q.offset_n, q.limit_n, mode)
end

function Query:all() return run(self, "all") end
function Query:first() return run(self, "first") end
function Query:last() return run(self, "last") end
function Query:count() return run(self, "count") end
function Query:exists() return run(self, "exists") end

--- The one record matching the query (and conds), nil if none;
--- MultipleResultsError if more.
function Query:get(conds)
  local q = self
  if conds ~= nil then q = q:and_(conds) end
  return run(q, "get")
end

Query.__len = Query.count

return Query
