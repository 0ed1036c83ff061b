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
local lifecycle = require("restmachine_orm.lifecycle")

local Query = {}
Query.__index = Query
Query.__name = "restmachine_orm.Query"

-- Queries never change a table they hold (each change copies it), so every
-- query starts with these shared empty ones: a one-off lookup then builds
-- fewer tables.
local NONE = setmetatable({}, { __newindex = function() error("internal: NONE is shared", 2) end })

local function clone(q)
  local c = {}
  for k, v in pairs(q) do c[k] = v end
  c.node = nil -- the combined tree is rebuilt for the new query
  return setmetatable(c, Query)
end

-- A query of another model would run against that model's records (and
-- q:delete() delete them): a filter must return a query of m.
local function filtered_by(m, fn, q, what)
  q = fn(q)
  if getmetatable(q) ~= Query then
    errors.raise("ConfigurationError", ("%s: %s must return a query, got %s")
      :format(m.name, what, type(q)), nil, 4)
  end
  if q.m ~= m then
    errors.raise("ConfigurationError", ("%s: %s returned a query of %s, not of %s")
      :format(m.name, what, q.m.name, m.name), nil, 4)
  end
  return q
end

--- A query over every record of model m (its private state), with the
--- model's query filters (mixins) and modify_query extensions applied.
function Query.new(m)
  local q = setmetatable({ m = m, groups = NONE, offset_n = 0, filters = NONE, disabled = NONE }, Query)
  for _, f in ipairs(m.query_filters) do q = filtered_by(m, f, q, "a query filter") end
  for _, e in ipairs(m.exts) do
    if e.modify_query then q = filtered_by(m, e.modify_query, q, "modify_query") end
  end
  return q
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

-- where and and_: `method` names the call in errors.
local function and_(q, conds, method)
  if conds == nil then
    if #q.groups > 0 then return q end
    local c = clone(q)
    c.groups = { { node = core.node_true(), empty = true } }
    return c
  end
  return add_to_group(q, conditions(q, conds, method))
end

function Query:and_(conds) return and_(self, conds, "and_") end
function Query:where(conds) return and_(self, conds, "where") end

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

