-- Instances (API.md section 4): construction, field reads, validated
-- assignment, save, delete, is_persisted, to_table, tostring, == and the
-- protection against unknown names.

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local catch, raises, mentions = support.catch, support.raises, support.mentions
local expect_rule = support.expect_rule

describe("instance", function()
  local backend, User

  before_each(function()
    backend = InMemoryBackend()
    User = Model("User", {
      model_backend = backend,
      id = Field.string { primary_key = true },
      email = Field.string {},
      name = Field.string { max_length = 100 },
      age = Field.integer { ge = 0, le = 150, default = 0 },
      is_active = Field.boolean { default = true },
      score = Field.number { optional = true },
      full_name = function(self) return "Mx " .. self.name end,
    })
  end)

  local function alice()
    return User { id = "user-1", email = "a@example.com", name = "Alice" }
  end

  describe("construction", function()
    it("builds an instance by calling the model, without saving it", function()
      local u = alice()
      assert.equal("user-1", u.id)
      assert.equal("a@example.com", u.email)
      assert.equal("Alice", u.name)
      assert.is_false(u:is_persisted())
      assert.equal(0, User:count())
    end)

    it("builds the same instance with User:new", function()
      local u = User:new { id = "user-1", email = "a@example.com", name = "Alice" }
      assert.equal("Alice", u.name)
      assert.is_false(u:is_persisted())
      assert.equal(alice(), u)
    end)

    it("applies defaults", function()
      local u = alice()
      assert.equal(0, u.age)
      assert.is_true(u.is_active)
      assert.is_nil(u.score)
    end)

    it("validates every field", function()
      local err = raises("ValidationError", User, { id = "user-1", email = "a@example.com", name = "Alice", age = 200 })
      expect_rule(err, "age", "le")
    end)

    it("rejects unknown keys", function()
      local err = raises("ValidationError", User, { id = "user-1", email = "a@example.com", name = "Alice", nmae = "x" })
      expect_rule(err, "nmae", "unknown_field")
    end)

    it("does not keep a reference to the table it was built from", function()
      local t = { id = "user-1", email = "a@example.com", name = "Alice" }
      local u = User(t)
      t.name = "Changed"
      assert.equal("Alice", u.name)
    end)
  end)

  describe("methods", function()
    it("calls methods declared in the model with the instance", function()
      local u = alice()
      assert.equal("Mx Alice", u:full_name())
    end)
  end)

  describe("assignment", function()
    it("changes the field at once", function()
      local u = alice()
      u.name = "Alice Smith"
      assert.equal("Alice Smith", u.name)
    end)

    it("raises ValidationError for a bad value and leaves the instance unchanged", function()
      local u = alice()
      local err = raises("ValidationError", function() u.age = "old" end)
      expect_rule(err, "age", "type")
      assert.equal(0, u.age)
      err = raises("ValidationError", function() u.age = 151 end)
      expect_rule(err, "age", "le")
      assert.equal(0, u.age)
      err = raises("ValidationError", function() u.name = string.rep("x", 101) end)
      expect_rule(err, "name", "max_length")
      assert.equal("Alice", u.name)
    end)

    it("refuses nil for a required field", function()
      local u = alice()
      local err = raises("ValidationError", function() u.name = nil end)
      expect_rule(err, "name", "required")
      assert.equal("Alice", u.name)
    end)

    it("accepts nil for an optional field", function()
      local u = alice()
      u.score = 1.5
      u.score = nil
      assert.is_nil(u.score)
    end)

    it("does not change the store until save", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      local u = User:get("user-1")
      u.name = "Changed"
      assert.equal("Alice", User:get("user-1").name)
      u:save()
      assert.equal("Changed", User:get("user-1").name)
    end)

    it("may set the primary key of a new instance", function()
      local u = alice()
      u.id = "user-9"
      u:save()
      assert.is_not_nil(User:get("user-9"))
      assert.is_nil(User:get("user-1"))
    end)

    it("refuses to change the primary key of a persisted instance", function()
      local u = User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      local err = raises("ValidationError", function() u.id = "user-2" end)
      expect_rule(err, "id", "readonly")
      assert.equal("user-1", u.id)
      assert.is_nil(User:get("user-2"))
    end)
  end)

  describe("save", function()
    it("inserts a new instance and returns it", function()
      local u = alice()
      local r = u:save()
      assert.is_true(rawequal(u, r))
      assert.equal(1, User:count())
      assert.equal("Alice", User:get("user-1").name)
    end)

    it("updates a persisted instance", function()
      local u = alice()
      u:save()
      u.name = "Alicia"
      u.age = 31
      u:save()
      assert.equal(1, User:count())
      local again = User:get("user-1")
      assert.equal("Alicia", again.name)
      assert.equal(31, again.age)
    end)

    it("raises DuplicateKeyError when a new instance's key is taken", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      local u = User { id = "user-1", email = "b@example.com", name = "Impostor" }
      raises("DuplicateKeyError", u.save, u)
      assert.equal("Alice", User:get("user-1").name)
      assert.equal(1, User:count())
      assert.is_false(u:is_persisted())
    end)

    it("raises NotFoundError when the record of a persisted instance was deleted", function()
      local u = User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      User:get("user-1"):delete()
      u.name = "Ghost"
      raises("NotFoundError", u.save, u)
      assert.equal(0, User:count())
      assert.is_nil(User:get("user-1"))
    end)

    it("keeps the record's place in insertion order on update", function()
      User:create { id = "a", email = "a@example.com", name = "A" }
      User:create { id = "b", email = "b@example.com", name = "B" }
      User:create { id = "c", email = "c@example.com", name = "C" }
      local b = User:get("b")
      b.name = "B2"
      b:save()
      local list = User:all()
      assert.equal("a", list[1].id)
      assert.equal("b", list[2].id)
      assert.equal("B2", list[2].name)
      assert.equal("c", list[3].id)
    end)
  end)

  describe("delete", function()
    it("returns true when a stored record was deleted", function()
      local u = User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      assert.is_true(u:delete())
      assert.equal(0, User:count())
      assert.is_nil(User:get("user-1"))
    end)

    it("returns false when there was no stored record", function()
      local u = User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      assert.is_true(u:delete())
      assert.is_false(u:delete())
      assert.is_false(alice():delete())
    end)

    it("deletes only its own record", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      User:create { id = "user-2", email = "b@example.com", name = "Bob" }
      User:get("user-1"):delete()
      assert.equal(1, User:count())
      assert.equal("Bob", User:get("user-2").name)
    end)

    it("lets the key be used again", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice" }:delete()
      User:create { id = "user-1", email = "b@example.com", name = "Bob" }
      assert.equal("Bob", User:get("user-1").name)
    end)
  end)

  describe("is_persisted", function()
    it("is false for a new instance", function()
      assert.is_false(alice():is_persisted())
    end)

    it("is true after save", function()
      local u = alice()
      u:save()
      assert.is_true(u:is_persisted())
    end)

    it("is true after create", function()
      assert.is_true(User:create { id = "user-1", email = "a@example.com", name = "Alice" }:is_persisted())
    end)

    it("is true for instances from get and from queries", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      assert.is_true(User:get("user-1"):is_persisted())
      assert.is_true(User:where { name = "Alice" }:first():is_persisted())
      assert.is_true(User:all()[1]:is_persisted())
    end)
  end)

  describe("to_table", function()
    it("gives a plain table of all fields", function()
      local u = alice()
      assert.same({ id = "user-1", email = "a@example.com", name = "Alice", age = 0, is_active = true },
        u:to_table())
    end)

    it("includes an optional field when it is set", function()
      local u = alice()
      u.score = 2.5
      assert.equal(2.5, u:to_table().score)
    end)

    it("returns a copy", function()
      local u = alice()
      local t = u:to_table()
      assert.is_nil(getmetatable(t))
      t.name = "Mallory"
      assert.equal("Alice", u.name)
      u.name = "Alicia"
      assert.equal("Mallory", t.name)
      assert.are_not.equal(u:to_table(), u:to_table())
    end)

    it("keeps integers as integers", function()
      local t = alice():to_table()
      assert.equal("integer", math.type(t.age))
    end)
  end)

  describe("tostring", function()
    it("shows the model name and the fields in order", function()
      local Small = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        email = Field.string {},
        name = Field.string {},
      })
      local u = Small { id = "user-1", email = "a@example.com", name = "Alice" }
      assert.equal('User(id="user-1", email="a@example.com", name="Alice")', tostring(u))
    end)

    it("shows numbers and booleans unquoted", function()
      local s = tostring(User { id = "user-1", email = "a@example.com", name = "Alice", age = 30 })
      local prefix = 'User(id="user-1", email="a@example.com", name="Alice", '
      assert.equal(prefix, s:sub(1, #prefix))
      assert.is_not_nil(s:find("age=30", 1, true), s)
      assert.is_not_nil(s:find("is_active=true", 1, true), s)
    end)

    it("quotes strings so that quotes inside them are escaped", function()
      local s = tostring(User { id = 'say "hi"', email = "a@example.com", name = "Alice" })
      local expected = "id=" .. string.format("%q", 'say "hi"')
      assert.is_not_nil(s:find(expected, 1, true), s)
    end)
  end)

  describe("==", function()
    it("holds for instances of one model with equal field values", function()
      assert.equal(alice(), alice())
      assert.is_true(alice() == alice())
    end)

    it("holds between a stored record and a fresh instance with the same values", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      assert.is_true(User:get("user-1") == alice())
    end)

    it("fails when one field differs", function()
      local a, b = alice(), alice()
      b.age = 1
      assert.is_false(a == b)
    end)

    it("fails across models even with equal values", function()
      local Other = Model("Other", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        email = Field.string {},
        name = Field.string {},
        age = Field.integer { default = 0 },
        is_active = Field.boolean { default = true },
      })
      local o = Other { id = "user-1", email = "a@example.com", name = "Alice" }
      assert.is_false(alice() == o)
    end)
  end)

  describe("unknown names", function()
    it("raise an error naming the model when read", function()
      local u = alice()
      local err = catch(function() return u.nmae end)
      assert.is_true(mentions(err, "User"), tostring(err))
      assert.is_true(mentions(err, "nmae"), tostring(err))
    end)

    it("raise ValidationError naming the model when assigned", function()
      local u = User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      local err = raises("ValidationError", function() u.nmae = "x" end)
      assert.is_true(mentions(err, "User"), tostring(err))
      expect_rule(err, "nmae", "unknown_field")
      u:save()
      assert.same({ id = "user-1", email = "a@example.com", name = "Alice", age = 0, is_active = true },
        User:get("user-1"):to_table())
    end)
  end)

  describe("snapshot", function()
    it("keeps two instances of one key independent", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      local a = User:get("user-1")
      local b = User:get("user-1")
      a.name = "Changed"
      assert.equal("Alice", b.name)
      a:save()
      assert.equal("Alice", b.name)
      assert.equal("Changed", User:get("user-1").name)
    end)

    it("keeps the created instance apart from the store", function()
      local u = User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      u.age = 99
      assert.equal(0, User:get("user-1").age)
    end)

    it("leaves an instance unchanged when the stored record changes", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      local a = User:get("user-1")
      local b = User:get("user-1")
      b.name = "Bob"
      b:save()
      assert.equal("Alice", a.name)
    end)
  end)

  describe("lifetime", function()
    it("keeps its values after its record is deleted", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice", age = 30 }
      local a = User:get("user-1")
      User:get("user-1"):delete()
      collectgarbage()
      assert.equal("Alice", a.name)
      assert.equal(30, a.age)
      local prefix = 'User(id="user-1", email="a@example.com", name="Alice", '
      assert.equal(prefix, tostring(a):sub(1, #prefix))
    end)

    it("keeps its values after the record is overwritten by upsert", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice", age = 30 }
      local a = User:get("user-1")
      User:upsert { id = "user-1", email = "z@example.com", name = string.rep("Z", 90), age = 99 }
      collectgarbage()
      assert.equal("Alice", a.name)
      assert.equal("a@example.com", a.email)
      assert.equal(30, a.age)
    end)

    it("keeps its values after the backend is cleared", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      local list = User:all()
      backend:clear()
      collectgarbage()
      assert.equal("Alice", list[1].name)
      assert.same({ id = "user-1", email = "a@example.com", name = "Alice", age = 0, is_active = true },
        list[1]:to_table())
    end)

    it("outlives every other reference to its model and backend", function()
      local u
      do
        local b = InMemoryBackend()
        local M = Model("Temp", { model_backend = b, id = Field.string { primary_key = true }, name = Field.string {} })
        M:create { id = "t1", name = "Kept" }
        u = M:get("t1")
      end
      collectgarbage()
      collectgarbage()
      assert.equal("Kept", u.name)
      assert.equal('Temp(id="t1", name="Kept")', tostring(u))
      u.name = "Changed"
      u:save()
      assert.equal("Changed", u.name)
    end)

    it("keeps a query usable after other references to its model are gone", function()
      local q
      do
        local b = InMemoryBackend()
        local M = Model("Temp", { model_backend = b, id = Field.string { primary_key = true }, n = Field.integer {} })
        for i = 1, 5 do M:create { id = "t" .. i, n = i } end
        q = M:where { n__gt = 2 }
      end
      collectgarbage()
      collectgarbage()
      assert.equal(3, q:count())
      assert.equal("t3", q:first().id)
    end)
  end)

  describe("values", function()
    it("keep a long string intact", function()
      local long = string.rep("0123456789", 100000)
      local Doc = Model("Doc", { model_backend = backend, id = Field.string { primary_key = true }, body = Field.string {} })
      Doc:create { id = "d", body = long }
      assert.equal(long, Doc:get("d").body)
    end)

    it("accept the empty string in a non-key string field", function()
      User:create { id = "user-1", email = "", name = "Alice" }
      assert.equal("", User:get("user-1").email)
      assert.equal("user-1", User:find_by { email = "" }.id)
    end)

    it("tell apart keys that differ only after a NUL byte", function()
      User:create { id = "a\0b", email = "1@example.com", name = "One" }
      User:create { id = "a\0c", email = "2@example.com", name = "Two" }
      User:create { id = "a", email = "3@example.com", name = "Three" }
      assert.equal(3, User:count())
      assert.equal("One", User:get("a\0b").name)
      assert.equal("Two", User:get("a\0c").name)
      assert.equal("Three", User:get("a").name)
    end)
  end)

  describe("numbers", function()
    it("give back Lua integers from integer fields", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice", age = 30 }
      local age = User:get("user-1").age
      assert.equal(30, age)
      assert.equal("integer", math.type(age))
    end)

    it("store 2.0 assigned to an integer field as the integer 2", function()
      local u = alice()
      u.age = 2.0
      assert.equal("integer", math.type(u.age))
      u:save()
      local stored = User:get("user-1").age
      assert.equal(2, stored)
      assert.equal("integer", math.type(stored))
    end)
  end)
end)
