-- Running out of memory (API.md §10: "An operation that raises changes
-- nothing in the store"): the engine's allocator is capped through the
-- testing helper, and every write that cannot get its memory must fail with
-- a BackendError and leave records, order and unique values as they were.
local orm = require("restmachine_orm")
local testing = require("restmachine_orm.testing")
local Model, Field = orm.Model, orm.Field

local function snapshot(User)
  local out = {}
  for i, u in ipairs(User:all()) do out[i] = tostring(u) end
  return out
end

describe("out of memory", function()
  local backend, User

  before_each(function()
    backend = orm.backends.InMemoryBackend()
    User = Model("User", {
      model_backend = backend,
      id = Field.string { primary_key = true },
      email = Field.string { unique = true },
      age = Field.integer { optional = true },
    })
    for i = 1, 50 do User:create { id = "u" .. i, email = i .. "@x.io", age = i } end
  end)

  after_each(function()
    testing.set_memory_limit(backend, 0)
  end)

  it("fails a create with a BackendError and stores nothing", function()
    testing.set_memory_limit(backend, backend:stats().bytes)
    local before = snapshot(User)
    local ok, err = pcall(User.create, User, { id = "new", email = "new@x.io" })
    assert.is_false(ok)
    assert.equal("BackendError", err.name)
    assert.truthy(err.message:find("User", 1, true))
    assert.same(before, snapshot(User))
    assert.is_nil(User:get("new"))
  end)

  it("leaves records, order and bytes as they were at every cap a write can hit", function()
    local writes = {
      function(i) User:create { id = "n" .. i, email = "n" .. i .. "@x.io" } end,
      function(i) User:upsert { id = "u7", email = "seven" .. i .. "@x.io", age = i } end,
      function(i) local u = User:get("u9"); u.email = "nine" .. i .. "@x.io"; u:save() end,
    }
    local failures, successes = 0, 0
    for extra = 0, 2048, 16 do
      for w, write in ipairs(writes) do
        testing.set_memory_limit(backend, backend:stats().bytes + extra)
        local before, bytes = snapshot(User), backend:stats().bytes
        local ok, err = pcall(write, extra * 10 + w)
        testing.set_memory_limit(backend, 0)
        if ok then
          successes = successes + 1
        else
          failures = failures + 1
          assert.equal("BackendError", err.name, tostring(err))
          assert.same(before, snapshot(User))
          assert.equal(bytes, backend:stats().bytes)
        end
      end
    end
    assert.is_true(failures > 0, "no cap was ever hit")
    assert.is_true(successes > 0, "no write ever succeeded")
  end)

  it("accepts the same write once memory is available again", function()
    testing.set_memory_limit(backend, backend:stats().bytes)
    assert.has_error(function() User:create { id = "late", email = "late@x.io" } end)
    testing.set_memory_limit(backend, 0)
    User:create { id = "late", email = "late@x.io" }
    assert.equal("late@x.io", User:get("late").email)
  end)
end)
