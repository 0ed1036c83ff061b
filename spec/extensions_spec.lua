-- Backend extensions (API.md section 8, issue 4): extensions keyed by
-- backend name ("memory") and "*", declared by mixins or by the model;
-- configure_backend once per model and backend, serialize before storage
-- (what is stored is the serialized data), deserialize after load,
-- validate (a rejection is a ValidationError, nothing stored),
-- modify_query on every query of the model; several mixins' extensions
-- run in mixin order; bad extensions raise clear errors.
-- Ported in spirit from restmachine-orm's tests/test_backend_extensions.py.
--
-- What is stored is read through a second model declared with the same
-- name and fields but no extensions: records are kept per model name.

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local catch, text, expect, ids = support.catch, support.text, support.expect, support.ids

-- A mock extension that records every call, as MockExtension does in the
-- Python tests: serialize marks the data, deserialize removes the mark.
local function mock_extension(calls, label)
  label = label or "ext"
  local function note(what, arg)
    calls[#calls + 1] = { what = what, label = label, arg = arg }
  end
  return {
    configure_backend = function(model) note("configure_backend", model) end,
    serialize = function(data)
      note("serialize", data)
      data.marks = (data.marks or "") .. "[" .. label .. "]"
      return data
    end,
    deserialize = function(data)
      note("deserialize", data)
      data.marks = (data.marks or ""):gsub("%[" .. label .. "%]", "")
      return data
    end,
    validate = function(data) note("validate", data) end,
    modify_query = function(q) note("modify_query", q); return q end,
  }
end

local function count(calls, what, label)
  local n = 0
  for _, c in ipairs(calls) do
    if c.what == what and (label == nil or c.label == label) then n = n + 1 end
  end
  return n
end

describe("Extensions", function()
  local backend

  before_each(function()
    backend = InMemoryBackend()
  end)

  -- Item with the given mixins (or extensions) and a twin without any.
  local function item_models(spec_extra)
    local spec = {
      model_backend = backend,
      id = Field.string { primary_key = true },
      name = Field.string { optional = true },
      marks = Field.string { optional = true },
    }
    for k, v in pairs(spec_extra) do spec[k] = v end
    local Item = Model("Item", spec)
    local Raw = Model("Item", {
      model_backend = backend,
      id = Field.string { primary_key = true },
      name = Field.string { optional = true },
      marks = Field.string { optional = true },
    })
    return Item, Raw
  end

  describe("discovery by backend name", function()
    it("applies extensions for the backend's name", function()
      local calls = {}
      local Item = item_models { mixins = { { extensions = { memory = mock_extension(calls) } } } }
      Item:create { id = "1" }
      assert.equal(1, count(calls, "serialize"))
      assert.equal("memory", backend.backend_name)
    end)

    it("applies universal extensions (\"*\")", function()
      local calls = {}
      local Item = item_models { mixins = { { extensions = { ["*"] = mock_extension(calls) } } } }
      Item:create { id = "1" }
      assert.equal(1, count(calls, "serialize"))
      assert.equal(1, count(calls, "configure_backend"))
    end)

    it("applies both the backend's and the universal extensions", function()
      local calls = {}
      local Item = item_models { mixins = { { extensions = {
        memory = mock_extension(calls, "mem"),
        ["*"] = mock_extension(calls, "any"),
      } } } }
      Item:create { id = "1" }
      assert.equal(1, count(calls, "serialize", "mem"))
      assert.equal(1, count(calls, "serialize", "any"))
    end)

    it("ignores extensions for other backends", function()
      local calls = {}
      local Item = item_models { mixins = { { extensions = { dynamodb = mock_extension(calls) } } } }
      Item:create { id = "1" }
      Item:get "1"
      Item:all()
      assert.same({}, calls)
    end)

    it("accepts extensions declared by the model itself", function()
      local calls = {}
      local Item = item_models { extensions = { memory = mock_extension(calls) } }
      Item:create { id = "1" }
      Item:get "1"
      assert.equal(1, count(calls, "configure_backend"))
      assert.equal(1, count(calls, "serialize"))
      assert.equal(1, count(calls, "deserialize"))
    end)

    it("accepts extensions with only some of the functions", function()
      local Item, Raw = item_models { extensions = { memory = {
        serialize = function(d) d.name = d.name:upper(); return d end,
      } } }
      Item:create { id = "1", name = "alice" }
      assert.equal("ALICE", Raw:get("1").name)
      assert.equal("ALICE", Item:get("1").name)
    end)
  end)

  describe("configure_backend", function()
    it("is called once per model and backend, with the model", function()
      local calls = {}
      local Item = item_models { mixins = { { extensions = { memory = mock_extension(calls) } } } }
      assert.equal(1, count(calls, "configure_backend"))
      assert.equal(Item, calls[1].arg)
      Item:create { id = "1" }
      Item:create { id = "2" }
      Item:get "1"
      Item:where():all()
      Item:get("1"):delete()
      assert.equal(1, count(calls, "configure_backend"))
    end)

    it("is called for each model using the mixin", function()
      local calls = {}
      local Mixin = { extensions = { memory = mock_extension(calls) } }
      local A = Model("A", { model_backend = backend, mixins = { Mixin }, id = Field.string { primary_key = true } })
      local B = Model("B", { model_backend = backend, mixins = { Mixin }, id = Field.string { primary_key = true } })
      assert.equal(2, count(calls, "configure_backend"))
      assert.equal(A, calls[1].arg)
      assert.equal(B, calls[2].arg)
    end)

    it("waits for a backend, and is called again for a new backend", function()
      local calls = {}
      local Item = Model("Item", {
        mixins = { { extensions = { ["*"] = mock_extension(calls) } } },
        id = Field.string { primary_key = true },
        marks = Field.string { optional = true },
      })
      assert.equal(0, count(calls, "configure_backend"))
      Item.model_backend = backend
      assert.equal(1, count(calls, "configure_backend"))
      Item:create { id = "1" }
      Item.model_backend = backend
      assert.equal(1, count(calls, "configure_backend"))
      local other = InMemoryBackend()
      Item.model_backend = other
      assert.equal(2, count(calls, "configure_backend"))
      Item:create { id = "1" }
      assert.equal(2, count(calls, "configure_backend"))
    end)

    it("runs for every mixin in mixin order, then the model's", function()
      local calls = {}
      Model("Item", {
        model_backend = backend,
        mixins = {
          { extensions = { memory = mock_extension(calls, "first") } },
          { extensions = { ["*"] = mock_extension(calls, "second") } },
        },
        extensions = { memory = mock_extension(calls, "model") },
        id = Field.string { primary_key = true },
      })
      local order = {}
      for _, c in ipairs(calls) do order[#order + 1] = c.label end
      assert.same({ "first", "second", "model" }, order)
    end)

    it("may use the model it is given", function()
      local seen
      local Item = item_models { extensions = { memory = {
        configure_backend = function(model)
          seen = { name = model.name, key = model:primary_key(), count = model:count() }
        end,
      } } }
      assert.same({ name = "Item", key = "id", count = 0 }, seen)
      assert.is_table(Item)
    end)
  end)

  describe("serialize", function()
    it("is called on create, save, upsert, create_many and q:update", function()
      local calls = {}
      local Item = item_models { mixins = { { extensions = { memory = mock_extension(calls) } } } }
      local u = Item:create { id = "1", name = "a" }
      assert.equal(1, count(calls, "serialize"))
      u.name = "b"
      u:save()
      assert.equal(2, count(calls, "serialize"))
      Item:upsert { id = "2", name = "c" }
      assert.equal(3, count(calls, "serialize"))
      Item:create_many { { id = "3" }, { id = "4" } }
      assert.equal(5, count(calls, "serialize"))
      Item:where { id__in = { "1", "2" } }:update { name = "z" }
      assert.equal(7, count(calls, "serialize"))
    end)

    it("receives a plain table of the field values", function()
      local seen
      local Item = item_models { extensions = { memory = {
        serialize = function(d) seen = d; return d end,
      } } }
      Item:create { id = "1", name = "Alice" }
      assert.is_nil(getmetatable(seen))
      assert.equal("1", seen.id)
      assert.equal("Alice", seen.name)
    end)

    it("what is stored is the serialized data", function()
      local Item, Raw = item_models { extensions = { memory = {
        serialize = function(d)
          d.name = "enc:" .. d.name:reverse()
          return d
        end,
      } } }
      Item:create { id = "1", name = "alice" }
      assert.equal("enc:ecila", Raw:get("1").name)
      assert.equal("enc:ecila", Item:get("1").name)
      assert.equal(1, Item:where { name = "enc:ecila" }:count())
    end)

    it("may return a new table", function()
      local Item, Raw = item_models { extensions = { memory = {
        serialize = function(d) return { id = d.id, name = "replaced" } end,
      } } }
      Item:create { id = "1", name = "original", marks = "m" }
      local raw = Raw:get "1"
      assert.equal("replaced", raw.name)
      assert.is_nil(raw.marks)
    end)

    it("leaves the instance as the caller built it", function()
      local Item = item_models { extensions = { memory = {
        serialize = function(d) d.name = d.name:upper(); return d end,
      } } }
      local u = Item:create { id = "1", name = "alice" }
      assert.equal("alice", u.name)
      assert.is_true(u:is_persisted())
      u.marks = "x"
      u:save()
      assert.equal(1, Item:count())
      assert.equal("x", Item:get("1").marks)
    end)

    it("chains the extensions of several mixins in mixin order", function()
      local calls = {}
      local Item, Raw = item_models { mixins = {
        { extensions = { memory = mock_extension(calls, "one") } },
        { extensions = { memory = mock_extension(calls, "two") } },
        { extensions = { ["*"] = mock_extension(calls, "three") } },
      } }
      Item:create { id = "1" }
      assert.equal("[one][two][three]", Raw:get("1").marks)

      backend:clear()
      local Swapped, RawSwapped = item_models { mixins = {
        { extensions = { memory = mock_extension(calls, "two") } },
        { extensions = { memory = mock_extension(calls, "one") } },
      } }
      Swapped:create { id = "1" }
      assert.equal("[two][one]", RawSwapped:get("1").marks)
    end)

    it("runs the model's own extensions after the mixins'", function()
      local calls = {}
      local Item, Raw = item_models {
        mixins = { { extensions = { memory = mock_extension(calls, "mixin") } } },
        extensions = { memory = mock_extension(calls, "model") },
      }
      Item:create { id = "1" }
      assert.equal("[mixin][model]", Raw:get("1").marks)
    end)

    it("runs after before_save hooks, so their changes are serialized", function()
      local Item, Raw = item_models {
        before_save = function(u) u.name = "from hook" end,
        extensions = { memory = { serialize = function(d) d.name = d.name .. "!"; return d end } },
      }
      Item:create { id = "1", name = "x" }
      assert.equal("from hook!", Raw:get("1").name)
    end)

    it("a serialize returning a non-table is a clear error and stores nothing", function()
      for _, bad in ipairs({ "text", 42, false }) do
        local Item = item_models { extensions = { memory = { serialize = function() return bad end } } }
        local err = catch(Item.create, Item, { id = "1" })
        assert.is_truthy(text(err):find("serialize", 1, true), text(err))
        assert.is_truthy(text(err):find("Item", 1, true), text(err))
        assert.equal(0, Item:count())
        backend:clear()
      end
    end)

    it("a serialize returning nothing is a clear error and stores nothing", function()
      local Item = item_models { extensions = { memory = { serialize = function(d) d.name = "x" end } } }
      local err = catch(Item.create, Item, { id = "1" })
      assert.is_truthy(text(err):find("serialize", 1, true), text(err))
      assert.equal(0, Item:count())
    end)

    it("a serialize returning a non-table on update leaves the record as it was", function()
      local fail = false
      local Item = item_models { extensions = { memory = {
        serialize = function(d) if fail then return nil end return d end,
      } } }
      local u = Item:create { id = "1", name = "before" }
      fail = true
      u.name = "after"
      catch(u.save, u)
      assert.equal("before", Item:get("1").name)
      catch(Item.create_many, Item, { { id = "2" }, { id = "3" } })
      assert.equal(1, Item:count())
    end)

    it("serialized data that breaks a field rule is a ValidationError, nothing stored", function()
      local Item = item_models {
        name = Field.string { optional = true, max_length = 5 },
        extensions = { memory = { serialize = function(d) d.name = d.name .. "-too-long"; return d end } },
      }
      expect("ValidationError", catch(Item.create, Item, { id = "1", name = "abc" }), "name")
      assert.equal(0, Item:count())
    end)

    it("an error raised by serialize is re-raised unchanged and stores nothing", function()
      local boom = { reason = "serialize failed" }
      local Item = item_models { extensions = { memory = { serialize = function() error(boom) end } } }
      local err = catch(Item.create, Item, { id = "1" })
      assert.is_true(rawequal(boom, err))
      assert.equal(0, Item:count())
    end)
  end)

  describe("deserialize", function()
    local Item, Raw, calls

    before_each(function()
      calls = 0
      Item, Raw = item_models { extensions = { memory = {
        serialize = function(d)
          d.name = "enc:" .. d.name:reverse()
          return d
        end,
        deserialize = function(d)
          calls = calls + 1
          if d.name == "raise" then error("cannot decode", 0) end
          d.name = d.name:sub(5):reverse()
          return d
        end,
      } } }
      Item:create_many { { id = "1", name = "alice" }, { id = "2", name = "bob" }, { id = "3", name = "carol" } }
    end)

    it("turns stored data back into the model's view on get", function()
      assert.equal("enc:ecila", Raw:get("1").name)
      assert.equal("alice", Item:get("1").name)
      assert.equal("bob", Item:get({ id = "2" }).name)
      assert.equal(2, calls)
    end)

    it("is called for every loaded record: all, find_by, first, last, each, paginate", function()
      assert.same({ "alice", "bob", "carol" }, (function()
        local out = {}
        for i, u in ipairs(Item:all()) do out[i] = u.name end
        return out
      end)())
      assert.equal(3, calls)
      assert.equal("bob", Item:find_by({ id = "2" }).name)
      assert.equal("alice", Item:where():first().name)
      assert.equal("carol", Item:where():last().name)
      assert.equal(6, calls)
      local names = {}
      for u in Item:where():each() do names[#names + 1] = u.name end
      assert.same({ "alice", "bob", "carol" }, names)
      local page = Item:where():limit(2):paginate()
      assert.same({ "alice", "bob" }, { page[1].name, page[2].name })
      assert.equal(11, calls)
    end)

    it("is not called by count", function()
      assert.equal(3, Item:count())
      assert.equal(0, calls)
    end)

    it("gives a persisted instance that saves back through serialize", function()
      local u = Item:get "1"
      assert.is_true(u:is_persisted())
      u.marks = "seen"
      u:save()
      assert.equal("enc:ecila", Raw:get("1").name)
      assert.equal("alice", Item:get("1").name)
      assert.equal(3, Item:count())
    end)

    it("runs before after_load hooks", function()
      local seen
      Item:after_load(function(u) seen = u.name end)
      Item:get "2"
      assert.equal("bob", seen)
    end)

    it("applies to reload, which keeps the instance", function()
      local u = Item:get "1"
      u.name = "changed"
      Raw:upsert { id = "1", name = "enc:ecila-wen" }
      assert.is_true(rawequal(u, u:reload()))
      assert.equal("new-alice", u.name)
      assert.is_true(u:is_persisted())
      assert.equal(2, calls)
      local seen
      Item:after_load(function(v) seen = v.name end)
      u:reload()
      assert.equal("new-alice", seen)
    end)

    it("leaves the instance as it was when it raises during reload", function()
      local u = Item:get "1"
      u.name = "changed"
      Raw:upsert { id = "1", name = "raise" }
      assert.equal("cannot decode", catch(u.reload, u))
      assert.equal("changed", u.name)
      Raw:upsert { id = "1", name = "enc:ecila" }
      u:reload()
      assert.equal("alice", u.name)
    end)

    it("of several mixins run in mixin order", function()
      backend:clear()
      local order = {}
      local function ext(label)
        return { deserialize = function(d) order[#order + 1] = label; return d end }
      end
      local Multi = item_models { mixins = {
        { extensions = { memory = ext("one") } },
        { extensions = { ["*"] = ext("two") } },
      } }
      Multi:create { id = "1" }
      Multi:get "1"
      assert.same({ "one", "two" }, order)
    end)

    it("a deserialize returning a non-table is a clear error", function()
      backend:clear()
      local Bad = item_models { extensions = { memory = { deserialize = function() return "nope" end } } }
      Bad:create { id = "1" }
      local err = catch(Bad.get, Bad, "1")
      assert.is_truthy(text(err):find("deserialize", 1, true), text(err))
      assert.equal(1, Bad:count())
    end)
  end)

  describe("validate", function()
    local Item, reject

    before_each(function()
      reject = nil
      Item = item_models { extensions = { memory = {
        validate = function(data)
          if data.name == reject then error("name '" .. tostring(data.name) .. "' is reserved", 0) end
        end,
      } } }
    end)

    it("accepts data it does not reject", function()
      reject = "admin"
      Item:create { id = "1", name = "alice" }
      assert.equal(1, Item:count())
    end)

    it("receives the data about to be stored", function()
      local seen
      local Probe = item_models { extensions = { memory = { validate = function(d) seen = d end } } }
      Probe:create { id = "7", name = "n" }
      assert.equal("7", seen.id)
      assert.equal("n", seen.name)
    end)

    it("a rejection on create is a ValidationError and nothing is stored", function()
      reject = "admin"
      local err = expect("ValidationError", catch(Item.create, Item, { id = "1", name = "admin" }), "Item", "reserved")
      assert.is_table(err.errors)
      assert.equal(0, Item:count())
    end)

    it("a rejection on save leaves the stored record unchanged", function()
      local u = Item:create { id = "1", name = "alice" }
      reject = "admin"
      u.name = "admin"
      expect("ValidationError", catch(u.save, u))
      assert.equal("alice", Item:get("1").name)
    end)

    it("a rejection on upsert stores nothing", function()
      Item:create { id = "1", name = "alice" }
      reject = "admin"
      expect("ValidationError", catch(Item.upsert, Item, { id = "1", name = "admin" }))
      expect("ValidationError", catch(Item.upsert, Item, { id = "2", name = "admin" }))
      assert.same({ "1" }, ids(Item:all()))
      assert.equal("alice", Item:get("1").name)
    end)

    it("a rejection of one record in create_many stores none", function()
      reject = "admin"
      expect("ValidationError", catch(Item.create_many, Item, {
        { id = "1", name = "a" }, { id = "2", name = "b" }, { id = "3", name = "admin" },
      }))
      assert.equal(0, Item:count())
    end)

    it("a rejection of one record in q:update updates none", function()
      Item:create_many { { id = "1", name = "a" }, { id = "2", name = "b" } }
      reject = "b!"
      local n = 0
      Item:before_save(function(u) n = n + 1; u.name = u.name .. "!" end)
      expect("ValidationError", catch(function() return Item:where():update { marks = "m" } end))
      assert.equal("a", Item:get("1").name)
      assert.equal("b", Item:get("2").name)
      assert.is_nil(Item:get("1").marks)
    end)

    it("a rejection raised as a table is a ValidationError too", function()
      local Strict = item_models { extensions = { memory = {
        validate = function() error({ message = "not allowed" }) end,
      } } }
      expect("ValidationError", catch(Strict.create, Strict, { id = "1" }), "not allowed")
      assert.equal(0, Strict:count())
    end)

    -- The record stored is built from the serialized data: a select()
    -- instance would have stored nil for every field it did not load.
    it("a select() instance cannot be saved through serialize or validate", function()
      for _, ext in ipairs { { serialize = function(d) return d end }, { validate = function() end } } do
        local Doc = Model("Doc", {
          model_backend = InMemoryBackend(),
          extensions = { memory = ext },
          id = Field.string { primary_key = true },
          title = Field.string {},
          n = Field.integer { optional = true },
        })
        Doc:create { id = "d1", title = "hello", n = 7 }
        local u = Doc:where { id = "d1" }:select("id", "title"):first()
        u.title = "changed"
        local err = expect("ValidationError", catch(u.save, u), "Doc.n")
        assert.equal("not_loaded", err.errors[1].code)
        assert.same({ id = "d1", title = "hello", n = 7 }, Doc:get("d1"):to_table())
      end
    end)

    it("a ValidationError of the extension's own keeps its rules", function()
      local Strict = item_models { extensions = { memory = {
        validate = function()
          error(orm.errors.new("ValidationError", "bad id",
            { { field = "id", code = "reserved", message = "id 1 is reserved" } }))
        end,
      } } }
      local err = expect("ValidationError", catch(Strict.create, Strict, { id = "1" }), "bad id")
      assert.same({ { field = "id", code = "reserved", message = "id 1 is reserved" } }, err.errors)
      assert.equal(0, Strict:count())
    end)
  end)

  describe("modify_query", function()
    local Item, calls

    before_each(function()
      calls = 0
      Item = Model("Item", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        tenant = Field.string { index = true },
        n = Field.integer { default = 0 },
        extensions = { memory = {
          modify_query = function(q)
            calls = calls + 1
            return q:where { tenant = "acme" }
          end,
        } },
      })
      Item:create_many {
        { id = "1", tenant = "acme", n = 1 },
        { id = "2", tenant = "other", n = 2 },
        { id = "3", tenant = "acme", n = 3 },
        { id = "4", tenant = "other", n = 4 },
        { id = "5", tenant = "acme", n = 5 },
      }
      calls = 0
    end)

    it("is applied to where() queries", function()
      assert.same({ "1", "3", "5" }, ids(Item:where():all()))
      assert.same({ "3", "5" }, ids(Item:where { n__gte = 2 }:all()))
      assert.is_true(calls >= 2)
    end)

    it("is applied to all, count, first, last, exists", function()
      assert.same({ "1", "3", "5" }, ids(Item:all()))
      assert.equal(3, Item:count())
      assert.equal("3", Item:where { n__gte = 2 }:first().id)
      assert.equal("5", Item:where():last().id)
      assert.is_false(Item:where { id = "2" }:exists())
    end)

    it("is applied to find_by and get by table", function()
      assert.is_nil(Item:find_by { n = 2 })
      assert.is_nil(Item:get { n = 4 })
      assert.equal("3", Item:get({ n = 3 }).id)
    end)

    it("is applied to get by key", function()
      assert.equal("1", Item:get("1").id)
      assert.is_nil(Item:get "2")
      assert.is_nil(Item:get { id = "4" })
    end)

    it("is applied to each and paginate", function()
      local got = {}
      for u in Item:where():each() do got[#got + 1] = u.id end
      assert.same({ "1", "3", "5" }, got)
      local page, cursor = Item:where():limit(2):paginate()
      assert.same({ "1", "3" }, ids(page))
      local page2, cursor2 = Item:where():limit(2):cursor(cursor):paginate()
      assert.same({ "5" }, ids(page2))
      assert.is_nil(cursor2)
    end)

    it("is applied to bulk q:delete and q:update", function()
      assert.equal(3, Item:where():update { n = 0 })
      assert.equal(3, Item:where():delete())
      local Raw = Model("Item", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        tenant = Field.string { index = true },
        n = Field.integer { default = 0 },
      })
      assert.same({ "2", "4" }, ids(Raw:all()))
      assert.same({ 2, 4 }, { Raw:get("2").n, Raw:get("4").n })
    end)

    it("runs once per query built from the model", function()
      Item:where { n = 1 }:and_ { tenant = "acme" }:order_by("n"):limit(3):all()
      assert.equal(1, calls)
    end)

    it("may add a result filter", function()
      local Doc = Model("Doc", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        hidden = Field.boolean { default = false },
        extensions = { ["*"] = {
          modify_query = function(q)
            return q:add_result_filter("visible", function(u) return not u.hidden end)
          end,
        } },
      })
      Doc:create { id = "1" }
      Doc:create { id = "2", hidden = true }
      assert.same({ "1" }, ids(Doc:all()))
      assert.equal(1, Doc:count())
      assert.is_nil(Doc:find_by { id = "2" })
      assert.is_nil(Doc:get "2")
      assert.equal(2, Doc:where():disable_filter("visible"):count())
    end)

    it("of several mixins run in mixin order, then the model's", function()
      local order = {}
      local function ext(label)
        return { modify_query = function(q) order[#order + 1] = label; return q end }
      end
      local Multi = Model("Multi", {
        model_backend = backend,
        mixins = { { extensions = { memory = ext("one") } }, { extensions = { ["*"] = ext("two") } } },
        extensions = { memory = ext("model") },
        id = Field.string { primary_key = true },
      })
      order = {}
      Multi:where():all()
      assert.same({ "one", "two", "model" }, order)
    end)

    it("returning something other than a query is a clear error", function()
      local Bad = Model("Bad", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        extensions = { memory = { modify_query = function() return nil end } },
      })
      local err = catch(function() return Bad:where():all() end)
      assert.is_truthy(text(err):find("modify_query", 1, true), text(err))
    end)

    -- Running another model's query would read, and q:delete() delete,
    -- that model's records.
    it("returning another model's query is a clear error, and nothing is deleted", function()
      local Other = Model("Other", { model_backend = backend, id = Field.string { primary_key = true } })
      Other:create { id = "o1" }
      local Bad = Model("Bad", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        extensions = { memory = { modify_query = function() return Other:where {} end } },
      })
      expect("ConfigurationError", catch(function() return Bad:where():delete() end),
        "Bad", "modify_query", "Other")
      expect("ConfigurationError", catch(function() return Bad:get("o1") end), "Bad", "Other")
      local Filtered = Model("Filtered", {
        model_backend = backend,
        mixins = { { query_filters = { function() return Other:where {} end } } },
        id = Field.string { primary_key = true },
      })
      expect("ConfigurationError", catch(function() return Filtered:all() end),
        "Filtered", "query filter", "Other")
      assert.equal(1, Other:count())
    end)
  end)

  describe("declaration errors", function()
    it("refuses extensions that are not a table", function()
      expect("ConfigurationError", catch(Model, "Item", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        extensions = "memory",
      }), "Item", "extensions")
      expect("ConfigurationError", catch(Model, "Item", {
        model_backend = backend,
        mixins = { { extensions = 42 } },
        id = Field.string { primary_key = true },
      }), "Item", "extensions")
    end)

    it("refuses an extension for the backend that is not a table", function()
      expect("ConfigurationError", catch(Model, "Item", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        extensions = { memory = function() end },
      }), "Item", "memory")
    end)

    it("refuses, at declaration, an extension for another backend that is not a table", function()
      for _, ext in ipairs({ { dynamodb = 5 }, { { serialize = function(d) return d end } } }) do
        expect("ConfigurationError", catch(Model, "Item", {
          id = Field.string { primary_key = true },
          extensions = ext,
        }), "Item", "extensions")
      end
    end)

    -- Each function an extension may have, set to something else, by the
    -- model or by a mixin, for the backend in use or another: refused when
    -- the model is declared, naming the model, the key and who declared it.
    for _, key in ipairs({ "configure_backend", "serialize", "deserialize", "validate", "modify_query" }) do
      it("refuses a " .. key .. " that is not a function", function()
        for _, name in ipairs({ "memory", "*", "dynamodb" }) do
          for _, bad in ipairs({ 5, "f", {} }) do
            local ext = { [name] = { [key] = bad } }
            local err = catch(Model, "Item", {
              id = Field.string { primary_key = true },
              mixins = { { extensions = ext } },
            })
            expect("ConfigurationError", err, "Item", key, name, "mixin #1")
            err = catch(Model, "Item", { id = Field.string { primary_key = true }, extensions = ext })
            expect("ConfigurationError", err, "Item", key, name, "the model")
          end
        end
      end)
    end

    it("refuses an unknown key in an extension", function()
      local err = catch(Model, "Item", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        extensions = { memory = { serialise = function(d) return d end } },
      })
      expect("ConfigurationError", err, "Item", "serialise", "memory")
    end)

    it("keeps the extensions as declared: changing the tables later changes nothing", function()
      local calls = {}
      local ext = mock_extension(calls)
      local spec = { memory = ext }
      local Item = item_models { extensions = spec }
      ext.serialize = 5
      spec.memory = 5
      Item:create { id = "1" }
      assert.equal(1, count(calls, "serialize"))
    end)
  end)

  describe("the Python extension scenario", function()
    it("a transform mixin stores a computed form and reads the plain one back", function()
      local Transform = {
        extensions = { memory = {
          serialize = function(d)
            d.marks = d.name and d.name:upper() or nil
            return d
          end,
          deserialize = function(d)
            d.marks = nil
            return d
          end,
        } },
      }
      local Item, Raw = item_models { mixins = { Transform } }
      Item:create { id = "1", name = "alice" }
      assert.equal("ALICE", Raw:get("1").marks)
      local reloaded = Item:get "1"
      assert.equal("alice", reloaded.name)
      assert.is_nil(reloaded.marks)
    end)
  end)
end)