-- Result filters: { name =, fn = instance -> boolean } run in Lua on
-- loaded instances; { name =, cond = () -> Q or condition table } add
-- conditions evaluated in C (made when the query runs, so a filter such as
-- "not expired" reads the clock then).
local function active_filters(q)
  if #q.filters == 0 then return NONE, NONE end
  local conds, fns = {}, {}
  for _, f in ipairs(q.filters) do
    if not q.disabled[f.name] then
      if f.cond then conds[#conds + 1] = f else fns[#fns + 1] = f end
    end
  end
  return conds, fns
end

-- The query as the C core runs it: the where clause ANDed with the
-- condition filters.
local function engine_query(q, conds)
  local node = where_node(q)
  if #conds == 0 then return q end
  local rq = {}
  for k, v in pairs(q) do rq[k] = v end
  for _, f in ipairs(conds) do
    local c = f.cond()
    c = Q.is(c) and c or Q(c)
    local fnode = Q.compile(c, core, q.m.core)
    node = node and core.node_and(node, fnode) or fnode
  end
  rq.node = node
  rq.identity = q.node -- cursors identify the query without its filters (false: none)
  return rq
end

local function passes(fns, u)
  for _, f in ipairs(fns) do
    if not f.fn(u) then return false end
  end
  return true
end

local function load_all(m, list)
  for i = 1, #list do list[i] = lifecycle.load(m, list[i]) end
  return list
end

-- With Lua result filters, filters apply before offset and limit: every
-- match is loaded and filtered, then the window is cut.
local function filtered(q, rq, fns)
  local wide = {}
  for k, v in pairs(rq) do wide[k] = v end
  wide.offset_n, wide.limit_n = 0, nil
  local out = {}
  for _, u in ipairs(core.run(q.m.core, wide, "all")) do
    u = lifecycle.load(q.m, u)
    if passes(fns, u) then out[#out + 1] = u end
  end
  -- Clamped before any addition: math.maxinteger is a valid offset or
  -- limit.
  local skip = math.min(q.offset_n, #out)
  local n = #out - skip
  if q.limit_n then n = math.min(n, q.limit_n) end
  return table.move(out, skip + 1, skip + n, 1, {})
end

-- A page when Lua filters apply: engine pages are read until the page is
-- full; when it fills in the middle of an engine page, that page is asked
-- for again up to the record where it filled, whose cursor is then the
-- page's cursor.
local function filtered_page(q, rq, fns)
  local want, page = q.limit_n, {}
  local cur = rq.cursor_text
  local chunk = want and math.max(want, 1) or 256
  -- The offset counts filtered records, on the first page only.
  local skip = cur == nil and q.offset_n or 0
  while true do
    local pq = {}
    for k, v in pairs(rq) do pq[k] = v end
    pq.limit_n, pq.cursor_text, pq.offset_n = chunk, cur, 0
    local got, next_cursor = core.run(q.m.core, pq, "page")
    for i, u in ipairs(got) do
      u = lifecycle.load(q.m, u)
      if passes(fns, u) and skip > 0 then
        skip = skip - 1
      elseif passes(fns, u) then
        if want and #page == want then
          pq.limit_n = i - 1
          local _, at = core.run(q.m.core, pq, "page")
          return page, at
        end
        page[#page + 1] = u
      end
    end
    if next_cursor == nil then return page, nil end
    cur = next_cursor
  end
end

local INSTANCES = { all = true, first = true, last = true, get = true, page = true }

-- The engine query without select()'s mask: result filters, after_load
-- hooks, deserialize and save/delete hooks read every field, so the
-- instances are built whole and the mask applies to those returned.
local function unmasked(rq)
  local c = {}
  for k, v in pairs(rq) do c[k] = v end
  c.mask = nil
  return c
end

local function masked(res, mode, mask)
  if mode == "all" or mode == "page" then
    for _, u in ipairs(res) do core.set_mask(u, mask) end
  elseif res ~= nil then
    core.set_mask(res, mask)
  end
  return res
end

-- Runs a query with neither Lua result filters nor hooks on a bulk write
-- in the C core, then loads the instances (after_load, deserialize).
local function run_in_engine(q, rq, mode, arg)
  local m = q.m
  local loads = INSTANCES[mode] and lifecycle.loads(m)
  local mask = loads and rq.mask
  if mask then rq = unmasked(rq) end
  local res, cursor = core.run(m.core, rq, mode, arg)
  if loads then
    if mode == "all" or mode == "page" then load_all(m, res) else res = lifecycle.load(m, res) end
  end
  if mask then masked(res, mode, mask) end
  return res, cursor
end

-- Runs a query whose result filters or bulk-write hooks run in Lua.
local function run_in_lua(q, rq, fns, mode, arg)
  local m = q.m
  if mode == "page" then return filtered_page(q, rq, fns) end
  if mode == "update" then core.check_assignments(m.core, arg) end
  local list = filtered(q, rq, fns)
  if mode == "all" then return list end
  if mode == "count" then return #list end
  if mode == "exists" then return #list > 0 end
  if mode == "first" then return list[1] end
  if mode == "last" then return list[#list] end
  if mode == "get" then
    if #list > 1 then
      errors.raise("MultipleResultsError", m.name .. ": get matched more than one record", nil, 4)
    end
    return list[1]
  end
  if mode == "delete" then return lifecycle.delete_many(m, list) end
  for _, u in ipairs(list) do
    for k, v in pairs(arg) do u[k] = v end
  end
  lifecycle.store_many(m, list, "update")
  return #list
end

-- Runs the query in the mode asked. Result filters and the lifecycle
-- (loads, hooks on bulk writes) are applied here; everything else is the
-- C core's.
local function run(q, mode, arg)
  local m = q.m
  local conds, fns = active_filters(q)
  local rq = engine_query(q, conds)
  local bulk_hooks = (mode == "delete" or mode == "update") and lifecycle.stores(m)
  if mode == "explain" or (#fns == 0 and not bulk_hooks) then
    return run_in_engine(q, rq, mode, arg)
  end
  local mask = rq.mask
  if mask then rq = unmasked(rq) end
  local res, cursor = run_in_lua(q, rq, fns, mode, arg)
  if mask and INSTANCES[mode] then masked(res, mode, mask) end
  return res, cursor
end

--- Adds a named result filter: fn(instance) -> boolean keeps the records
--- for which it is true. Filters apply before limit and offset, and to
--- count, get and bulk writes.
function Query:add_result_filter(name, fn)
  if type(name) ~= "string" or (type(fn) ~= "function" and not (getmetatable(fn) or {}).__call) then
    errors.raise("ConfigurationError", "add_result_filter expects a name and a function", nil, 2)
  end
  local c = clone(self)
  c.filters = { table.unpack(self.filters) }
  c.filters[#c.filters + 1] = { name = name, fn = fn }
  return c
end

-- A result filter written as conditions (evaluated in C): cond() returns a
-- Q or a condition table when the query runs.
function Query:_add_condition_filter(name, cond)
  local c = clone(self)
  c.filters = { table.unpack(self.filters) }
  c.filters[#c.filters + 1] = { name = name, cond = cond }
  return c
end

--- Turns a named result filter off for this query.
function Query:disable_filter(name)
  if type(name) ~= "string" then
    errors.raise("ConfigurationError", ("%s: disable_filter expects a filter name, got %s")
      :format(self.m.name, type(name)), nil, 2)
  end
  local c = clone(self)
  c.disabled = {}
  for k, v in pairs(self.disabled) do c.disabled[k] = v end
  c.disabled[name] = true
  return c
end

--- The first record matching conds in insertion order (find_by, get with
--- conditions). A model without query filters or modify_query extensions
--- has the engine run it at once, without building a query object.
function Query.first_match(m, conds)
  if m.filtered then return Query.new(m):and_(conds):first() end
  local res = core.run(m.core, { node = conditions({ m = m }, conds, "and_") }, "first")
  if lifecycle.loads(m) then res = lifecycle.load(m, res) end
  return res
end

-- One value each: run also returns a page's cursor.
function Query:all() return (run(self, "all")) end
function Query:first() return (run(self, "first")) end
function Query:last() return (run(self, "last")) end
function Query:count() return (run(self, "count")) end
function Query:exists() return (run(self, "exists")) end

--- The one record matching the query and conds, nil if none;
--- MultipleResultsError if more. conds narrow the whole query, every
--- or_ group (and_ would narrow the last group only).
function Query:get(conds)
  local q = self
  if conds ~= nil then
    local node, where = conditions(self, conds, "get"), where_node(self)
    q = clone(self)
    q.groups = { { node = where and core.node_and(where, node) or node, empty = false } }
  end
  return (run(q, "get"))
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
function Query:delete() return (run(self, "delete")) end

--- Assigns the values (validated) to every match, all or nothing;
--- returns how many.
function Query:update(values)
  if type(values) ~= "table" then
    errors.raise("ValidationError", ("%s:update expects a table of values, got %s")
      :format(self.m.name, type(values)), nil, 2)
  end
  return (run(self, "update", values))
end

--- How the query runs: { index = name or nil, scan = boolean, plan = text }.
function Query:explain() return (run(self, "explain")) end

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

-- q.all() for q:all() would fail somewhere inside with a Lua error about
-- nil: each method first checks that it was given its query.
local function guarded(name, method)
  return function(q, ...)
    if getmetatable(q) ~= Query then
      errors.raise("ConfigurationError", ("query method %s called without its query (got %s): "
        .. "write q:%s(...), not q.%s(...)"):format(name, type(q), name, name), nil, 2)
    end
    return method(q, ...)
  end
end

for _, name in ipairs { "and_", "where", "not_", "or_", "order_by", "limit", "offset", "all",
                        "first", "last", "count", "exists", "get", "select", "cursor",
                        "paginate", "delete", "update", "explain", "each",
                        "add_result_filter", "_add_condition_filter", "disable_filter" } do
  Query[name] = guarded(name, Query[name])
end

return Query
