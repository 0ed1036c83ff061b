-- Loading the module (API.md section 1) and the in-memory backend object
-- (section 2): construction, isolation, clear() and stats().

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend
local InMemoryAdapter = orm.backends.InMemoryAdapter

local function user_model(backend, name)
  return Model(name or "User", {
    model_backend = backend,
    id = Field.string { primary_key = true },
    email = Field.string { unique = true, optional = true },
    name = "string",
  })
end

describe("require('restmachine_orm')", function()
  it("exposes Model, Field and the backends table", function()
    assert.is_not_nil(orm.Model)
    assert.is_not_nil(orm.Field)
    assert.is_table(orm.backends)
    assert.is_not_nil(orm.backends.InMemoryBackend)
    assert.is_not_nil(orm.backends.InMemoryAdapter)
  end)

  it("returns the same table as require('restmachine_orm.backends') for orm.backends", function()
    assert.equal(orm.backends, require("restmachine_orm.backends"))
  end)

  it("returns the same module when required twice", function()
    assert.equal(orm, require("restmachine_orm"))
  end)

  it("sets no globals", function()
    assert.is_nil(rawget(_G, "restmachine_orm"))
    assert.is_nil(rawget(_G, "Model"))
    assert.is_nil(rawget(_G, "Field"))
  end)
end)

