-- Query operations (API.md section 6, issue 3): select, each, #q, bulk
-- q:delete and q:update (validated, unique-checked, all or nothing) and
-- q:explain.

local orm = require("restmachine_orm")
local Model, Field, Q = orm.Model, orm.Field, orm.Q
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local catch, text, mentions = support.catch, support.text, support.mentions
local expect, expect_rule, ids = support.expect, support.expect_rule, support.ids

-- The ids for u in q:each() yields.
local function each_ids(q)
  local out = {}
  for u in q:each() do out[#out + 1] = u.id end
  return out
end

-- Every record of a model as plain tables, keyed by id.
local function snapshot(M)
  local out = {}
  for _, r in ipairs(M:all()) do out[r.id] = r:to_table() end
  return out
end

local function declare(backend)
  return Model("User", {
    model_backend = backend,
    id = Field.string { primary_key = true },
    name = Field.string { max_length = 20 },
    email = Field.string { unique = true, optional = true },
    age = Field.integer { ge = 0, le = 150, optional = true, index = true },
    status = Field.string { optional = true },
    score = Field.number { optional = true },
  })
end

describe("query operations", function()
  local backend, User

  -- u1..u6; u4 has no age, no status and no email.
  before_each(function()
    backend = InMemoryBackend()
    User = declare(backend)
    User:create { id = "u1", name = "Alice", email = "a@x.io", age = 30, status = "active", score = 1.5 }
    User:create { id = "u2", name = "Bob", email = "b@x.io", age = 25, status = "inactive", score = 3 }
    User:create { id = "u3", name = "Carol", email = "c@x.io", age = 35, status = "active" }
    User:create { id = "u4", name = "Dave", score = 2 }
    User:create { id = "u5", name = "Eve", email = "e@x.io", age = 30, status = "deleted", score = 0.5 }
    User:create { id = "u6", name = "Fay", email = "f@x.io", age = 41, status = "active", score = 4 }
  end)

  describe("select", function()
    it("loads the selected fields with their values", function()
      local u = User:where { id = "u1" }:select("id", "name", "age"):first()
      assert.equal("u1", u.id)
      assert.equal("Alice", u.name)
      assert.equal(30, u.age)
    end)

    it("raises not_loaded, naming the field, when another field is read", function()
      local u = User:where { id = "u1" }:select("id", "name"):first()
      for _, field in ipairs({ "email", "age", "status", "score" }) do
        local err = catch(function() return u[field] end)
        expect("ValidationError", err, "User", field)
        expect_rule(err, field, "not_loaded")
      end
    end)

    it("raises not_loaded even for a field whose stored value is nil", function()
      local u = User:where { id = "u4" }:select("id"):first()
      local err = catch(function() return u.status end)
      expect("ValidationError", err, "User", "status")
      expect_rule(err, "status", "not_loaded")
    end)

    it("raises not_loaded when another field is assigned, and leaves the instance as it was", function()
      local u = User:where { id = "u1" }:select("id", "name"):first()
      local err = catch(function() u.age = 31 end)
      expect("ValidationError", err, "User", "age")
      expect_rule(err, "age", "not_loaded")
      assert.same({ id = "u1", name = "Alice" }, u:to_table())
    end)

    it("refuses to save a partial instance, naming a field not loaded, and stores nothing", function()
      local before = snapshot(User)
      local u = User:where { id = "u1" }:select("id", "name"):first()
      local err = catch(u.save, u)
      expect("ValidationError", err, "User")
      assert.equal("not_loaded", err.errors[1].code)
      u.name = "Alicia"
      err = catch(u.save, u)
      expect("ValidationError", err, "User")
      assert.equal("not_loaded", err.errors[1].code)
      assert.is_true(mentions(err, err.errors[1].field), text(err))
      assert.same(before, snapshot(User))
    end)

    it("shows only the selected fields in to_table and tostring", function()
      local u = User:where { id = "u2" }:select("id", "name"):first()
      assert.same({ id = "u2", name = "Bob" }, u:to_table())
      local s = tostring(u)
      assert.truthy(s:find("Bob", 1, true), s)
      assert.falsy(s:find("email", 1, true), s)
      assert.falsy(s:find("b@x.io", 1, true), s)
      assert.falsy(s:find("age", 1, true), s)
    end)

    it("may leave out the primary key", function()
      local names = {}
      for i, u in ipairs(User:where { status = "active" }:select("name"):all()) do
        names[i] = u.name
        assert.same({ name = u.name }, u:to_table())
        expect_rule(expect("ValidationError", catch(function() return u.id end), "User", "id"), "id", "not_loaded")
      end
      assert.same({ "Alice", "Carol", "Fay" }, names)
    end)

    it("keeps the query's conditions, order, limit and offset", function()
      local q = User:where { age__gte = 25 }:order_by("-age", "name"):offset(1):limit(3)
      assert.same(ids(q:all()), ids(q:select("id"):all()))
      assert.same({ "u3", "u1", "u5" }, ids(q:select("id"):all()))
    end)

    it("applies to first, last, get, each and paginate", function()
      local q = User:where { status = "active" }:select("id", "status")
      for _, u in ipairs({ q:first(), q:last(), q:get { id = "u3" }, (q:limit(1):paginate())[1] }) do
        assert.equal("active", u.status)
        expect("ValidationError", catch(function() return u.name end), "User", "name")
      end
      for u in q:each() do
        assert.equal("active", u.status)
        expect("ValidationError", catch(function() return u.name end), "User", "name")
      end
    end)

    it("leaves the query it came from loading every field", function()
      local q = User:where { id = "u1" }
      local _ = q:select("id")
      local u = q:first()
      assert.equal("a@x.io", u.email)
      u.name = "Alicia"
      u:save()
      assert.equal("Alicia", User:get("u1").name)
    end)

    -- Filters and hooks are written against whole records: they read
    -- every field, and the mask applies to what the query returns.
    it("lets result filters and after_load hooks read every field", function()
      local q = User:where():add_result_filter("adult", function(u) return (u.age or 0) >= 30 end)
      local list = q:select("id"):all()
      assert.same({ "u1", "u3", "u5", "u6" }, ids(list))
      expect_rule(catch(function() return list[1].age end), "age", "not_loaded")
      local page = q:select("id"):limit(2):paginate()
      assert.same({ "u1", "u3" }, ids(page))
      expect_rule(catch(function() return page[1].name end), "name", "not_loaded")
      assert.equal("u6", q:select("id"):last().id)
      local seen = {}
      User:after_load(function(u) seen[#seen + 1] = u.name end)
      local u = User:where { id = "u2" }:select("id"):first()
      assert.same({ "Bob" }, seen)
      expect_rule(catch(function() return u.name end), "name", "not_loaded")
    end)

    it("does not limit what save and delete hooks of bulk writes read", function()
      local read = {}
      User:before_save(function(u) read[#read + 1] = u.name end)
      User:before_delete(function(u) read[#read + 1] = u.email end)
      assert.equal(2, User:where { age = 30 }:select("id"):update { score = 7 })
      assert.same({ "Alice", "Eve" }, read)
      assert.equal(7, User:get("u5").score)
      assert.equal(1, User:where { id = "u2" }:select("name"):delete())
      assert.same({ "Alice", "Eve", "b@x.io" }, read)
      assert.is_nil(User:get("u2"))
    end)

    it("rejects an unknown field with unknown_field when the query is built", function()
      local q = User:where()
      local err = catch(q.select, q, "id", "nmae")
      expect("ValidationError", err, "User", "nmae")
      expect_rule(err, "nmae", "unknown_field")
    end)
  end)

  describe("each", function()
    -- 700 more records (ages with nil values and ties) so that walks cross
    -- several internal pages.
    local function fill(n)
      for i = 1, n do
        User:create { id = string.format("m%04d", i), name = "M" .. i,
                      age = i % 7 ~= 0 and i % 90 or nil, score = (i * 37) % 11 }
      end
    end

    it("yields exactly what all() returns, in the same order", function()
      fill(700)
      for _, q in ipairs({
        User:where(),
        User:where { age__gte = 40 },
        User:where():order_by("-age", "score"),
        User:where():order_by("score", "-age"),
        User:where():order_by("age"),
        User:where { score__lt = 5 }:or_ { age__isnull = true },
        User:where(Q { age__lt = 10 } | Q { score = 3 }):order_by("-score"),
      }) do
        assert.same(ids(q:all()), each_ids(q))
      end
    end)

    it("honours limit and offset, across internal pages", function()
      fill(700)
      for _, q in ipairs({
        User:where():limit(300),
        User:where():offset(250):limit(300),
        User:where():order_by("-age"):offset(255):limit(258),
        User:where():order_by("score"):offset(600),
        User:where():offset(10000),
        User:where():limit(1),
      }) do
        assert.same(ids(q:all()), each_ids(q))
      end
    end)

    it("yields nothing for an empty result or limit(0)", function()
      assert.same({}, each_ids(User:where { name = "Nobody" }))
      assert.same({}, each_ids(User:where():limit(0)))
      backend:clear()
      assert.same({}, each_ids(User:where()))
    end)

    it("yields full, persisted instances", function()
      for u in User:where { id = "u2" }:each() do
        assert.equal("b@x.io", u.email)
        assert.is_true(u:is_persisted())
      end
    end)

    it("stops at break", function()
      fill(700)
      local seen = 0
      for _ in User:where():each() do
        seen = seen + 1
        if seen == 300 then break end
      end
      assert.equal(300, seen)
    end)

    it("returns a to-be-closed fourth value that ends the walk", function()
      local f, s, c, closing = User:where():each()
      assert.is_function(f)
      local mt = getmetatable(closing)
      assert.is_table(mt)
      assert.is_function(mt.__close)
      assert.equal("u1", f(s, c).id)
      do
        local _ <close> = closing
      end
      assert.is_nil(f(s, c))
    end)

    it("walks each record once when the loop deletes the current record", function()
      fill(700)
      local want = ids(User:all())
      local got = {}
      for u in User:where():each() do
        got[#got + 1] = u.id
        assert.is_true(u:delete())
      end
      assert.same(want, got)
      assert.equal(0, User:count())
    end)

    it("neither repeats nor skips when the loop deletes records ahead of it", function()
      fill(700)
      local all = ids(User:all())
      local deleted, seen, got = {}, {}, {}
      local k = 0
      for u in User:where():each() do
        assert.is_nil(seen[u.id], "repeated " .. u.id)
        seen[u.id] = true
        got[#got + 1] = u.id
        k = k + 1
        local victim = all[(k * 7) % #all + 1]
        if not seen[victim] then
          User:where { id = victim }:delete()
          deleted[victim] = true
        end
      end
      for _, id in ipairs(all) do
        if not deleted[id] then assert.is_true(seen[id], "skipped " .. id) end
      end
    end)

    it("neither repeats nor skips when the loop inserts records", function()
      fill(600)
      local all = ids(User:all())
      local seen, got, n = {}, {}, 0
      for u in User:where():each() do
        assert.is_nil(seen[u.id], "repeated " .. u.id)
        seen[u.id] = true
        got[#got + 1] = u.id
        n = n + 1
        if n <= 400 then User:create { id = "new" .. n, name = "New", age = n % 100 } end
      end
      for _, id in ipairs(all) do assert.is_true(seen[id], "skipped " .. id) end
      -- The records that existed come in their order; new ones may follow.
      local originals = {}
      for _, id in ipairs(got) do if not id:find("^new") then originals[#originals + 1] = id end end
      assert.same(all, originals)
    end)

    it("neither repeats nor skips in order_by while the loop inserts and deletes", function()
      fill(700)
      local q = User:where():order_by("-age", "score")
      local all = ids(q:all())
      local touched, seen = {}, {}
      local rng = 99
      local function rand(n)
        rng = (rng * 1103515245 + 12345) % 2147483648
        return rng % n + 1
      end
      local n = 0
      for u in q:each() do
        assert.is_nil(seen[u.id], "repeated " .. u.id)
        seen[u.id] = true
        n = n + 1
        if n <= 500 then
          local id = "ins" .. n
          User:create { id = id, name = "I", age = rand(3) > 1 and rand(100) - 1 or nil, score = rand(11) - 1 }
          local victim = all[rand(#all)]
          if not seen[victim] and not touched[victim] then
            User:get(victim):delete()
            touched[victim] = true
          end
        end
      end
      for _, id in ipairs(all) do
        if not touched[id] then assert.is_true(seen[id], "skipped " .. id) end
      end
    end)

    it("walks records ordered by long text values across internal pages", function()
      for i = 1, 300 do
        User:create { id = string.format("t%03d", i), name = "T", status = string.rep("s", 5000) .. (i * 7 % 300) }
      end
      local q = User:where():order_by("-status")
      assert.same(ids(q:all()), each_ids(q))
    end)

    it("ends without error or repeat when the loop clears the store", function()
      fill(700)
      local seen, n = {}, 0
      for u in User:where():order_by("age"):each() do
        assert.is_nil(seen[u.id], "repeated " .. u.id)
        seen[u.id] = true
        n = n + 1
        if n == 10 then backend:clear() end
      end
      assert.is_true(n >= 10)
      assert.equal(0, User:count())
    end)

    it("is a new walk on each call", function()
      local q = User:where { status = "active" }
      assert.same({ "u1", "u3", "u6" }, each_ids(q))
      assert.same({ "u1", "u3", "u6" }, each_ids(q))
    end)
  end)

  describe("#q", function()
    it("equals q:count() for every kind of query", function()
      for _, q in ipairs({
        User:where(),
        User:where { status = "active" },
        User:where { name = "Nobody" },
        User:where { age__gte = 30 }:or_ { age__isnull = true },
        User:where():not_ { status = "deleted" },
        User:where():order_by("-age"):limit(2),
        User:where():offset(4),
        User:where():offset(2):limit(3),
        User:where():limit(0),
        User:where(Q { age = 30 } | ~Q { score__gt = 1 }),
      }) do
        assert.equal(q:count(), #q)
        assert.equal(#q:all(), #q)
      end
    end)

    it("counts the store when evaluated, not when the query was built", function()
      local q = User:where { status = "active" }
      assert.equal(3, #q)
      User:create { id = "u7", name = "Gus", status = "active" }
      assert.equal(4, #q)
    end)
  end)

  describe("delete", function()
    it("deletes every match, returns the count and leaves the rest", function()
      assert.equal(3, User:where { status = "active" }:delete())
      assert.same({ "u2", "u4", "u5" }, ids(User:all()))
      assert.is_nil(User:get("u1"))
    end)

    it("returns 0 and deletes nothing without a match", function()
      local before = snapshot(User)
      assert.equal(0, User:where { name = "Nobody" }:delete())
      assert.same(before, snapshot(User))
    end)

    it("deletes every record with an empty where", function()
      assert.equal(6, User:where():delete())
      assert.equal(0, User:count())
      assert.same({}, User:all())
    end)

    it("respects order_by and limit", function()
      assert.equal(2, User:where():order_by("-age"):limit(2):delete())
      -- -age puts nil (u4) first, then Fay (41)
      assert.same({ "u1", "u2", "u3", "u5" }, ids(User:all()))
      assert.equal(1, User:where { age__isnull = false }:order_by("age"):limit(1):delete())
      assert.same({ "u1", "u3", "u5" }, ids(User:all()))
    end)

    it("respects offset", function()
      assert.equal(2, User:where():offset(4):delete())
      assert.same({ "u1", "u2", "u3", "u4" }, ids(User:all()))
      assert.equal(1, User:where():order_by("name"):offset(1):limit(1):delete())
      assert.same({ "u1", "u3", "u4" }, ids(User:all()))
    end)

    it("takes Q expressions and or_ groups", function()
      assert.equal(3, User:where(Q { age = 30 } | Q { score__isnull = true }):delete())
      assert.same({ "u2", "u4", "u6" }, ids(User:all()))
      assert.equal(2, User:where { name = "Bob" }:or_ { name = "Fay" }:delete())
      assert.same({ "u4" }, ids(User:all()))
    end)

    it("frees the keys and unique values of the records it deletes", function()
      User:where { age__gte = 30 }:delete()
      User:create { id = "u1", name = "Alice again", email = "a@x.io" }
      User:create { id = "u6", name = "Fay again", email = "f@x.io" }
      assert.equal("Alice again", User:find_by { email = "a@x.io" }.name)
      assert.same({ "u2", "u4", "u1", "u6" }, ids(User:all()))
    end)

    it("makes a later save of a deleted record's instance raise NotFoundError", function()
      local u = User:get("u3")
      User:where { status = "active" }:delete()
      u.name = "Back"
      local err = catch(u.save, u)
      expect("NotFoundError", err)
      assert.is_nil(User:get("u3"))
    end)

    it("leaves the query usable and matching what now remains", function()
      local q = User:where { age__lt = 31 }
      assert.equal(3, q:delete())
      assert.equal(0, q:count())
      User:create { id = "u7", name = "Gus", age = 5 }
      assert.equal(1, q:delete())
      assert.same({ "u3", "u4", "u6" }, ids(User:all()))
    end)
  end)

  describe("update", function()
    it("assigns the values to every match, returns the count and leaves the rest", function()
      assert.equal(3, User:where { status = "active" }:update { score = 9, name = "X" })
      for _, id in ipairs({ "u1", "u3", "u6" }) do
        local u = User:get(id)
        assert.equal(9, u.score)
        assert.equal("X", u.name)
      end
      assert.equal("Bob", User:get("u2").name)
      assert.equal(3, User:get("u2").score)
      assert.is_nil(User:get("u4").status)
    end)

    it("keeps every other field and the insertion order", function()
      User:where { age__gte = 30 }:update { status = "senior" }
      assert.same({ "u1", "u2", "u3", "u4", "u5", "u6" }, ids(User:all()))
      local u1 = User:get("u1")
      assert.same({ id = "u1", name = "Alice", email = "a@x.io", age = 30, status = "senior", score = 1.5 },
        u1:to_table())
    end)

    it("returns 0 and changes nothing without a match", function()
      local before = snapshot(User)
      assert.equal(0, User:where { name = "Nobody" }:update { age = 1 })
      assert.same(before, snapshot(User))
    end)

    it("clears a field given orm.null, with or without save hooks", function()
      assert.equal(2, User:where { age = 30 }:update { email = orm.null, status = orm.null })
      assert.is_nil(User:get("u1").email)
      assert.is_nil(User:get("u5").status)
      expect_rule(catch(function() return User:where { id = "u1" }:update { name = orm.null } end),
        "name", "required")
      User:before_save(function() end)
      assert.equal(1, User:where { id = "u2" }:update { email = orm.null })
      assert.is_nil(User:get("u2").email)
      assert.equal("Bob", User:get("u2").name)
      assert.equal(1, User:where { id = "u3" }:update { email = "a@x.io" }) -- u1's is free now
    end)

    -- With save hooks the update runs in Lua, record by record: its
    -- values are still checked first, every rule at once, as without.
    it("validates the values the same way with save hooks, with or without a match", function()
      local saved = 0
      for round = 1, 2 do
        local before = snapshot(User)
        for _, q in ipairs { User:where { name = "Alice" }, User:where { name = "Nobody" } } do
          local err = catch(q.update, q, { email = 5, age = -3, nmae = "x" })
          expect("ValidationError", err, "User", "email", "age", "nmae")
          expect_rule(err, "email", "type")
          expect_rule(err, "age", "ge")
          expect_rule(err, "nmae", "unknown_field")
          assert.equal(3, #err.errors)
        end
        assert.same(before, snapshot(User))
        assert.equal(0, saved)
        User:before_save(function() saved = saved + 1 end)
      end
    end)

    it("updates each match once even when it changes the field the query filters on", function()
      assert.equal(3, User:where { status = "active" }:update { status = "inactive" })
      assert.equal(4, User:where { status = "inactive" }:count())
      assert.equal(4, User:where { age__lt = 40 }:update { age = 40 })
      assert.equal(5, User:where { age = 40 }:count() + User:where { age = 41 }:count())
    end)

    it("respects order_by, limit and offset", function()
      assert.equal(2, User:where { age__isnull = false }:order_by("-age"):limit(2):update { status = "top" })
      assert.same({ "u3", "u6" }, ids(User:where { status = "top" }:all()))
      assert.equal(1, User:where():offset(5):update { status = "last" })
      assert.same({ "u6" }, ids(User:where { status = "last" }:all()))
    end)

    it("takes Q expressions", function()
      assert.equal(2, User:where(Q { name = "Bob" } | Q { name = "Dave" }):update { age = 99 })
      assert.same({ "u2", "u4" }, ids(User:where { age = 99 }:all()))
    end)

    it("validates the values and changes nothing when one is bad", function()
      local before = snapshot(User)
      local err = catch(function() return User:where():update { name = "Renamed", age = "old" } end)
      expect("ValidationError", err, "User", "age")
      expect_rule(err, "age", "type")
      err = catch(function() return User:where():update { name = "Renamed", age = 200 } end)
      expect("ValidationError", err, "User", "age")
      err = catch(function() return User:where():update { name = string.rep("n", 21) } end)
      expect("ValidationError", err, "User", "name")
      assert.same(before, snapshot(User))
    end)

    it("validates the values even when nothing matches", function()
      local err = catch(function() return User:where { name = "Nobody" }:update { age = -1 } end)
      expect("ValidationError", err, "User", "age")
    end)

    it("rejects a value of the wrong type for a required field", function()
      local before = snapshot(User)
      local err = catch(function() return User:where():update { name = false } end)
      expect("ValidationError", err, "User", "name")
      expect_rule(err, "name", "type")
      assert.same(before, snapshot(User))
    end)

    it("rejects an unknown field with unknown_field", function()
      local before = snapshot(User)
      local err = catch(function() return User:where():update { nmae = "x" } end)
      expect("ValidationError", err, "User", "nmae")
      expect_rule(err, "nmae", "unknown_field")
      assert.same(before, snapshot(User))
    end)

    it("rejects the primary key with readonly", function()
      local before = snapshot(User)
      local err = catch(function() return User:where { id = "u1" }:update { id = "u9" } end)
      expect("ValidationError", err, "User", "id")
      expect_rule(err, "id", "readonly")
      assert.same(before, snapshot(User))
    end)

    it("rejects a value that is not a table", function()
      expect("ValidationError", catch(function() return User:where():update("x") end), "User")
    end)

    it("raises DuplicateKeyError and changes nothing when a unique value would land on two records", function()
      local before = snapshot(User)
      local err = catch(function() return User:where { status = "active" }:update { email = "same@x.io", score = 0 } end)
      expect("DuplicateKeyError", err)
      assert.same(before, snapshot(User))
      -- The value is still free.
      User:create { id = "u7", name = "Gus", email = "same@x.io" }
    end)

    it("raises DuplicateKeyError and changes nothing when a record outside the matches holds the value", function()
      local before = snapshot(User)
      local err = catch(function() return User:where { id = "u3" }:update { email = "a@x.io", age = 1 } end)
      expect("DuplicateKeyError", err)
      assert.same(before, snapshot(User))
      assert.equal("u1", User:find_by { email = "a@x.io" }.id)
    end)

    it("lets one match take a new unique value, or keep its own", function()
      assert.equal(1, User:where { id = "u3" }:update { email = "carol@x.io" })
      assert.equal("u3", User:find_by { email = "carol@x.io" }.id)
      assert.is_nil(User:find_by { email = "c@x.io" })
      User:create { id = "u7", name = "Gus", email = "c@x.io" }
      assert.equal(1, User:where { id = "u1" }:update { email = "a@x.io", name = "Al" })
      assert.equal("Al", User:find_by { email = "a@x.io" }.name)
    end)

    it("gives the unique value to one match of a limited query", function()
      assert.equal(1, User:where { status = "active" }:order_by("-age"):limit(1):update { email = "top@x.io" })
      assert.equal("u6", User:find_by { email = "top@x.io" }.id)
    end)

    it("does not change instances loaded before, which reload shows by get", function()
      local u = User:get("u1")
      User:where { id = "u1" }:update { name = "Changed" }
      assert.equal("Alice", u.name)
      assert.equal("Changed", User:get("u1").name)
    end)
  end)

  describe("explain", function()
    local PLANS = {
      ["full scan"] = true, ["primary key lookup"] = true, ["unique index lookup"] = true,
      ["index range"] = true, ["index lookups"] = true, ["ordered index walk"] = true,
    }

    local function check(e)
      assert.is_table(e)
      assert.is_boolean(e.scan)
      assert.is_boolean(e.sorted)
      assert.is_number(e.estimate)
      assert.is_true(PLANS[e.plan] ~= nil, "unknown plan " .. tostring(e.plan))
      if e.scan then
        assert.is_nil(e.index)
        assert.equal("full scan", e.plan)
      else
        assert.is_string(e.index)
        assert.are_not.equal("full scan", e.plan)
      end
      return e
    end

    local Item
    before_each(function()
      Item = Model("Item", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        name = Field.string {},
        email = Field.string { unique = true, optional = true },
        code = Field.string { unique = true, index = true, optional = true },
        age = Field.integer { index = true, optional = true },
        plain = Field.integer { optional = true },
      })
      for i = 1, 300 do
        Item:create { id = "i" .. i, name = "N" .. i, email = "e" .. i, code = string.format("c%03d", i),
                      age = i <= 200 and i % 50 or nil, plain = i % 50 }
      end
    end)

    it("uses the primary key for eq and in on it", function()
      local e = check(Item:where { id = "i7" }:explain())
      assert.same({ false, "id", "primary key lookup" }, { e.scan, e.index, e.plan })
      e = check(Item:where { id__in = { "i1", "i2", "zz" } }:explain())
      assert.same({ false, "id", "primary key lookup" }, { e.scan, e.index, e.plan })
    end)

    it("uses the hash index of a unique field for eq and in", function()
      local e = check(Item:where { email = "e5" }:explain())
      assert.same({ false, "email", "unique index lookup" }, { e.scan, e.index, e.plan })
      e = check(Item:where { email__in = { "e5", "e6" } }:explain())
      assert.same({ false, "email", "unique index lookup" }, { e.scan, e.index, e.plan })
      e = check(Item:where { code = "c005" }:explain())
      assert.same({ false, "code" }, { e.scan, e.index })
    end)

    it("uses the ordered index of an index field for eq, in, ranges and isnull", function()
      for _, conds in ipairs({
        { age = 5 }, { age__in = { 5, 6 } }, { age__gt = 40 }, { age__gte = 10, age__lt = 20 },
        { age__lte = 3 }, { age__isnull = true },
      }) do
        local e = check(Item:where(conds):explain())
        assert.is_false(e.scan)
        assert.equal("age", e.index)
      end
      assert.equal("index range", Item:where { age__gt = 40 }:explain().plan)
      assert.equal("index lookups", Item:where { age__in = { 5, 6 } }:explain().plan)
    end)

    it("uses the ordered index for isnull = false when few records have a value", function()
      for i = 301, 2000 do Item:create { id = "i" .. i, name = "N" } end
      local e = check(Item:where { age__isnull = false }:explain())
      assert.is_false(e.scan)
      assert.equal("age", e.index)
    end)

    it("uses ranges on an indexed string field", function()
      local e = check(Item:where { code__gte = "c250" }:explain())
      assert.same({ false, "code", "index range" }, { e.scan, e.index, e.plan })
    end)

    it("walks the ordered index for order_by on an index field, limit or not", function()
      for _, q in ipairs({
        Item:where():order_by("age"), Item:where():order_by("-age"):limit(3),
        Item:where():order_by("code"):limit(10):offset(5), Item:where { age__gte = 10 }:order_by("age"):limit(5),
      }) do
        local e = check(q:explain())
        assert.is_false(e.scan)
        assert.is_false(e.sorted)
        assert.equal("ordered index walk", e.plan)
      end
      assert.equal("age", Item:where():order_by("-age"):limit(3):explain().index)
    end)

    it("scans for conditions on unindexed fields and for no conditions", function()
      for _, q in ipairs({
        Item:where(), Item:where { name = "N5" }, Item:where { plain = 5 }, Item:where { plain__gte = 40 },
        Item:where { name__startswith = "N1" },
      }) do
        local e = check(q:explain())
        assert.is_true(e.scan)
        assert.is_nil(e.index)
        assert.equal("full scan", e.plan)
      end
    end)

    it("reports a sort step when no index gives the order", function()
      assert.is_true(check(Item:where():order_by("name"):explain()).sorted)
      assert.is_true(check(Item:where { age__gte = 10 }:order_by("plain"):explain()).sorted)
      assert.is_false(check(Item:where():explain()).sorted)
      assert.is_false(check(Item:where():order_by("age"):explain()).sorted)
    end)

    it("picks the most selective index when several conditions have one", function()
      assert.equal("email", check(Item:where { age__gte = 0, email = "e3" }:explain()).index)
      assert.equal("id", check(Item:where { age__gte = 10, id = "i11" }:explain()).index)
      assert.equal("age", check(Item:where { name = "N3", age = 3 }:explain()).index)
      assert.equal("age", check(Item:where { plain = 3, age__in = { 3, 4 } }:explain()).index)
    end)

    it("checks the conditions the index does not decide", function()
      assert.same({ "i3" }, ids(Item:where { name = "N3", age = 3 }:all()))
      assert.same({}, ids(Item:where { age__gte = 10, id = "i1" }:all()))
      assert.same({ "i11" }, ids(Item:where { age__gte = 10, id = "i11" }:all()))
    end)

    it("gives an estimate of at least the number of matches for an index plan", function()
      for _, q in ipairs({
        Item:where { age = 5 }, Item:where { age__gte = 10, age__lt = 20 }, Item:where { email = "e5" },
        Item:where { id__in = { "i1", "i2" } }, Item:where { code__gte = "c250" }, Item:where { age__isnull = true },
      }) do
        local e = check(q:explain())
        assert.is_true(e.estimate >= q:count(), ("estimate %s < count %d for %s"):format(e.estimate, q:count(), e.plan))
      end
      assert.equal(1, Item:where { email = "e5" }:explain().estimate)
      assert.equal(1, Item:where { id = "i5" }:explain().estimate)
    end)

    it("runs nothing and changes nothing", function()
      local before = snapshot(Item)
      Item:where { age__gte = 10 }:explain()
      Item:where():explain()
      assert.same(before, snapshot(Item))
    end)
  end)
end)
