-- Helpers shared by the specs: catching an error, checking its kind and
-- what its message names, finding one rule in a ValidationError, listing
-- ids, and waiting for the clock to move. Loaded with require("spec.support") from the repository
-- root, where busted runs.
local orm = require("restmachine_orm")
local assert = require("luassert")

local function catch(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error, got none")
  return err
end

local function text(err)
  if type(err) == "table" and type(err.message) == "string" then return err.message end
  return tostring(err)
end

local function mentions(err, word)
  return string.find(text(err), word, 1, true) ~= nil
end

-- Checks err's kind and that its message names each word given (nil words
-- are skipped).
local function expect(kind, err, ...)
  assert.is_table(err, "expected an error table, got: " .. tostring(err))
  assert.equal(kind, err.name, tostring(err))
  assert.is_true(orm.errors.is(err, kind))
  for i = 1, select("#", ...) do
    local word = select(i, ...)
    if word ~= nil then
      assert.is_true(mentions(err, word), "message does not name " .. word .. ": " .. text(err))
    end
  end
  return err
end

local function expect_rule(err, field, code)
  for _, e in ipairs(err.errors or {}) do
    if e.field == field and e.code == code then return e end
  end
  local got = {}
  for _, e in ipairs(err.errors or {}) do got[#got + 1] = tostring(e.field) .. "/" .. tostring(e.code) end
  error(string.format("no %s/%s entry in errors: {%s}", field, code, table.concat(got, ", ")), 2)
end

local function ids(list)
  local out = {}
  for i, r in ipairs(list) do out[i] = r.id end
  return out
end

-- Busy-waits until orm.now() has moved past t (sub-second clock).
local function after(t)
  while orm.now() <= t do end
end

return { after = after, catch = catch, text = text, mentions = mentions, expect = expect,
         expect_rule = expect_rule, ids = ids }