describe("InMemoryBackend", function()

  describe("construction", function()
    it("keeps the adapter it is given", function()
      local adapter = InMemoryAdapter()
      local backend = InMemoryBackend(adapter)
      assert.equal(adapter, backend.adapter)
    end)

    it("makes a default adapter when none is given", function()
      local backend = InMemoryBackend()
      assert.is_not_nil(backend.adapter)
    end)

    it("is named memory", function()
      assert.equal("memory", InMemoryBackend().backend_name)
      assert.equal("memory", InMemoryBackend(InMemoryAdapter()).backend_name)
    end)

    it("makes a distinct backend on each call", function()
      assert.are_not.equal(InMemoryBackend(), InMemoryBackend())
    end)
  end)

  describe("isolation", function()
    it("keeps the records of several models on one backend apart", function()
      local backend = InMemoryBackend()
      local User = user_model(backend, "User")
      local Admin = user_model(backend, "Admin")
      User:create { id = "1", name = "Alice" }
      Admin:create { id = "1", name = "Root" }
      Admin:create { id = "2", name = "Other" }
      assert.equal(1, User:count())
      assert.equal(2, Admin:count())
      assert.equal("Alice", User:get("1").name)
      assert.equal("Root", Admin:get("1").name)
    end)

    it("never lets two backends see each other's data", function()
      local a, b = InMemoryBackend(), InMemoryBackend()
      local UserA, UserB = user_model(a), user_model(b)
      UserA:create { id = "1", name = "Alice", email = "a@example.com" }
      assert.equal(0, UserB:count())
      assert.is_nil(UserB:get("1"))
      -- Neither the key nor the unique value is taken in the other backend.
      UserB:create { id = "1", name = "Bob", email = "a@example.com" }
      assert.equal("Alice", UserA:get("1").name)
      assert.equal("Bob", UserB:get("1").name)
    end)

    it("keeps unique values apart per model on a shared backend", function()
      local backend = InMemoryBackend()
      local User = user_model(backend, "User")
      local Admin = user_model(backend, "Admin")
      User:create { id = "1", name = "Alice", email = "a@example.com" }
      local ok, err = pcall(Admin.create, Admin, { id = "2", name = "Root", email = "a@example.com" })
      assert.is_true(ok, tostring(err))
    end)
  end)

  describe("clear", function()
    local backend, User, Admin

    before_each(function()
      backend = InMemoryBackend()
      User = user_model(backend, "User")
      Admin = user_model(backend, "Admin")
      User:create { id = "1", name = "Alice", email = "a@example.com" }
      User:create { id = "2", name = "Bob" }
      Admin:create { id = "1", name = "Root" }
    end)

    it("drops every record of the model it is given", function()
      backend:clear(User)
      assert.equal(0, User:count())
      assert.same({}, User:all())
      assert.is_nil(User:get("1"))
    end)

    it("leaves other models' records untouched", function()
      backend:clear(User)
      assert.equal(1, Admin:count())
      assert.equal("Root", Admin:get("1").name)
    end)

    it("drops every record of every model when given no model", function()
      backend:clear()
      assert.equal(0, User:count())
      assert.equal(0, Admin:count())
    end)

    it("frees the keys and unique values of the cleared records", function()
      backend:clear(User)
      User:create { id = "1", name = "Carol", email = "a@example.com" }
      assert.equal("Carol", User:get("1").name)
    end)

    it("leaves the backend usable for new records", function()
      backend:clear()
      User:create { id = "3", name = "Dave" }
      Admin:create { id = "3", name = "Eve" }
      assert.equal(1, User:count())
      assert.equal(1, Admin:count())
    end)
  end)

  describe("stats", function()
    local backend, User, Admin

    before_each(function()
      backend = InMemoryBackend()
      User = user_model(backend, "User")
      Admin = user_model(backend, "Admin")
    end)

    local function add_users(from, to)
      for i = from, to do
        User:create { id = "user-" .. i, name = "User number " .. i, email = "u" .. i .. "@example.com" }
      end
    end

    it("counts every record of the backend", function()
      add_users(1, 3)
      Admin:create { id = "a", name = "Root" }
      local stats = backend:stats()
      assert.equal(4, stats.records)
    end)

    it("counts records per model name", function()
      add_users(1, 3)
      Admin:create { id = "a", name = "Root" }
      local stats = backend:stats()
      assert.equal(3, stats.models.User)
      assert.equal(1, stats.models.Admin)
    end)

    it("follows deletes", function()
      add_users(1, 3)
      User:get("user-2"):delete()
      local stats = backend:stats()
      assert.equal(2, stats.records)
      assert.equal(2, stats.models.User)
    end)

    it("reports the bytes held by the store, growing with the records", function()
      add_users(1, 10)
      local before = backend:stats().bytes
      assert.is_number(before)
      assert.is_true(before > 0)
      add_users(11, 1010)
      local after = backend:stats().bytes
      -- A thousand records of three strings each cannot take fewer than
      -- 20 bytes apiece.
      assert.is_true(after > before + 20 * 1000,
        string.format("bytes went from %d to %d", before, after))
    end)

    it("reports fewer bytes after deletes", function()
      add_users(1, 1000)
      local full = backend:stats().bytes
      for i = 1, 1000 do User:get("user-" .. i):delete() end
      local after = backend:stats().bytes
      assert.is_true(after < full - 20 * 1000,
        string.format("bytes went from %d to %d", full, after))
    end)

    it("follows the size of updated values", function()
      add_users(1, 10)
      local before = backend:stats().bytes
      local u = User:get("user-1")
      u.name = string.rep("x", 10000)
      u:save()
      local grown = backend:stats().bytes
      assert.is_true(grown >= before + 9000, string.format("%d -> %d", before, grown))
      u.name = "short"
      u:save()
      assert.is_true(backend:stats().bytes < grown - 9000)
    end)

    it("reports fewer bytes after clear", function()
      add_users(1, 1000)
      local full = backend:stats().bytes
      backend:clear()
      local stats = backend:stats()
      assert.is_true(stats.bytes < full,
        string.format("bytes went from %d to %d", full, stats.bytes))
      assert.equal(0, stats.records)
    end)

    it("reports fewer bytes after clearing one model", function()
      add_users(1, 1000)
      Admin:create { id = "a", name = "Root" }
      local full = backend:stats().bytes
      backend:clear(User)
      local stats = backend:stats()
      assert.is_true(stats.bytes < full)
      assert.equal(1, stats.records)
      assert.equal(1, stats.models.Admin)
    end)

    it("counts each backend on its own", function()
      add_users(1, 5)
      local other = InMemoryBackend()
      user_model(other):create { id = "x", name = "X" }
      assert.equal(5, backend:stats().records)
      assert.equal(1, other:stats().records)
    end)
  end)
end)
