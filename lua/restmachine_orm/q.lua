-- Q expressions (API.md §6): conditions combined with & (and), | (or) and
-- ~ (not), Lua 5.4's bitwise metamethods. A Q holds raw conditions and is
-- checked against a model's fields when a query uses it, because it is
-- built before any model is known.
local errors = require("restmachine_orm.errors")

local Q = { __name = "restmachine_orm.Q" }
Q.__index = Q

local function leaf(conds)
  if type(conds) ~= "table" or getmetatable(conds) ~= nil then
    errors.raise("ValidationError", "Q expects a table of conditions, got " .. type(conds), nil, 3)
  end
  return setmetatable({ kind = "leaf", conds = conds }, Q)
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

Q.__tostring = function(q)
  if q.kind == "leaf" then
    local keys = {}
    for k, v in pairs(q.conds) do keys[#keys + 1] = tostring(k) .. "=" .. tostring(v) end
    table.sort(keys)
    return "Q{" .. table.concat(keys, ", ") .. "}"
  elseif q.kind == "not" then
    return "~" .. tostring(q[1])
  end
  return "(" .. tostring(q[1]) .. (q.kind == "and" and " & " or " | ") .. tostring(q[2]) .. ")"
end

--- Builds the C condition tree of q for a model core, checking every
--- condition (unknown field, lookup or value type raise ValidationError).
function Q.compile(q, core, model_core)
  if q.kind == "leaf" then return core.node_conds(model_core, q.conds) end
  if q.kind == "not" then return core.node_not(Q.compile(q[1], core, model_core)) end
  local a, b = Q.compile(q[1], core, model_core), Q.compile(q[2], core, model_core)
  return q.kind == "and" and core.node_and(a, b) or core.node_or(a, b)
end

-- orm.Q{...}
setmetatable(Q, { __call = function(_, conds) return leaf(conds) end })

return Q
