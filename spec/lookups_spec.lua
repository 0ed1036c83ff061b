-- Lookups (API.md section 6, issue 3): contains, startswith, endswith,
-- their case-folding forms, iexact and isnull on every field type that takes
-- them; text lookups on bytes; datetimes and numbers in lookups; nil values
-- and two-valued negation; bad lookups rejected when the query is built.
-- Every lookup is checked on a model without indexes and on the same model
-- with `index = true` on every field: an index never changes what matches.
-- (eq, ne, ranges and `in` on plain values are in query_spec.lua.)

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local catch, text, mentions = support.catch, support.text, support.mentions
local expect, expect_rule, ids = support.expect, support.expect_rule, support.ids

local ALL = { "r1", "r2", "r3", "r4", "r5", "r6" }

for _, variant in ipairs({ "without indexes", "with an index on every field" }) do
  local indexed = variant ~= "without indexes"

  describe("lookups " .. variant, function()
    local backend, Item

    -- Six records. r3 has only a name; r6 has no flag, blob or time.
    -- r5 holds the empty strings and zeros; r4 non-ASCII text.
    before_each(function()
      backend = InMemoryBackend()
      local function opts(t)
        t.index = indexed or nil
        return t
      end
      Item = Model("Item", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        name = Field.string(opts {}),
        note = Field.string(opts { optional = true }),
        blob = Field.bytes(opts { optional = true }),
        qty = Field.integer(opts { optional = true }),
        price = Field.number(opts { optional = true }),
        flag = Field.boolean(opts { optional = true }),
        at = Field.datetime(opts { optional = true }),
      })
      Item:create { id = "r1", name = "Alice Smith", note = "Hello World", blob = "\0ab\255cd",
                    qty = 10, price = 1.5, flag = true, at = "2025-01-15T10:30:00Z" }
      Item:create { id = "r2", name = "bob jones", note = "hello", blob = "AB",
                    qty = 20, price = 2, flag = false, at = "2025-06-01T00:00:00Z" }
      Item:create { id = "r3", name = "ALICE Cooper" }
      Item:create { id = "r4", name = "Zoë", note = "ÉCOLE école", blob = "ab",
                    qty = -5, price = -0.5, flag = true, at = 0 }
      Item:create { id = "r5", name = "50% off (a.b)*", note = "", blob = "",
                    qty = 0, price = 0, flag = false, at = 1000000000.5 }
      Item:create { id = "r6", name = "[x]^$", note = "a\nb", qty = 10, price = 1.5 }
    end)

    -- The ids all() returns; count(), #q and exists() must agree with it.
    local function where(conds)
      local q = Item:where(conds)
      local got = ids(q:all())
      assert.equal(#got, q:count())
      assert.equal(#got, #q)
      assert.equal(#got > 0, q:exists())
      return got
    end

    -- The ids of the records not_(conds) keeps.
    local function without(conds)
      local q = Item:where():not_(conds)
      local got = ids(q:all())
      assert.equal(#got, q:count())
      return got
    end

    if indexed then
      it("really uses the index for a range in this variant", function()
        local plan = Item:where { qty__gte = 0 }:explain()
        assert.is_false(plan.scan)
        assert.equal("qty", plan.index)
      end)
    end

    describe("contains", function()
      it("matches a substring, case-sensitively", function()
        assert.same({ "r1" }, where { name__contains = "lic" })
        assert.same({ "r1" }, where { name__contains = "Smith" })
        assert.same({ "r3" }, where { name__contains = "ALICE" })
        assert.same({ "r2", "r3", "r4", "r5" }, where { name__contains = "o" })
        assert.same({}, where { name__contains = "smith" })
      end)

      it("treats pattern characters literally", function()
        assert.same({ "r5" }, where { name__contains = "%" })
        assert.same({ "r5" }, where { name__contains = "(a.b)*" })
        assert.same({ "r5" }, where { name__contains = "a.b" })
        assert.same({ "r6" }, where { name__contains = "[x]" })
        assert.same({ "r6" }, where { name__contains = "^$" })
        assert.same({ "r5" }, where { name__contains = "." })
      end)

      it("matches the whole value but not a longer string", function()
        assert.same({ "r2" }, where { name__contains = "bob jones" })
        assert.same({}, where { name__contains = "bob jones!" })
      end)

      it("matches every non-nil value with the empty string", function()
        assert.same(ALL, where { name__contains = "" })
        assert.same({ "r1", "r2", "r4", "r5", "r6" }, where { note__contains = "" })
      end)

      it("never matches a nil value", function()
        assert.same({ "r1", "r2", "r4" }, where { note__contains = "e" })
        assert.same({ "r6" }, where { note__contains = "\n" })
      end)
    end)

    describe("startswith and endswith", function()
      it("match a prefix, case-sensitively", function()
        assert.same({ "r1" }, where { name__startswith = "Al" })
        assert.same({ "r3" }, where { name__startswith = "ALICE" })
        assert.same({}, where { name__startswith = "al" })
        assert.same({ "r2" }, where { note__startswith = "hello" })
        assert.same({ "r1" }, where { note__startswith = "Hello" })
      end)

      it("match a suffix, case-sensitively", function()
        assert.same({ "r2" }, where { name__endswith = "jones" })
        assert.same({ "r1" }, where { name__endswith = "Smith" })
        assert.same({}, where { name__endswith = "smith" })
        assert.same({ "r5" }, where { name__endswith = "*" })
        assert.same({ "r4" }, where { note__endswith = "école" })
      end)

      it("match the whole value but not a longer string", function()
        assert.same({ "r4" }, where { name__startswith = "Zoë" })
        assert.same({ "r4" }, where { name__endswith = "Zoë" })
        assert.same({}, where { name__startswith = "Zoë!" })
        assert.same({}, where { name__endswith = "xZoë" })
      end)

      it("match every non-nil value with the empty string", function()
        assert.same(ALL, where { name__startswith = "" })
        assert.same(ALL, where { name__endswith = "" })
        assert.same({ "r1", "r2", "r4", "r5", "r6" }, where { note__startswith = "" })
        assert.same({ "r1", "r2", "r4", "r5", "r6" }, where { note__endswith = "" })
      end)

      it("do not match a prefix in the middle of a value", function()
        assert.same({}, where { name__startswith = "Smith" })
        assert.same({}, where { name__endswith = "Alice" })
      end)
    end)

    describe("case-folding lookups", function()
      it("icontains matches a substring in any letter case", function()
        assert.same({ "r1", "r3" }, where { name__icontains = "alice" })
        assert.same({ "r1", "r3" }, where { name__icontains = "LIC" })
        assert.same({ "r2" }, where { name__icontains = "JONES" })
        assert.same({ "r1" }, where { note__icontains = "WORLD" })
        assert.same({ "r1", "r2" }, where { note__icontains = "HELLO" })
      end)

      it("istartswith matches a prefix in any letter case", function()
        assert.same({ "r1", "r3" }, where { name__istartswith = "ali" })
        assert.same({ "r2" }, where { name__istartswith = "BOB" })
        assert.same({}, where { name__istartswith = "smith" })
        assert.same(ALL, where { name__istartswith = "" })
      end)

      it("iendswith matches a suffix in any letter case", function()
        assert.same({ "r1" }, where { name__iendswith = "SMITH" })
        assert.same({ "r3" }, where { name__iendswith = "cooper" })
        assert.same({ "r2" }, where { name__iendswith = "JONES" })
        assert.same({}, where { name__iendswith = "alice" })
      end)

      it("iexact matches the whole value in any letter case", function()
        assert.same({ "r1" }, where { name__iexact = "alice smith" })
        assert.same({ "r1" }, where { name__iexact = "ALICE SMITH" })
        assert.same({ "r2" }, where { name__iexact = "bob JONES" })
        assert.same({}, where { name__iexact = "alice" })
        assert.same({ "r2" }, where { note__iexact = "HELLO" })
        assert.same({ "r5" }, where { note__iexact = "" })
      end)

      it("fold ASCII letters only", function()
        assert.same({ "r4" }, where { name__iexact = "ZOë" })
        assert.same({}, where { name__iexact = "ZOË" })
        assert.same({ "r4" }, where { name__icontains = "ë" })
        assert.same({}, where { name__icontains = "Ë" })
        -- ASCII fold of "ÉCOLE école" is "École école": É and é stay as they are.
        assert.same({ "r4" }, where { note__iexact = "ÉcOlE éCOLE" })
        assert.same({}, where { note__iexact = "École ÉCOLE" })
        assert.same({}, where { note__iexact = "école école" })
        assert.same({ "r4" }, where { note__istartswith = "Éc" })
        assert.same({}, where { note__istartswith = "éc" })
      end)

      it("fold nothing but letters", function()
        assert.same({ "r6" }, where { name__iexact = "[X]^$" })
        assert.same({}, where { name__iexact = "{x}~$" })
        assert.same({ "r5" }, where { name__icontains = "% OFF (A.B)" })
      end)

      it("never match a nil value", function()
        assert.same({ "r1", "r2", "r4" }, where { note__icontains = "E" })
        assert.same({ "r1", "r2", "r4", "r5", "r6" }, where { note__istartswith = "" })
        assert.same({ "r1", "r2", "r4", "r5", "r6" }, where { note__iendswith = "" })
      end)
    end)

    describe("isnull", function()
      it("isnull = true matches the records whose value is nil", function()
        assert.same({ "r3" }, where { qty__isnull = true })
        assert.same({ "r3" }, where { note__isnull = true })
        assert.same({ "r3", "r6" }, where { flag__isnull = true })
        assert.same({ "r3", "r6" }, where { at__isnull = true })
        assert.same({ "r3", "r6" }, where { blob__isnull = true })
      end)

      it("isnull = false matches every record with a value, zero, false and the empty string included", function()
        assert.same({ "r1", "r2", "r4", "r5", "r6" }, where { qty__isnull = false })
        assert.same({ "r1", "r2", "r4", "r5", "r6" }, where { note__isnull = false })
        assert.same({ "r1", "r2", "r4", "r5" }, where { flag__isnull = false })
        assert.same({ "r1", "r2", "r4", "r5" }, where { blob__isnull = false })
      end)

      it("works on the primary key and on a required field", function()
        assert.same({}, where { id__isnull = true })
        assert.same(ALL, where { id__isnull = false })
        assert.same({}, where { name__isnull = true })
      end)

      it("sees a value set to nil by a save and one filled in", function()
        local r1 = Item:get("r1")
        r1.qty = nil
        r1:save()
        local r3 = Item:get("r3")
        r3.qty = 7
        r3:save()
        assert.same({ "r1" }, where { qty__isnull = true })
        assert.same({ "r2", "r3", "r4", "r5", "r6" }, where { qty__isnull = false })
      end)
    end)

    describe("bytes fields", function()
      it("match any bytes with eq, NUL and 0xFF included", function()
        assert.same({ "r1" }, where { blob = "\0ab\255cd" })
        assert.same({}, where { blob = "\0ab" })
        assert.same({ "r5" }, where { blob = "" })
      end)

      it("take the text lookups, byte for byte", function()
        assert.same({ "r1" }, where { blob__contains = "\0a" })
        assert.same({ "r1" }, where { blob__contains = "\255" })
        assert.same({ "r1" }, where { blob__startswith = "\0" })
        assert.same({ "r1" }, where { blob__endswith = "cd" })
        assert.same({ "r1", "r4" }, where { blob__contains = "ab" })
      end)

      it("take the case-folding lookups", function()
        assert.same({ "r1", "r2", "r4" }, where { blob__icontains = "ab" })
        assert.same({ "r2", "r4" }, where { blob__iexact = "ab" })
        assert.same({ "r2", "r4" }, where { blob__istartswith = "Ab" })
        assert.same({ "r1" }, where { blob__iendswith = "\255CD" })
      end)

      it("compare ranges by unsigned bytes", function()
        assert.same({ "r1", "r2", "r5" }, where { blob__lt = "a" })
        assert.same({ "r4" }, where { blob__gte = "a" })
        assert.same({ "r1", "r5" }, where { blob__lt = "\1" })
        assert.same({ "r2", "r4" }, where { blob__gt = "\0\255" })
      end)
    end)

    describe("datetime fields", function()
      it("take ISO-8601 strings in comparisons", function()
        assert.same({ "r2" }, where { at__gte = "2025-03-01T00:00:00Z" })
        assert.same({ "r1", "r4", "r5" }, where { at__lt = "2025-03-01T00:00:00Z" })
      end)

      it("compare instants, whatever the offset of the string", function()
        assert.same({ "r1" }, where { at = "2025-01-15T12:30:00+02:00" })
        assert.same({ "r1" }, where { at = "2025-01-15T10:30:00Z" })
        assert.same({ "r2", "r3", "r4", "r5", "r6" }, where { at__ne = "2025-01-15T12:30:00+02:00" })
      end)

      it("take numbers and ISO strings mixed in an in list", function()
        assert.same({ "r2", "r4" }, where { at__in = { "2025-06-01T00:00:00Z", 0 } })
      end)

      it("keep fractions of a second", function()
        assert.same({ "r1", "r2", "r5" }, where { at__gt = 1000000000 })
        assert.same({ "r5" }, where { at = 1000000000.5 })
        assert.same({}, where { at = 1000000000 })
      end)
    end)

    describe("numbers", function()
      it("take a float with an integer value for an integer field", function()
        assert.same({ "r1", "r6" }, where { qty = 10.0 })
        assert.same({ "r1", "r6" }, where { qty__in = { 10.0 } })
        assert.same({ "r1", "r2", "r6" }, where { qty__gte = 10.0 })
      end)

      it("compare with the extreme integers", function()
        assert.same({ "r1", "r2", "r4", "r5", "r6" }, where { qty__gt = math.mininteger })
        assert.same({ "r1", "r2", "r4", "r5", "r6" }, where { qty__lt = math.maxinteger })
        assert.same({}, where { qty__gt = math.maxinteger })
      end)

      it("compare large integers and floats exactly, as Lua does", function()
        local big = 9007199254740993 -- 2^53 + 1: no float has this value
        Item:create { id = "big", name = "big", price = big }
        assert.same({ "big" }, where { price__gt = 9007199254740992.0 })
        assert.same({}, where { price = 9007199254740992.0 })
        assert.same({ "big" }, where { price = big })
        assert.same({}, where { price__lt = big, price__gt = 9007199254740992.0 })
      end)

      it("list each record once when an in list repeats a value", function()
        assert.same({ "r1", "r2", "r6" }, where { qty__in = { 10, 20, 10 } })
        assert.same({ "r1", "r2", "r6" }, where { price__in = { 1.5, 2.0, 1.5 } })
      end)
    end)

    describe("nil values", function()
      it("make ne true", function()
        assert.same({ "r1", "r3", "r4", "r5", "r6" }, where { note__ne = "hello" })
        assert.same({ "r2", "r3", "r4", "r5" }, where { price__ne = 1.5 })
        assert.same({ "r1", "r3", "r4", "r6" }, where { flag__ne = false })
      end)

      it("make every comparison and text lookup false", function()
        for _, conds in ipairs({
          { note__gte = "" }, { note__contains = "" }, { note__startswith = "" },
          { note__endswith = "" }, { note__icontains = "" }, { note__istartswith = "" },
          { note__iendswith = "" }, { note__lt = "\255" }, { note__in = { "hello", "" } },
        }) do
          local got = where(conds)
          for _, id in ipairs(got) do assert.are_not.equal("r3", id) end
        end
        assert.same({}, where { note__iexact = "" , qty__isnull = true })
      end)
    end)

    describe("negation", function()
      it("of a text lookup keeps the records whose value is nil", function()
        assert.same({ "r1", "r3", "r4", "r5", "r6" }, without { note__contains = "hello" })
        assert.same({ "r3" }, without { note__startswith = "" })
        assert.same({ "r3", "r5", "r6" }, without { note__icontains = "e" })
        assert.same({ "r1", "r3", "r4", "r5", "r6" }, without { note__iexact = "HELLO" })
      end)

      it("of a case-folding lookup keeps what it did not match", function()
        assert.same({ "r2", "r4", "r5", "r6" }, without { name__icontains = "alice" })
        assert.same({ "r1", "r3", "r4", "r5", "r6" }, without { name__iexact = "BOB JONES" })
      end)

      it("of isnull is isnull with the other value", function()
        assert.same({ "r1", "r2", "r4", "r5", "r6" }, without { qty__isnull = true })
        assert.same({ "r3" }, without { qty__isnull = false })
      end)

      it("of a comparison keeps nil values", function()
        assert.same({ "r3", "r4", "r5" }, without { qty__gt = 0 })
        assert.same({ "r2", "r3", "r5", "r6" }, without { flag = true })
        assert.same({ "r2", "r3", "r6" }, without { at__lt = "2025-03-01T00:00:00Z" })
        assert.same({ "r3" }, without { price__in = { 1.5, 2, -0.5, 0 } })
      end)

      it("of ne keeps exactly the records equal to the value", function()
        assert.same({ "r2" }, without { note__ne = "hello" })
      end)
    end)

    describe("combined", function()
      it("ANDs several lookups on one field", function()
        assert.same({ "r3" }, where { name__istartswith = "a", name__iendswith = "r" })
        assert.same({ "r1", "r6" }, where { qty__gte = 10, qty__lt = 20 })
      end)

      it("ANDs lookups on several fields", function()
        assert.same({ "r1" }, where { name__icontains = "alice", qty__isnull = false })
        assert.same({ "r2", "r5" }, where { flag = false, note__isnull = false })
      end)

      it("apply to the primary key like any string field", function()
        assert.same(ALL, where { id__startswith = "r" })
        assert.same({ "r1" }, where { id__iexact = "R1" })
        assert.same({ "r2", "r3" }, where { id__gte = "r2", id__lt = "r4" })
        assert.same({ "r1", "r3", "r4", "r5", "r6" }, where { id__ne = "r2" })
        assert.same({ "r5", "r6" }, without { id__lte = "r4" })
      end)

      it("are accepted by find_by and get", function()
        assert.equal("r1", Item:find_by { name__icontains = "ALICE" }.id)
        assert.equal("r2", Item:get { note__iexact = "HELLO" }.id)
        assert.is_nil(Item:find_by { name__iexact = "nobody" })
      end)
    end)

    describe("bad input", function()
      it("rejects a text lookup on a field that is not string or bytes", function()
        for _, c in ipairs({
          { "qty", "contains", 1 }, { "price", "startswith", 1 }, { "flag", "endswith", true },
          { "at", "icontains", "2025" }, { "qty", "iexact", 10 }, { "price", "istartswith", "1" },
          { "flag", "iendswith", "e" },
        }) do
          local field, lookup, value = c[1], c[2], c[3]
          local err = catch(function() return Item:where { [field .. "__" .. lookup] = value } end)
          expect("ValidationError", err, "Item", field)
          expect_rule(err, field, "lookup")
        end
      end)

      it("rejects a non-string value for a text lookup", function()
        for _, lookup in ipairs({ "contains", "startswith", "endswith", "icontains",
                                  "istartswith", "iendswith", "iexact" }) do
          local err = catch(function() return Item:where { ["name__" .. lookup] = 5 } end)
          expect("ValidationError", err, "Item", "name")
          expect_rule(err, "name", "type")
          err = catch(function() return Item:where { ["blob__" .. lookup] = { "x" } } end)
          expect("ValidationError", err, "Item", "blob")
          expect_rule(err, "blob", "type")
        end
      end)

      it("rejects in with a value that is not a list", function()
        for _, v in ipairs({ 5, "abc", true }) do
          local err = catch(function() return Item:where { qty__in = v } end)
          expect("ValidationError", err, "Item", "qty")
          expect_rule(err, "qty", "type")
        end
      end)

      it("rejects in with a table of named keys, which is not a list", function()
        local err = catch(function() return Item:where { qty__in = { a = 1 } } end)
        expect("ValidationError", err, "Item", "qty")
        expect_rule(err, "qty", "type")
      end)

      it("rejects isnull with anything but true or false", function()
        for _, v in ipairs({ 1, 0, "true", "yes", {} }) do
          local err = catch(function() return Item:where { note__isnull = v } end)
          expect("ValidationError", err, "Item", "note")
          expect_rule(err, "note", "type")
        end
      end)

      it("rejects an unknown lookup on a string field, naming it", function()
        for _, lookup in ipairs({ "like", "regex", "CONTAINS", "exact", "between" }) do
          local err = catch(function() return Item:where { ["name__" .. lookup] = "x" } end)
          expect("ValidationError", err, "Item", "name")
          expect_rule(err, "name", "lookup")
          assert.is_true(mentions(err, lookup), text(err))
        end
      end)

      it("rejects a lookup on an unknown field, naming the field", function()
        local err = catch(function() return Item:where { nmae__icontains = "x" } end)
        expect("ValidationError", err, "Item", "nmae")
        -- The entry may name the field alone or the whole condition key.
        local ok = pcall(expect_rule, err, "nmae", "unknown_field")
        if not ok then expect_rule(err, "nmae__icontains", "unknown_field") end
      end)

      it("rejects a malformed date in a datetime lookup", function()
        local err = catch(function() return Item:where { at__gt = "not a date" } end)
        expect("ValidationError", err, "Item", "at")
      end)

      it("rejects NaN as a number to compare with", function()
        local err = catch(function() return Item:where { price__gt = 0 / 0 } end)
        expect("ValidationError", err, "Item", "price")
      end)

      it("rejects a wrong type inside an in list of strings", function()
        local err = catch(function() return Item:where { name__in = { "Zoë", 5 } } end)
        expect("ValidationError", err, "Item", "name")
        expect_rule(err, "name", "type")
      end)

      it("rejects bad lookups in not_ and or_ as well", function()
        local q = Item:where()
        expect_rule(expect("ValidationError", catch(q.not_, q, { qty__contains = 1 }), "Item", "qty"),
          "qty", "lookup")
        expect_rule(expect("ValidationError", catch(q.or_, q, { note__isnull = "no" }), "Item", "note"),
          "note", "type")
      end)
    end)
  end)
end
