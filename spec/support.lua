-- Helpers shared by the specs: catching an error, checking its kind and
-- what its message names, calling a function that must raise an error of a
-- given kind, finding one rule in a ValidationError, listing ids, and
-- waiting for the clock to move. Loaded with require("spec.support") from
-- the repository root, where busted runs.
local orm = require("restmachine_orm")
local assert = require("luassert")

-- Calls fn(...), checks that it raises, and returns the error.
local function catch(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error, got none")
  return err
end

-- The text of an error: the message of an error table, else tostring.
local function text(err)
  if type(err) == "table" and type(err.message) == "string" then return err.message end
  return tostring(err)
end

-- True when the text of err contains word (plain, case-sensitive).
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

-- Calls fn(...), checks that it raises an error of that kind (as expect
-- does), and returns the error.
local function raises(kind, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected " .. kind .. ", got no error")
  return expect(kind, err)
end

-- Checks that err.errors holds an entry for field with code (any code when
-- code is nil) and returns it; note, if given, starts the failure message
-- (e.g. the case in a loop).
local function expect_rule(err, field, code, note)
  for _, e in ipairs(err.errors or {}) do
    if e.field == field and (code == nil or e.code == code) then return e end
  end
  local got = {}
  for _, e in ipairs(err.errors or {}) do got[#got + 1] = tostring(e.field) .. "/" .. tostring(e.code) end
  error(string.format("%sno %s/%s entry in errors: {%s}", note and (tostring(note) .. ": ") or "",
    field, code or "*", table.concat(got, ", ")), 2)
end

-- The id of each record in list, in order.
local function ids(list)
  local out = {}
  for i, r in ipairs(list) do out[i] = r.id end
  return out
end

-- Busy-waits until orm.now() has moved past t (sub-second clock).
local function after(t)
  while orm.now() <= t do end
end

-- A small deterministic random generator, the same sequence on every
-- platform: lcg(seed) returns next(n), a number from 1 to n.
local function lcg(seed)
  local s = seed
  return function(n)
    s = (s * 1103515245 + 12345) % 2147483648
    return (s >> 4) % n + 1
  end
end

return { after = after, catch = catch, text = text, mentions = mentions, expect = expect,
         raises = raises, expect_rule = expect_rule, ids = ids, lcg = lcg }
