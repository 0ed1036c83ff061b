-- Result filters (API.md sections 6 and 8, issue 4): q:add_result_filter
-- (name, fn) keeps the records for which fn(instance) is true, before
-- limit and offset, in all, count, exists, get (MultipleResultsError
-- counted after filtering), first/last, paginate (no record twice or
-- skipped across pages, the cursor nil exactly at the end), each and bulk
-- q:delete/q:update; q:disable_filter(name) turns one off; model-wide
-- filters through a mixin's query_filters reach get and find_by.
-- Ported in spirit from the filter part of restmachine-orm's
-- tests/test_mixins.py (ExpirationMixin's add_result_filter).

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local catch, text, expect = support.catch, support.text, support.expect

local function ns(list)
  local out = {}
  for i, r in ipairs(list) do out[i] = r.n end
  return out
end

local function range(a, b, pred)
  local out = {}
  for i = a, b do
    if pred == nil or pred(i) then out[#out + 1] = i end
  end
  return out
end

-- Every page of q with the given page size, concatenated; also the pages.
local function walk(q, size)
  local got, pages, cursor = {}, {}, nil
  repeat
    local pq = q:limit(size)
    if cursor then pq = pq:cursor(cursor) end
    local page
    page, cursor = pq:paginate()
    pages[#pages + 1] = { n = ns(page), cursor = cursor }
    for _, u in ipairs(page) do got[#got + 1] = u.n end
    assert.is_true(#pages <= 200, "paginate does not end")
  until cursor == nil
  return got, pages
end

describe("Result filters", function()
  local backend, Item

  local function odd(u) return u.n % 2 == 1 end

  before_each(function()
    backend = InMemoryBackend()
    Item = Model("Item", {
      model_backend = backend,
      id = Field.string { primary_key = true },
      n = Field.integer { index = true },
      group = Field.string { default = "a" },
      flag = Field.boolean { default = false },
    })
    for i = 1, 20 do
      Item:create { id = ("%02d"):format(i), n = i, group = i <= 10 and "a" or "b" }
    end
  end)

  describe("q:add_result_filter", function()
    it("keeps the records for which fn is true", function()
      assert.same(range(1, 20, function(i) return i % 2 == 1 end), ns(Item:where():add_result_filter("odd", odd):all()))
      assert.same({ 11, 13, 15, 17, 19 }, ns(Item:where { group = "b" }:add_result_filter("odd", odd):all()))
    end)

    it("passes the loaded instance to fn", function()
      local seen = {}
      Item:where { n__lte = 3 }:add_result_filter("probe", function(u)
        seen[#seen + 1] = { id = u.id, persisted = u:is_persisted(), n = u.n }
        return true
      end):all()
      assert.same({
        { id = "01", persisted = true, n = 1 },
        { id = "02", persisted = true, n = 2 },
        { id = "03", persisted = true, n = 3 },
      }, seen)
    end)

    it("sees instances after after_load hooks", function()
      Item:after_load(function(u) u.flag = u.n > 15 end)
      assert.same({ 16, 17, 18, 19, 20 }, ns(Item:where():add_result_filter("f", function(u) return u.flag end):all()))
    end)

    it("ANDs several filters", function()
      local q = Item:where():add_result_filter("odd", odd):add_result_filter("big", function(u) return u.n > 12 end)
      assert.same({ 13, 15, 17, 19 }, ns(q:all()))
    end)

    it("returns a new query and leaves the old one unfiltered", function()
      local q = Item:where { group = "a" }
      local f = q:add_result_filter("odd", odd)
      assert.equal(10, q:count())
      assert.equal(5, f:count())
      assert.equal(5, f:where { n__gte = 0 }:count())
      assert.equal(5, f:order_by("-n"):count())
    end)

    it("accepts a callable table", function()
      local keep = setmetatable({}, { __call = function(_, u) return u.n == 4 end })
      assert.same({ 4 }, ns(Item:where():add_result_filter("four", keep):all()))
    end)

    it("refuses a missing name or a non-callable fn with a ConfigurationError", function()
      expect("ConfigurationError", catch(function() return Item:where():add_result_filter("x", 42) end))
      expect("ConfigurationError", catch(function() return Item:where():add_result_filter("x") end))
      expect("ConfigurationError", catch(function() return Item:where():add_result_filter(nil, odd) end))
      expect("ConfigurationError", catch(function() return Item:where():add_result_filter(odd) end))
    end)

    it("a filter rejecting everything gives nothing everywhere", function()
      local q = Item:where():add_result_filter("none", function() return false end)
      assert.same({}, q:all())
      assert.equal(0, q:count())
      assert.is_false(q:exists())
      assert.is_nil(q:first())
      assert.is_nil(q:last())
      assert.is_nil(q:get { id = "01" })
      local page, cursor = q:limit(5):paginate()
      assert.same({}, page)
      assert.is_nil(cursor)
      for _ in q:each() do error("each returned a record") end
      assert.equal(0, q:delete())
      assert.equal(0, q:update { flag = true })
      assert.equal(20, Item:count())
    end)
  end)

  describe("applies before limit and offset", function()
    local q

    before_each(function()
      q = Item:where():add_result_filter("odd", odd)
    end)

    it("in all()", function()
      assert.same({ 1, 3, 5 }, ns(q:limit(3):all()))
      assert.same({ 5, 7 }, ns(q:offset(2):limit(2):all()))
      assert.same({ 15, 17, 19 }, ns(q:offset(7):all()))
      assert.same({}, ns(q:offset(10):all()))
      assert.same({ 19, 17 }, ns(q:order_by("-n"):limit(2):all()))
    end)

    it("with the largest offset and limit", function()
      local huge = math.maxinteger
      assert.same({}, ns(q:offset(huge):all()))
      assert.same({ 15, 17, 19 }, ns(q:offset(7):limit(huge):all()))
      assert.equal(0, q:offset(huge):limit(huge):count())
      assert.is_nil(q:offset(huge):first())
      assert.equal(19, q:limit(huge):last().n)
    end)

    it("in count() and #q", function()
      assert.equal(10, q:count())
      assert.equal(3, q:limit(3):count())
      assert.equal(8, q:offset(2):count())
      assert.equal(2, #q:offset(8):limit(5))
      assert.equal(0, q:limit(0):count())
    end)

    it("in exists()", function()
      assert.is_true(q:offset(9):exists())
      assert.is_false(q:offset(10):exists())
      assert.is_false(q:limit(0):exists())
      assert.is_false(q:where { n = 4 }:exists())
      assert.is_true(q:where { n = 5 }:exists())
    end)

    it("in first() and last()", function()
      assert.equal(1, q:first().n)
      assert.equal(19, q:last().n)
      assert.equal(5, q:offset(2):first().n)
      assert.equal(7, q:offset(2):limit(2):last().n)
      assert.equal(3, q:where { n__gte = 2 }:first().n)
      assert.equal(1, q:order_by("-n"):last().n)
    end)

    it("in each()", function()
      local got = {}
      for u in q:offset(2):limit(3):each() do got[#got + 1] = u.n end
      assert.same({ 5, 7, 9 }, got)
    end)

    it("in paginate()", function()
      local page, cursor = q:offset(2):limit(3):paginate()
      assert.same({ 5, 7, 9 }, ns(page))
      local page2 = q:offset(2):limit(3):cursor(cursor):paginate()
      assert.same({ 11, 13, 15 }, ns(page2))
    end)

    it("in paginate() when the first records are filtered out", function()
      local big = Item:where():add_result_filter("big", function(u) return u.n > 4 end)
      assert.same({ 7, 8, 9 }, ns(big:offset(2):limit(3):all()))
      assert.same({ 7, 8, 9 }, ns((big:offset(2):limit(3):paginate())))
      local got = {}
      for u in big:offset(2):limit(3):each() do got[#got + 1] = u.n end
      assert.same({ 7, 8, 9 }, got)
    end)
  end)

  describe("get", function()
    it("returns the one record that passes", function()
      local q = Item:where { n__in = { 3, 4 } }:add_result_filter("odd", odd)
      assert.equal(3, q:get().n)
      assert.equal(3, Item:where():add_result_filter("odd", odd):get({ n__in = { 3, 4 } }).n)
    end)

    it("counts matches after filtering for MultipleResultsError", function()
      local q = Item:where():add_result_filter("odd", odd)
      expect("MultipleResultsError", catch(function() return q:get { n__in = { 3, 4, 5 } } end))
      assert.equal(5, q:get({ n__in = { 4, 5, 6 } }).n)
    end)

    it("returns nil when the match is filtered out", function()
      assert.is_nil(Item:where():add_result_filter("odd", odd):get { id = "04" })
    end)
  end)

  describe("paginate", function()
    local function check_walk(q, expected)
      for size = 1, #expected + 2 do
        local got, pages = walk(q, size)
        assert.same(expected, got, "page size " .. size)
        -- every page but the last is full, the last is not empty unless
        -- nothing matches, and only the last has a nil cursor
        for i, p in ipairs(pages) do
          if i < #pages then
            assert.equal(size, #p.n, "page size " .. size .. ", page " .. i)
            assert.is_string(p.cursor)
          else
            assert.is_nil(p.cursor)
            if #expected > 0 then assert.is_true(#p.n > 0, "empty last page, size " .. size) end
          end
        end
      end
    end

    it("never repeats nor skips a record, and ends with a nil cursor", function()
      check_walk(Item:where():add_result_filter("odd", odd), range(1, 20, function(i) return i % 2 == 1 end))
    end)

    it("gives a nil cursor when only filtered-out records follow", function()
      local q = Item:where():add_result_filter("head", function(u) return u.n <= 6 and u.n ~= 3 end)
      check_walk(q, { 1, 2, 4, 5, 6 })
      local page, cursor = q:limit(5):paginate()
      assert.same({ 1, 2, 4, 5, 6 }, ns(page))
      assert.is_nil(cursor)
    end)

    it("works with order_by", function()
      local q = Item:where():add_result_filter("m3", function(u) return u.n % 3 ~= 0 end):order_by("-n")
      local expected = {}
      for i = 20, 1, -1 do if i % 3 ~= 0 then expected[#expected + 1] = i end end
      check_walk(q, expected)
      local by_group = Item:where():add_result_filter("odd", odd):order_by("-group", "n")
      check_walk(by_group, { 11, 13, 15, 17, 19, 1, 3, 5, 7, 9 })
    end)

    it("works with conditions and sparse matches", function()
      local q = Item:where { n__gte = 5 }:add_result_filter("sparse", function(u) return u.n == 5 or u.n == 13 or u.n == 20 end)
      check_walk(q, { 5, 13, 20 })
    end)

    it("with limit(0) returns nothing and a cursor to the first record", function()
      local q = Item:where():add_result_filter("odd", odd)
      local page, cursor = q:limit(0):paginate()
      assert.same({}, page)
      assert.is_string(cursor)
      assert.same({ 1, 3 }, ns((q:limit(2):cursor(cursor):paginate())))
    end)

    it("without limit returns every remaining record", function()
      local q = Item:where():add_result_filter("odd", odd)
      local page, cursor = q:paginate()
      assert.equal(10, #page)
      assert.is_nil(cursor)
    end)

    it("never repeats nor skips while records are inserted and deleted", function()
      local q = Item:where():add_result_filter("odd", odd)
      local got, cursor, step = {}, nil, 0
      repeat
        local pq = q:limit(3)
        if cursor then pq = pq:cursor(cursor) end
        local page
        page, cursor = pq:paginate()
        for _, u in ipairs(page) do got[#got + 1] = u.n end
        step = step + 1
        -- between pages: a new odd record at the end, an even one deleted
        Item:create { id = "new" .. step, n = 100 + 2 * step + 1 }
        Item:where { n = 2 * step }:delete()
      until cursor == nil or step > 50
      local seen = {}
      for _, n in ipairs(got) do
        assert.is_nil(seen[n], "returned twice: " .. n)
        seen[n] = true
      end
      for i = 1, 19, 2 do assert.is_true(seen[i], "skipped " .. i) end
    end)
  end)

  describe("each", function()
    it("returns what all() returns", function()
      local q = Item:where():add_result_filter("odd", odd)
      for _, variant in ipairs({ q, q:limit(4), q:offset(3), q:order_by("-n"), q:where { group = "b" } }) do
        local got = {}
        for u in variant:each() do got[#got + 1] = u.n end
        assert.same(ns(variant:all()), got)
      end
    end)

    it("returns what all() returns over more records than one internal page", function()
      local specs = {}
      for i = 21, 700 do specs[#specs + 1] = { id = ("%04d"):format(i), n = i } end
      Item:create_many(specs)
      local q = Item:where():add_result_filter("odd", odd)
      for _, variant in ipairs({ q, q:offset(5), q:offset(5):limit(300), q:order_by("-n"):offset(3) }) do
        local got = {}
        for u in variant:each() do got[#got + 1] = u.n end
        local expected = ns(variant:all())
        assert.equal(#expected, #got)
        assert.same(expected, got)
      end
    end)
  end)

  describe("bulk writes", function()
    it("q:delete() deletes only the records that pass", function()
      assert.equal(5, Item:where { group = "a" }:add_result_filter("odd", odd):delete())
      assert.equal(15, Item:count())
      assert.equal(0, Item:where { group = "a", n__in = { 1, 3, 5, 7, 9 } }:count())
      assert.equal(5, Item:where { group = "a" }:count())
    end)

    it("q:update() updates only the records that pass", function()
      assert.equal(10, Item:where():add_result_filter("odd", odd):update { flag = true })
      assert.same(range(1, 20, function(i) return i % 2 == 1 end), ns(Item:where { flag = true }:order_by("n"):all()))
    end)

    it("apply the filter before limit and offset", function()
      assert.equal(2, Item:where():add_result_filter("odd", odd):offset(1):limit(2):update { flag = true })
      assert.same({ 3, 5 }, ns(Item:where { flag = true }:all()))
      assert.equal(3, Item:where():add_result_filter("odd", odd):limit(3):delete())
      assert.is_nil(Item:get "01")
      assert.is_nil(Item:get "05")
      assert.is_not_nil(Item:get "07")
      assert.is_not_nil(Item:get "02")
    end)

    it("run the hooks of the records that pass only", function()
      local saved, deleted = {}, {}
      Item:before_save(function(u) saved[#saved + 1] = u.n end)
      Item:before_delete(function(u) deleted[#deleted + 1] = u.n end)
      Item:where { group = "b" }:add_result_filter("odd", odd):update { flag = true }
      assert.same({ 11, 13, 15, 17, 19 }, saved)
      Item:where { group = "a" }:add_result_filter("odd", odd):delete()
      assert.same({ 1, 3, 5, 7, 9 }, deleted)
    end)
  end)

  describe("q:disable_filter", function()
    it("turns a named filter off", function()
      local q = Item:where():add_result_filter("odd", odd)
      assert.equal(20, q:disable_filter("odd"):count())
      assert.equal(10, q:count())
    end)

    it("turns off only the filter named", function()
      local q = Item:where():add_result_filter("odd", odd):add_result_filter("big", function(u) return u.n > 15 end)
      assert.same({ 17, 19 }, ns(q:all()))
      assert.same({ 16, 17, 18, 19, 20 }, ns(q:disable_filter("odd"):all()))
      assert.same({ 1, 3, 5, 7, 9, 11, 13, 15, 17, 19 }, ns(q:disable_filter("big"):all()))
      assert.equal(20, q:disable_filter("odd"):disable_filter("big"):count())
    end)

    it("keeps a filter added after it off too", function()
      local q = Item:where():disable_filter("odd"):add_result_filter("odd", odd)
      assert.equal(20, q:count())
    end)

    it("ignores a name that no filter has", function()
      assert.equal(20, Item:where():disable_filter("nothing"):count())
    end)

    it("applies to every operation", function()
      local q = Item:where():add_result_filter("none", function() return false end):disable_filter("none")
      assert.equal(20, #q:all())
      assert.is_true(q:exists())
      assert.equal(1, q:first().n)
      assert.equal(4, q:get({ id = "04" }).n)
      local got = walk(q, 6)
      assert.equal(20, #got)
      assert.equal(20, q:update { flag = true })
      assert.equal(20, q:delete())
      assert.equal(0, Item:count())
    end)
  end)

  describe("model-wide filters from a mixin's query_filters", function()
    local Doc

    before_each(function()
      local Visible = {
        hidden = Field.boolean { default = false },
        query_filters = {
          function(q) return q:add_result_filter("visible", function(u) return not u.hidden end) end,
        },
      }
      Doc = Model("Doc", {
        model_backend = backend,
        mixins = { Visible },
        id = Field.string { primary_key = true },
        title = Field.string { index = true },
      })
      Doc:create { id = "1", title = "same", hidden = true }
      Doc:create { id = "2", title = "same" }
      Doc:create { id = "3", title = "other", hidden = true }
    end)

    it("reach all, count, get by key and by table, and find_by", function()
      assert.equal(1, #Doc:all())
      assert.equal(1, Doc:count())
      assert.is_nil(Doc:get "1")
      assert.equal("2", Doc:get("2").id)
      assert.equal("2", Doc:get({ title = "same" }).id)
      assert.equal("2", Doc:find_by({ title = "same" }).id)
      assert.is_nil(Doc:find_by { title = "other" })
      assert.is_nil(Doc:get { title = "other" })
    end)

    it("make q:get count after filtering", function()
      assert.equal("2", Doc:where { title = "same" }:get().id)
      expect("MultipleResultsError", catch(function()
        return Doc:where { title = "same" }:disable_filter("visible"):get()
      end))
    end)

    it("come back with disable_filter", function()
      assert.equal(3, Doc:where():disable_filter("visible"):count())
      assert.equal("3", Doc:where():disable_filter("visible"):get({ title = "other" }).id)
    end)
  end)

  describe("together with the Expiration filter", function()
    it("both apply, and each can be disabled alone", function()
      local Cache = Model("Cache", {
        model_backend = backend,
        mixins = { orm.mixins.Expiration },
        id = Field.string { primary_key = true },
        n = "integer",
      })
      local now = orm.now()
      for i = 1, 8 do
        Cache:create { id = tostring(i), n = i, expires_at = i > 6 and now - 60 or nil }
      end
      local q = Cache:where():add_result_filter("odd", odd)
      assert.same({ 1, 3, 5 }, ns(q:all()))
      assert.same({ 1, 3, 5, 7 }, ns(q:disable_filter("expiration"):all()))
      assert.same({ 1, 2, 3, 4, 5, 6 }, ns(q:disable_filter("odd"):all()))
      assert.equal(2, q:offset(1):count())
      assert.same({ 3 }, ns(q:offset(1):limit(1):all()))
    end)
  end)
end)
