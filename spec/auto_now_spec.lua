-- auto_now, auto_now_add and default functions (API.md section 3, issue
-- 4): auto_now_add is set once, on the first save, unless a value was
-- given; auto_now on every save (create, save, upsert, create_many,
-- q:update); both imply optional; on a field that is not a datetime they
-- are a ConfigurationError; default functions are called for each new
-- instance.
-- Ported in spirit from restmachine-orm's tests/test_callbacks.py (the
-- timestamp callbacks) and tests/test_mixins.py (TimestampMixin).

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local catch, text, expect, after = support.catch, support.text, support.expect, support.after

local JAN_2020 = 1577836800 -- 2020-01-01T00:00:00Z

describe("auto_now and auto_now_add", function()
  local backend, Post

  before_each(function()
    backend = InMemoryBackend()
    Post = Model("Post", {
      model_backend = backend,
      id = Field.string { primary_key = true },
      title = "string",
      created = Field.datetime { auto_now_add = true },
      modified = Field.datetime { auto_now = true },
    })
  end)

  describe("declaration", function()
    it("both imply optional", function()
      assert.is_true(Post:field("created").optional)
      assert.is_true(Post:field("modified").optional)
      assert.is_true(Post:field("created").auto_now_add)
      assert.is_true(Post:field("modified").auto_now)
      local p = Post { id = "1", title = "t" }
      assert.is_nil(p.created)
      assert.is_nil(p.modified)
    end)

    for _, option in ipairs({ "auto_now", "auto_now_add" }) do
      for _, type_name in ipairs({ "string", "integer", "number", "boolean", "bytes" }) do
        it(option .. " on a " .. type_name .. " field is a ConfigurationError", function()
          local err = catch(Model, "Post", {
            model_backend = backend,
            id = Field.string { primary_key = true },
            stamp = Field[type_name] { [option] = true },
          })
          expect("ConfigurationError", err, "Post", "stamp")
        end)
      end

      it(option .. " must be a boolean", function()
        expect("ConfigurationError", catch(Model, "Post", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          stamp = Field.datetime { [option] = "yes" },
        }), "Post", "stamp")
      end)
    end

    it("auto_now = false leaves the field as declared", function()
      local Note = Model("Note", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        at = Field.datetime { auto_now = false, optional = true },
      })
      assert.is_nil(Note:create({ id = "1" }).at)
    end)
  end)

  describe("auto_now_add", function()
    it("is set on create", function()
      local before = orm.now()
      local p = Post:create { id = "1", title = "t" }
      assert.is_number(p.created)
      assert.is_true(p.created >= before and p.created <= orm.now())
      assert.equal(p.created, Post:get("1").created)
    end)

    it("is set on the first save of a new instance", function()
      local p = Post { id = "1", title = "t" }
      p:save()
      assert.is_number(p.created)
      assert.equal(p.created, Post:get("1").created)
    end)

    it("is not changed by later saves", function()
      local p = Post:create { id = "1", title = "t" }
      local created = p.created
      after(p.modified)
      p.title = "t2"
      p:save()
      assert.equal(created, p.created)
      local loaded = Post:get "1"
      after(loaded.modified)
      loaded:save()
      assert.equal(created, Post:get("1").created)
    end)

    it("is not changed by q:update", function()
      local p = Post:create { id = "1", title = "t" }
      after(p.modified)
      Post:where():update { title = "changed" }
      assert.equal(p.created, Post:get("1").created)
    end)

    it("keeps a value given at creation", function()
      local p = Post:create { id = "1", title = "t", created = JAN_2020 }
      assert.equal(JAN_2020, p.created)
      assert.equal(JAN_2020, Post:get("1").created)
      local q = Post { id = "2", title = "t", created = "2020-01-01T00:00:00Z" }
      q:save()
      assert.equal(JAN_2020, Post:get("2").created)
    end)

    it("is set for every record of create_many", function()
      local made = Post:create_many { { id = "1", title = "a" }, { id = "2", title = "b", created = JAN_2020 } }
      assert.is_number(made[1].created)
      assert.equal(JAN_2020, made[2].created)
      assert.is_number(Post:get("1").created)
      assert.equal(JAN_2020, Post:get("2").created)
    end)

    it("is set by upsert of a new record", function()
      local p = Post:upsert { id = "1", title = "t" }
      assert.is_number(p.created)
      assert.equal(p.created, Post:get("1").created)
    end)

    it("is kept by an upsert that overwrites the record", function()
      local first = Post:create { id = "1", title = "t" }
      after(first.modified)
      local second = Post:upsert { id = "1", title = "t2" }
      assert.equal(first.created, second.created)
      assert.equal(first.created, Post:get("1").created)
      assert.equal("t2", Post:get("1").title)
    end)

    it("takes a value given to an overwriting upsert", function()
      Post:create { id = "1", title = "t" }
      Post:upsert { id = "1", title = "t2", created = JAN_2020 }
      assert.equal(JAN_2020, Post:get("1").created)
    end)

    it("a failed save stores nothing", function()
      Post:before_save(function(p) if p.title == "bad" then error("refused", 0) end end)
      local p = Post { id = "1", title = "bad" }
      catch(p.save, p)
      assert.equal(0, Post:count())
    end)
  end)

  describe("auto_now", function()
    it("is set on create", function()
      local before = orm.now()
      local p = Post:create { id = "1", title = "t" }
      assert.is_number(p.modified)
      assert.is_true(p.modified >= before)
      assert.equal(p.modified, Post:get("1").modified)
    end)

    it("is set again on every save", function()
      local p = Post:create { id = "1", title = "t" }
      local first = p.modified
      after(first)
      p.title = "t2"
      p:save()
      assert.is_true(p.modified > first)
      assert.equal(p.modified, Post:get("1").modified)
      local second = p.modified
      after(second)
      p:save()
      assert.is_true(p.modified > second)
    end)

    it("is set on the save of a loaded instance", function()
      local p = Post:create { id = "1", title = "t" }
      after(p.modified)
      local loaded = Post:get "1"
      loaded:save()
      assert.is_true(Post:get("1").modified > p.modified)
    end)

    it("replaces a value given by the caller", function()
      local p = Post:create { id = "1", title = "t", modified = JAN_2020 }
      assert.is_true(p.modified > JAN_2020)
      p.modified = JAN_2020
      p:save()
      assert.is_true(Post:get("1").modified > JAN_2020)
    end)

    it("is set on upsert, creating and overwriting", function()
      local first = Post:upsert { id = "1", title = "t" }
      after(first.modified)
      local second = Post:upsert { id = "1", title = "t2" }
      assert.is_true(second.modified > first.modified)
      assert.equal(second.modified, Post:get("1").modified)
      assert.equal(1, Post:count())
    end)

    it("is set on every record of create_many and q:update", function()
      Post:create_many { { id = "1", title = "a" }, { id = "2", title = "b" }, { id = "3", title = "c" } }
      local before = {}
      local latest = 0
      for _, p in ipairs(Post:all()) do
        assert.is_number(p.modified)
        before[p.id] = p.modified
        latest = math.max(latest, p.modified)
      end
      after(latest)
      assert.equal(2, Post:where { id__in = { "1", "3" } }:update { title = "z" })
      assert.is_true(Post:get("1").modified > before["1"])
      assert.is_true(Post:get("3").modified > before["3"])
      assert.equal(before["2"], Post:get("2").modified)
    end)

    it("is queryable", function()
      local cutoff = orm.now()
      after(cutoff)
      Post:create { id = "1", title = "t" }
      assert.equal(1, Post:where { modified__gt = cutoff }:count())
      assert.equal(0, Post:where { created__lt = cutoff }:count())
    end)
  end)

  describe("default functions", function()
    it("are called for each new instance", function()
      local calls = 0
      local Ticket = Model("Ticket", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        code = Field.string { default = function()
          calls = calls + 1
          return "T-" .. calls
        end },
      })
      local a = Ticket { id = "a" }
      local b = Ticket { id = "b" }
      assert.equal("T-1", a.code)
      assert.equal("T-2", b.code)
      local c = Ticket:create { id = "c" }
      assert.equal("T-3", c.code)
      assert.equal("T-3", Ticket:get("c").code)
    end)

    it("are not called again when the instance is saved or loaded", function()
      local calls = 0
      local Ticket = Model("Ticket", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        code = Field.string { default = function() calls = calls + 1; return "T-" .. calls end },
      })
      local t = Ticket:create { id = "a" }
      t:save()
      Ticket:get "a"
      Ticket:all()
      assert.equal("T-1", Ticket:get("a").code)
    end)

    it("give way to a value given by the caller", function()
      local Ticket = Model("Ticket", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        code = Field.string { default = function() return "generated" end },
      })
      assert.equal("given", Ticket({ id = "a", code = "given" }).code)
    end)

    it("give each instance its own value for mutable-like defaults", function()
      local n = 0
      local Counter = Model("Counter", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        started = Field.datetime { default = function() n = n + 1; return JAN_2020 + n end },
        total = Field.integer { default = function() return 10 * (n + 1) end },
      })
      local a = Counter:create { id = "a" }
      local b = Counter:create { id = "b" }
      assert.equal(JAN_2020 + 1, a.started)
      assert.equal(JAN_2020 + 2, b.started)
      assert.is_true(math.type(a.total) == "integer")
    end)

    it("run for every record of create_many", function()
      local calls = 0
      local Ticket = Model("Ticket", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        code = Field.string { default = function() calls = calls + 1; return "T-" .. calls end },
      })
      Ticket:create_many { { id = "a" }, { id = "b" }, { id = "c" } }
      assert.same({ "T-1", "T-2", "T-3" }, { Ticket:get("a").code, Ticket:get("b").code, Ticket:get("c").code })
    end)

    it("may be orm.now for a datetime", function()
      local Event = Model("Event", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        at = Field.datetime { default = orm.now },
      })
      local before = orm.now()
      local e = Event:create { id = "1" }
      assert.is_true(e.at >= before)
    end)

    it("make the field optional", function()
      local Ticket = Model("Ticket", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        code = Field.string { default = function() return "x" end },
      })
      assert.is_true(Ticket:field("code").optional)
    end)

    it("returning a value that breaks the field's rules is a ValidationError", function()
      local Ticket = Model("Ticket", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        qty = Field.integer { ge = 0, default = function() return -5 end },
      })
      expect("ValidationError", catch(Ticket.create, Ticket, { id = "a" }), "qty")
      assert.equal(0, Ticket:count())
    end)
  end)
end)
