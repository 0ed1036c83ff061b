-- Model operations (API.md section 5): create, upsert, get, find_by, where,
-- all, count, create_many, get_many, and unique fields.

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local raises, ids = support.raises, support.ids

describe("model operations", function()
  local backend, User

  before_each(function()
    backend = InMemoryBackend()
    User = Model("User", {
      model_backend = backend,
      id = Field.string { primary_key = true },
      email = Field.string { unique = true, optional = true },
      name = Field.string {},
      age = Field.integer { ge = 0, default = 0 },
    })
  end)

  describe("create", function()
    it("stores a new record and returns a persisted instance", function()
      local u = User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      assert.equal("Alice", u.name)
      assert.equal(0, u.age)
      assert.is_true(u:is_persisted())
      assert.equal(1, User:count())
      assert.equal("a@example.com", User:get("user-1").email)
    end)

    it("accepts the dot form User.create{...}", function()
      local u = User.create { id = "user-1", name = "Alice" }
      assert.equal("Alice", u.name)
      assert.equal(1, User:count())
    end)

    it("raises DuplicateKeyError for an existing key and keeps the stored record", function()
      User:create { id = "user-1", name = "Alice" }
      raises("DuplicateKeyError", User.create, User, { id = "user-1", name = "Impostor" })
      assert.equal(1, User:count())
      assert.equal("Alice", User:get("user-1").name)
    end)

    it("stores nothing when validation fails", function()
      raises("ValidationError", User.create, User, { id = "user-1", name = "Alice", age = -1 })
      assert.equal(0, User:count())
    end)
  end)

  describe("upsert", function()
    it("creates a record that does not exist", function()
      local u = User:upsert { id = "user-1", name = "Alice" }
      assert.equal("Alice", u.name)
      assert.is_true(u:is_persisted())
      assert.equal(1, User:count())
    end)

    it("overwrites an existing record without DuplicateKeyError", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice", age = 30 }
      User:upsert { id = "user-1", email = "b@example.com", name = "Alicia" }
      assert.equal(1, User:count())
      local u = User:get("user-1")
      assert.equal("Alicia", u.name)
      assert.equal("b@example.com", u.email)
      assert.equal(0, u.age)
    end)

    it("keeps the overwritten record's place in insertion order", function()
      User:create { id = "a", name = "A" }
      User:create { id = "b", name = "B" }
      User:create { id = "c", name = "C" }
      User:upsert { id = "a", name = "A2" }
      assert.same({ "a", "b", "c" }, ids(User:all()))
      assert.equal("A2", User:all()[1].name)
    end)

    it("validates before writing", function()
      User:create { id = "user-1", name = "Alice" }
      raises("ValidationError", User.upsert, User, { id = "user-1", name = "Alice", age = -5 })
      assert.equal(0, User:get("user-1").age)
    end)

    it("frees the old unique value of the record it overwrites", function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      User:upsert { id = "user-1", email = "b@example.com", name = "Alice" }
      User:create { id = "user-2", email = "a@example.com", name = "Bob" }
      assert.equal("user-2", User:find_by { email = "a@example.com" }.id)
    end)
  end)

  describe("get", function()
    before_each(function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice", age = 30 }
      User:create { id = "user-2", email = "b@example.com", name = "Bob", age = 25 }
      User:create { id = "user-3", email = "c@example.com", name = "Bob", age = 40 }
    end)

    it("finds a record by a table holding the key", function()
      local u = User:get { id = "user-2" }
      assert.equal("b@example.com", u.email)
    end)

    it("finds a record by the key value", function()
      assert.equal("Alice", User:get("user-1").name)
      assert.equal("Alice", User:get "user-1".name)
    end)

    it("returns nil when no record has the key", function()
      assert.is_nil(User:get("user-9"))
      assert.is_nil(User:get { id = "user-9" })
    end)

    it("returns the first match in insertion order for non-key fields", function()
      assert.equal("user-2", User:get { name = "Bob" }.id)
      assert.equal("user-3", User:get { name = "Bob", age = 40 }.id)
      assert.is_nil(User:get { name = "Carol" })
    end)

    it("accepts the conditions of where", function()
      assert.equal("user-3", User:get { age__gt = 30 }.id)
      assert.equal("user-1", User:get { age__in = { 30, 40 } }.id)
    end)

    it("requires the key and other fields to match together", function()
      assert.is_nil(User:get { id = "user-1", name = "Bob" })
      assert.equal("user-1", User:get { id = "user-1", name = "Alice" }.id)
    end)
  end)

  describe("find_by", function()
    before_each(function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice" }
      User:create { id = "user-2", email = "b@example.com", name = "Bob" }
      User:create { id = "user-3", email = "c@example.com", name = "Bob" }
    end)

    it("returns the first match", function()
      assert.equal("user-2", User:find_by { email = "b@example.com" }.id)
      assert.equal("user-2", User:find_by { name = "Bob" }.id)
    end)

    it("returns nil without a match", function()
      assert.is_nil(User:find_by { email = "z@example.com" })
    end)
  end)

  describe("where, all and count", function()
    before_each(function()
      User:create { id = "c", name = "Carol", age = 50 }
      User:create { id = "a", name = "Alice", age = 20 }
      User:create { id = "b", name = "Bob", age = 35 }
    end)

    it("returns every record in insertion order from all()", function()
      assert.same({ "c", "a", "b" }, ids(User:all()))
    end)

    it("returns an empty list when there are no records", function()
      backend:clear()
      assert.same({}, User:all())
      assert.equal(0, User:count())
    end)

    it("counts the records", function()
      assert.equal(3, User:count())
      User:get("a"):delete()
      assert.equal(2, User:count())
    end)

    it("puts a record created again after a delete at the end", function()
      User:get("c"):delete()
      User:create { id = "c", name = "Carol again" }
      assert.same({ "a", "b", "c" }, ids(User:all()))
    end)

    it("keeps order, count and lookups right through many inserts and deletes", function()
      backend:clear()
      local n = 3000
      for i = 1, n do User:create { id = "k" .. i, name = "N" .. i, age = i } end
      for i = 2, n, 2 do assert.is_true(User:get("k" .. i):delete()) end
      for i = 1, 100 do User:create { id = "again" .. i, name = "A" .. i } end
      assert.equal(n / 2 + 100, User:count())
      local list = User:all()
      assert.equal(n / 2 + 100, #list)
      for i = 1, n / 2 do
        assert.equal("k" .. (2 * i - 1), list[i].id)
      end
      assert.equal("again1", list[n / 2 + 1].id)
      assert.equal("again100", list[#list].id)
      for i = 1, n do
        local u = User:get("k" .. i)
        if i % 2 == 0 then assert.is_nil(u) else assert.equal(i, u.age) end
      end
      assert.equal(n / 2, User:where { age__gte = 1 }:count())
    end)

    it("builds a query with where", function()
      assert.same({ "c", "b" }, ids(User:where { age__gte = 30 }:all()))
      assert.equal(2, User:where { age__gte = 30 }:count())
    end)

    it("matches everything with an empty where", function()
      assert.same({ "c", "a", "b" }, ids(User:where():all()))
      assert.same({ "c", "a", "b" }, ids(User:where({}):all()))
    end)
  end)

  describe("create_many", function()
    it("stores every record and returns the instances", function()
      local list = User:create_many {
        { id = "a", name = "Alice" },
        { id = "b", name = "Bob" },
      }
      assert.equal(2, #list)
      assert.equal("a", list[1].id)
      assert.equal("Bob", list[2].name)
      assert.is_true(list[2]:is_persisted())
      assert.same({ "a", "b" }, ids(User:all()))
    end)

    it("stores nothing when one record is invalid", function()
      raises("ValidationError", User.create_many, User, {
        { id = "a", name = "Alice" },
        { id = "b", name = "Bob", age = -1 },
      })
      assert.equal(0, User:count())
    end)

    it("stores nothing when a key already exists", function()
      User:create { id = "b", name = "Old" }
      raises("DuplicateKeyError", User.create_many, User, {
        { id = "a", name = "Alice" },
        { id = "b", name = "Bob" },
      })
      assert.equal(1, User:count())
      assert.equal("Old", User:get("b").name)
    end)

    it("stores nothing when the batch repeats a key", function()
      raises("DuplicateKeyError", User.create_many, User, {
        { id = "a", name = "Alice" },
        { id = "a", name = "Again" },
      })
      assert.equal(0, User:count())
    end)

    it("stores nothing when the batch repeats a unique value", function()
      raises("DuplicateKeyError", User.create_many, User, {
        { id = "a", name = "Alice", email = "x@example.com" },
        { id = "b", name = "Bob", email = "x@example.com" },
      })
      assert.equal(0, User:count())
    end)
  end)

  describe("create_many after a failure", function()
    it("leaves no trace of the records it refused", function()
      User:create { id = "b", name = "Old", email = "b@example.com" }
      pcall(User.create_many, User, {
        { id = "a", name = "Alice", email = "a@example.com" },
        { id = "c", name = "Carol", email = "c@example.com" },
        { id = "b", name = "Bob" },
      })
      assert.same({ "b" }, ids(User:all()))
      User:create { id = "a", name = "Alice", email = "a@example.com" }
      User:create { id = "c", name = "Carol", email = "c@example.com" }
      assert.same({ "b", "a", "c" }, ids(User:all()))
    end)
  end)

  describe("get_many", function()
    before_each(function()
      User:create { id = "a", name = "Alice" }
      User:create { id = "b", name = "Bob" }
    end)

    it("returns a list aligned with the keys, nil for a missing one", function()
      local list = User:get_many { "b", "missing", "a" }
      assert.equal(3, list.n)
      assert.equal("Bob", list[1].name)
      assert.is_nil(list[2])
      assert.equal("Alice", list[3].name)
    end)

    it("sets n even when the last keys are missing", function()
      local list = User:get_many { "a", "x", "y" }
      assert.equal(3, list.n)
      assert.equal("a", list[1].id)
      assert.is_nil(list[3])
    end)

    it("returns an empty list for no keys", function()
      local list = User:get_many {}
      assert.equal(0, list.n)
      assert.is_nil(list[1])
    end)
  end)

  describe("unique fields", function()
    before_each(function()
      User:create { id = "user-1", email = "a@example.com", name = "Alice" }
    end)

    it("are enforced on create", function()
      raises("DuplicateKeyError", User.create, User, { id = "user-2", email = "a@example.com", name = "Bob" })
      assert.equal(1, User:count())
    end)

    it("are enforced on save of a new instance", function()
      local u = User { id = "user-2", email = "a@example.com", name = "Bob" }
      raises("DuplicateKeyError", u.save, u)
      assert.equal(1, User:count())
    end)

    it("are enforced on save of a changed instance", function()
      local bob = User:create { id = "user-2", email = "b@example.com", name = "Bob" }
      bob.email = "a@example.com"
      raises("DuplicateKeyError", bob.save, bob)
      assert.equal("b@example.com", User:get("user-2").email)
    end)

    it("are enforced on upsert", function()
      raises("DuplicateKeyError", User.upsert, User, { id = "user-2", email = "a@example.com", name = "Bob" })
      assert.equal(1, User:count())
      User:create { id = "user-3", email = "c@example.com", name = "Carol" }
      raises("DuplicateKeyError", User.upsert, User, { id = "user-3", email = "a@example.com", name = "Carol" })
      assert.equal("c@example.com", User:get("user-3").email)
    end)

    it("stay reserved for their owner after a refused save or upsert", function()
      local bob = User:create { id = "user-2", email = "b@example.com", name = "Bob" }
      bob.email = "a@example.com"
      pcall(bob.save, bob)
      pcall(User.upsert, User, { id = "user-2", email = "a@example.com", name = "Bob" })
      raises("DuplicateKeyError", User.create, User, { id = "user-3", email = "b@example.com", name = "Carol" })
      raises("DuplicateKeyError", User.create, User, { id = "user-3", email = "a@example.com", name = "Carol" })
      assert.equal("user-1", User:find_by { email = "a@example.com" }.id)
      assert.equal("user-2", User:find_by { email = "b@example.com" }.id)
    end)

    it("let a record keep its own value when saved again", function()
      local u = User:get("user-1")
      u.name = "Alicia"
      u:save()
      User:upsert { id = "user-1", email = "a@example.com", name = "Ally" }
      assert.equal("Ally", User:get("user-1").name)
    end)

    it("do not count nil values", function()
      User:create { id = "user-2", name = "Bob" }
      User:create { id = "user-3", name = "Carol" }
      assert.equal(3, User:count())
    end)

    it("free a value when its record changes it", function()
      local u = User:get("user-1")
      u.email = "new@example.com"
      u:save()
      User:create { id = "user-2", email = "a@example.com", name = "Bob" }
      assert.equal(2, User:count())
    end)

    it("free a value when its record is deleted", function()
      User:get("user-1"):delete()
      User:create { id = "user-2", email = "a@example.com", name = "Bob" }
      assert.equal("user-2", User:find_by { email = "a@example.com" }.id)
    end)
  end)
end)
