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

-- A Lua finalizer runs inside whatever allocation triggers the collector,
-- which can be the allocation of the instance a get or a query is
-- building: a finalizer that deletes the record being copied must not
-- leave a copy of freed memory (valgrind's run of the specs reads it).
describe("a finalizer that writes while an instance is built", function()
  local User
  local CHANGED = "BackendError: User: records changed while a query result was built"
  -- Records read until their finalizer runs: under valgrind (make
  -- memcheck) every collector cycle over busted's heap is slow, so fewer.
  local IDS = os.getenv("RESTMACHINE_ORM_MEMCHECK") and 3 or 20

  before_each(function()
    User = Model("User", {
      model_backend = orm.backends.InMemoryBackend(),
      id = Field.integer { primary_key = true },
      name = Field.string {},
    })
    for i = 1, 20 do User:create { id = i, name = "name " .. i } end
    -- A step of the collector on every allocation, so that a finalizer
    -- runs within a few hundred of the loops' allocations.
    collectgarbage("incremental", 0, 400)
  end)

  after_each(function()
    collectgarbage("incremental", 200, 100)
    collectgarbage()
  end)

  -- Arms a finalizer that deletes record id, then calls fetch() until it
  -- returns nil. Returns the errors it raised, the number of results that
  -- were not record id, and the number of calls. The loop allocates
  -- nothing of its own but an error's slot in the list.
  local function fetch_until_deleted(id, fetch)
    local errors, wrong = {}, 0
    setmetatable({}, { __gc = function()
      local u = User:get(id)
      if u then u:delete() end
    end })
    for calls = 1, 1e6 do
      local ok, u = pcall(fetch)
      if not ok then
        errors[#errors + 1] = tostring(u)
      elseif u == nil then
        return errors, wrong, calls
      elseif u.id ~= id then
        wrong = wrong + 1
      end
    end
    error("the finalizer did not run")
  end

  -- A get allocates nothing but the instance, so the finalizer runs in
  -- that allocation, just after the record was found.
  it("get looks the record up again and returns nil", function()
    for id = 1, IDS do
      local errors, wrong, calls = fetch_until_deleted(id, function() return User:get(id) end)
      assert.same({}, errors)
      assert.equal(0, wrong)
      assert.is_true(calls > 1)
    end
    assert.equal(20 - IDS, User:count())
  end)

  -- Whether the finalizer runs in the allocation of an instance or in one
  -- of the query's own is up to the collector: these check the outcome,
  -- not that the finalizer interrupted them.
  it("first() returns the record or raises, naming the model", function()
    for id = 1, IDS do
      local q = User:where { id = id }
      local errors, wrong = fetch_until_deleted(id, function() return q:first() end)
      for _, e in ipairs(errors) do assert.matches(CHANGED, e) end
      assert.equal(0, wrong)
    end
    assert.equal(20 - IDS, User:count())
  end)

  it("all() and paginate() return intact lists or raise", function()
    for id = 1, IDS do
      local errors, wrong = fetch_until_deleted(id, function()
        local list = User:where { id__gte = id }:all()
        local page, cursor = User:where { id__gte = id }:order_by("id"):paginate(2)
        for _, u in ipairs(list) do assert.equal("name " .. u.id, u.name) end
        assert.is_true(cursor == nil or #page == 2)
        if page[1] and page[1].id ~= id then return nil end
        return list[1]
      end)
      for _, e in ipairs(errors) do assert.matches(CHANGED, e) end
      assert.equal(0, wrong)
    end
    assert.equal(20 - IDS, User:count())
  end)

  it("q:update{} updates every match or, raising, none", function()
    local round = 0
    -- The names the records hold, read until no finalizer interrupts.
    local function names()
      local ok, list
      repeat ok, list = pcall(User.all, User) until ok
      local seen = {}
      for _, u in ipairs(list) do seen[u.name] = true end
      return seen
    end
    for id = 1, math.min(IDS, 5) do
      local errors = fetch_until_deleted(id, function()
        round = round + 1
        local ok, err = pcall(function() User:where { id__gte = 1 }:update { name = "round " .. round } end)
        local seen = names()
        local only = next(seen)
        assert.is_nil(next(seen, only), "a partial update")
        assert.equal(ok, only == "round " .. round, err)
        if not ok then error(err, 0) end
        return User:get(id)
      end)
      for _, e in ipairs(errors) do assert.matches(CHANGED, e) end
    end
    assert.equal(20 - math.min(IDS, 5), User:count())
  end)
end)
