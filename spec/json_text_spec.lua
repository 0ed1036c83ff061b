-- JSON text in and out of instances (API.md section 4): u:to_json(),
-- User:from_json(text) and u:reload(). Datetimes travel as ISO-8601 text
-- with Z, bytes as base64, json fields as their value; the round trip is
-- exact; bad text or values are a ValidationError.

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local raises, expect_rule, mentions = support.raises, support.expect_rule, support.mentions

describe("JSON text", function()
  local backend, User

  before_each(function()
    backend = InMemoryBackend()
    User = Model("User", {
      model_backend = backend,
      id = Field.string { primary_key = true },
      name = Field.string {},
      age = Field.integer { default = 0 },
      score = Field.number { optional = true },
      active = Field.boolean { default = true },
      avatar = Field.bytes { optional = true },
      born = Field.datetime { optional = true },
      tags = Field.json { default = function() return {} end },
    })
  end)

  describe("to_json", function()
    it("writes every field in field order, nil as null", function()
      local u = User { id = "u1", name = "Alice" }
      assert.equal('{"id":"u1","name":"Alice","age":0,"score":null,"active":true,'
        .. '"avatar":null,"born":null,"tags":[]}', u:to_json())
    end)

    it("writes datetimes as ISO-8601 text with Z, microseconds when present", function()
      local u = User { id = "u1", name = "A", born = "2025-01-15T10:30:00+02:00" }
      assert.truthy(u:to_json():find('"born":"2025-01-15T08:30:00Z"', 1, true), u:to_json())
      u.born = 1736937000.123456
      assert.truthy(u:to_json():find('"born":"2025-01-15T10:30:00.123456Z"', 1, true), u:to_json())
    end)

    it("writes bytes as padded standard base64", function()
      local cases = { [""] = "", ["f"] = "Zg==", ["fo"] = "Zm8=", ["foo"] = "Zm9v",
                      ["\0\255\254>?"] = "AP/+Pj8=" }
      for bytes, text in pairs(cases) do
        local u = User { id = "u1", name = "A", avatar = bytes }
        assert.truthy(u:to_json():find('"avatar":"' .. text .. '"', 1, true), u:to_json())
      end
    end)

    it("keeps integers and floats apart", function()
      local u = User { id = "u1", name = "A", age = 3, score = 2.0, tags = { 1, 1.0, 0.1, 1e300, -0.0 } }
      local text = u:to_json()
      assert.truthy(text:find('"age":3,', 1, true), text)
      assert.truthy(text:find('"score":2.0,', 1, true), text)
      assert.truthy(text:find('"tags":[1,1.0,0.1,1e300,-0.0]', 1, true), text)
      u.score = 7
      assert.truthy(u:to_json():find('"score":7,', 1, true), u:to_json())
    end)

    it("writes floats in the fewest digits that read back exactly", function()
      local u = User { id = "u1", name = "A", score = 0.1 + 0.2 }
      assert.truthy(u:to_json():find('"score":0.30000000000000004', 1, true), u:to_json())
      assert.equal(0.1 + 0.2, User:from_json(u:to_json()).score)
    end)

    it("writes json fields as nested JSON, null for orm.null", function()
      local u = User { id = "u1", name = "A", tags = { "a", { k = orm.null }, true } }
      assert.truthy(u:to_json():find('"tags":["a",{"k":null},true]', 1, true), u:to_json())
    end)

    it("escapes strings and keeps UTF-8", function()
      local u = User { id = "u1", name = 'quote " backslash \\ newline \n tab \t nul \0 é' }
      assert.truthy(u:to_json():find('"name":"quote \\" backslash \\\\ newline \\n tab \\t nul \\u0000 é"', 1, true),
        u:to_json())
    end)

    it("refuses an infinite number, naming the field", function()
      local u = User { id = "u1", name = "A", score = math.huge }
      local err = raises("ValidationError", u.to_json, u)
      expect_rule(err, "score", "json")
    end)

    it("writes only the loaded fields of a select()", function()
      User:create { id = "u1", name = "A" }
      local u = User:where():select("id", "name"):first()
      assert.equal('{"id":"u1","name":"A"}', u:to_json())
    end)
  end)

  describe("from_json", function()
    it("builds an unsaved instance", function()
      local u = User:from_json('{"id":"u1","name":"Alice","age":30}')
      assert.equal("u1", u.id)
      assert.equal("Alice", u.name)
      assert.equal(30, u.age)
      assert.equal("integer", math.type(u.age))
      assert.is_false(u:is_persisted())
      assert.equal(0, User:count())
    end)

    it("accepts the dot form", function()
      assert.equal("u1", User.from_json('{"id":"u1","name":"A"}').id)
    end)

    it("applies defaults to missing keys", function()
      local u = User:from_json('{"id":"u1","name":"A"}')
      assert.equal(0, u.age)
      assert.is_true(u.active)
      assert.same({}, u.tags)
    end)

    it("takes null as nil, even for a field with a default", function()
      local u = User:from_json('{"id":"u1","name":"A","age":null,"tags":null,"score":null}')
      assert.is_nil(u.score)
      assert.is_nil(u.tags)
    end)

    it("refuses null for a required field", function()
      local err = raises("ValidationError", User.from_json, '{"id":"u1","name":null}')
      expect_rule(err, "name", "required")
    end)

    it("reads datetimes from ISO-8601 text or numbers", function()
      assert.equal(1736929800, User:from_json('{"id":"u","name":"A","born":"2025-01-15T10:30:00+02:00"}').born)
      assert.equal(1.5, User:from_json('{"id":"u","name":"A","born":1.5}').born)
      local err = raises("ValidationError", User.from_json, '{"id":"u","name":"A","born":"yesterday"}')
      expect_rule(err, "born", "type")
    end)

    it("reads bytes from base64", function()
      assert.equal("\0\255\254>?", User:from_json('{"id":"u","name":"A","avatar":"AP/+Pj8="}').avatar)
      assert.equal("", User:from_json('{"id":"u","name":"A","avatar":""}').avatar)
    end)

    it("refuses bad base64 on that field", function()
      for _, bad in ipairs({ "Zg=", "Zg", "Z===", "Zh==", "Zm9v!", "Zm 9v", "=Zm9", "Zg==Zg==", "Zm9v\n" }) do
        local err = raises("ValidationError", User.from_json,
          '{"id":"u","name":"A","avatar":"' .. bad:gsub("\n", "\\n") .. '"}')
        expect_rule(err, "avatar", "base64", bad)
      end
    end)

    it("collects bad base64 with the other broken rules", function()
      local err = raises("ValidationError", User.from_json,
        '{"id":"u","name":5,"avatar":"!!","nick":"x"}')
      expect_rule(err, "avatar", "base64")
      expect_rule(err, "name", "type")
      expect_rule(err, "nick", "unknown_field")
    end)

    it("reads json fields with orm.null for null", function()
      local u = User:from_json('{"id":"u","name":"A","tags":[1,2.0,null,{"k":[true]}]}')
      assert.same({ 1, 2.0, orm.null, { k = { true } } }, u.tags)
      assert.equal("float", math.type(u.tags[2]))
    end)

    it("refuses values of the wrong type", function()
      local err = raises("ValidationError", User.from_json,
        '{"id":"u","name":["x"],"age":"5","active":1,"score":"1.5"}')
      expect_rule(err, "name", "type")
      expect_rule(err, "age", "type")
      expect_rule(err, "active", "type")
      expect_rule(err, "score", "type")
    end)

    it("accepts an integral real for an integer field", function()
      assert.equal(3, User:from_json('{"id":"u","name":"A","age":3.0}').age)
    end)

    it("refuses unknown keys", function()
      local err = raises("ValidationError", User.from_json, '{"id":"u","name":"A","emial":"x"}')
      expect_rule(err, "emial", "unknown_field")
      err = raises("ValidationError", User.from_json, '{"id":"u","name":"A","nick":null}')
      expect_rule(err, "nick", "unknown_field")
    end)

    it("refuses invalid JSON naming the model, with jansson's message and position", function()
      local err = raises("ValidationError", User.from_json, '{"id":"u",')
      assert.truthy(mentions(err, "User"), tostring(err))
      assert.truthy(mentions(err, "invalid JSON text"), tostring(err))
      assert.truthy(mentions(err, "position"), tostring(err))
      assert.equal("json", err.errors[1].code)
      for _, bad in ipairs({ "", "{", "{id: 1}", "{'id':'u'}", '{"id":"u",}', "nul", "{\"id\":\"\\x\"}" }) do
        raises("ValidationError", User.from_json, bad)
      end
    end)

    it("refuses trailing garbage", function()
      local err = raises("ValidationError", User.from_json, '{"id":"u","name":"A"} x')
      assert.truthy(mentions(err, "end of file expected"), tostring(err))
      raises("ValidationError", User.from_json, '{"id":"u","name":"A"}{}')
      raises("ValidationError", User.from_json, '{"id":"u","name":"A"}\0')
    end)

    it("refuses text that is not an object", function()
      for _, text in ipairs({ "[]", '"x"', "1", "null", "true" }) do
        local err = raises("ValidationError", User.from_json, text)
        assert.truthy(mentions(err, "object"), tostring(err))
      end
    end)

    it("refuses duplicate keys", function()
      local err = raises("ValidationError", User.from_json, '{"id":"u","id":"v","name":"A"}')
      assert.truthy(mentions(err, "duplicate"), tostring(err))
    end)

    it("refuses invalid UTF-8", function()
      raises("ValidationError", User.from_json, '{"id":"u","name":"\xff"}')
    end)

    it("reads integers beyond 64 bits as the nearest float in number and json fields", function()
      local u = User:from_json('{"id":"u","name":"A","score":18446744073709551617,"tags":['
        .. '9223372036854775808,-9223372036854775809,9223372036854775807,-9223372036854775808,'
        .. '9007199254740993,{"k":-100000000000000000000000},1' .. ("0"):rep(300) .. ']}')
      assert.equal("float", math.type(u.score))
      assert.equal(2.0 ^ 64, u.score)
      assert.same({ 2.0 ^ 63, -2.0 ^ 63, math.maxinteger, math.mininteger, 9007199254740993,
                    { k = -1e23 }, 1e300 }, u.tags)
      for i, t in ipairs({ "float", "float", "integer", "integer", "integer" }) do
        assert.equal(t, math.type(u.tags[i]), i)
      end
      assert.equal("float", math.type(u.tags[6].k))
    end)

    it("refuses integers beyond 64 bits for an integer field, naming it", function()
      for _, big in ipairs({ "9223372036854775808", "99999999999999999999", "-18446744073709551616" }) do
        local err = raises("ValidationError", User.from_json, '{"id":"u","name":"A","age":' .. big .. '}')
        expect_rule(err, "age", "type", big)
        assert.truthy(mentions(err, "User.age"), tostring(err))
        assert.falsy(mentions(err, "too big"), tostring(err))
      end
    end)

    it("refuses an integer literal too big for a float, as a real one", function()
      local err = raises("ValidationError", User.from_json,
        '{"id":"u","name":"A","score":1' .. ("0"):rep(400) .. '}')
      assert.truthy(mentions(err, "real number overflow"), tostring(err))
    end)

    it("places errors in the text as written after integers beyond 64 bits", function()
      local function where(text)
        local err = raises("ValidationError", User.from_json, text)
        return tostring(err):match("%(line %d+, column %d+, position %d+%)"), err
      end
      -- the same texts with integers that fit, one digit shorter each
      local fits = where('{"id":"u","tags":[1844674407370955161,\n 1,\n 1,1844674407370955161]x}')
      local big = where('{"id":"u","tags":[18446744073709551616,\n 1,\n 1,18446744073709551616]x}')
      assert.equal("(line 3, column 24, position 67)", fits)
      assert.equal("(line 3, column 25, position 69)", big)
      local _, err = where('{"id":"u","score":18446744073709551616,}')
      assert.truthy(mentions(err, "column 40, position 40"), tostring(err))
    end)

    it("refuses json values nested too deeply", function()
      local text = '{"id":"u","name":"A","tags":' .. ("["):rep(65) .. ("]"):rep(65) .. "}"
      local err = raises("ValidationError", User.from_json, text)
      expect_rule(err, "tags", "json")
      text = '{"id":"u","name":"A","tags":' .. ("["):rep(64) .. ("]"):rep(64) .. "}"
      assert.is_not_nil(User:from_json(text))
    end)

    it("refuses an argument that is not a string", function()
      assert.has_error(function() User:from_json(nil) end)
      assert.has_error(function() User:from_json({}) end)
    end)

    it("keeps NUL bytes in strings", function()
      assert.equal("a\0b", User:from_json('{"id":"u","name":"a\\u0000b"}').name)
    end)

    it("refuses object keys with a NUL byte, naming the field", function()
      for _, tags in ipairs({ '{"a\\u0000b":1}', '[1,{"x":{"\\u0000":[]}}]',
                              '[99999999999999999999,{"\\u0000":1}]' }) do
        local err = raises("ValidationError", User.from_json, '{"id":"u","name":"A","tags":' .. tags .. '}')
        expect_rule(err, "tags", "json", tags)
        assert.truthy(mentions(err, "User.tags"), tostring(err))
        assert.truthy(mentions(err, "NUL byte"), tostring(err))
        assert.truthy(mentions(err, "position"), tostring(err))
        assert.falsy(mentions(err, "not supported"), tostring(err))
      end
      local u = User { id = "u", name = "A", tags = { ["a\0b"] = 1 } }
      expect_rule(raises("ValidationError", User.from_json, u:to_json()), "tags", "json")
    end)

    it("refuses a top-level key with a NUL byte, naming the model", function()
      local err = raises("ValidationError", User.from_json, '{"id":"u","na\\u0000me":"A"}')
      assert.truthy(mentions(err, "User"), tostring(err))
      assert.truthy(mentions(err, "NUL byte"), tostring(err))
      assert.falsy(mentions(err, "not supported"), tostring(err))
      assert.equal("json", err.errors[1].code)
    end)
  end)

  describe("round trip", function()
    it("gives back an equal instance", function()
      local u = User { id = "u1", name = "Ålice \0 \"q\"", age = 42, score = 1 / 3,
                       active = false, avatar = "\0\1\2\255", born = orm.now(),
                       tags = { "a", 1, 1.5, 2.0, orm.null, { x = { true, false } }, {} } }
      local v = User:from_json(u:to_json())
      assert.is_true(u == v)
      assert.equal(u:to_json(), v:to_json())
    end)

    it("is exact for random values", function()
      math.randomseed(42)
      local function rand_bytes(n)
        local t = {}
        for i = 1, n do t[i] = string.char(math.random(0, 255)) end
        return table.concat(t)
      end
      for i = 1, 300 do
        local u = User {
          id = "u" .. i, name = "n" .. i,
          age = math.random(math.mininteger, math.maxinteger),
          score = (i % 2 == 0) and (math.random() * 10 ^ math.random(-300, 300)) or math.random(-1000, 1000),
          active = i % 3 == 0,
          avatar = rand_bytes(i % 7),
          born = math.random() * 253402300799 - 62135596800 * math.random(),
          tags = { math.random(), math.random(-5, 5), ("s"):rep(i % 5), { k = math.random() } },
        }
        local v = User:from_json(u:to_json())
        assert.is_true(u == v, u:to_json() .. "\n" .. v:to_json())
        assert.equal(u.born, v.born)
        assert.equal(u.score, v.score)
      end
    end)

    it("keeps datetimes to the microsecond", function()
      local u = User { id = "u", name = "A", born = 1736937000.1234567 }
      assert.equal(1736937000.123457, u.born)
      assert.equal(u.born, User:from_json(u:to_json()).born)
    end)
  end)

  describe("reload", function()
    it("re-reads the stored record into the instance and returns it", function()
      local u = User:create { id = "u1", name = "Alice", tags = { "a" } }
      local other = User:get("u1")
      other.name = "Changed"
      other.tags = { "b" }
      other:save()
      assert.equal("Alice", u.name)
      assert.equal(u, u:reload())
      assert.is_true(rawequal(u, u:reload()))
      assert.equal("Changed", u.name)
      assert.same({ "b" }, u.tags)
    end)

    it("drops unsaved assignments", function()
      local u = User:create { id = "u1", name = "Alice" }
      u.name = "Unsaved"
      u:reload()
      assert.equal("Alice", u.name)
    end)

    it("raises NotFoundError when the record is gone", function()
      local u = User:create { id = "u1", name = "Alice" }
      User:get("u1"):delete()
      local err = raises("NotFoundError", u.reload, u)
      assert.truthy(mentions(err, "User"), tostring(err))
      assert.truthy(mentions(err, "u1"), tostring(err))
      assert.equal("Alice", u.name)
    end)

    it("raises NotFoundError for an instance never saved", function()
      local u = User { id = "nope", name = "A" }
      raises("NotFoundError", u.reload, u)
      assert.is_false(u:is_persisted())
    end)

    it("loads a record saved by another instance with the same key", function()
      local u = User { id = "u1", name = "Mine" }
      User:create { id = "u1", name = "Stored" }
      u:reload()
      assert.equal("Stored", u.name)
      assert.is_true(u:is_persisted())
    end)

    it("loads every field of a select() instance", function()
      User:create { id = "u1", name = "Alice", age = 7 }
      local u = User:where():select("id"):first()
      assert.has_error(function() return u.name end)
      u:reload()
      assert.equal("Alice", u.name)
      assert.equal(7, u.age)
    end)

    it("needs a backend", function()
      local M = Model("M", { id = Field.string { primary_key = true } })
      local u = M { id = "x" }
      local err = raises("ConfigurationError", u.reload, u)
      assert.truthy(mentions(err, "model_backend"), tostring(err))
    end)
  end)
end)
