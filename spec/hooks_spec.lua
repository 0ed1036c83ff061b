-- Hooks (API.md section 7, issue 4): before_save, after_save, after_load,
-- before_delete and after_delete, as functions or lists in the spec and
-- appended with User:before_save(fn) (and the dot form); their order (mixin
-- hooks, then the model's, then appended ones); when they run (create,
-- save, upsert, create_many, q:update, u:delete, q:delete, every load);
-- what their changes do; their errors (re-raised unchanged, nothing stored
-- for before_* hooks, the write kept for after_* hooks); hooks that read
-- and write the store, and delete records while a query loads.
-- Ported in spirit from restmachine-orm's tests/test_callbacks.py (and the
-- callback part of tests/test_decorators.py).

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local catch, text, expect, ids, after = support.catch, support.text, support.expect, support.ids, support.after

describe("Hooks", function()
  local backend

  before_each(function()
    backend = InMemoryBackend()
  end)

  -- A model whose hooks write what they see into `log`.
  local function logged_user(log, extra)
    local spec = {
      model_backend = backend,
      id = Field.string { primary_key = true },
      email = Field.string { optional = true },
      name = "string",
      before_save = function(u) log[#log + 1] = "before_save:" .. u.id end,
      after_save = function(u) log[#log + 1] = "after_save:" .. u.id end,
      after_load = function(u) log[#log + 1] = "after_load:" .. u.id end,
      before_delete = function(u) log[#log + 1] = "before_delete:" .. u.id end,
      after_delete = function(u) log[#log + 1] = "after_delete:" .. u.id end,
    }
    for k, v in pairs(extra or {}) do spec[k] = v end
    return Model("User", spec)
  end

  describe("declaration", function()
    it("accepts a function for every hook", function()
      local log = {}
      local User = logged_user(log)
      local u = User:create { id = "1", name = "Alice" }
      User:get "1"
      u:delete()
      assert.same({ "before_save:1", "after_save:1", "after_load:1", "before_delete:1", "after_delete:1" }, log)
    end)

    it("accepts a list of functions, run in order", function()
      local log = {}
      local function step(name) return function() log[#log + 1] = name end end
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        before_save = { step("before_1"), step("before_2") },
        after_save = { step("after_1"), step("after_2") },
      })
      User:create { id = "1" }
      assert.same({ "before_1", "before_2", "after_1", "after_2" }, log)
    end)

    it("accepts an empty list", function()
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        before_save = {},
      })
      assert.equal("1", User:create { id = "1" }.id)
    end)

    it("accepts a callable table as a hook in the spec", function()
      local calls = 0
      local hook = setmetatable({}, { __call = function(_, u) calls = calls + 1 end })
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        before_save = hook,
      })
      User:create { id = "1" }
      assert.equal(1, calls)
    end)

    it("accepts callable tables in a list", function()
      local calls = 0
      local hook = setmetatable({}, { __call = function(_, u) calls = calls + 1 end })
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        after_save = { hook, hook },
      })
      User:create { id = "1" }
      assert.equal(2, calls)
    end)

    for _, kind in ipairs({ "before_save", "after_save", "after_load", "before_delete", "after_delete" }) do
      it("refuses a non-callable " .. kind .. " hook with a ConfigurationError", function()
        for _, bad in ipairs({ 42, "log_save", true }) do
          local err = catch(Model, "User", {
            model_backend = backend,
            id = Field.string { primary_key = true },
            [kind] = bad,
          })
          expect("ConfigurationError", err, "User", kind)
        end
      end)

      it("refuses a non-callable entry in a " .. kind .. " list", function()
        local err = catch(Model, "User", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          [kind] = { function() end, "notify" },
        })
        expect("ConfigurationError", err, "User", kind)
      end)

      it("refuses a non-callable hook appended with User:" .. kind, function()
        local User = Model("User", { model_backend = backend, id = Field.string { primary_key = true } })
        expect("ConfigurationError", catch(function() User[kind](User, 42) end), "User", kind)
        expect("ConfigurationError", catch(function() User[kind]("fn") end), "User", kind)
        expect("ConfigurationError", catch(function() User[kind](User, nil) end), "User", kind)
        -- nothing was appended: saving and loading still work
        User:create { id = "1" }
        assert.equal(1, User:count())
        User:get("1"):delete()
        assert.equal(0, User:count())
      end)
    end
  end)

  describe("appending", function()
    it("appends with User:before_save(fn) after the declared hooks", function()
      local log = {}
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        before_save = function() log[#log + 1] = "declared" end,
      })
      User:before_save(function() log[#log + 1] = "appended_1" end)
      User:before_save(function() log[#log + 1] = "appended_2" end)
      User:create { id = "1" }
      assert.same({ "declared", "appended_1", "appended_2" }, log)
    end)

    it("accepts the dot form User.before_save(fn)", function()
      local log = {}
      local User = Model("User", { model_backend = backend, id = Field.string { primary_key = true } })
      User.before_save(function() log[#log + 1] = "dot" end)
      User:before_save(function() log[#log + 1] = "colon" end)
      User:create { id = "1" }
      assert.same({ "dot", "colon" }, log)
    end)

    it("appends every kind of hook", function()
      local log = {}
      local User = Model("User", { model_backend = backend, id = Field.string { primary_key = true } })
      for _, kind in ipairs({ "before_save", "after_save", "after_load", "before_delete", "after_delete" }) do
        User[kind](User, function(u) log[#log + 1] = kind .. ":" .. u.id end)
      end
      User:create { id = "1" }
      User:get("1"):delete()
      assert.same({ "before_save:1", "after_save:1", "after_load:1", "before_delete:1", "after_delete:1" }, log)
    end)

    it("returns the model so appends can be chained", function()
      local User = Model("User", { model_backend = backend, id = Field.string { primary_key = true } })
      assert.equal(User, User:before_save(function() end))
    end)

    it("applies to a model that had no hooks, and to instances made before", function()
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        name = "string",
      })
      local early = User { id = "1", name = "Alice" }
      local stored = User:create { id = "2", name = "Bob" }
      User:before_save(function(u) u.name = u.name .. "!" end)
      early:save()
      stored.name = "Bobby"
      stored:save()
      assert.equal("Alice!", User:get("1").name)
      assert.equal("Bobby!", User:get("2").name)
    end)

    it("applies an appended after_load to every later load", function()
      local loads = 0
      local User = Model("User", { model_backend = backend, id = Field.string { primary_key = true } })
      User:create { id = "1" }
      User:get "1"
      assert.equal(0, loads)
      User:after_load(function() loads = loads + 1 end)
      User:get "1"
      User:all()
      assert.equal(2, loads)
    end)
  end)

  -- A function kept in a local before a hook is appended (or before a
  -- backend brings extensions) is still the model's: `local create =
  -- User.create` taken while User had no hooks runs the hooks appended
  -- later, as User.create does.
  describe("functions kept from before a hook is appended", function()
    local User, Raw, log

    -- Raw reads what is stored: same name and fields, no hooks.
    before_each(function()
      local function spec()
        return { model_backend = backend, id = Field.string { primary_key = true }, name = "string" }
      end
      User, Raw, log = Model("User", spec()), Model("User", spec()), {}
    end)

    local function note(kind) return function(u) log[#log + 1] = kind .. ":" .. u.id end end

    local function mark_on_save()
      User:before_save(function(u) u.name = u.name .. "!"; log[#log + 1] = "before_save:" .. u.id end)
      User:after_save(note("after_save"))
    end

    it("create runs before_save and after_save appended later, the change stored", function()
      local create = User.create
      mark_on_save()
      local u = create { id = "1", name = "a" }
      assert.equal("a!", u.name)
      assert.is_true(u:is_persisted())
      create(User, { id = "2", name = "b" })
      assert.same({ "before_save:1", "after_save:1", "before_save:2", "after_save:2" }, log)
      assert.equal("a!", Raw:get("1").name)
      assert.equal("b!", Raw:get("2").name)
    end)

    it("upsert runs before_save and after_save appended later, the change stored", function()
      local upsert = User.upsert
      Raw:create { id = "1", name = "old" }
      mark_on_save()
      upsert { id = "1", name = "a" }
      upsert(User, { id = "2", name = "b" })
      assert.same({ "before_save:1", "after_save:1", "before_save:2", "after_save:2" }, log)
      assert.equal("a!", Raw:get("1").name)
      assert.equal("b!", Raw:get("2").name)
    end)

    it("get runs after_load appended later, by key and by table", function()
      local get = User.get
      Raw:create { id = "1", name = "a" }
      User:after_load(note("after_load"))
      assert.equal("a", get("1").name)
      get(User, "1")
      get { id = "1" }
      get { name = "a" }
      assert.is_nil(get("2"))
      assert.same({ "after_load:1", "after_load:1", "after_load:1", "after_load:1" }, log)
    end)

    it("u.save runs before_save and after_save appended later, the change stored", function()
      local fresh, stored = User { id = "1", name = "a" }, User:create { id = "2", name = "b" }
      local save_fresh, save_stored = fresh.save, stored.save
      mark_on_save()
      assert.is_true(rawequal(fresh, save_fresh(fresh)))
      stored.name = "c"
      save_stored(stored)
      assert.same({ "before_save:1", "after_save:1", "before_save:2", "after_save:2" }, log)
      assert.equal("a!", Raw:get("1").name)
      assert.equal("c!", Raw:get("2").name)
    end)

    it("u.delete runs before_delete and after_delete appended later", function()
      local u = User:create { id = "1", name = "a" }
      local delete = u.delete
      User:before_delete(function(x)
        log[#log + 1] = "before_delete:" .. x.id .. (Raw:get(x.id) and " stored" or " gone")
      end)
      User:after_delete(function(x)
        log[#log + 1] = "after_delete:" .. x.id .. (Raw:get(x.id) and " stored" or " gone")
      end)
      assert.is_true(delete(u))
      assert.same({ "before_delete:1 stored", "after_delete:1 gone" }, log)
      assert.equal(0, Raw:count())
    end)

    it("u.reload runs after_load appended later", function()
      local u = User:create { id = "1", name = "a" }
      local reload = u.reload
      User:after_load(function(x) x.name = x.name .. "?"; log[#log + 1] = "after_load:" .. x.id end)
      Raw:get("1"):delete()
      Raw:create { id = "1", name = "b" }
      assert.is_true(rawequal(u, reload(u)))
      assert.equal("b?", u.name)
      assert.same({ "after_load:1" }, log)
    end)

    it("re-raise a hook's error unchanged and store nothing", function()
      local create, upsert = User.create, User.upsert
      local u = User:create { id = "1", name = "a" }
      local save = u.save
      local refusal = { "refused" }
      User:before_save(function() error(refusal) end)
      assert.is_true(rawequal(refusal, catch(create, { id = "2", name = "b" })))
      assert.is_true(rawequal(refusal, catch(upsert, { id = "1", name = "b" })))
      u.name = "b"
      assert.is_true(rawequal(refusal, catch(save, u)))
      assert.equal(1, Raw:count())
      assert.equal("a", Raw:get("1").name)
    end)

    it("raise the errors they raised before, once hooks are appended", function()
      local create, upsert, get = User.create, User.upsert, User.get
      local u = User:create { id = "1", name = "a" }
      local save, delete, reload = u.save, u.delete, u.reload
      mark_on_save()
      User:after_load(note("after_load"))
      User:before_delete(note("before_delete"))
      local err = catch(create, 5)
      expect("ValidationError", err)
      assert.equal("User:create expects a table of field values, got number", err.message)
      err = catch(upsert, User, "x")
      assert.equal("User:upsert expects a table of field values, got string", err.message)
      expect("ValidationError", catch(create, { id = "2", name = 5 }), "User", "name")
      expect("DuplicateKeyError", catch(create, { id = "1", name = "b" }), "User", "1")
      local Other = Model("Other", { model_backend = backend, id = Field.string { primary_key = true } })
      local o = Other:create { id = "o" }
      for method, fn in pairs { save = save, delete = delete, reload = reload } do
        err = catch(fn, o)
        expect("ConfigurationError", err)
        assert.equal(("User: %s expects an instance of User, got one of Other"):format(method), err.message)
      end
      expect("NotFoundError", catch(reload, User { id = "9", name = "x" }), "User", "9")
      local Lost = Model("Lost", { id = Field.string { primary_key = true } })
      local lost_get = Lost.get
      Lost:after_load(function() end)
      expect("ConfigurationError", catch(lost_get, "1"), "Lost", "backend")
      assert.same({ "before_save:1" }, log) -- the duplicate, refused by the store
      assert.equal("a", get("1").name)
      assert.same({ "before_save:1", "after_load:1" }, log)
    end)

    it("keep working through the C paths in a model that never gets hooks", function()
      local create, upsert, get = User.create, User.upsert, User.get
      local u = create { id = "1", name = "a" }
      upsert(User, { id = "2", name = "b" })
      local save, delete, reload = u.save, u.delete, u.reload
      u.name = "c"
      assert.is_true(rawequal(u, save(u)))
      assert.equal("c", get("1").name)
      assert.equal("b", get(User, { id = "2" }).name)
      u.name = "d"
      assert.equal("c", reload(u).name)
      assert.is_true(delete(u))
      assert.is_false(delete(u))
      assert.is_nil(get("1"))
      -- Another model's hooks change nothing here.
      local Other = Model("Other", { model_backend = backend, id = Field.string { primary_key = true } })
      Other:before_save(note("other"))
      create { id = "3", name = "e" }
      assert.same({}, log)
      assert.equal(2, Raw:count())
    end)

    -- Extensions apply from the moment the model has a backend: a model
    -- declared without one goes through its extensions once it gets one.
    it("run the extensions a backend brings, set after they were kept", function()
      local calls = {}
      local ext = {
        serialize = function(d) calls[#calls + 1] = "serialize"; d.name = d.name .. "+"; return d end,
        deserialize = function(d) calls[#calls + 1] = "deserialize"; d.name = d.name:gsub("%+$", ""); return d end,
      }
      local Item = Model("Item", { mixins = { { extensions = { ["*"] = ext } } },
                                   id = Field.string { primary_key = true }, name = "string" })
      local RawItem = Model("Item", { model_backend = backend, id = Field.string { primary_key = true },
                                      name = "string" })
      local create, upsert, get = Item.create, Item.upsert, Item.get
      local u = Item { id = "3", name = "c" }
      local save = u.save
      Item.model_backend = backend
      create { id = "1", name = "a" }
      upsert { id = "2", name = "b" }
      save(u)
      assert.same({ "serialize", "serialize", "serialize" }, calls)
      assert.equal("a+", RawItem:get("1").name)
      assert.equal("b+", RawItem:get("2").name)
      assert.equal("c+", RawItem:get("3").name)
      assert.equal("a", get("1").name)
      local reload = u.reload
      Item.model_backend = nil -- back to the C paths, and the backend again
      Item.model_backend = backend
      assert.equal("c", reload(u).name)
      assert.same({ "serialize", "serialize", "serialize", "deserialize", "deserialize" }, calls)
    end)

    it("get applies the modify_query of a backend set after it was kept", function()
      local Item = Model("Item", {
        extensions = { memory = { modify_query = function(q) return q:where { name = "shown" } end } },
        id = Field.string { primary_key = true }, name = "string",
      })
      local get = Item.get
      Item.model_backend = backend
      Item:create { id = "1", name = "hidden" }
      Item:create { id = "2", name = "shown" }
      assert.is_nil(get("1"))
      assert.equal("shown", get("2").name)
      assert.is_nil(get { id = "1" })
    end)
  end)

  describe("order", function()
    it("runs mixin hooks first, then the model's, then appended ones", function()
      local log = {}
      local function step(name) return function() log[#log + 1] = name end end
      local First = { before_save = step("mixin_1"), after_save = { step("mixin_1_after") } }
      local Second = { before_save = { step("mixin_2a"), step("mixin_2b") } }
      local User = Model("User", {
        model_backend = backend,
        mixins = { First, Second },
        id = Field.string { primary_key = true },
        before_save = { step("model_a"), step("model_b") },
        after_save = step("model_after"),
      })
      User:before_save(step("appended"))
      User:after_save(step("appended_after"))
      User:create { id = "1" }
      assert.same({
        "mixin_1", "mixin_2a", "mixin_2b", "model_a", "model_b", "appended",
        "mixin_1_after", "model_after", "appended_after",
      }, log)
    end)

    it("runs every before_save, then storage, then every after_save", function()
      local seen = {}
      local User
      User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        before_save = {
          function(u) seen[#seen + 1] = "before_1 stored=" .. tostring(User:get(u.id) ~= nil) end,
          function(u) seen[#seen + 1] = "before_2 stored=" .. tostring(User:get(u.id) ~= nil) end,
        },
        after_save = {
          function(u) seen[#seen + 1] = "after_1 stored=" .. tostring(User:get(u.id) ~= nil) end,
          function(u) seen[#seen + 1] = "after_2 stored=" .. tostring(User:get(u.id) ~= nil) end,
        },
      })
      User:create { id = "1" }
      assert.same({
        "before_1 stored=false", "before_2 stored=false", "after_1 stored=true", "after_2 stored=true",
      }, seen)
    end)

    it("runs before_delete while the record exists and after_delete once it is gone", function()
      local seen = {}
      local User
      User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        before_delete = function(u) seen[#seen + 1] = User:get(u.id) ~= nil end,
        after_delete = function(u) seen[#seen + 1] = User:get(u.id) ~= nil end,
      })
      User:create { id = "1" }:delete()
      assert.same({ true, false }, seen)
    end)
  end)

  describe("before_save", function()
    local User, calls

    before_each(function()
      calls = 0
      User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        name = "string",
        slug = Field.string { optional = true },
        version = Field.integer { default = 0 },
        before_save = function(u)
          calls = calls + 1
          u.slug = u.name:lower():gsub(" ", "-")
          u.version = u.version + 1
        end,
      })
    end)

    it("runs on create and its changes are stored", function()
      local u = User:create { id = "1", name = "Alice Smith" }
      assert.equal(1, calls)
      assert.equal("alice-smith", u.slug)
      assert.equal(1, u.version)
      local stored = User:get "1"
      assert.equal("alice-smith", stored.slug)
      assert.equal(1, stored.version)
    end)

    -- API.md: before_save runs "before validation and storage", so it may
    -- set a required field, the primary key included (a generated id).
    it("may set required fields on create, upsert and create_many, before they are checked", function()
      local n = 0
      local Page = Model("Page", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        title = "string",
        slug = Field.string { pattern = "^[a-z-]+$" },
        before_save = function(p)
          if p.id == nil then n = n + 1; p.id = "page-" .. n end
          p.slug = p.slug or p.title:lower():gsub(" ", "-")
        end,
      })
      local p = Page:create { title = "Hello World" }
      assert.same({ id = "page-1", title = "Hello World", slug = "hello-world" }, Page:get("page-1"):to_table())
      assert.is_true(p:is_persisted())
      Page:upsert { id = "page-1", title = "Second Title" }
      assert.equal("second-title", Page:get("page-1").slug)
      local list = Page:create_many { { title = "A b" }, { title = "C", slug = "given" } }
      assert.same({ "page-2", "page-3" }, ids(list))
      assert.equal("a-b", Page:get("page-2").slug)
      assert.equal("given", Page:get("page-3").slug)
      -- The value a hook sets is checked like any other.
      local err = expect("ValidationError", catch(Page.create, Page, { title = "Bad 1" }), "Page", "slug")
      assert.equal("pattern", err.errors[1].code)
      assert.equal(3, Page:count())
    end)

    it("leaves a required field it does not set to the check, which names every one", function()
      local Page = Model("Page", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        title = "string",
        slug = "string",
        before_save = function() end,
      })
      for _, call in ipairs {
        function() return Page:create {} end,
        function() return Page:upsert { id = "1" } end,
        function() return Page:create_many { { id = "2", title = "t", slug = "s" }, { title = "t" } } end,
      } do
        local err = expect("ValidationError", catch(call), "Page")
        for _, e in ipairs(err.errors) do assert.equal("required", e.code, text(err)) end
        assert.is_true(#err.errors >= 1)
      end
      local err = catch(Page.create, Page, {})
      assert.equal(3, #err.errors)
      assert.equal(0, Page:count())
      -- Building an instance still checks at once (API.md §4).
      expect("ValidationError", catch(Page, { id = "1" }), "Page", "title")
    end)

    it("runs on save of a new instance", function()
      local u = User { id = "1", name = "Alice" }
      assert.equal(0, calls)
      assert.is_nil(u.slug)
      u:save()
      assert.equal(1, calls)
      assert.equal("alice", User:get("1").slug)
    end)

    it("runs on save of a stored instance", function()
      local u = User:create { id = "1", name = "Alice" }
      u.name = "Alice Smith"
      u:save()
      assert.equal(2, calls)
      local stored = User:get "1"
      assert.equal("alice-smith", stored.slug)
      assert.equal(2, stored.version)
    end)

    it("runs on a loaded instance's save", function()
      User:create { id = "1", name = "Alice" }
      local u = User:get "1"
      u.name = "Al"
      u:save()
      assert.equal(2, calls)
      assert.equal("al", User:get("1").slug)
    end)

    it("runs on upsert, creating and overwriting", function()
      local u = User:upsert { id = "1", name = "Alice" }
      assert.equal(1, calls)
      assert.equal("alice", u.slug)
      User:upsert { id = "1", name = "Alice Cooper" }
      assert.equal(2, calls)
      assert.equal("alice-cooper", User:get("1").slug)
      assert.equal(1, User:count())
    end)

    it("sees whether the instance is new", function()
      local seen = {}
      User:before_save(function(u) seen[#seen + 1] = u:is_persisted() end)
      local u = User:create { id = "1", name = "Alice" }
      u:save()
      assert.same({ false, true }, seen)
    end)

    it("has its values validated: a hook setting a bad value stores nothing", function()
      local Item = Model("Item", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        qty = Field.integer { ge = 0, default = 0 },
        before_save = function(u) u.qty = -1 end,
      })
      expect("ValidationError", catch(Item.create, Item, { id = "1" }), "qty")
      assert.equal(0, Item:count())
    end)
  end)

  describe("after_save", function()
    it("runs after storage on create, save and upsert", function()
      local log = {}
      local User = logged_user(log)
      local u = User:create { id = "1", name = "Alice" }
      u.name = "Alicia"
      u:save()
      User:upsert { id = "2", name = "Bob" }
      User:upsert { id = "2", name = "Bobby" }
      local after = {}
      for _, line in ipairs(log) do
        if line:find("^after_save") then after[#after + 1] = line end
      end
      assert.same({ "after_save:1", "after_save:1", "after_save:2", "after_save:2" }, after)
    end)

    it("changes to the instance are not stored", function()
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        name = "string",
        after_save = function(u) u.name = "changed after save" end,
      })
      local u = User:create { id = "1", name = "Alice" }
      assert.equal("changed after save", u.name)
      assert.equal("Alice", User:get("1").name)
    end)

    it("can cause side effects such as notifications", function()
      local sent = {}
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        email = "string",
        after_save = function(u) sent[#sent + 1] = { to = u.email, subject = "User saved" } end,
      })
      assert.equal(0, #sent)
      User { id = "1", email = "alice@example.com" }:save()
      assert.same({ { to = "alice@example.com", subject = "User saved" } }, sent)
    end)

    it("sees the instance persisted", function()
      local seen
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        after_save = function(u) seen = u:is_persisted() end,
      })
      User { id = "1" }:save()
      assert.is_true(seen)
    end)
  end)

  describe("after_load", function()
    local User, loads

    before_each(function()
      loads = {}
      User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        email = Field.string { unique = true },
        name = Field.string { index = true },
        after_load = function(u) loads[#loads + 1] = u.id end,
      })
      for i = 1, 5 do
        User:create { id = tostring(i), email = i .. "@example.com", name = "n" .. i }
      end
    end)

    it("does not run on create or save", function()
      assert.same({}, loads)
    end)

    it("runs on get by key", function()
      User:get "2"
      assert.same({ "2" }, loads)
    end)

    it("runs on get by table, by key and by other fields", function()
      User:get { id = "2" }
      User:get { email = "3@example.com" }
      User:get { name = "n4" }
      assert.same({ "2", "3", "4" }, loads)
    end)

    it("runs on find_by", function()
      User:find_by { name = "n3" }
      assert.same({ "3" }, loads)
    end)

    it("runs on every record of all()", function()
      User:all()
      assert.same({ "1", "2", "3", "4", "5" }, loads)
      loads = {}
      User:where { name__in = { "n2", "n4" } }:all()
      assert.same({ "2", "4" }, loads)
    end)

    it("runs on first, last and q:get", function()
      User:where():first()
      User:where():last()
      User:where():get { id = "3" }
      assert.same({ "1", "5", "3" }, loads)
    end)

    it("runs on each()", function()
      for _ in User:where():each() do end
      assert.same({ "1", "2", "3", "4", "5" }, loads)
    end)

    it("runs on paginate()", function()
      local page, cursor = User:where():limit(2):paginate()
      assert.same({ "1", "2" }, ids(page))
      User:where():limit(2):cursor(cursor):paginate()
      assert.same({ "1", "2", "3", "4" }, loads)
    end)

    it("runs on get_many", function()
      User:get_many { "1", "9", "5" }
      assert.same({ "1", "5" }, loads)
    end)

    it("does not run for count or exists", function()
      User:count()
      User:where { id = "1" }:exists()
      assert.same({}, loads)
    end)

    it("gives the hook a stored instance whose changes stay out of the store", function()
      User:after_load(function(u)
        assert.is_true(u:is_persisted())
        u.name = "changed on load"
      end)
      assert.equal("changed on load", User:get("1").name)
      assert.equal(1, User:where { name = "n1" }:count())
    end)
  end)

  describe("errors in before_save", function()
    local User, fail, err_obj

    before_each(function()
      fail, err_obj = nil, { reason = "refused" }
      User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        name = "string",
        before_save = function(u)
          if u.name == fail then error(err_obj) end
        end,
      })
    end)

    it("aborts create: nothing stored, the same error object re-raised", function()
      fail = "Bad"
      local err = catch(User.create, User, { id = "1", name = "Bad" })
      assert.is_true(rawequal(err_obj, err))
      assert.equal(0, User:count())
      assert.is_nil(User:get "1")
    end)

    it("aborts save of a new instance", function()
      fail = "Bad"
      local u = User { id = "1", name = "Bad" }
      assert.is_true(rawequal(err_obj, catch(u.save, u)))
      assert.equal(0, User:count())
      assert.is_false(u:is_persisted())
    end)

    it("aborts save of a stored instance: the stored record is unchanged", function()
      local u = User:create { id = "1", name = "Alice" }
      fail = "Bad"
      u.name = "Bad"
      assert.is_true(rawequal(err_obj, catch(u.save, u)))
      assert.equal("Alice", User:get("1").name)
    end)

    it("aborts upsert: a new record is not stored, an old one is not overwritten", function()
      User:create { id = "1", name = "Alice" }
      fail = "Bad"
      assert.is_true(rawequal(err_obj, catch(User.upsert, User, { id = "1", name = "Bad" })))
      assert.is_true(rawequal(err_obj, catch(User.upsert, User, { id = "2", name = "Bad" })))
      assert.same({ "1" }, ids(User:all()))
      assert.equal("Alice", User:get("1").name)
    end)

    it("re-raises a string error unchanged", function()
      local Item = Model("Item", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        before_save = function() error("quota exceeded", 0) end,
      })
      assert.equal("quota exceeded", catch(Item.create, Item, { id = "1" }))
      assert.equal(0, Item:count())
    end)

    it("re-raises a string error with its position unchanged", function()
      local raised
      local Item = Model("Item", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        before_save = function()
          local ok, e = pcall(error, "quota exceeded", 2)
          raised = e
          error(e, 0)
        end,
      })
      local err = catch(Item.create, Item, { id = "1" })
      assert.equal(raised, err)
    end)

    it("re-raises non-string, non-table errors unchanged", function()
      for _, value in ipairs({ 42, true, 3.5 }) do
        local Item = Model("Item", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          before_save = function() error(value) end,
        })
        assert.equal(value, catch(Item.create, Item, { id = "1" }))
        assert.equal(0, Item:count())
      end
    end)

    it("re-raises an error whose __tostring raises unchanged", function()
      local raised = setmetatable({}, { __tostring = function() error("no text") end })
      local Item = Model("Item", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        before_save = function() error(raised) end,
      })
      assert.equal(raised, catch(Item.create, Item, { id = "1" }))
      assert.equal(0, Item:count())
    end)

    it("re-raises a library error from the hook unchanged", function()
      local raised
      local Item = Model("Item", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        before_save = function()
          local ok, e = pcall(error, orm.errors.new("ValidationError", "custom rule", {}))
          raised = e
          error(e)
        end,
      })
      local err = catch(Item.create, Item, { id = "1" })
      assert.is_true(rawequal(raised, err))
      assert.equal("custom rule", err.message)
    end)

    it("skips the later before_save hooks and every after_save", function()
      local log = {}
      User:before_save(function() log[#log + 1] = "later before" end)
      User:after_save(function() log[#log + 1] = "after" end)
      fail = "Bad"
      catch(User.create, User, { id = "1", name = "Bad" })
      assert.same({}, log)
    end)

    it("leaves the store usable", function()
      fail = "Bad"
      catch(User.create, User, { id = "1", name = "Bad" })
      User:create { id = "1", name = "Alice" }
      assert.same({ "1" }, ids(User:all()))
    end)
  end)

  describe("errors in after_save", function()
    it("are re-raised unchanged and the write stays", function()
      local err_obj = { reason = "notify failed" }
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        name = "string",
        after_save = function() error(err_obj) end,
      })
      assert.is_true(rawequal(err_obj, catch(User.create, User, { id = "1", name = "Alice" })))
      assert.equal("Alice", User:get("1").name)

      local u = User:get "1"
      u.name = "Alicia"
      assert.is_true(rawequal(err_obj, catch(u.save, u)))
      assert.equal("Alicia", User:get("1").name)

      assert.is_true(rawequal(err_obj, catch(User.upsert, User, { id = "2", name = "Bob" })))
      assert.equal("Bob", User:get("2").name)
    end)

    it("leave the instance persisted", function()
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        after_save = function() error("late", 0) end,
      })
      local u = User { id = "1" }
      assert.equal("late", catch(u.save, u))
      assert.is_true(u:is_persisted())
      -- a second save is an update, not a duplicate create
      assert.equal("late", catch(u.save, u))
      assert.equal(1, User:count())
    end)
  end)

  describe("delete hooks", function()
    local User, log, fail_before, fail_after

    before_each(function()
      log, fail_before, fail_after = {}, nil, nil
      User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        group = Field.string { default = "a" },
        before_delete = function(u)
          log[#log + 1] = "before:" .. u.id
          if u.id == fail_before then error({ id = u.id }) end
        end,
        after_delete = function(u)
          log[#log + 1] = "after:" .. u.id
          if u.id == fail_after then error("after failed on " .. u.id, 0) end
        end,
      })
      for i = 1, 5 do User:create { id = tostring(i) } end
    end)

    it("run around u:delete()", function()
      assert.is_true(User:get("2"):delete())
      assert.same({ "before:2", "after:2" }, log)
      assert.is_nil(User:get "2")
    end)

    it("run around the delete of an instance that was never loaded", function()
      local u = User:create { id = "9" }
      assert.is_true(u:delete())
      assert.same({ "before:9", "after:9" }, log)
    end)

    it("an error in before_delete is re-raised and keeps the record", function()
      fail_before = "2"
      local err = catch(function() return User:get("2"):delete() end)
      assert.same({ id = "2" }, err)
      assert.same({ "before:2" }, log)
      assert.is_not_nil(User:get "2")
      assert.equal(5, User:count())
    end)

    it("an error in after_delete is re-raised and the record stays deleted", function()
      fail_after = "2"
      local err = catch(function() return User:get("2"):delete() end)
      assert.equal("after failed on 2", err)
      assert.is_nil(User:get "2")
      assert.equal(4, User:count())
    end)

    it("run per record in q:delete(): every before_delete first, then every after_delete", function()
      assert.equal(3, User:where { id__in = { "1", "3", "5" } }:delete())
      assert.same({ "before:1", "before:3", "before:5", "after:1", "after:3", "after:5" }, log)
      assert.same({ "2", "4" }, ids(User:all()))
    end)

    it("in q:delete(), one before_delete raising deletes nothing", function()
      fail_before = "3"
      local err = catch(function() return User:where():delete() end)
      assert.same({ id = "3" }, err)
      assert.equal(5, User:count())
      for _, line in ipairs(log) do
        assert.is_nil(line:find("^after"), "after_delete ran: " .. line)
      end
    end)

    it("in q:delete(), an after_delete raising leaves every delete done", function()
      fail_after = "1"
      assert.equal("after failed on 1", catch(function() return User:where():delete() end))
      assert.equal(0, User:count())
    end)

    it("do not run when nothing matched", function()
      assert.equal(0, User:where { id = "none" }:delete())
      assert.same({}, log)
    end)

    it("leave u:delete() of a record that is already gone returning false", function()
      local u = User:get "1"
      User:where { id = "1" }:delete()
      log = {}
      assert.is_false(u:delete())
      assert.equal(4, User:count())
    end)
  end)

  describe("bulk paths", function()
    local User, log, fail_on

    before_each(function()
      log, fail_on = {}, nil
      User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        name = "string",
        active = Field.boolean { default = true },
        saves = Field.integer { default = 0 },
        before_save = function(u)
          log[#log + 1] = "before:" .. u.id
          if u.id == fail_on then error({ failed = u.id }) end
          u.saves = u.saves + 1
        end,
        after_save = function(u) log[#log + 1] = "after:" .. u.id end,
      })
    end)

    it("create_many runs the save hooks for every record", function()
      local made = User:create_many { { id = "1", name = "a" }, { id = "2", name = "b" }, { id = "3", name = "c" } }
      assert.equal(3, #made)
      assert.same({ "before:1", "before:2", "before:3", "after:1", "after:2", "after:3" }, log)
      for _, u in ipairs(User:all()) do assert.equal(1, u.saves) end
    end)

    it("create_many stores none when a hook raises on record 3", function()
      fail_on = "3"
      local err = catch(User.create_many, User, {
        { id = "1", name = "a" }, { id = "2", name = "b" }, { id = "3", name = "c" }, { id = "4", name = "d" },
      })
      assert.same({ failed = "3" }, err)
      assert.equal(0, User:count())
      for _, line in ipairs(log) do
        assert.is_nil(line:find("^after"), "after_save ran: " .. line)
      end
    end)

    it("q:update runs the save hooks for every matching record", function()
      for i = 1, 4 do User:create { id = tostring(i), name = "n" .. i } end
      log = {}
      assert.equal(2, User:where { id__in = { "2", "4" } }:update { active = false })
      assert.same({ "before:2", "before:4", "after:2", "after:4" }, log)
      assert.equal(2, User:get("2").saves)
      assert.is_false(User:get("2").active)
      assert.equal(1, User:get("1").saves)
      assert.is_true(User:get("1").active)
    end)

    it("q:update updates none when a hook raises on record 3", function()
      for i = 1, 4 do User:create { id = tostring(i), name = "n" .. i } end
      fail_on = "3"
      local err = catch(function() return User:where():update { name = "renamed" } end)
      assert.same({ failed = "3" }, err)
      for _, u in ipairs(User:all()) do
        assert.equal("n" .. u.id, u.name)
        assert.equal(1, u.saves)
      end
    end)

    it("q:update stores the before_save changes of every record", function()
      User:before_save(function(u) u.name = u.name:upper() end)
      User:create_many { { id = "1", name = "a" }, { id = "2", name = "b" } }
      User:where():update { name = "z" }
      assert.same({ "Z", "Z" }, { User:get("1").name, User:get("2").name })
    end)
  end)

  describe("the instance given to hooks", function()
    it("is the instance itself", function()
      local got = {}
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        before_save = function(u) got.before_save = u end,
        after_save = function(u) got.after_save = u end,
        after_load = function(u) got.after_load = u end,
        before_delete = function(u) got.before_delete = u end,
        after_delete = function(u) got.after_delete = u end,
      })
      local u = User { id = "1" }
      u:save()
      assert.is_true(rawequal(u, got.before_save))
      assert.is_true(rawequal(u, got.after_save))
      local created = User:create { id = "2" }
      assert.is_true(rawequal(created, got.before_save))
      local loaded = User:get "1"
      assert.is_true(rawequal(loaded, got.after_load))
      loaded:delete()
      assert.is_true(rawequal(loaded, got.before_delete))
      assert.is_true(rawequal(loaded, got.after_delete))
    end)
  end)

  -- One model's save, delete or reload given another model's instance
  -- (U.delete(h), or u.delete kept and called on h) would write it without
  -- its own model's hooks and auto_now stamps. H has both, U has neither
  -- (its methods are the C fast paths); both refuse the other's instances
  -- with the same message, and nothing is written.
  describe("instance methods given another model's instance", function()
    local H, U, log, h, u

    before_each(function()
      H = Model("H", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        name = "string",
        updated_at = Field.datetime { auto_now = true },
        before_save = function(x) log[#log + 1] = "before_save:" .. x.id end,
        after_save = function(x) log[#log + 1] = "after_save:" .. x.id end,
        after_load = function(x) log[#log + 1] = "after_load:" .. x.id end,
        before_delete = function(x) log[#log + 1] = "before_delete:" .. x.id end,
        after_delete = function(x) log[#log + 1] = "after_delete:" .. x.id end,
      })
      U = Model("U", { model_backend = backend, id = Field.string { primary_key = true }, name = "string" })
      log = {}
      H:create { id = "h1", name = "kept" }
      U:create { id = "u1", name = "kept" }
      h, u = H:get "h1", U:get "u1"
      log = {}
    end)

    -- The stored records are as created (read without H's after_load).
    local function unchanged(stamp)
      assert.equal(1, H:count())
      assert.equal(1, U:count())
      local stored = H:where { id = "h1" }:select("name", "updated_at"):first()
      assert.equal("kept", stored.name)
      if stamp then assert.equal(stamp, stored.updated_at) end
      assert.equal("kept", U:where { id = "u1" }:select("name"):first().name)
    end

    for _, method in ipairs { "save", "delete", "reload" } do
      it("refuse it in " .. method .. ", the model without hooks given one with hooks", function()
        local stamp = h.updated_at
        h.name = "changed"
        local err = catch(u[method], h)
        expect("ConfigurationError", err)
        assert.equal(("U: %s expects an instance of U, got one of H"):format(method), err.message)
        local kept = u[method]
        err = catch(kept, h)
        assert.equal(("U: %s expects an instance of U, got one of H"):format(method), err.message)
        assert.same({}, log)
        assert.equal("changed", h.name) -- not reloaded either
        unchanged(stamp)
      end)

      it("refuse it in " .. method .. ", the model with hooks given one without", function()
        u.name = "changed"
        local err = catch(h[method], u)
        expect("ConfigurationError", err)
        assert.equal(("H: %s expects an instance of H, got one of U"):format(method), err.message)
        assert.same({}, log)
        assert.equal("changed", u.name)
        unchanged()
      end)

      it("refuse it in " .. method .. " between two models without hooks with the same fields", function()
        local Twin = Model("Twin", { model_backend = backend, id = Field.string { primary_key = true },
                                     name = "string" })
        local t = Twin:create { id = "t1", name = "kept" }
        t.name = "changed"
        local err = catch(u[method], t)
        assert.equal(("U: %s expects an instance of U, got one of Twin"):format(method), err.message)
        err = catch(t[method], u)
        assert.equal(("Twin: %s expects an instance of Twin, got one of U"):format(method), err.message)
        assert.equal("kept", Twin:where { id = "t1" }:select("name"):first().name)
        unchanged()
      end)

      it("refuse a value that is no instance in " .. method .. " as with hooks", function()
        for _, bad in ipairs { 5, {}, "u1", false } do
          for _, x in ipairs { { u, "U" }, { h, "H" } } do
            local err = catch(x[1][method], bad)
            expect("ConfigurationError", err)
            assert.equal(("%s: %s expects an instance of %s, got %s: call instance methods with a colon, "
              .. "u:%s() rather than u.%s()"):format(x[2], method, x[2], type(bad), method, method),
              err.message)
          end
        end
        for _, x in ipairs { { u, "U" }, { h, "H" } } do
          local err = catch(function() return x[1][method]() end)
          assert.equal(("%s: %s expects an instance of %s, got nil: call instance methods with a colon, "
            .. "u:%s() rather than u.%s()"):format(x[2], method, x[2], method, method), err.message)
        end
        assert.same({}, log)
        unchanged()
      end)
    end

    it("still work on the model's own instances, kept before the backend changed", function()
      local save, delete, reload = u.save, u.delete, u.reload
      local other = InMemoryBackend()
      U.model_backend = other
      assert.equal(0, U:count())
      U:create { id = "u1", name = "other" }
      u.name = "moved"
      assert.is_true(rawequal(u, save(u)))
      assert.equal("moved", U:get("u1").name)
      u.name = "local"
      assert.is_true(rawequal(u, reload(u)))
      assert.equal("moved", u.name)
      assert.is_true(u:delete())
      assert.is_false(delete(u))
      assert.equal(0, U:count())
      expect("ConfigurationError", catch(save, h), "U", "one of H")
      U.model_backend = backend
      assert.equal("kept", U:get("u1").name)
      assert.is_true(U:get("u1"):save():reload():delete())
      assert.equal(0, U:count())
      assert.same({}, log)
    end)
  end)

  describe("hooks using the store", function()
    it("may read the store", function()
      local User
      User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        rank = Field.integer { default = 0 },
        before_save = function(u)
          if not u:is_persisted() then u.rank = User:count() + 1 end
        end,
      })
      User:create { id = "a" }
      User:create { id = "b" }
      User:create { id = "c" }
      assert.same({ 1, 2, 3 }, { User:get("a").rank, User:get("b").rank, User:get("c").rank })
    end)

    it("may query the same model while it is being saved", function()
      local User
      User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        email = Field.string { unique = true },
        before_save = function(u)
          local other = User:find_by { email = u.email }
          if other and other.id ~= u.id then error("email taken by " .. other.id, 0) end
        end,
      })
      User:create { id = "1", email = "a@x.io" }
      assert.equal("email taken by 1", catch(User.create, User, { id = "2", email = "a@x.io" }))
      assert.equal(1, User:count())
    end)

    it("may create records of another model on the same backend", function()
      local Audit = Model("Audit", {
        model_backend = backend,
        id = Field.integer { primary_key = true },
        message = "string",
      })
      local n = 0
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        after_save = function(u)
          n = n + 1
          Audit:create { id = n, message = "saved " .. u.id }
        end,
        after_delete = function(u)
          n = n + 1
          Audit:create { id = n, message = "deleted " .. u.id }
        end,
      })
      User:create { id = "1" }
      User:create_many { { id = "2" }, { id = "3" } }
      User:get("2"):delete()
      local messages = {}
      for _, a in ipairs(Audit:where():order_by("id"):all()) do messages[#messages + 1] = a.message end
      assert.same({ "saved 1", "saved 2", "saved 3", "deleted 2" }, messages)
      assert.equal(2, User:count())
    end)

    it("may create records of the same model", function()
      local User
      User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        after_save = function(u)
          if not u.id:find("^shadow") then User:upsert { id = "shadow-" .. u.id } end
        end,
      })
      User:create { id = "1" }
      User:create { id = "2" }
      assert.same({ "1", "shadow-1", "2", "shadow-2" }, ids(User:all()))
    end)

    it("a before_save that writes another record then raises leaves that write alone", function()
      local Other = Model("Other", { model_backend = backend, id = Field.string { primary_key = true } })
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        before_save = function(u)
          Other:create { id = u.id }
          error("no", 0)
        end,
      })
      catch(User.create, User, { id = "1" })
      assert.equal(0, User:count())
      assert.equal(1, Other:count())
    end)

    it("may delete other records in before_delete", function()
      local Post = Model("Post", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        author = "string",
      })
      local User = Model("User", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        before_delete = function(u) Post:where { author = u.id }:delete() end,
      })
      User:create { id = "alice" }
      User:create { id = "bob" }
      Post:create_many { { id = "p1", author = "alice" }, { id = "p2", author = "bob" }, { id = "p3", author = "alice" } }
      User:where { id = "alice" }:delete()
      assert.same({ "p2" }, ids(Post:all()))
      assert.same({ "bob" }, ids(User:all()))
    end)
  end)

  describe("a hook deleting records while a query's results are loaded", function()
    local Item, deleting

    local function build(n)
      deleting = true
      Item = Model("Item", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        n = Field.integer { index = true },
        after_load = function(u)
          -- deletes the next record and one far ahead
          if deleting then Item:where { n__in = { u.n + 1, u.n + 7 } }:delete() end
        end,
      })
      local specs = {}
      for i = 1, n do specs[i] = { id = ("%04d"):format(i), n = i } end
      Item:create_many(specs)
    end

    -- The walk returned intact instances, no record twice, and every record
    -- still stored at the end (it existed during the whole walk).
    local function check(got, n)
      local seen = {}
      for _, u in ipairs(got) do
        assert.equal(("%04d"):format(u.n), u.id)
        assert.is_nil(seen[u.id], "returned twice: " .. u.id)
        seen[u.id] = true
      end
      deleting = false
      local left = Item:where():order_by("n"):all()
      for _, u in ipairs(left) do
        assert.is_true(seen[u.id] == true, "skipped " .. u.id)
      end
      assert.equal(#left, Item:count())
      assert.is_true(#left < n)
      -- the store is still usable and consistent
      Item:create { id = "new", n = 0 }
      assert.equal(#left + 1, Item:count())
      assert.equal(#left, Item:where { n__gte = 1 }:count())
    end

    it("cannot corrupt all()", function()
      build(40)
      check(Item:all(), 40)
    end)

    it("cannot corrupt each() across pages", function()
      build(600)
      local got = {}
      for u in Item:where():each() do got[#got + 1] = u end
      check(got, 600)
    end)

    it("cannot corrupt paginate()", function()
      build(60)
      local got, cursor = {}, nil
      repeat
        local q = Item:where():limit(7)
        if cursor then q = q:cursor(cursor) end
        local page
        page, cursor = q:paginate()
        for _, u in ipairs(page) do got[#got + 1] = u end
      until cursor == nil
      check(got, 60)
    end)

    it("cannot corrupt an ordered query", function()
      build(40)
      check(Item:where():order_by("-n"):all(), 40)
    end)
  end)
end)

describe("hook errors", function()
  local orm = require("restmachine_orm")
  it("keep the traceback of where the hook raised, for orm.errors.traceback", function()
    local backend = orm.backends.InMemoryBackend()
    local boom = { reason = "boom" }
    local function failing_hook() error(boom) end
    local M = orm.Model("Traced", {
      model_backend = backend,
      id = orm.Field.string { primary_key = true },
      before_save = failing_hook,
    })
    local ok, err = pcall(M.create, M, { id = "1" })
    assert.is_false(ok)
    assert.equal(boom, err)
    local tb = orm.errors.traceback(err)
    assert.is_string(tb)
    assert.truthy(tb:find("hooks_spec", 1, true), tb)
    assert.equal(0, M:count())
  end)
end)
