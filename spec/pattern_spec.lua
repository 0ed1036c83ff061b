-- pattern on string fields (API.md section 3): a regular expression in
-- the common Python/PCRE syntax, compiled once at declaration with PCRE2;
-- a bad pattern is a ConfigurationError, a value that does not match a
-- ValidationError with code "pattern".

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local raises, expect_rule, mentions = support.raises, support.expect_rule, support.mentions

describe("pattern", function()
  local backend, Item

  before_each(function()
    backend = InMemoryBackend()
    Item = Model("Item", {
      model_backend = backend,
      id = Field.string { primary_key = true },
      code = Field.string { pattern = "^[A-Z]{3}\\d{6}$", optional = true },
    })
  end)

  describe("matching", function()
    it("accepts values that match ^[A-Z]{3}\\d{6}$", function()
      assert.equal("ABC123456", Item { id = "1", code = "ABC123456" }.code)
      assert.equal("ZZZ000000", Item:create { id = "2", code = "ZZZ000000" }.code)
    end)

    it("refuses values that do not match, with code pattern", function()
      for _, bad in ipairs({ "ABC12345", "abc123456", "ABC1234567", "AB1234567", "" }) do
        local err = raises("ValidationError", Item, { id = "1", code = bad })
        local e = expect_rule(err, "code", "pattern", bad)
        assert.truthy(e.message:find("Item.code", 1, true), e.message)
        assert.truthy(e.message:find("^[A-Z]{3}\\d{6}$", 1, true), e.message)
      end
    end)

    it("searches the text unless the pattern is anchored", function()
      local M = Model("M", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        s = Field.string { pattern = "\\d+" },
      })
      assert.is_not_nil(M { id = "1", s = "abc 42 def" })
      expect_rule(raises("ValidationError", M, { id = "1", s = "abc" }), "s", "pattern")
    end)

    it("works on characters, not bytes (UTF mode)", function()
      local M = Model("M", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        s = Field.string { pattern = "^.{3}$" },
        w = Field.string { pattern = "^\\w+$", optional = true },
      })
      assert.is_not_nil(M { id = "1", s = "äöü", w = "Größe" })
      raises("ValidationError", M, { id = "1", s = "abcd" })
    end)

    it("understands Python syntax: named groups, inline flags, classes", function()
      local M = Model("M", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        s = Field.string { pattern = "(?i)^(?P<w>[a-z]+)-(?P=w)\\s*$" },
      })
      assert.is_not_nil(M { id = "1", s = "Ab-aB " })
      raises("ValidationError", M, { id = "1", s = "ab-cd" })
    end)

    it("leaves nil alone in an optional field", function()
      assert.is_nil(Item { id = "1" }.code)
    end)

    it("checks assignments and keeps the instance on failure", function()
      local u = Item { id = "1", code = "ABC123456" }
      local err = raises("ValidationError", function() u.code = "nope" end)
      expect_rule(err, "code", "pattern")
      assert.equal("ABC123456", u.code)
    end)

    it("checks q:update and stores nothing on failure", function()
      Item:create { id = "1", code = "ABC123456" }
      raises("ValidationError", function() Item:where():update { code = "bad" } end)
      assert.equal("ABC123456", Item:get("1").code)
      assert.equal(1, Item:where():update { code = "XYZ999999" })
    end)

    it("is reported with the other broken rules in one error", function()
      local M = Model("M", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        s = Field.string { pattern = "^[a-z]+$", max_length = 3 },
        n = Field.integer {},
      })
      local err = raises("ValidationError", M, { id = "1", s = "ABCDEF", n = "x" })
      expect_rule(err, "s", "max_length")
      expect_rule(err, "s", "pattern")
      expect_rule(err, "n", "type")
    end)

    it("runs on many values quickly (compiled once)", function()
      for i = 1, 2000 do
        Item { id = tostring(i), code = ("ABC%06d"):format(i) }
      end
    end)
  end)

  describe("declaration", function()
    it("is shown by introspection", function()
      assert.equal("^[A-Z]{3}\\d{6}$", Item:field("code").pattern)
    end)

    it("refuses a bad pattern with PCRE2's message and offset", function()
      local err = raises("ConfigurationError", Model, "Bad", {
        id = Field.string { primary_key = true },
        code = Field.string { pattern = "([A-Z" },
      })
      assert.truthy(mentions(err, "Bad.code"), tostring(err))
      assert.truthy(mentions(err, "missing terminating ]"), tostring(err))
      assert.truthy(mentions(err, "offset 5"), tostring(err))
    end)

    it("refuses other bad patterns", function()
      for _, p in ipairs({ "a{2,1}", "(?<n>a)(?<n>b)", "*", "\\", "(?P<x", "\xff" }) do
        local err = raises("ConfigurationError", Model, "Bad", {
          id = Field.string { primary_key = true },
          code = Field.string { pattern = p },
        })
        assert.truthy(mentions(err, "Bad.code"), p .. ": " .. tostring(err))
      end
    end)

    it("applies to string fields only", function()
      for _, t in ipairs({ "bytes", "integer", "number", "boolean", "datetime", "json" }) do
        local err = raises("ConfigurationError", Model, "Bad", {
          id = Field.string { primary_key = true },
          f = Field[t] { pattern = "x" },
        })
        assert.truthy(mentions(err, "Bad.f"), t .. ": " .. tostring(err))
      end
    end)

    it("must be a string", function()
      local err = raises("ConfigurationError", Model, "Bad", {
        id = Field.string { primary_key = true },
        code = Field.string { pattern = 5 },
      })
      assert.truthy(mentions(err, "Bad.code"), tostring(err))
    end)

    it("checks a default value against the pattern at declaration", function()
      local err = raises("ConfigurationError", Model, "Bad", {
        id = Field.string { primary_key = true },
        code = Field.string { pattern = "^[0-9]+$", default = "abc" },
      })
      assert.truthy(mentions(err, "Bad.code"), tostring(err))
    end)

    it("may sit on a primary key", function()
      local K = Model("K", {
        model_backend = backend,
        id = Field.string { primary_key = true, pattern = "^k-\\d+$" },
      })
      assert.is_not_nil(K:create { id = "k-1" })
      raises("ValidationError", K.create, { id = "x" })
    end)
  end)
end)
