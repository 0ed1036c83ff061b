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
--- Chains built in a loop (e = e | Q{...}) are as deep as they are long,
--- so the walk follows the first operand iteratively.
function Q.compile(q, core, model_core)
  local nots = 0
  while q.kind == "not" do
    nots = nots + 1
    q = q[1]
  end
  local node
  if q.kind == "leaf" then
    node = core.node_conds(model_core, q.conds)
  else
    local spine = {}
    while q.kind == "and" or q.kind == "or" do
      spine[#spine + 1] = q
      q = q[1]
    end
    node = Q.compile(q, core, model_core)
    for i = #spine, 1, -1 do
      local right = Q.compile(spine[i][2], core, model_core)
      node = spine[i].kind == "and" and core.node_and(node, right) or core.node_or(node, right)
    end
  end
  for _ = 1, nots do node = core.node_not(node) end
  return node
end

-- orm.Q{...}
setmetatable(Q, { __call = function(_, conds) return leaf(conds) end })

return Q
