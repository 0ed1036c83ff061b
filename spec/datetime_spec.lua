-- Datetime fields (API.md section 3): epoch seconds in UTC as Lua numbers,
-- ISO-8601 strings accepted on construction, assignment and in query values,
-- orm.now() and orm.isoformat().

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

-- 2025-01-15T10:30:00Z as Unix epoch seconds (date -u -d ... +%s).
local T0 = 1736937000
-- 2025-01-15T10:30:00.123+02:00 is two hours earlier in UTC.
local T_OFFSET = T0 - 2 * 3600 + 0.123

local support = require("spec.support")
local raises, expect_rule, ids = support.raises, support.expect_rule, support.ids

describe("datetime fields", function()
  local backend, Event

  before_each(function()
    backend = InMemoryBackend()
    Event = Model("Event", {
      model_backend = backend,
      id = Field.string { primary_key = true },
      at = Field.datetime {},
      ends = Field.datetime { optional = true },
    })
  end)

  describe("values", function()
    it("are epoch seconds as Lua numbers", function()
      local e = Event:create { id = "1", at = T0 }
      assert.is_number(e.at)
      assert.equal(T0, e.at)
      assert.equal(T0, Event:get("1").at)
    end)

    it("keep fractions of a second to the microsecond", function()
      Event:create { id = "1", at = T0 + 0.123456 }
      assert.is_true(math.abs(Event:get("1").at - (T0 + 0.123456)) < 1e-6)
    end)

    it("accept times before 1970", function()
      Event:create { id = "1", at = -86400 }
      assert.equal(-86400, Event:get("1").at)
    end)

    it("reject infinite values and NaN", function()
      for _, v in ipairs({ math.huge, -math.huge, 0 / 0 }) do
        local err = raises("ValidationError", Event.create, Event, { id = "1", at = v })
        expect_rule(err, "at", nil, tostring(v))
      end
      assert.equal(0, Event:count())
    end)

    it("reject values that are neither numbers nor ISO-8601 strings", function()
      local err = raises("ValidationError", Event.create, Event, { id = "1", at = true })
      expect_rule(err, "at")
      err = raises("ValidationError", Event.create, Event, { id = "2", at = "next tuesday" })
      expect_rule(err, "at")
      assert.equal(0, Event:count())
    end)
  end)

  describe("ISO-8601 strings", function()
    it("are converted to numbers on construction", function()
      local e = Event { id = "1", at = "2025-01-15T10:30:00Z" }
      assert.is_number(e.at)
      assert.equal(T0, e.at)
    end)

    it("honour fractions and UTC offsets", function()
      local e = Event { id = "1", at = "2025-01-15T10:30:00.123+02:00" }
      assert.is_true(math.abs(e.at - T_OFFSET) < 1e-6, string.format("got %.6f", e.at))
    end)

    it("honour negative UTC offsets and leap days", function()
      assert.equal(T0 + 5 * 3600, Event { id = "1", at = "2025-01-15T10:30:00-05:00" }.at)
      assert.equal(1709164800, Event { id = "2", at = "2024-02-29T00:00:00Z" }.at)
    end)

    it("keep the last microsecond of the year 9999 in that year", function()
      -- A double holds times there to about 30 microseconds only.
      local e = Event:create { id = "1", at = "9999-12-31T23:59:59.999999Z" }
      assert.is_true(e.at < 253402300800)
      assert.equal("9999-12-31T23:59:", orm.isoformat(e.at):sub(1, 17))
      assert.equal(e.at, Event:from_json(e:to_json()).at)
    end)

    it("reject dates that do not exist", function()
      local err = raises("ValidationError", Event, { id = "1", at = "2025-02-30T00:00:00Z" })
      expect_rule(err, "at")
    end)

    it("are converted on assignment", function()
      local e = Event:create { id = "1", at = 0 }
      e.at = "2025-01-15T10:30:00Z"
      assert.equal(T0, e.at)
      e:save()
      assert.equal(T0, Event:get("1").at)
    end)

    it("are converted by create", function()
      Event:create { id = "1", at = "2025-01-15T10:30:00Z", ends = "2025-01-15T10:30:00.123+02:00" }
      local e = Event:get("1")
      assert.equal(T0, e.at)
      assert.is_true(math.abs(e.ends - T_OFFSET) < 1e-6)
    end)

    it("leave the instance unchanged when malformed", function()
      local e = Event { id = "1", at = T0 }
      local err = raises("ValidationError", function() e.at = "2025-13-45T99:00:00Z" end)
      expect_rule(err, "at")
      assert.equal(T0, e.at)
    end)
  end)

  describe("in queries", function()
    before_each(function()
      Event:create { id = "a", at = T0 - 60 }
      Event:create { id = "b", at = T0 }
      Event:create { id = "c", at = T0 + 60 }
    end)

    it("match an ISO-8601 string for equality", function()
      assert.same({ "b" }, ids(Event:where { at = "2025-01-15T10:30:00Z" }:all()))
    end)

    it("compare ISO-8601 strings in ranges", function()
      assert.same({ "b", "c" }, ids(Event:where { at__gte = "2025-01-15T10:30:00Z" }:all()))
      assert.same({ "a" }, ids(Event:where { at__lt = "2025-01-15T10:30:00Z" }:all()))
    end)

    it("apply UTC offsets in query values", function()
      -- 11:30 at +01:00 is 10:30 UTC.
      assert.same({ "b" }, ids(Event:where { at = "2025-01-15T11:30:00+01:00" }:all()))
    end)

    it("accept ISO-8601 strings inside __in lists, mixed with numbers", function()
      local q = Event:where { at__in = { "2025-01-15T10:30:00Z", T0 + 60 } }
      assert.same({ "b", "c" }, ids(q:all()))
    end)

    it("order by time", function()
      assert.same({ "c", "b", "a" }, ids(Event:where():order_by("-at"):all()))
    end)
  end)

  describe("orm.now", function()
    it("returns the current time in epoch seconds", function()
      local now = orm.now()
      assert.is_number(now)
      assert.is_true(math.abs(now - os.time()) <= 2, string.format("now %.3f vs os.time %d", now, os.time()))
    end)

    it("has sub-second precision", function()
      local t1 = orm.now()
      local t2 = t1
      local deadline = os.clock() + 2
      while t2 == t1 and os.clock() < deadline do t2 = orm.now() end
      assert.is_true(t2 > t1, "orm.now() did not advance")
      -- A clock of whole seconds would advance by at least one second.
      assert.is_true(t2 - t1 < 0.5, string.format("orm.now() advanced by %.6f", t2 - t1))
    end)

    it("gives a value a datetime field accepts", function()
      local now = orm.now()
      local e = Event:create { id = "1", at = now }
      assert.is_true(math.abs(Event:get(e.id).at - now) < 1e-6)
    end)
  end)

  describe("orm.isoformat", function()
    it("formats whole seconds as UTC with a Z", function()
      assert.equal("2025-01-15T10:30:00Z", orm.isoformat(T0))
      assert.equal("1970-01-01T00:00:00Z", orm.isoformat(0))
    end)

    it("keeps fractions of a second", function()
      local s = orm.isoformat(T0 + 0.5)
      assert.is_string(s)
      assert.equal("2025-01-15T10:30:00.5", s:sub(1, 21))
      assert.equal("Z", s:sub(-1))
    end)

    it("raises for a value that is not a representable time", function()
      for _, v in ipairs({ math.huge, -math.huge, 0 / 0, 1e300 }) do
        local ok, res = pcall(orm.isoformat, v)
        assert.is_false(ok, string.format("isoformat(%s) gave %s", tostring(v),
          (tostring(res):gsub("[^%w%p ]", "?"))))
      end
    end)

    it("gives text that a datetime field reads back as the same time", function()
      local t = T0 + 0.123456
      local e = Event { id = "1", at = orm.isoformat(t) }
      assert.is_true(math.abs(e.at - t) < 1e-6, string.format("%s read back as %.6f", orm.isoformat(t), e.at))
    end)
  end)
end)
