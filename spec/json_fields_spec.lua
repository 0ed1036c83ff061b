-- json fields (API.md sections 3, 4 and 6): any JSON-compatible Lua value
-- stored as a deep copy in the engine, orm.null for JSON null, integers
-- and floats kept apart, lengths counting array elements, non-JSON values
-- refused with a clear error, and the contains, eq, ne and isnull lookups.

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local raises, expect_rule, mentions = support.raises, support.expect_rule, support.mentions

-- Calls fn, expects a ValidationError with a json rule on tags whose message
-- names Doc.tags and the problem (when given); returns the rule.
local function json_error(fn, problem)
  local e = expect_rule(raises("ValidationError", fn), "tags", "json")
  assert.truthy(e.message:find("Doc.tags", 1, true), e.message)
  if problem then assert.truthy(e.message:find(problem, 1, true), e.message) end
  return e
end

describe("json fields", function()
  local backend, Doc

  before_each(function()
    backend = InMemoryBackend()
    Doc = Model("Doc", {
      model_backend = backend,
      id = Field.string { primary_key = true },
      tags = Field.json { default = function() return {} end },
      data = Field.json { optional = true },
    })
  end)

  describe("declaration", function()
    it("is a field type, shown by introspection", function()
      assert.equal("json", Doc:field("tags").type)
      assert.is_true(Doc:field("data").optional)
    end)

    for _, option in ipairs({ "primary_key", "unique", "index" }) do
      it("refuses " .. option .. " on a json field, naming model and field", function()
        local err = raises("ConfigurationError", Model, "Bad", {
          id = Field.string { primary_key = option ~= "primary_key" },
          j = Field.json { [option] = true },
        })
        assert.truthy(mentions(err, "Bad.j"), tostring(err))
      end)
    end

    it("refuses choices, bounds and a pattern on a json field", function()
      for _, opts in ipairs({ { choices = { 1, 2 } }, { ge = 1 }, { pattern = "x" } }) do
        local err = raises("ConfigurationError", Model, "Bad", {
          id = Field.string { primary_key = true }, j = Field.json(opts),
        })
        assert.truthy(mentions(err, "Bad.j"), tostring(err))
      end
    end)

    it("checks a table default at declaration", function()
      local err = raises("ConfigurationError", Model, "Bad", {
        id = Field.string { primary_key = true },
        j = Field.json { default = { print } },
      })
      assert.truthy(mentions(err, "Bad.j"), tostring(err))
      assert.truthy(mentions(err, "function"), tostring(err))
    end)
  end)

  describe("values", function()
    it("stores nested tables, strings, numbers and booleans", function()
      local value = { "a", 1, 2.5, true, false, { x = { y = "z" } }, {} }
      local d = Doc:create { id = "1", data = value }
      assert.same(value, d.data)
      assert.same(value, Doc:get("1").data)
    end)

    it("stores scalars at the top level too", function()
      for _, v in ipairs({ "text", 42, 4.5, true, false }) do
        assert.equal(v, Doc { id = "1", data = v }.data)
      end
    end)

    it("keeps integers and floats apart", function()
      local d = Doc:create { id = "1", data = { 1, 1.0, { n = 2.0 }, math.maxinteger, math.mininteger } }
      local back = Doc:get("1").data
      assert.equal("integer", math.type(back[1]))
      assert.equal("float", math.type(back[2]))
      assert.equal("float", math.type(back[3].n))
      assert.equal(math.maxinteger, back[4])
      assert.equal(math.mininteger, back[5])
      assert.equal("integer", math.type(d.data[1]))
    end)

    it("stores a deep copy: changing the source table later changes nothing", function()
      local src = { "a", { "b" } }
      local d = Doc:create { id = "1", tags = src }
      src[1] = "changed"
      src[2][1] = "changed"
      src[3] = "added"
      assert.same({ "a", { "b" } }, d.tags)
      assert.same({ "a", { "b" } }, Doc:get("1").tags)
    end)

    it("builds a fresh table on each read (a snapshot)", function()
      local d = Doc:create { id = "1", tags = { "a", { "b" } } }
      local t1, t2 = d.tags, d.tags
      assert.is_false(rawequal(t1, t2))
      t1[1] = "changed"
      t1[2][1] = "changed"
      assert.same({ "a", { "b" } }, d.tags)
      assert.same({ "a", { "b" } }, Doc:get("1").tags)
      local tt = d:to_table()
      tt.tags[1] = "changed"
      assert.same({ "a", { "b" } }, d.tags)
    end)

    it("uses orm.null for JSON null inside arrays and objects", function()
      assert.is_not_nil(orm.null)
      local d = Doc:create { id = "1", data = { 1, orm.null, 3, { k = orm.null } } }
      local back = Doc:get("1").data
      assert.equal(4, #back)
      assert.equal(orm.null, back[2])
      assert.equal(orm.null, back[4].k)
      assert.equal(orm.null, d.data[2])
    end)

    it("takes nil or orm.null at the top level as nil", function()
      assert.is_nil(Doc { id = "1", data = orm.null }.data)
      local d = Doc { id = "1", data = { 1 } }
      d.data = nil
      assert.is_nil(d.data)
      d.data = { 2 }
      d.data = orm.null
      assert.is_nil(d.data)
    end)

    it("stores an empty table as an empty array", function()
      local d = Doc:create { id = "1", data = {} }
      assert.same({}, d.data)
      assert.equal('{"id":"1","tags":[],"data":[]}', d:to_json())
    end)

    it("keeps UTF-8 text, NUL bytes and odd keys", function()
      local v = { ["ключ"] = "значение", ["with space"] = "a\0b", [""] = "empty key" }
      assert.same(v, Doc:create { id = "1", data = v }.data)
      assert.same(v, Doc:get("1").data)
    end)

    it("writes objects with their keys in byte order", function()
      local d = Doc { id = "1", data = { b = 1, a = 2, c = { z = 1, y = 2 } } }
      assert.equal('{"id":"1","tags":[],"data":{"a":2,"b":1,"c":{"y":2,"z":1}}}', d:to_json())
      assert.truthy(tostring(d):find('data={"a":2,"b":1,"c":{"y":2,"z":1}}', 1, true), tostring(d))
    end)

    it("accepts 64 nested tables", function()
      local v = "leaf"
      for _ = 1, 64 do v = { v } end
      local d = Doc:create { id = "1", data = v }
      local back = d.data
      for _ = 1, 64 do back = back[1] end
      assert.equal("leaf", back)
    end)

    it("copies a table that appears twice (not a cycle)", function()
      local shared = { 1, 2 }
      local d = Doc { id = "1", data = { a = shared, b = shared } }
      assert.same({ a = { 1, 2 }, b = { 1, 2 } }, d.data)
    end)

    it("ignores metatables (raw contents are stored)", function()
      local t = setmetatable({ 1, 2 }, { __index = function() return "x" end })
      assert.same({ 1, 2 }, Doc { id = "1", data = t }.data)
    end)
  end)

  describe("defaults", function()
    it("calls a function default for each instance", function()
      local a, b = Doc { id = "a" }, Doc { id = "b" }
      assert.same({}, a.tags)
      a.tags = { "x" }
      assert.same({}, b.tags)
    end)

    it("copies a table default into each instance", function()
      local default = { "x", { "y" } }
      local M = Model("M", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        tags = Field.json { default = default },
      })
      local a, b = M { id = "a" }, M { id = "b" }
      assert.same(default, a.tags)
      assert.is_false(rawequal(default, a.tags))
      local t = a.tags
      t[2][1] = "changed"
      assert.same({ "x", { "y" } }, a.tags)
      a.tags = { "z" }
      assert.same({ "x", { "y" } }, b.tags)
      assert.same({ "x", { "y" } }, M { id = "c" }.tags)
    end)

    it("keeps its own copy of a table default: changing the caller's table later changes nothing", function()
      local default = { "x", { "y" } }
      local M = Model("M", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        tags = Field.json { default = default, max_length = 2 },
      })
      default[2][1] = "changed"
      default[3] = "too many"
      assert.same({ "x", { "y" } }, M { id = "a" }.tags)
      assert.same({ "x", { "y" } }, M:field("tags").default)
    end)

    it("gives copies of a table default in fields() and field()", function()
      local M = Model("M", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        tags = Field.json { default = { "x", { "y" } }, max_length = 2 },
      })
      M:field("tags").default[2][1] = "changed"
      M:fields()[2].default[3] = "too many"
      assert.same({ "x", { "y" } }, M:field("tags").default)
      assert.same({ "x", { "y" } }, M:fields()[2].default)
      assert.same({ "x", { "y" } }, M { id = "a" }.tags)
    end)

    it("treats a required json field like any other", function()
      local M = Model("M", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        j = Field.json {},
      })
      local err = raises("ValidationError", M, { id = "1" })
      expect_rule(err, "j", "required")
      assert.same({ false }, M { id = "1", j = { false } }.j)
    end)
  end)

  describe("values that are not JSON", function()
    it("refuses a cycle", function()
      local t = {}
      t[1] = t
      json_error(function() Doc { id = "1", tags = t } end, "cycle")
      local o = { a = {} }
      o.a.b = o
      json_error(function() Doc { id = "1", tags = o } end, "cycle")
    end)

    it("refuses functions, userdata, threads", function()
      json_error(function() Doc { id = "1", tags = print } end, "function")
      json_error(function() Doc { id = "1", tags = { io.stdout } } end, "userdata")
      json_error(function() Doc { id = "1", tags = { co = coroutine.create(print) } } end, "thread")
      json_error(function() Doc { id = "1", tags = { Doc { id = "x" } } } end, "userdata")
    end)

    it("says where in the value the problem is", function()
      local e = json_error(function() Doc { id = "1", tags = { "a", { k = { 1, print } } } } end)
      assert.truthy(e.message:find('tags[2]["k"][2]', 1, true), e.message)
    end)

    it("refuses sparse arrays", function()
      json_error(function() Doc { id = "1", tags = { 1, nil, 3 } } end, "sparse")
      json_error(function() Doc { id = "1", tags = { [2] = "b" } } end, "sparse")
    end)

    it("refuses tables mixing string keys and indexes", function()
      json_error(function() Doc { id = "1", tags = { 1, 2, x = 3 } } end, "both")
      json_error(function() Doc { id = "1", tags = { x = 3, [1] = 1 } } end, "both")
    end)

    it("refuses keys that are neither strings nor indexes", function()
      json_error(function() Doc { id = "1", tags = { [1.5] = 1 } } end, "key")
      json_error(function() Doc { id = "1", tags = { [true] = 1 } } end, "key")
      json_error(function() Doc { id = "1", tags = { [0] = 1 } } end, "key")
      json_error(function() Doc { id = "1", tags = { [-1] = 1 } } end, "key")
      json_error(function() Doc { id = "1", tags = { [{}] = 1 } } end, "key")
    end)

    it("refuses more than 64 nested tables", function()
      local v = {}
      for _ = 1, 64 do v = { v } end
      json_error(function() Doc { id = "1", tags = v } end, "64")
    end)

    it("refuses NaN and infinities", function()
      json_error(function() Doc { id = "1", tags = { 0 / 0 } } end, "NaN")
      json_error(function() Doc { id = "1", tags = { math.huge } } end, "infinity")
      json_error(function() Doc { id = "1", tags = { x = -math.huge } } end, "infinity")
      json_error(function() Doc { id = "1", tags = 0 / 0 } end, "NaN")
    end)

    it("refuses text that is not UTF-8, in values and keys", function()
      json_error(function() Doc { id = "1", tags = { "\xff" } } end, "UTF-8")
      json_error(function() Doc { id = "1", tags = { ["\xc3"] = 1 } } end, "UTF-8")
    end)

    it("collects every broken rule in one error", function()
      local M = Model("M", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        a = Field.json {},
        b = Field.json {},
        n = Field.integer {},
      })
      local err = raises("ValidationError", M, { id = "1", a = { print }, b = { 0 / 0 }, n = "x" })
      expect_rule(err, "a", "json")
      expect_rule(err, "b", "json")
      expect_rule(err, "n", "type")
    end)

    it("leaves an instance unchanged when an assignment is refused", function()
      local d = Doc { id = "1", tags = { "keep" } }
      json_error(function() d.tags = { print } end)
      assert.same({ "keep" }, d.tags)
    end)

    it("stores nothing when create is refused", function()
      json_error(function() Doc:create { id = "1", tags = { print } } end)
      assert.equal(0, Doc:count())
    end)
  end)

  describe("lengths", function()
    local L
    before_each(function()
      L = Model("L", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        items = Field.json { min_length = 1, max_length = 3, optional = true },
      })
    end)

    it("counts the elements of an array", function()
      assert.same({ "a", "b", "c" }, L { id = "1", items = { "a", "b", "c" } }.items)
      local err = raises("ValidationError", L, { id = "1", items = { 1, 2, 3, 4 } })
      expect_rule(err, "items", "max_length")
      err = raises("ValidationError", L, { id = "1", items = {} })
      expect_rule(err, "items", "min_length")
    end)

    it("counts top-level elements only", function()
      assert.is_not_nil(L { id = "1", items = { { 1, 2, 3, 4, 5 } } })
    end)

    it("refuses a value that is not an array as a type error", function()
      local err = raises("ValidationError", L, { id = "1", items = { a = 1 } })
      expect_rule(err, "items", "type")
      err = raises("ValidationError", L, { id = "1", items = "abc" })
      expect_rule(err, "items", "type")
    end)

    it("lets nil through an optional field", function()
      assert.is_nil(L { id = "1" }.items)
    end)
  end)

  describe("instances", function()
    it("compare json fields deeply with ==", function()
      local a = Doc { id = "1", data = { x = 1, y = { 1, 2 } } }
      local b = Doc { id = "1", data = { y = { 1.0, 2 }, x = 1.0 } }
      assert.is_true(a == b)
      b.data = { x = 1, y = { 2, 1 } }
      assert.is_false(a == b)
    end)

    it("show json fields as JSON text in tostring", function()
      local d = Doc { id = "1", tags = { "a", 1, 2.0, orm.null, true } }
      assert.truthy(tostring(d):find('tags=["a",1,2.0,null,true]', 1, true), tostring(d))
    end)

    it("survive save, get, upsert and create_many", function()
      Doc:create { id = "1", tags = { "a" } }
      local d = Doc:get("1")
      d.tags = { "b", { c = 1 } }
      d:save()
      assert.same({ "b", { c = 1 } }, Doc:get("1").tags)
      Doc:upsert { id = "1", tags = { "u" } }
      assert.same({ "u" }, Doc:get("1").tags)
      Doc:create_many { { id = "2", tags = { 2 } }, { id = "3", tags = { 3 } } }
      assert.same({ 3 }, Doc:get("3").tags)
    end)

    it("reload json fields from the store", function()
      local d = Doc:create { id = "1", tags = { "a" } }
      Doc:get("1"):save() -- no change
      local other = Doc:get("1")
      other.tags = { "z" }
      other:save()
      assert.same({ "a" }, d.tags)
      assert.same({ "z" }, d:reload().tags)
    end)
  end)

  describe("queries", function()
    before_each(function()
      Doc:create { id = "1", tags = { "red", "green" }, data = { n = 1, list = { 1, 2 } } }
      Doc:create { id = "2", tags = { 1, 2.5, true }, data = { 1, 2, 3 } }
      Doc:create { id = "3", tags = { { "red" } }, data = "red" }
      Doc:create { id = "4", tags = {} }
    end)

    local function ids(q)
      local out = {}
      for _, d in ipairs(q:all()) do out[#out + 1] = d.id end
      return out
    end

    it("contains finds an element of a top-level array", function()
      assert.same({ "1" }, ids(Doc:where { tags__contains = "red" }))
      assert.same({ "2" }, ids(Doc:where { tags__contains = 1 }))
      assert.same({ "2" }, ids(Doc:where { tags__contains = 1.0 }))
      assert.same({ "2" }, ids(Doc:where { tags__contains = 2.5 }))
      assert.same({ "2" }, ids(Doc:where { tags__contains = true }))
      assert.same({}, ids(Doc:where { tags__contains = false }))
      assert.same({ "2" }, ids(Doc:where { data__contains = 3 }))
    end)

    it("contains does not match inside nested values or non-arrays", function()
      assert.same({}, ids(Doc:where { data__contains = "red" }))
      assert.same({}, ids(Doc:where { data__contains = 1, id = "1" }))
    end)

    it("contains takes a scalar only", function()
      local err = raises("ValidationError", Doc.where, { tags__contains = { "red" } })
      expect_rule(err, "tags", "type")
      raises("ValidationError", Doc.where, { tags__contains = 0 / 0 })
    end)

    it("eq and ne compare deeply with a Lua value", function()
      assert.same({ "1" }, ids(Doc:where { data = { list = { 1, 2.0 }, n = 1.0 } }))
      assert.same({ "2" }, ids(Doc:where { data = { 1, 2, 3 } }))
      assert.same({ "3" }, ids(Doc:where { data = "red" }))
      assert.same({ "4" }, ids(Doc:where { tags = {} }))
      assert.same({ "1", "3", "4" }, ids(Doc:where { data__ne = { 1, 2, 3 } }))
      assert.same({ "2", "3", "4" }, ids(Doc:where():not_ { data = { n = 1, list = { 1, 2 } } }))
    end)

    it("eq with a value that is not JSON is a ValidationError", function()
      local err = raises("ValidationError", Doc.where, { data = { print } })
      expect_rule(err, "data", "json")
    end)

    it("isnull works on json fields", function()
      assert.same({ "4" }, ids(Doc:where { data__isnull = true }))
      assert.equal(3, Doc:where { data__isnull = false }:count())
    end)

    it("refuses lookups that do not apply to json", function()
      for _, key in ipairs({ "tags__gt", "tags__startswith", "tags__icontains", "tags__iexact" }) do
        local err = raises("ValidationError", Doc.where, { [key] = "a" })
        expect_rule(err, "tags", "lookup", key)
      end
      raises("ValidationError", Doc.where, { tags__in = { { "a" } } })
    end)

    it("refuses to order by a json field", function()
      local err = raises("ValidationError", function() return Doc:where():order_by("tags"):all() end)
      assert.truthy(mentions(err, "Doc.tags"), tostring(err))
    end)

    it("update assigns json values, validated", function()
      assert.equal(2, Doc:where { id__in = { "1", "2" } }:update { tags = { "new", { x = 1 } } })
      assert.same({ "new", { x = 1 } }, Doc:get("2").tags)
      json_error(function() Doc:where():update { tags = { print } } end)
      assert.same({ { "red" } }, Doc:get("3").tags)
    end)
  end)
end)
