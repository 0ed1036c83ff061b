-- Queries (API.md section 6, basics): where/and_/or_/not_ with eq, ne, gt,
-- gte, lt, lte and in; OR groups; nil values; order_by; limit and offset;
-- all, first, last, count, exists, q:get; immutable query objects.

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local raises, ids = support.raises, support.ids

describe("query", function()
  local backend, Person

  -- Five people, inserted in this order. Dave has no age and no status,
  -- Carol no score; Bob is the only inactive one.
  before_each(function()
    backend = InMemoryBackend()
    Person = Model("Person", {
      model_backend = backend,
      id = Field.string { primary_key = true },
      name = Field.string {},
      age = Field.integer { optional = true },
      status = Field.string { optional = true },
      score = Field.number { optional = true },
      is_active = Field.boolean { default = true },
    })
    Person:create { id = "p1", name = "Alice", age = 30, status = "active", score = 1.5 }
    Person:create { id = "p2", name = "Bob", age = 25, status = "inactive", score = 3, is_active = false }
    Person:create { id = "p3", name = "Carol", age = 35, status = "active" }
    Person:create { id = "p4", name = "Dave", score = 2 }
    Person:create { id = "p5", name = "Eve", age = 30, status = "deleted", score = 0.5 }
  end)

  local function where(c) return ids(Person:where(c):all()) end

  describe("lookups", function()
    it("matches equality with a bare field name", function()
      assert.same({ "p1", "p5" }, where { age = 30 })
      assert.same({ "p3" }, where { name = "Carol" })
    end)

    it("matches booleans, false included", function()
      assert.same({ "p2" }, where { is_active = false })
      assert.same({ "p1", "p3", "p4", "p5" }, where { is_active = true })
    end)

    it("matches ne", function()
      assert.same({ "p2", "p3", "p4" }, where { age__ne = 30 })
    end)

    it("matches gt and gte", function()
      assert.same({ "p3" }, where { age__gt = 30 })
      assert.same({ "p1", "p3", "p5" }, where { age__gte = 30 })
    end)

    it("matches lt and lte", function()
      assert.same({ "p2" }, where { age__lt = 30 })
      assert.same({ "p1", "p2", "p5" }, where { age__lte = 30 })
    end)

    it("compares strings in ranges by their bytes", function()
      assert.same({ "p3", "p4", "p5" }, where { name__gte = "Carol" })
      assert.same({ "p1" }, where { name__lt = "B" })
    end)

    it("compares integers and floats in a number field by value", function()
      assert.same({ "p1", "p2", "p4" }, where { score__gt = 1 })
      assert.same({ "p1", "p2", "p4" }, where { score__gte = 1.5 })
      assert.same({ "p2" }, where { score = 3.0 })
      assert.same({ "p4" }, where { score = 2 })
    end)

    it("matches in against a list", function()
      assert.same({ "p2", "p3" }, where { age__in = { 25, 35 } })
      assert.same({ "p1", "p5" }, where { name__in = { "Eve", "Alice", "Zed" } })
    end)

    it("matches in on the primary key", function()
      assert.same({ "p2", "p4" }, where { id__in = { "p4", "p2", "nobody" } })
    end)

    it("matches nothing with an empty in list", function()
      assert.same({}, where { age__in = {} })
    end)

    it("ANDs the conditions of one table", function()
      assert.same({ "p3" }, where { status = "active", age__gt = 30 })
      assert.same({ "p1", "p5" }, where { age__gte = 30, age__lte = 30 })
    end)

    it("matches every record with no condition", function()
      assert.same({ "p1", "p2", "p3", "p4", "p5" }, ids(Person:where():all()))
    end)
  end)

  describe("groups", function()
    it("adds conditions to the group with and_", function()
      assert.same({ "p1" }, ids(Person:where { status = "active" }:and_ { age__lt = 35 }:all()))
    end)

    it("starts a new group with or_", function()
      assert.same({ "p1", "p2" }, ids(Person:where { name = "Alice" }:or_ { name = "Bob" }:all()))
    end)

    it("does not match everything when an or_ group matches nothing", function()
      assert.same({ "p1" }, ids(Person:where { name = "Alice" }:or_ { name = "Nobody" }:all()))
    end)

    it("matches nothing when no group matches", function()
      assert.same({}, ids(Person:where { name = "Nobody" }:or_ { name = "Somebody" }:all()))
      assert.equal(0, Person:where { name = "Nobody" }:or_ { name = "Somebody" }:count())
    end)

    it("lists each record once when several groups match it", function()
      assert.same({ "p1", "p3" }, ids(Person:where { status = "active" }:or_ { age__gte = 35 }:all()))
    end)

    it("binds and_ tighter than or_", function()
      -- (age >= 35) OR (status = active AND age < 35)
      local q = Person:where { age__gte = 35 }:or_ { status = "active" }:and_ { age__lt = 35 }
      assert.same({ "p1", "p3" }, ids(q:all()))
    end)

    it("adds not_ to the current group", function()
      assert.same({ "p3" }, ids(Person:where { status = "active" }:not_ { name = "Alice" }:all()))
      -- (name = Bob) OR (age = 30 AND NOT status = deleted)
      local q = Person:where { name = "Bob" }:or_ { age = 30 }:not_ { status = "deleted" }
      assert.same({ "p1", "p2" }, ids(q:all()))
    end)

    it("excludes with not_{a=1, b=2} only the records where both hold", function()
      local q = Person:where():not_ { age = 30, status = "active" }
      assert.same({ "p2", "p3", "p4", "p5" }, ids(q:all()))
    end)
  end)

  describe("nil values", function()
    it("fail every comparison except ne", function()
      assert.same({ "p1", "p2", "p3", "p5" }, where { age__lt = 100 })
      assert.same({ "p1", "p2", "p3", "p5" }, where { age__gte = 0 })
      assert.same({}, where { age__in = {} })
      assert.same({ "p1", "p5" }, where { age__in = { 30 } })
      assert.same({ "p2", "p3", "p4" }, where { age__ne = 30 })
      assert.same({ "p1", "p2", "p3", "p4", "p5" }, where { status__ne = "nothing" })
    end)

    it("are kept by not_", function()
      assert.same({ "p1", "p2", "p3", "p4" }, ids(Person:where():not_ { status = "deleted" }:all()))
      assert.same({ "p2", "p4" }, ids(Person:where():not_ { age__gt = 26 }:all()))
      assert.same({ "p2", "p3", "p4" }, ids(Person:where():not_ { age__in = { 30 } }:all()))
    end)
  end)

  describe("order_by", function()
    it("sorts ascending, nil last, ties in insertion order", function()
      assert.same({ "p2", "p1", "p5", "p3", "p4" }, ids(Person:where():order_by("age"):all()))
    end)

    it("sorts descending with -, nil first, ties in insertion order", function()
      assert.same({ "p4", "p3", "p1", "p5", "p2" }, ids(Person:where():order_by("-age"):all()))
    end)

    it("sorts by several fields", function()
      -- status ascending (nil last), then age descending within a status.
      assert.same({ "p3", "p1", "p5", "p2", "p4" }, ids(Person:where():order_by("status", "-age"):all()))
    end)

    it("sorts strings", function()
      assert.same({ "p5", "p4", "p3", "p2", "p1" }, ids(Person:where():order_by("-name"):all()))
    end)

    it("sorts integers and floats of a number field together", function()
      assert.same({ "p5", "p1", "p4", "p2", "p3" }, ids(Person:where():order_by("score"):all()))
    end)

    it("sorts only the matching records", function()
      assert.same({ "p3", "p1" }, ids(Person:where { status = "active" }:order_by("-age"):all()))
    end)

    it("keeps insertion order without order_by, an overwriting upsert included", function()
      Person:upsert { id = "p2", name = "Bobby", age = 26 }
      assert.same({ "p1", "p2", "p3", "p4", "p5" }, ids(Person:all()))
    end)
  end)

  describe("limit and offset", function()
    local function sorted() return Person:where():order_by("age") end

    it("limits the number of results", function()
      assert.same({ "p2", "p1" }, ids(sorted():limit(2):all()))
    end)

    it("skips records with offset", function()
      assert.same({ "p5", "p3", "p4" }, ids(sorted():offset(2):all()))
    end)

    it("combines offset and limit", function()
      assert.same({ "p1", "p5" }, ids(sorted():offset(1):limit(2):all()))
      assert.same({ "p1", "p5" }, ids(sorted():limit(2):offset(1):all()))
    end)

    it("returns nothing for limit(0)", function()
      assert.same({}, ids(sorted():limit(0):all()))
      assert.equal(0, sorted():limit(0):count())
      assert.is_nil(sorted():limit(0):first())
      assert.is_false(sorted():limit(0):exists())
    end)

    it("returns nothing for an offset past the end", function()
      assert.same({}, ids(sorted():offset(5):all()))
    end)

    it("handles the largest limit and offset without overflow", function()
      local max = math.maxinteger
      local q = Person:where():limit(max):offset(1)
      assert.same({ "p2", "p3", "p4", "p5" }, ids(q:all()))
      assert.equal(4, q:count())
      assert.is_true(q:exists())
      q = Person:where():offset(max)
      assert.same({}, ids(q:all()))
      assert.equal(0, q:count())
      assert.is_false(q:exists())
      q = Person:where():limit(2):offset(max)
      assert.equal(0, q:count())
      assert.is_false(q:exists())
      assert.is_nil(q:first())
      assert.is_nil(q:last())
      q = Person:where():order_by("age"):limit(max):offset(max)
      assert.equal(0, q:count())
      assert.is_false(q:exists())
    end)

    it("applies without order_by in insertion order", function()
      assert.same({ "p2", "p3" }, ids(Person:where():offset(1):limit(2):all()))
    end)
  end)

  describe("results", function()
    it("gives the first record with first()", function()
      assert.equal("p1", Person:where { status = "active" }:first().id)
      assert.equal("p4", Person:where():order_by("-age"):first().id)
    end)

    it("gives nil from first() and last() without a match", function()
      assert.is_nil(Person:where { name = "Nobody" }:first())
      assert.is_nil(Person:where { name = "Nobody" }:last())
    end)

    it("gives the last record all() would return with last()", function()
      assert.equal("p3", Person:where { status = "active" }:last().id)
      assert.equal("p2", Person:where():order_by("-age"):last().id)
      assert.equal("p5", Person:where():last().id)
    end)

    it("counts matches with count()", function()
      assert.equal(2, Person:where { status = "active" }:count())
      assert.equal(0, Person:where { status = "gone" }:count())
    end)

    it("tells with exists() whether anything matches", function()
      assert.is_true(Person:where { name = "Eve" }:exists())
      assert.is_false(Person:where { name = "Zed" }:exists())
    end)

    it("sees through count, first, last and exists exactly what all() returns under limit and offset", function()
      local q = Person:where():order_by("age"):offset(1):limit(2)
      assert.same({ "p1", "p5" }, ids(q:all()))
      assert.equal(2, q:count())
      assert.equal("p1", q:first().id)
      assert.equal("p5", q:last().id)
      assert.is_true(q:exists())
      assert.equal(2, Person:where():offset(3):count())
      assert.is_false(Person:where():offset(5):exists())
    end)

    it("returns full, persisted instances", function()
      local p = Person:where { name = "Bob" }:first()
      assert.equal(25, p.age)
      assert.equal("inactive", p.status)
      assert.is_false(p.is_active)
      assert.is_true(p:is_persisted())
    end)

    it("reads the store when run, not when built", function()
      local q = Person:where { status = "active" }
      Person:create { id = "p6", name = "Fay", status = "active" }
      assert.equal(3, q:count())
    end)
  end)

  describe("get", function()
    it("returns the one match", function()
      assert.equal("p3", Person:where { status = "active" }:get { name = "Carol" }.id)
      assert.equal("p1", Person:where():get { id = "p1" }.id)
    end)

    it("returns nil without a match", function()
      assert.is_nil(Person:where { status = "active" }:get { name = "Bob" })
      assert.is_nil(Person:where { status = "inactive" }:get { id = "p1" })
    end)

    it("raises MultipleResultsError when more than one record matches", function()
      raises("MultipleResultsError", function() return Person:where():get { age = 30 } end)
      raises("MultipleResultsError", function() return Person:where { status = "active" }:get { is_active = true } end)
    end)

    -- (name = Alice OR status = active) AND id = ...: conds narrow every
    -- group, not only the last one.
    it("narrows every or_ group with its conditions", function()
      local q = Person:where { name = "Alice" }:or_ { status = "active" }
      assert.is_nil(q:get { id = "p5" })
      assert.equal("p3", q:get { id = "p3" }.id)
      assert.equal("p1", q:get { name = "Alice" }.id)
      raises("MultipleResultsError", function() return q:get { age__gte = 30 } end)
      assert.is_nil(q:not_ { id = "p3" }:get { id = "p3" })
    end)
  end)

  describe("results", function()
    it("are one value each, nil included", function()
      local q = Person:where { name = "Nobody" }
      for _, call in ipairs { function() return q:all() end, function() return q:first() end,
                              function() return q:last() end, function() return q:count() end,
                              function() return q:exists() end, function() return q:get() end,
                              function() return Person:get("nobody") end,
                              function() return Person:count() end, function() return Person:all() end,
                              function() return q:update { score = 1 } end,
                              function() return q:delete() end } do
        assert.equal(1, select("#", call()))
      end
    end)
  end)

  describe("immutability", function()
    it("leaves a query usable after and_", function()
      local q = Person:where { status = "active" }
      local q2 = q:and_ { age__gt = 30 }
      assert.same({ "p3" }, ids(q2:all()))
      assert.same({ "p1", "p3" }, ids(q:all()))
    end)

    it("leaves a query usable after or_ and not_", function()
      local q = Person:where { status = "active" }
      local q2 = q:or_ { name = "Bob" }
      local q3 = q:not_ { name = "Alice" }
      assert.same({ "p1", "p2", "p3" }, ids(q2:all()))
      assert.same({ "p3" }, ids(q3:all()))
      assert.same({ "p1", "p3" }, ids(q:all()))
    end)

    it("leaves a query usable after order_by, limit and offset", function()
      local q = Person:where()
      local sorted = q:order_by("-age")
      local limited = q:limit(1)
      local skipped = q:offset(4)
      assert.same({ "p4", "p3", "p1", "p5", "p2" }, ids(sorted:all()))
      assert.same({ "p1" }, ids(limited:all()))
      assert.same({ "p5" }, ids(skipped:all()))
      assert.same({ "p1", "p2", "p3", "p4", "p5" }, ids(q:all()))
    end)

    it("lets two branches of one query grow apart", function()
      local base = Person:where { age__gte = 25 }
      local a = base:and_ { status = "active" }
      local b = base:and_ { status = "deleted" }
      assert.same({ "p1", "p3" }, ids(a:all()))
      assert.same({ "p5" }, ids(b:all()))
      assert.equal(4, base:count())
    end)
  end)
end)
