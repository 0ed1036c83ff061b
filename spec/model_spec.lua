-- Declaring models (API.md section 3): field types, field options, field
-- order, introspection, instance methods and the model_backend attribute.
-- Declaration mistakes are in bad_input_spec.lua.

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local raises, expect_rule = support.raises, support.expect_rule

-- The name of each field in fields, in order.
local function names(fields)
  local out = {}
  for i, f in ipairs(fields) do out[i] = f.name end
  return out
end

describe("Model", function()
  local backend

  before_each(function()
    backend = InMemoryBackend()
  end)

  describe("declaration", function()
    it("returns a model named by its first argument", function()
      local User = Model("User", { model_backend = backend, id = Field.string { primary_key = true } })
      assert.equal("User", User.name)
      local Item = Model("TodoItem", { model_backend = backend, id = Field.string { primary_key = true } })
      assert.equal("TodoItem", Item.name)
    end)

    it("keeps the model name apart from a field called name", function()
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        name = "string",
      })
      assert.equal("User", User.name)
      assert.equal("Alice", User { id = "1", name = "Alice" }.name)
    end)

    it("accepts a type name string as a required field without options", function()
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        nickname = "string",
      })
      local f = User:field("nickname")
      assert.equal("string", f.type)
      assert.is_falsy(f.optional)
      local err = raises("ValidationError", User.create, User, { id = "1" })
      expect_rule(err, "nickname", "required")
    end)

    it("finds an integer key given as a float of exact integer value", function()
      local Item = Model("Item", { model_backend = backend, id = Field.integer { primary_key = true }, label = "string" })
      Item:create { id = 7.0, label = "seven" }
      assert.equal("integer", math.type(Item:get(7).id))
      assert.equal("seven", Item:get(7.0).label)
      assert.equal(1, #Item:get_many { 7, 0 })
      assert.equal("seven", Item:get { id = 7.0 }.label)
    end)

    it("accepts an integer primary key", function()
      local Item = Model("Item", { model_backend = backend, id = Field.integer { primary_key = true }, label = "string" })
      Item:create { id = 7, label = "seven" }
      assert.equal("seven", Item:get(7).label)
      assert.is_nil(Item:get(8))
    end)
  end)

  describe("field types", function()
    local Thing

    before_each(function()
      Thing = Model("Thing", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        s = Field.string { optional = true },
        b = Field.bytes { optional = true },
        i = Field.integer { optional = true },
        n = Field.number { optional = true },
        flag = Field.boolean { optional = true },
        at = Field.datetime { optional = true },
      })
    end)

    local function stored(values)
      values.id = values.id or "t"
      Thing:create(values)
      return Thing:get(values.id)
    end

    it("stores UTF-8 text in a string field", function()
      assert.equal("héllo wörld €", stored { s = "héllo wörld €" }.s)
    end)

    it("keeps a NUL byte inside a string field", function()
      local t = stored { s = "a\0b" }
      assert.equal(3, #t.s)
      assert.equal("a\0b", t.s)
    end)

    it("stores any byte string, invalid UTF-8 and NUL included, in a bytes field", function()
      local raw = "\255\0\254binary\0"
      local t = stored { b = raw }
      assert.equal(#raw, #t.b)
      assert.equal(raw, t.b)
    end)

    it("rejects invalid UTF-8 in a string field but not in a bytes field", function()
      local err = raises("ValidationError", Thing.create, Thing, { id = "x", s = "\255" })
      expect_rule(err, "s", "utf8")
      assert.equal("\255", stored { id = "y", b = "\255" }.b)
    end)

    it("gives back a Lua integer from an integer field", function()
      local t = stored { i = 42 }
      assert.equal(42, t.i)
      assert.equal("integer", math.type(t.i))
    end)

    it("keeps the full 64-bit range of an integer field", function()
      assert.equal(math.maxinteger, stored { id = "max", i = math.maxinteger }.i)
      assert.equal(math.mininteger, stored { id = "min", i = math.mininteger }.i)
    end)

    it("stores a float with an exact integer value as an integer", function()
      local t = stored { i = 2.0 }
      assert.equal(2, t.i)
      assert.equal("integer", math.type(t.i))
      local u = Thing { id = "u", i = 5.0 }
      assert.equal("integer", math.type(u.i))
    end)

    it("rejects a float with a fraction in an integer field", function()
      local err = raises("ValidationError", Thing.create, Thing, { id = "x", i = 1.5 })
      expect_rule(err, "i", "type")
    end)

    it("rejects a float too large for a 64-bit integer in an integer field", function()
      local err = raises("ValidationError", Thing.create, Thing, { id = "x", i = 2.0 ^ 63 })
      expect_rule(err, "i", "type")
      err = raises("ValidationError", Thing.create, Thing, { id = "y", i = -2.0 ^ 64 })
      expect_rule(err, "i", "type")
      assert.equal(0, Thing:count())
    end)

    it("keeps a large integer exact in a number field", function()
      local t = stored { n = math.maxinteger }
      assert.equal(math.maxinteger, t.n)
      assert.equal("integer", math.type(t.n))
    end)

    it("compares an integer field with a float query value of exact integer value", function()
      stored { id = "a", i = 30 }
      stored { id = "b", i = 31 }
      assert.equal("a", Thing:where { i = 30.0 }:first().id)
      assert.equal(1, Thing:where { i__gt = 30.0 }:count())
    end)

    it("gives back from a number field what was stored, integer or float", function()
      local a = stored { id = "a", n = 3 }
      assert.equal(3, a.n)
      assert.equal("integer", math.type(a.n))
      local b = stored { id = "b", n = 3.5 }
      assert.equal(3.5, b.n)
      assert.equal("float", math.type(b.n))
      local c = stored { id = "c", n = 3.0 }
      assert.equal("float", math.type(c.n))
    end)

    it("stores true and false in a boolean field", function()
      assert.is_true(stored { id = "a", flag = true }.flag)
      assert.is_false(stored { id = "b", flag = false }.flag)
    end)

    it("stores epoch seconds in a datetime field", function()
      local t = stored { at = 1736937000.25 }
      assert.equal(1736937000.25, t.at)
    end)

    it("gives nil for an optional field left out", function()
      local t = stored {}
      assert.is_nil(t.s)
      assert.is_nil(t.i)
      assert.is_nil(t.flag)
    end)
  end)

  describe("options", function()

    describe("primary_key", function()
      it("is reported by primary_key()", function()
        local User = Model("User", { model_backend = backend, email = "string", code = Field.string { primary_key = true } })
        assert.equal("code", User:primary_key())
      end)
    end)

    describe("unique", function()
      it("rejects a second record with the same value", function()
        local User = Model("User", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          email = Field.string { unique = true },
        })
        User:create { id = "1", email = "a@example.com" }
        raises("DuplicateKeyError", User.create, User, { id = "2", email = "a@example.com" })
        assert.equal(1, User:count())
      end)
    end)

    describe("unique on a number field", function()
      it("treats equal numbers as the same value, 1 and 1.0 alike", function()
        local Reading = Model("Reading", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          value = Field.number { unique = true },
        })
        Reading:create { id = "a", value = 1 }
        raises("DuplicateKeyError", Reading.create, Reading, { id = "b", value = 1.0 })
        Reading:create { id = "c", value = 1.5 }
        assert.equal(2, Reading:count())
      end)
    end)

    describe("index", function()
      it("is accepted and leaves queries on the field working", function()
        local User = Model("User", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          city = Field.string { index = true },
        })
        User:create { id = "1", city = "Oslo" }
        User:create { id = "2", city = "Rome" }
        User:create { id = "3", city = "Oslo" }
        assert.equal(2, User:where { city = "Oslo" }:count())
        assert.is_true(User:field("city").index)
      end)
    end)

    describe("default", function()
      it("applies a default value to a new instance", function()
        local User = Model("User", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          age = Field.integer { default = 18 },
          active = Field.boolean { default = true },
        })
        local u = User { id = "1" }
        assert.equal(18, u.age)
        assert.is_true(u.active)
      end)

      it("lets a given value win over the default, false included", function()
        local User = Model("User", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          age = Field.integer { default = 18 },
          active = Field.boolean { default = true },
        })
        local u = User:create { id = "1", age = 40, active = false }
        assert.equal(40, u.age)
        assert.is_false(u.active)
        assert.is_false(User:get("1").active)
      end)

      it("calls a default function once for each new instance", function()
        local calls = 0
        local User = Model("User", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          token = Field.string { default = function() calls = calls + 1; return "tok-" .. calls end },
        })
        local a = User { id = "a" }
        local b = User { id = "b" }
        assert.equal(2, calls)
        assert.are_not.equal(a.token, b.token)
        assert.equal("tok-", a.token:sub(1, 4))
      end)

      it("makes the field optional", function()
        local User = Model("User", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          age = Field.integer { default = 0 },
        })
        assert.is_true(User:field("age").optional)
        assert.equal(0, User:field("age").default)
      end)
    end)

    describe("optional", function()
      it("allows nil", function()
        local User = Model("User", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          score = Field.number { optional = true },
        })
        local u = User:create { id = "1" }
        assert.is_nil(u.score)
        u.score = 2.5
        u.score = nil
        assert.is_nil(u.score)
      end)

      it("is off by default: a field without default or optional is required", function()
        local User = Model("User", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          score = Field.number {},
        })
        local err = raises("ValidationError", User, { id = "1" })
        expect_rule(err, "score", "required")
      end)
    end)

    describe("bounds", function()
      local Item

      before_each(function()
        Item = Model("Item", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          price = Field.number { gt = 0, optional = true },
          stock = Field.integer { ge = 0, optional = true },
          discount = Field.number { lt = 1, optional = true },
          rating = Field.integer { le = 5, optional = true },
        })
      end)

      it("enforces gt as a strict lower bound", function()
        local err = raises("ValidationError", Item, { id = "1", price = 0 })
        expect_rule(err, "price", "gt")
        assert.equal(0.01, Item { id = "1", price = 0.01 }.price)
      end)

      it("enforces ge as an inclusive lower bound", function()
        local err = raises("ValidationError", Item, { id = "1", stock = -1 })
        expect_rule(err, "stock", "ge")
        assert.equal(0, Item { id = "1", stock = 0 }.stock)
      end)

      it("enforces lt as a strict upper bound", function()
        local err = raises("ValidationError", Item, { id = "1", discount = 1 })
        expect_rule(err, "discount", "lt")
        assert.equal(0.99, Item { id = "1", discount = 0.99 }.discount)
      end)

      it("enforces le as an inclusive upper bound", function()
        local err = raises("ValidationError", Item, { id = "1", rating = 6 })
        expect_rule(err, "rating", "le")
        assert.equal(5, Item { id = "1", rating = 5 }.rating)
      end)

      it("checks bounds on assignment too", function()
        local it_ = Item { id = "1", stock = 3 }
        local err = raises("ValidationError", function() it_.stock = -5 end)
        expect_rule(err, "stock", "ge")
        assert.equal(3, it_.stock)
      end)
    end)

    describe("min_length and max_length", function()
      local User

      before_each(function()
        User = Model("User", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          name = Field.string { min_length = 3, max_length = 5 },
        })
      end)

      it("accepts lengths inside the range, ends included", function()
        assert.equal("abc", User { id = "1", name = "abc" }.name)
        assert.equal("abcde", User { id = "1", name = "abcde" }.name)
      end)

      it("rejects a string that is too short", function()
        local err = raises("ValidationError", User, { id = "1", name = "ab" })
        expect_rule(err, "name", "min_length")
      end)

      it("rejects a string that is too long", function()
        local err = raises("ValidationError", User, { id = "1", name = "abcdef" })
        expect_rule(err, "name", "max_length")
      end)

      it("counts UTF-8 characters, not bytes", function()
        -- "héllo" is five characters in six bytes: within max_length 5.
        assert.equal("héllo", User { id = "1", name = "héllo" }.name)
        -- "é€" is two characters in five bytes: below min_length 3.
        local err = raises("ValidationError", User, { id = "1", name = "é€" })
        expect_rule(err, "name", "min_length")
      end)
    end)

    describe("choices", function()
      local Task

      before_each(function()
        Task = Model("Task", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          status = Field.string { choices = { "todo", "doing", "done" } },
          priority = Field.integer { choices = { 1, 2, 3 }, default = 2 },
        })
      end)

      it("accepts a listed value", function()
        local t = Task:create { id = "1", status = "doing", priority = 3 }
        assert.equal("doing", t.status)
        assert.equal(3, t.priority)
      end)

      it("rejects a value that is not listed", function()
        local err = raises("ValidationError", Task.create, Task, { id = "1", status = "blocked" })
        expect_rule(err, "status", "choices")
        err = raises("ValidationError", Task.create, Task, { id = "1", status = "todo", priority = 4 })
        expect_rule(err, "priority", "choices")
        assert.equal(0, Task:count())
      end)
    end)
  end)

  describe("field order", function()
    local Thing

    before_each(function()
      Thing = Model("Thing", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        zeta = Field.string { optional = true },
        alpha = Field.integer { optional = true },
        mid = Field.boolean { optional = true },
        b_short = "string",
        a_short = "integer",
      })
    end)

    it("lists Field calls in call order, then shorthand fields sorted by name", function()
      assert.same({ "id", "zeta", "alpha", "mid", "a_short", "b_short" }, names(Thing:fields()))
    end)

    it("follows the Field call order even when it is not alphabetical", function()
      local T = Model("T", {
        model_backend = backend,
        c = Field.string { optional = true },
        key = Field.string { primary_key = true },
        a = Field.string { optional = true },
        b = Field.string { optional = true },
      })
      assert.same({ "c", "key", "a", "b" }, names(T:fields()))
    end)

    it("is the order of tostring", function()
      local t = Thing { id = "1", zeta = "z", alpha = 1, mid = true, b_short = "b", a_short = 2 }
      local s = tostring(t)
      local last = 0
      for _, name in ipairs({ "id=", "zeta=", "alpha=", "mid=", "a_short=", "b_short=" }) do
        local at = s:find(name, 1, true)
        assert.is_not_nil(at, name .. " missing from " .. s)
        assert.is_true(at > last, name .. " out of order in " .. s)
        last = at
      end
    end)
  end)

  describe("introspection", function()
    local User

    before_each(function()
      User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        email = Field.string { unique = true, index = true },
        name = Field.string { max_length = 100 },
        age = Field.integer { ge = 0, le = 150, default = 0 },
        score = Field.number { optional = true },
        nickname = "string",
      })
    end)

    it("lists every field in order with fields()", function()
      assert.same({ "id", "email", "name", "age", "score", "nickname" }, names(User:fields()))
    end)

    it("describes each field's type", function()
      local types = {}
      for _, f in ipairs(User:fields()) do types[f.name] = f.type end
      assert.same({ id = "string", email = "string", name = "string", age = "integer",
        score = "number", nickname = "string" }, types)
    end)

    it("marks the primary key, unique and indexed fields", function()
      assert.is_true(User:field("id").primary_key)
      assert.is_falsy(User:field("email").primary_key)
      assert.is_true(User:field("email").unique)
      assert.is_true(User:field("email").index)
      assert.is_falsy(User:field("name").unique)
      assert.is_falsy(User:field("name").index)
    end)

    it("marks optional fields, including those with a default", function()
      assert.is_true(User:field("score").optional)
      assert.is_true(User:field("age").optional)
      assert.is_falsy(User:field("name").optional)
      assert.is_falsy(User:field("nickname").optional)
    end)

    it("reports the default value", function()
      assert.equal(0, User:field("age").default)
    end)

    it("gives true or false for primary_key, unique, index and optional, set or not", function()
      for _, f in ipairs(User:fields()) do
        for _, flag in ipairs { "primary_key", "unique", "index", "optional" } do
          assert.is_boolean(f[flag], f.name .. "." .. flag)
          assert.equal(f[flag], User:field(f.name)[flag], f.name .. "." .. flag)
        end
      end
      assert.is_false(User:field("nickname").optional)
      assert.is_false(User:field("name").unique)
      assert.is_false(User:field("id").optional)
    end)

    it("gives copies of choices: changing them changes neither the model nor later reads", function()
      local choices = { "a", "b" }
      local T = Model("T", { model_backend = backend, id = Field.string { primary_key = true },
                             c = Field.string { choices = choices } })
      choices[3] = "z"
      assert.same({ "a", "b" }, T:field("c").choices)
      T:field("c").choices[1] = "z"
      T:fields()[2].choices[2] = "z"
      assert.same({ "a", "b" }, T:field("c").choices)
      assert.same({ "a", "b" }, T:fields()[2].choices)
      raises("ValidationError", T, { id = "1", c = "z" })
    end)

    it("gives one field by name with field()", function()
      local f = User:field("age")
      assert.equal("age", f.name)
      assert.equal("integer", f.type)
    end)

    it("names the key field with primary_key()", function()
      assert.equal("id", User:primary_key())
    end)
  end)

  describe("instance methods", function()
    it("are callable on instances with a colon", function()
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        first = "string",
        last = "string",
        full_name = function(self) return self.first .. " " .. self.last end,
      })
      local u = User { id = "1", first = "Ada", last = "Lovelace" }
      assert.equal("Ada Lovelace", u:full_name())
      u.first = "Augusta"
      assert.equal("Augusta Lovelace", u:full_name())
    end)

    it("are not fields", function()
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        greet = function(self) return "hi " .. self.id end,
      })
      assert.same({ "id" }, names(User:fields()))
      assert.is_nil(User:get("1"))
      User:create { id = "1" }
      assert.equal("hi 1", User:get("1"):greet())
      assert.is_nil(User:get("1"):to_table().greet)
    end)
  end)

  describe("model_backend", function()
    it("reads the backend given at declaration", function()
      local User = Model("User", { model_backend = backend, id = Field.string { primary_key = true } })
      assert.equal(backend, User.model_backend)
    end)

    it("can be assigned after declaration", function()
      local User = Model("User", { id = Field.string { primary_key = true } })
      User.model_backend = backend
      assert.equal(backend, User.model_backend)
      User:create { id = "1" }
      assert.equal(1, User:count())
    end)

    it("sends later operations to the newly assigned backend", function()
      local User = Model("User", { model_backend = backend, id = Field.string { primary_key = true } })
      User:create { id = "old" }
      local other = InMemoryBackend()
      User.model_backend = other
      assert.equal(other, User.model_backend)
      assert.equal(0, User:count())
      User:create { id = "new" }
      assert.is_nil(User:get("old"))
      User.model_backend = backend
      assert.equal(1, User:count())
      assert.is_not_nil(User:get("old"))
      assert.is_nil(User:get("new"))
    end)
  end)
end)
