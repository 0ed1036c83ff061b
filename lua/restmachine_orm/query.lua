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
local Q = require("restmachine_orm.q")

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
  if Q.is(conds) then return Q.compile(conds, core, q.m.core) end
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

-- A non-negative integer (2.0 counts as 2, as integer fields take it).
local function count_arg(q, what, n)
  n = math.type(n) == "float" and math.tointeger(n) or n
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

local function run(q, mode, arg)
  where_node(q)
  return core.run(q.m.core, q, mode, arg)
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

--- Only these fields are loaded into the instances returned; reading
--- another one, or saving such an instance, raises naming the field.
function Query:select(...)
  local c = clone(self)
  c.mask = core.select_mask(self.m.core, ...)
  return c
end

--- Continues a paginated walk after the page that gave `cursor`.
function Query:cursor(cursor)
  if cursor ~= nil and type(cursor) ~= "string" then
    errors.invalid("cursor", "cursor", ("%s: cursor must be a string from paginate(), got %s")
      :format(self.m.name, type(cursor)), 2)
  end
  local c = clone(self)
  c.cursor_text = cursor
  return c
end

--- The next page and a cursor for the one after it (nil when nothing
--- follows). Pages by position in the query's order, not by offset, so
--- records inserted or deleted meanwhile are neither repeated nor skipped.
function Query:paginate() return run(self, "page") end

--- Deletes every match; returns how many.
function Query:delete() return run(self, "delete") end

--- Assigns the values (validated) to every match, all or nothing;
--- returns how many.
function Query:update(values)
  if type(values) ~= "table" then
    errors.raise("ValidationError", ("%s:update expects a table of values, got %s")
      :format(self.m.name, type(values)), nil, 2)
  end
  return run(self, "update", values)
end

--- How the query runs: { index = name or nil, scan = boolean, plan = text }.
function Query:explain() return run(self, "explain") end

-- Records are fetched in pages of this size by each().
local EACH_PAGE = 256

--- for u in q:each() do ... end: the records all() would return, fetched
--- page by page (keyset pagination), so writes between steps neither
--- repeat nor skip records. The fourth value closes the walk on break.
function Query:each()
  local remaining = self.limit_n
  local page_size = EACH_PAGE
  local q = self
  local page, i, cursor, done = {}, 0, nil, false
  local walk = setmetatable({}, { __close = function() done = true; page = {} end })
  local function fetch()
    local size = remaining and math.min(remaining, page_size) or page_size
    if size == 0 then done = true; return end
    local pq = clone(q)
    pq.limit_n = size
    if cursor then pq.cursor_text = cursor end
    page, cursor = run(pq, "page")
    i = 0
    if remaining then remaining = remaining - #page end
    if cursor == nil then q = nil end
  end
  return function()
    if done then return nil end
    if i >= #page then
      if q == nil then done = true; return nil end
      fetch()
      if done or #page == 0 then done = true; return nil end
    end
    i = i + 1
    return page[i]
  end, nil, nil, walk
end

return Query
