-- Q expressions (API.md §6): conditions combined with & (and), | (or) and
-- ~ (not), Lua 5.4's bitwise metamethods. A Q holds raw conditions and is
-- checked against a model's fields when a query uses it, because it is
-- built before any model is known.
local errors = require("restmachine_orm.errors")

local Q = { __name = "restmachine_orm.Q" }
Q.__index = Q

-- A copy of t down through its plain tables (those without a metatable:
-- conditions, in-lists, json values), so that a Q keeps the conditions it
-- was built with when the caller's tables change later. Other values are
-- kept as they are. `seen` maps each table copied to its copy, so that a
-- table met twice, or in a cycle, is copied once; it is made only when t
-- holds a table.
local function snapshot(t, seen)
  local c = {}
  if seen then seen[t] = c end
  for k, v in next, t do
    if type(v) == "table" and getmetatable(v) == nil then
      seen = seen or { [t] = c }
      v = seen[v] or snapshot(v, seen)
    end
    c[k] = v
  end
  return c
end

local function leaf(conds)
  if type(conds) ~= "table" or getmetatable(conds) ~= nil then
    errors.raise("ValidationError", "Q expects a table of conditions, got " .. type(conds), nil, 3)
  end
  return setmetatable({ kind = "leaf", conds = snapshot(conds) }, Q)
end

--- True for Q expressions.
function Q.is(v) return getmetatable(v) == Q end

-- The one coercion every operator uses (as LPeg's getpatt): a Q stays, a
-- plain table of conditions becomes one, anything else is an error.
local function operand(v, op)
  if getmetatable(v) == Q then return v end
  if type(v) == "table" and getmetatable(v) == nil then return leaf(v) end
  errors.raise("ValidationError", ("Q %s: operands must be Q expressions or condition tables, got %s")
    :format(op, type(v)), nil, 3)
end

Q.__band = function(a, b)
  return setmetatable({ kind = "and", operand(a, "&"), operand(b, "&") }, Q)
end

Q.__bor = function(a, b)
  return setmetatable({ kind = "or", operand(a, "|"), operand(b, "|") }, Q)
end

Q.__bnot = function(a)
  return setmetatable({ kind = "not", operand(a, "~") }, Q)
end

-- Expressions are as deep as the loops that build them (e = e | Q{...},
-- e = Q{...} | e, e = ~e), so the walks below keep their own stack of
-- work instead of recursing: depth is bounded by memory, not by the Lua
-- or C stack. An entry is a Q still to visit or a string: text to
-- write (tostring) or the core function to apply (compile).

local function leaf_text(q)
  local keys = {}
  for k, v in pairs(q.conds) do keys[#keys + 1] = tostring(k) .. "=" .. tostring(v) end
  table.sort(keys)
  return "Q{" .. table.concat(keys, ", ") .. "}"
end

local INFIX = { ["and"] = " & ", ["or"] = " | " }

Q.__tostring = function(q)
  local out, work = {}, { q }
  while #work > 0 do
    local item = work[#work]
    work[#work] = nil
    if type(item) == "string" then
      out[#out + 1] = item
    elseif item.kind == "leaf" then
      out[#out + 1] = leaf_text(item)
    elseif item.kind == "not" then
      out[#out + 1] = "~"
      work[#work + 1] = item[1]
    else -- "(" a op b ")": pushed in reverse
      out[#out + 1] = "("
      work[#work + 1] = ")"
      work[#work + 1] = item[2]
      work[#work + 1] = INFIX[item.kind]
      work[#work + 1] = item[1]
    end
  end
  return table.concat(out)
end

local COMBINE = { ["and"] = "node_and", ["or"] = "node_or", ["not"] = "node_not" }

--- Builds the C condition tree of q for a model core, checking every
--- condition (unknown field, lookup or value type raise ValidationError).
--- A post-order walk: operands are compiled onto `nodes`, then the
--- operator's entry joins the top one (~) or two (&, |).
function Q.compile(q, core, model_core)
  local work, nodes = { q }, {}
  while #work > 0 do
    local item = work[#work]
    work[#work] = nil
    if item == "node_not" then
      nodes[#nodes] = core.node_not(nodes[#nodes])
    elseif type(item) == "string" then
      local b = nodes[#nodes]
      nodes[#nodes] = nil
      nodes[#nodes] = core[item](nodes[#nodes], b)
    elseif getmetatable(item) ~= Q or (item.kind ~= "leaf" and not COMBINE[item.kind]) then
      errors.raise("ValidationError", "Q: an operand is not a Q expression (" .. type(item) .. ")", nil, 3)
    elseif item.kind == "leaf" then
      nodes[#nodes + 1] = core.node_conds(model_core, item.conds)
    else
      work[#work + 1] = COMBINE[item.kind]
      for i = #item, 1, -1 do work[#work + 1] = item[i] end
    end
  end
  return nodes[1]
end

-- orm.Q{...}
setmetatable(Q, { __call = function(_, conds) return leaf(conds) end })

return Q
