-- The restmachine-orm "In-Memory Backend" documentation page, section by
-- section, in Lua. Each describe is one section of the page; each it is one
-- claim the page makes, checked against the Lua API of API.md.

local orm = require("restmachine_orm")
local testing = require("restmachine_orm.testing")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend
local InMemoryAdapter = orm.backends.InMemoryAdapter

-- Runs fn and returns whether it raised and what.
local function try(fn, ...)
  local ok, err = pcall(fn, ...)
  return ok, err
end

describe("In-Memory Backend", function()

  describe("Basic Usage", function()
    local backend, User

    before_each(function()
      -- Create backend
      backend = InMemoryBackend(InMemoryAdapter())
      User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        email = "string",
        name = "string",
      })
    end)

    it("creates a backend from an explicit adapter", function()
      local adapter = InMemoryAdapter()
      local b = InMemoryBackend(adapter)
      assert.equal(adapter, b.adapter)
      assert.equal("memory", b.backend_name)
    end)

    it("creates a backend with the default adapter", function()
      local b = InMemoryBackend()
      assert.is_not_nil(b.adapter)
      assert.equal("memory", b.backend_name)
    end)

    it("stores a user created with the dot form User.create{...}", function()
      local user = User.create { id = "user-1", email = "alice@example.com", name = "Alice" }
      assert.equal("user-1", user.id)
      assert.equal("alice@example.com", user.email)
      assert.equal("Alice", user.name)
      local again = User:get("user-1")
      assert.is_not_nil(again)
      assert.equal("Alice", again.name)
      assert.equal("alice@example.com", again.email)
    end)

    it("stores a user created with the colon form User:create{...}", function()
      local user = User:create { id = "user-2", email = "bob@example.com", name = "Bob" }
      assert.equal("Bob", user.name)
      assert.equal(1, User:count())
      assert.equal("bob@example.com", User:get("user-2").email)
    end)

    it("uses the model normally: get, update and delete", function()
      User:create { id = "user-1", email = "alice@example.com", name = "Alice" }
      local user = User:get { id = "user-1" }
      user.name = "Alice Smith"
      user:save()
      assert.equal("Alice Smith", User:get("user-1").name)
      assert.is_true(user:delete())
      assert.is_nil(User:get("user-1"))
    end)
  end)

  describe("Shared vs Isolated Backends", function()

    describe("Shared Backend", function()
      local shared_backend, User, TodoItem

      before_each(function()
        -- Shared across all models
        shared_backend = InMemoryBackend(InMemoryAdapter())
        User = Model("User", {
          model_backend = shared_backend,
          id = Field.string { primary_key = true },
          name = "string",
        })
        TodoItem = Model("TodoItem", {
          model_backend = shared_backend,
          id = Field.string { primary_key = true },
          title = "string",
        })
      end)

      it("lets both models use the same backend", function()
        local user = User.create { id = "user-1", name = "Alice" }
        local todo = TodoItem.create { id = "todo-1", title = "Task" }
        assert.equal(shared_backend, User.model_backend)
        assert.equal(shared_backend, TodoItem.model_backend)
        assert.equal("Alice", user.name)
        assert.equal("Task", todo.title)
        assert.equal(1, User:count())
        assert.equal(1, TodoItem:count())
      end)

      it("keeps each model's records apart", function()
        User:create { id = "user-1", name = "Alice" }
        User:create { id = "user-2", name = "Bob" }
        TodoItem:create { id = "todo-1", title = "Task" }
        assert.equal(2, #User:all())
        assert.equal(1, #TodoItem:all())
        assert.is_nil(User:get("todo-1"))
        assert.is_nil(TodoItem:get("user-1"))
      end)

      it("lets the same key live in two models without a clash", function()
        User:create { id = "same", name = "Alice" }
        local ok, err = try(TodoItem.create, { id = "same", title = "Task" })
        assert.is_true(ok, tostring(err))
        assert.equal("Alice", User:get("same").name)
        assert.equal("Task", TodoItem:get("same").title)
      end)
    end)

    describe("Isolated Backends", function()
      local User, TodoItem

      before_each(function()
        -- Each model has own storage
        User = Model("User", {
          model_backend = InMemoryBackend(InMemoryAdapter()),
          id = Field.string { primary_key = true },
          name = "string",
        })
        TodoItem = Model("TodoItem", {
          model_backend = InMemoryBackend(InMemoryAdapter()),
          id = Field.string { primary_key = true },
          title = "string",
        })
      end)

      it("gives each model its own backend", function()
        assert.is_not_nil(User.model_backend)
        assert.is_not_nil(TodoItem.model_backend)
        assert.are_not.equal(User.model_backend, TodoItem.model_backend)
      end)

      it("keeps the storages completely independent", function()
        User:create { id = "x", name = "Alice" }
        TodoItem:create { id = "x", title = "Task" }
        User.model_backend:clear()
        assert.equal(0, User:count())
        assert.equal(1, TodoItem:count())
        assert.equal("Task", TodoItem:get("x").title)
      end)

      it("never shows one backend's data to a model of the same name on another", function()
        local other = Model("User", {
          model_backend = InMemoryBackend(InMemoryAdapter()),
          id = Field.string { primary_key = true },
          name = "string",
        })
        User:create { id = "user-1", name = "Alice" }
        assert.equal(0, other:count())
        assert.is_nil(other:get("user-1"))
      end)
    end)
  end)

  describe("Clearing Data", function()
    local backend, User, TodoItem

    before_each(function()
      backend = InMemoryBackend(InMemoryAdapter())
      User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        name = "string",
      })
      TodoItem = Model("TodoItem", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        title = "string",
      })
      -- Create some data
      User.create { id = "user-1", name = "Alice" }
      User.create { id = "user-2", name = "Bob" }
      TodoItem.create { id = "todo-1", title = "Task" }
    end)

    it("clears one model with backend:clear(User)", function()
      assert.equal(2, User:where():count())
      backend:clear(User)
      assert.equal(0, User:where():count())
      assert.is_nil(User:get("user-1"))
    end)

    it("leaves the other models untouched when clearing one", function()
      backend:clear(User)
      assert.equal(1, TodoItem:where():count())
      assert.equal("Task", TodoItem:get("todo-1").title)
    end)

    it("clears all data with backend:clear()", function()
      backend:clear()
      assert.equal(0, User:where():count())
      assert.equal(0, TodoItem:where():count())
    end)

    it("accepts new records with the old keys after clearing", function()
      backend:clear()
      local ok, err = try(User.create, { id = "user-1", name = "Carol" })
      assert.is_true(ok, tostring(err))
      assert.equal("Carol", User:get("user-1").name)
      assert.equal(1, User:count())
    end)
  end)

  describe("Testing", function()

    describe("with a fresh backend and model per test", function()
      local backend, User

      -- The fixture of the page: a fresh backend and model before each
      -- test, and the backend cleared after it.
      before_each(function()
        backend = InMemoryBackend(InMemoryAdapter())
        User = Model("User", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          name = "string",
        })
      end)

      after_each(function()
        backend:clear()
      end)

      it("runs a user CRUD test on a fresh backend", function()
        assert.equal(0, User:count())
        local user = User.create { id = "user-1", name = "Alice" }
        assert.equal("Alice", user.name)
        user.name = "Alicia"
        user:save()
        assert.equal("Alicia", User:get("user-1").name)
        user:delete()
        assert.is_nil(User:get("user-1"))
      end)

      it("starts the next test empty again", function()
        assert.equal(0, User:count())
        local ok, err = try(User.create, { id = "user-1", name = "Alice" })
        assert.is_true(ok, tostring(err))
        assert.equal(1, User:count())
      end)
    end)

    describe("testing.each_backend", function()
      local seen = {}

      testing.each_backend(function(backend_name, new_backend)
        seen[#seen + 1] = backend_name
        local backend, User

        before_each(function()
          backend = new_backend()
          User = Model("User", {
            model_backend = backend,
            id = Field.string { primary_key = true },
            name = "string",
          })
        end)

        after_each(function()
          backend:clear()
        end)

        it("creates", function()
          assert.equal("Alice", User:create { id = "1", name = "Alice" }.name)
          assert.equal(1, User:count())
        end)

        it("hands each test a fresh, empty backend", function()
          assert.equal(0, User:count())
          assert.equal(backend_name, backend.backend_name)
        end)

        it("makes a new, independent backend on each call", function()
          local a, b = new_backend(), new_backend()
          assert.are_not.equal(a, b)
          local A = Model("User", { model_backend = a, id = Field.string { primary_key = true } })
          local B = Model("User", { model_backend = b, id = Field.string { primary_key = true } })
          A:create { id = "only-in-a" }
          assert.equal(1, A:count())
          assert.equal(0, B:count())
          a:clear()
          b:clear()
        end)
      end)

      it("runs the block for the memory backend", function()
        local found = false
        for _, name in ipairs(seen) do
          if name == "memory" then found = true end
        end
        assert.is_true(found)
      end)
    end)
  end)

  describe("Performance #perf", function()
    -- Create, get, update and delete are O(1): their cost must not grow with
    -- the number of records already stored. Timing K operations on a table
    -- of 1,000 records and on one of 100,000 must give about the same figure;
    -- a scan would make the second a hundred times slower.
    local K = 5000
    local SMALL, LARGE = 1000, 100000

    local function declare()
      local backend = InMemoryBackend(InMemoryAdapter())
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        email = "string",
        name = "string",
      })
      return backend, User
    end

    local function fill(User, n)
      for i = 1, n do
        User:create { id = "user-" .. i, email = "u" .. i .. "@example.com", name = "User " .. i }
      end
    end

    -- Times each phase on a table of n records; keeps the best of three runs.
    local function measure(n)
      local backend, User = declare()
      fill(User, n)
      local best = { create = math.huge, get = math.huge, update = math.huge, delete = math.huge }
      local function clock(phase, fn)
        collectgarbage()
        local t0 = os.clock()
        fn()
        local dt = os.clock() - t0
        if dt < best[phase] then best[phase] = dt end
      end
      for _ = 1, 3 do
        local made = {}
        clock("create", function()
          for i = 1, K do
            made[i] = User:create { id = "new-" .. i, email = "n" .. i .. "@example.com", name = "New" }
          end
        end)
        clock("get", function()
          for i = 1, K do
            assert(User:get("user-" .. ((i * 7919) % n + 1)))
          end
        end)
        clock("update", function()
          for i = 1, K do
            local u = User:get("new-" .. i)
            u.name = "Renamed " .. i
            u:save()
          end
        end)
        clock("delete", function()
          for i = 1, K do
            assert(made[i]:delete())
          end
        end)
        assert.equal(n, User:count())
      end
      backend:clear()
      return best
    end

    local small, large

    setup(function()
      small = measure(SMALL)
      large = measure(LARGE)
    end)

    for _, phase in ipairs({ "create", "get", "update", "delete" }) do
      it(phase .. " costs about the same on 100,000 records as on 1,000", function()
        local s, l = small[phase], large[phase]
        assert.is_true(l < 5 * s + 0.01,
          string.format("%s: %d ops took %.4fs at %d records, %.4fs at %d records",
            phase, K, s, SMALL, l, LARGE))
      end)
    end
  end)
end)
