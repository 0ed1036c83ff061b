-- Secondary indexes (API.md sections 3 and 6, issue 3): `unique` fields get
-- a hash index, `index` fields an ordered one used for eq, in, ranges,
-- isnull, order_by, first/last and top-k. Whatever the write path (create,
-- save, upsert, delete, clear, q:delete, q:update, create_many) and whether
-- it succeeds or raises, an indexed model answers every query exactly as
-- the same model without indexes does. Range counts on an index do not
-- grow with the table (#perf).

local orm = require("restmachine_orm")
local Model, Field, Q = orm.Model, orm.Field, orm.Q
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local catch, ids, lcg = support.catch, support.ids, support.lcg

-- Under valgrind (make memcheck) the randomized runs are shortened.
local SCALE = os.getenv("RESTMACHINE_ORM_MEMCHECK") and 0.1 or 1

-- One model declaration, with or without its indexes and unique fields.
local function declare(backend, name, indexed)
  local function f(opts, extra)
    if indexed then for k, v in pairs(extra) do opts[k] = v end end
    return opts
  end
  return Model(name, {
    model_backend = backend,
    id = Field.string { primary_key = true },
    name = Field.string {},
    age = Field.integer(f({ optional = true, ge = 0, le = 150 }, { index = true })),
    email = Field.string(f({ optional = true }, { unique = true })),
    code = Field.string(f({ optional = true }, { unique = true, index = true })),
    score = Field.number(f({ optional = true }, { index = true })),
    active = Field.boolean(f({ optional = true }, { index = true })),
  })
end

describe("indexes", function()
  local backend, Indexed

  before_each(function()
    backend = InMemoryBackend()
    Indexed = declare(backend, "Indexed", true)
  end)

  describe("ordered index", function()
    -- Ages with ties and nil values, in this insertion order.
    local AGES = { 30, nil, 25, 30, 41, nil, 25, 7, 30, 99 }

    before_each(function()
      for i = 1, 10 do
        Indexed:create { id = "a" .. i, name = "n" .. i, age = AGES[i], score = (i % 4) / 2 }
      end
    end)

    local function where(c) return ids(Indexed:where(c):all()) end

    it("answers eq, in and every range exactly, in insertion order", function()
      assert.same({ "a1", "a4", "a9" }, where { age = 30 })
      assert.same({ "a3", "a7", "a8" }, where { age__in = { 25, 7, 8 } })
      assert.same({ "a1", "a4", "a5", "a9", "a10" }, where { age__gt = 25 })
      assert.same({ "a1", "a3", "a4", "a5", "a7", "a9", "a10" }, where { age__gte = 25 })
      assert.same({ "a3", "a7", "a8" }, where { age__lt = 30 })
      assert.same({ "a1", "a3", "a4", "a7", "a8", "a9" }, where { age__lte = 30 })
      assert.same({ "a1", "a4", "a9" }, where { age__gte = 26, age__lt = 41 })
      assert.same({}, where { age__gt = 30, age__lt = 41 })
      assert.same({}, where { age__gt = 50, age__lt = 40 })
    end)

    it("counts ranges exactly at their bounds", function()
      assert.equal(3, Indexed:where { age = 30 }:count())
      assert.equal(5, Indexed:where { age__gt = 25 }:count())
      assert.equal(7, Indexed:where { age__gte = 25 }:count())
      assert.equal(3, Indexed:where { age__lt = 30 }:count())
      assert.equal(6, Indexed:where { age__lte = 30 }:count())
      assert.equal(8, Indexed:where { age__gte = 0 }:count())
      assert.equal(0, Indexed:where { age__gt = 99 }:count())
      assert.equal(1, Indexed:where { age__gte = 99 }:count())
      assert.equal(8, Indexed:where { age__gte = math.mininteger }:count())
    end)

    it("answers isnull both ways", function()
      assert.same({ "a2", "a6" }, where { age__isnull = true })
      assert.equal(8, Indexed:where { age__isnull = false }:count())
    end)

    it("orders ascending with nil last and ties in insertion order", function()
      assert.same({ "a8", "a3", "a7", "a1", "a4", "a9", "a5", "a10", "a2", "a6" },
        ids(Indexed:where():order_by("age"):all()))
    end)

    it("orders descending with nil first and ties in insertion order", function()
      assert.same({ "a2", "a6", "a10", "a5", "a1", "a4", "a9", "a3", "a7", "a8" },
        ids(Indexed:where():order_by("-age"):all()))
    end)

    it("gives first and last along the index order, limit and offset included", function()
      local q = Indexed:where():order_by("age")
      assert.equal("a8", q:first().id)
      assert.equal("a6", q:last().id)
      assert.equal("a2", Indexed:where():order_by("-age"):first().id)
      assert.equal("a8", Indexed:where():order_by("-age"):last().id)
      assert.equal("a4", q:offset(4):first().id)
      assert.equal("a9", q:offset(2):limit(4):last().id)
      assert.equal("a10", Indexed:where { age__isnull = false }:order_by("age"):last().id)
    end)

    it("gives the top k with order_by and limit", function()
      assert.same({ "a8", "a3", "a7" }, ids(Indexed:where():order_by("age"):limit(3):all()))
      assert.same({ "a10", "a5", "a1" }, ids(Indexed:where { age__isnull = false }:order_by("-age"):limit(3):all()))
      assert.same({ "a4", "a9" }, ids(Indexed:where { age = 30 }:order_by("age"):offset(1):limit(5):all()))
      assert.same({ "a5", "a1" }, ids(Indexed:where { age__gte = 26 }:order_by("-age"):offset(1):limit(2):all()))
    end)

    it("orders by the index field, then by the other terms", function()
      assert.same({ "a8", "a7", "a3", "a9", "a4", "a1", "a5", "a10", "a6", "a2" },
        ids(Indexed:where():order_by("age", "-id"):all()))
    end)

    it("sees a value changed by save, upsert and q:update at its new place only", function()
      local u = Indexed:get("a8")
      u.age = 100
      u:save()
      Indexed:upsert { id = "a10", name = "n10", age = 1 }
      Indexed:where { id = "a5" }:update { age = 26 }
      assert.same({}, where { age = 7 })
      assert.same({}, where { age = 99 })
      assert.same({}, where { age = 41 })
      assert.same({ "a8" }, where { age__gt = 50 })
      assert.same({ "a10", "a3", "a7", "a5" }, ids(Indexed:where { age__lt = 30 }:order_by("age"):all()))
      assert.equal("a8", Indexed:where():order_by("-age"):offset(2):first().id)
    end)

    it("drops a record deleted by every path", function()
      Indexed:get("a1"):delete()
      Indexed:where { age = 25 }:delete()
      Indexed:where():order_by("-age"):limit(1):delete() -- a2, a nil age
      assert.same({ "a4", "a9" }, where { age = 30 })
      assert.same({}, where { age__in = { 25 } })
      assert.same({ "a6" }, where { age__isnull = true })
      assert.same({ "a6", "a10", "a5", "a4", "a9", "a8" }, ids(Indexed:where():order_by("-age"):all()))
    end)

    it("is emptied by clear, which leaves another model's index alone", function()
      local Other = declare(backend, "Other", true)
      Other:create { id = "o1", name = "o", age = 30 }
      backend:clear(Indexed)
      assert.same({}, where { age = 30 })
      assert.equal(0, Indexed:where { age__gte = 0 }:count())
      assert.same({ "o1" }, ids(Other:where { age = 30 }:all()))
      Indexed:create { id = "a1", name = "again", age = 30 }
      assert.same({ "a1" }, where { age = 30 })
      backend:clear()
      assert.same({}, ids(Other:where { age = 30 }:all()))
      assert.same({}, where { age__gte = 0 })
    end)

    it("is left as it was by a create_many that fails", function()
      local before = ids(Indexed:where():order_by("age"):all())
      catch(Indexed.create_many, Indexed, {
        { id = "b1", name = "x", age = 1 }, { id = "b2", name = "x", age = 2 }, { id = "a1", name = "dup", age = 3 },
      })
      catch(Indexed.create_many, Indexed, {
        { id = "b1", name = "x", age = 1 }, { id = "b2", name = "x", age = 200 },
      })
      assert.same(before, ids(Indexed:where():order_by("age"):all()))
      assert.same({}, where { age__lt = 5 })
      assert.equal(8, Indexed:where { age__gte = 0 }:count())
    end)

    it("keeps thousands of equal values exact", function()
      for i = 1, 3000 do Indexed:create { id = "d" .. i, name = "d", age = 50 + i % 2 } end
      assert.equal(1500, Indexed:where { age = 50 }:count())
      assert.equal(1501, Indexed:where { age__gte = 51 }:count()) -- + a10 (99)
      Indexed:where { age = 50 }:order_by("age"):limit(700):delete()
      assert.equal(800, Indexed:where { age = 50 }:count())
      assert.equal("d1402", Indexed:where { age = 50 }:order_by("age"):first().id)
      Indexed:where { age = 51 }:update { age = 52 }
      assert.equal(0, Indexed:where { age = 51 }:count())
      assert.equal(1500, Indexed:where { age__gt = 51, age__lt = 99 }:count())
    end)
  end)

  describe("number index", function()
    it("treats integers and floats of the same value as equal and orders them together", function()
      local values = { 2, 1.5, 1, 1.0, -0.5, 3, 2.0, 1e300, -1e300, 9007199254740993 }
      for i, v in ipairs(values) do Indexed:create { id = "s" .. i, name = "s", score = v } end
      assert.same({ "s3", "s4" }, ids(Indexed:where { score = 1 }:all()))
      assert.same({ "s3", "s4" }, ids(Indexed:where { score = 1.0 }:all()))
      assert.same({ "s1", "s7" }, ids(Indexed:where { score__in = { 2.0 } }:all()))
      assert.same({ "s9", "s5", "s3", "s4", "s2", "s1", "s7", "s6", "s10", "s8" },
        ids(Indexed:where():order_by("score"):all()))
      assert.same({ "s10" }, ids(Indexed:where { score__gt = 9007199254740992.0, score__lt = 1e20 }:all()))
      assert.equal(3, Indexed:where { score__gt = 1, score__lte = 2 }:count())
    end)
  end)

  describe("string index", function()
    it("orders by bytes and answers ranges on them", function()
      for i, c in ipairs({ "b", "B", "a", "ab", "", "é", "a\0", "Z" }) do
        Indexed:create { id = "c" .. i, name = "c", code = c }
      end
      assert.same({ "c5", "c2", "c8", "c3", "c7", "c4", "c1", "c6" }, ids(Indexed:where():order_by("code"):all()))
      assert.same({ "c3", "c4", "c7" }, ids(Indexed:where { code__gte = "a", code__lt = "b" }:all()))
      assert.same({ "c6" }, ids(Indexed:where { code__gt = "z" }:all()))
      assert.same({ "c5" }, ids(Indexed:where { code = "" }:all()))
    end)

    it("orders strings that share their first 8 bytes or more", function()
      local codes = { "shared-prefix-2", "shared-prefix-10", "shared-p", "shared-prefix-1\0",
                      "shared-prefix-1", "shared-pr", "shared-\0", "shared-prefix-",
                      "shared-pb", "shared-pa" }
      for i, c in ipairs(codes) do Indexed:create { id = "s" .. i, name = "s", code = c } end
      assert.same({ "s7", "s3", "s10", "s9", "s6", "s8", "s5", "s4", "s2", "s1" },
        ids(Indexed:where():order_by("code"):all()))
      assert.same({ "s5", "s4", "s2" },
        ids(Indexed:where { code__gt = "shared-prefix-", code__lt = "shared-prefix-2" }:order_by("code"):all()))
      assert.same({ "s4" }, ids(Indexed:where { code = "shared-prefix-1\0" }:all()))
      assert.same({ "s3" }, ids(Indexed:where { code = "shared-p" }:all()))
      assert.equal(9, Indexed:where { code__startswith = "shared-p" }:count())
    end)
  end)

  describe("unique index", function()
    it("answers eq and in, and follows the writes", function()
      for i = 1, 20 do Indexed:create { id = "u" .. i, name = "u", email = "e" .. i } end
      assert.same({ "u7" }, ids(Indexed:where { email = "e7" }:all()))
      assert.same({ "u2", "u9" }, ids(Indexed:where { email__in = { "e9", "e2", "nope" } }:all()))
      local u = Indexed:get("u7")
      u.email = "seven"
      u:save()
      assert.same({}, ids(Indexed:where { email = "e7" }:all()))
      assert.same({ "u7" }, ids(Indexed:where { email = "seven" }:all()))
      Indexed:upsert { id = "u9", name = "u" }
      assert.same({ "u2" }, ids(Indexed:where { email__in = { "e9", "e2" } }:all()))
      Indexed:create { id = "u21", name = "u", email = "e9" }
      assert.same({ "u21" }, ids(Indexed:where { email = "e9" }:all()))
    end)

    it("is left as it was by a q:update refused for a duplicate", function()
      for i = 1, 5 do Indexed:create { id = "u" .. i, name = "u", email = "e" .. i, code = "c" .. i, age = i } end
      catch(function() return Indexed:where { age__gte = 3 }:update { email = "x", age = 100 } end)
      catch(function() return Indexed:where { age = 4 }:update { code = "c1", age = 100 } end)
      assert.same({ "u3" }, ids(Indexed:where { email = "e3" }:all()))
      assert.same({ "u4" }, ids(Indexed:where { code = "c4" }:all()))
      assert.same({ "u1" }, ids(Indexed:where { code = "c1" }:all()))
      assert.same({}, ids(Indexed:where { email = "x" }:all()))
      assert.same({}, ids(Indexed:where { age = 100 }:all()))
      assert.same({ "u3", "u4", "u5" }, ids(Indexed:where { age__gte = 3 }:all()))
    end)
  end)

  -- The randomized check: every write path, valid and failing, applied to
  -- a model with indexes and to the same model without any; after every
  -- batch, both must answer many query shapes alike. Whether a write must
  -- fail is decided from the model without indexes (a full scan).
  describe("randomized against a model without indexes", function()
    local OPS = math.floor(4000 * SCALE)
    local BATCH = 40

    it("answers every query alike after thousands of writes of every kind", function()
      local Plain = declare(backend, "Plain", false)
      local rand = lcg(20250115)
      local function pick(list) return list[rand(#list)] end
      local function maybe(v, p) if rand(100) <= (p or 20) then return nil end return v end

      local function rand_id() return "k" .. rand(150) end
      local function rand_age() return maybe(rand(61) - 1) end
      local function rand_email() return maybe("e" .. rand(300), 40) end
      -- Short codes, and long ones that share their first 14 bytes: the
      -- ordered index compares strings by their first 8 bytes first.
      local function code_of(n) return string.format(n % 2 == 0 and "c%03d" or "customer-code-%03d", n) end
      local function rand_code() return maybe(code_of(rand(300)), 40) end
      local function rand_score()
        local v = maybe(rand(41) - 1, 15)
        if v and rand(2) == 1 then v = v / 2 end -- integers and floats, 3 and 3.0 alike
        if v and v == math.floor(v) and rand(2) == 1 then v = v + 0.0 end
        return v
      end
      local function rand_active() local v = rand(3); return v == 1 and true or v == 2 and false or nil end
      -- A record, valid unless `bad`: then one value breaks its field's rules.
      local function rand_record(id, bad)
        local r = { id = id or rand_id(), name = "n" .. rand(12), age = rand_age(), email = rand_email(),
                    code = rand_code(), score = rand_score(), active = rand_active() }
        if bad then
          local k = rand(3)
          if k == 1 then r.age = 151 elseif k == 2 then r.age = "x" else r.name = nil end
        end
        return r
      end

      -- The reference state, from the model without indexes.
      local function holder(field, value, except)
        if value == nil then return nil end
        for _, r in ipairs(Plain:where { [field] = value }:all()) do
          if r.id ~= except then return r.id end
        end
      end

      -- Runs fn on both models: on Indexed it must give `outcome` ("ok",
      -- "dup", "invalid" or "notfound"); on Plain it runs unless the outcome
      -- is "dup" (Plain has no unique fields) and must agree.
      local counts = { ok = 0, dup = 0, invalid = 0, notfound = 0 }
      local kinds = { dup = "DuplicateKeyError", invalid = "ValidationError", notfound = "NotFoundError" }
      local function both(label, outcome, fn)
        counts[outcome] = counts[outcome] + 1
        local ok_i, res_i = pcall(fn, Indexed)
        if outcome == "ok" then
          assert.is_true(ok_i, label .. ": " .. tostring(res_i))
          local ok_p, res_p = pcall(fn, Plain)
          assert.is_true(ok_p, label .. " (plain): " .. tostring(res_p))
          if type(res_i) == "number" then assert.equal(res_p, res_i, label .. ": counts differ") end
        else
          assert.is_false(ok_i, label .. ": expected " .. kinds[outcome])
          assert.equal(kinds[outcome], type(res_i) == "table" and res_i.name or tostring(res_i), label)
          if outcome ~= "dup" then
            local ok_p, res_p = pcall(fn, Plain)
            assert.is_false(ok_p, label .. " (plain) succeeded")
            assert.equal(kinds[outcome], res_p.name, label .. " (plain)")
          end
        end
      end

      local function new_conflict(r, except)
        return holder("email", r.email, except) ~= nil or holder("code", r.code, except) ~= nil
      end

      -- A random query shape, the same for both models.
      local function rand_shape()
        local a, b = rand(61) - 1, rand(61) - 1
        local conds = pick {
          function() return { age = a } end,
          function() return { age__in = { a, b, rand(61) - 1 } } end,
          function() return { age__gt = a } end,
          function() return { age__gte = a } end,
          function() return { age__lt = a } end,
          function() return { age__lte = a } end,
          function() return { age__gte = math.min(a, b), age__lt = math.max(a, b) } end,
          function() return { age__isnull = rand(2) == 1 } end,
          function() return { score = rand(21) - 1 } end,
          function() return { score__gte = rand(41) / 2 - 0.25 } end,
          function() return { score__lt = rand(41) / 2 } end,
          function() return { score__isnull = rand(2) == 1 } end,
          function() return { email = "e" .. rand(300) } end,
          function() return { email__in = { "e" .. rand(300), "e" .. rand(300) } } end,
          function() return { code = code_of(rand(300)) } end,
          function() return { code__gte = code_of(rand(300)) } end,
          function() return { code__lt = string.format("c%02d", rand(30)) } end,
          function() return { code__lt = string.format("customer-code-%02d", rand(30)) } end,
          function() return { code__isnull = rand(2) == 1 } end,
          function() return { active = rand(2) == 1 } end,
          function() return { active__isnull = true } end,
          function() return { id = rand_id() } end,
          function() return { id__in = { rand_id(), rand_id(), rand_id() } } end,
          function() return { name = "n" .. rand(12), age__gte = a } end,
          function() return { age__gte = a, email__isnull = false } end,
          function() return { code__gte = "c150", score__lt = 10 } end,
          function() return {} end,
        }()
        local order = pick { {}, {}, { "age" }, { "-age" }, { "score" }, { "-score" }, { "code" }, { "-code" },
                             { "age", "-score" }, { "-age", "id" }, { "active", "-age" }, { "email" } }
        local lim = rand(3) == 1 and rand(12) - 1 or nil
        local off = rand(4) == 1 and rand(20) - 1 or nil
        local extra = rand(6)
        local other = { age__lt = rand(30) }
        return function(M)
          local q = M:where(conds)
          if extra == 1 then q = q:or_(other)
          elseif extra == 2 then q = q:not_ { active = true }
          elseif extra == 3 then q = q:or_(Q { code__isnull = true } & Q { score__gte = 10 }) end
          if #order > 0 then q = q:order_by(table.unpack(order)) end
          if lim then q = q:limit(lim) end
          if off then q = q:offset(off) end
          return q
        end
      end

      local function describe_shape(shape)
        local e = shape(Indexed):explain()
        return ("plan %s on %s"):format(e.plan, tostring(e.index))
      end

      local checks, index_plans, sizes = 0, 0, 0
      local function compare(step)
        checks = checks + 1
        sizes = sizes + Plain:count()
        local all_i, all_p = {}, {}
        for _, r in ipairs(Indexed:all()) do all_i[#all_i + 1] = r:to_table() end
        for _, r in ipairs(Plain:all()) do all_p[#all_p + 1] = r:to_table() end
        assert.same(all_p, all_i, "records differ after step " .. step)
        for n = 1, 40 do
          local shape = rand_shape()
          local qi, qp = shape(Indexed), shape(Plain)
          local where = ("after step %d, shape %d (%s)"):format(step, n, describe_shape(shape))
          if not qi:explain().scan then index_plans = index_plans + 1 end
          assert.same(ids(qp:all()), ids(qi:all()), where)
          assert.equal(qp:count(), qi:count(), where .. ": count")
          assert.equal(qp:exists(), qi:exists(), where .. ": exists")
          local fp, fi = qp:first(), qi:first()
          assert.equal(fp and fp.id, fi and fi.id, where .. ": first")
          local lp, li = qp:last(), qi:last()
          assert.equal(lp and lp.id, li and li.id, where .. ": last")
          if n % 8 == 0 then
            local got, cursor = {}, nil
            repeat
              local page
              page, cursor = qi:offset(0):limit(7):cursor(cursor):paginate()
              for _, r in ipairs(page) do got[#got + 1] = r.id end
            until cursor == nil
            assert.same(ids(qp:offset(0):limit(math.maxinteger):all()), got, where .. ": paginate")
          end
        end
      end

      for step = 1, OPS do
        local op = rand(100)
        if op <= 22 then -- create
          local bad = rand(12) == 1
          local r = rand_record(nil, bad)
          local outcome = bad and "invalid" or (Plain:get(r.id) or new_conflict(r)) and "dup" or "ok"
          both("create " .. r.id, outcome, function(M) return M:create(r) end)
        elseif op <= 34 then -- upsert
          local bad = rand(12) == 1
          local r = rand_record(nil, bad)
          local outcome = bad and "invalid" or new_conflict(r, r.id) and "dup" or "ok"
          both("upsert " .. r.id, outcome, function(M) return M:upsert(r) end)
        elseif op <= 52 then -- save after assignment (sometimes of a bad value, or of a stale instance)
          local id = rand_id()
          if Plain:get(id) then
            local ui, up = Indexed:get(id), Plain:get(id)
            local changes = {}
            for _ = 1, rand(3) do
              local field = pick { "age", "email", "code", "score", "active", "name" }
              local r = rand_record(id)
              changes[field] = r[field]
              if field == "name" and changes.name == nil then changes.name = "renamed" end
            end
            for k, v in pairs(changes) do ui[k] = v; up[k] = v end
            if rand(15) == 1 then -- a bad value: both refuse it and stay as they were
              local ei = catch(function() ui.age = -1 end)
              local ep = catch(function() up.age = -1 end)
              assert.equal("ValidationError", ei.name)
              assert.equal("ValidationError", ep.name)
            end
            local stale = rand(12) == 1
            if stale then
              assert.is_true(Indexed:get(id):delete())
              assert.is_true(Plain:get(id):delete())
            end
            local probe = { email = ui.email, code = ui.code }
            local conflict = new_conflict(probe, id)
            if not (stale and conflict) then -- which of the two errors comes first is not decided
              local outcome = stale and "notfound" or conflict and "dup" or "ok"
              both("save " .. id, outcome, function(M) return (M == Indexed and ui or up):save() end)
            end
          end
        elseif op <= 62 then -- delete an instance
          local id = rand_id()
          local ui, up = Indexed:get(id), Plain:get(id)
          assert.equal(up ~= nil, ui ~= nil, "get " .. id)
          if ui then
            assert.is_true(ui:delete())
            assert.is_true(up:delete())
            assert.is_false(ui:delete())
          end
        elseif op <= 72 then -- q:delete
          local shape = rand_shape()
          if rand(10) ~= 1 then -- keep most bulk deletes small
            local base = shape
            local lim = rand(4)
            shape = function(M) return base(M):limit(lim) end
          end
          both("q:delete", "ok", function(M) return shape(M):delete() end)
        elseif op <= 86 then -- q:update
          local shape = rand_shape()
          local values = {}
          for _ = 1, rand(2) do
            local field = pick { "age", "score", "active", "name", "email", "code", "email", "code" }
            local r = rand_record()
            values[field] = r[field]
          end
          if next(values) == nil then values.age = rand(61) - 1 end
          local bad = rand(15) == 1
          if bad then values.age = 200 end
          local matched = ids(shape(Plain):all())
          local inside = {}
          for _, id in ipairs(matched) do inside[id] = true end
          local dup = false
          for _, field in ipairs({ "email", "code" }) do
            local v = values[field]
            if v ~= nil and #matched > 0 then
              if #matched >= 2 then dup = true end
              for _, r in ipairs(Plain:where { [field] = v }:all()) do
                if not inside[r.id] then dup = true end
              end
            end
          end
          local outcome = bad and "invalid" or dup and "dup" or "ok"
          both("q:update", outcome, function(M) return shape(M):update(values) end)
        elseif op <= 97 then -- create_many, often failing
          local list, seen_ids, seen_u, outcome = {}, {}, {}, "ok"
          for i = 1, rand(5) do
            local r = rand_record(rand(3) == 1 and rand_id() or ("m" .. step .. "_" .. i))
            list[i] = r
            if seen_ids[r.id] or Plain:get(r.id) or new_conflict(r) then outcome = "dup" end
            for _, field in ipairs({ "email", "code" }) do
              local v = r[field]
              if v ~= nil then
                if seen_u[field .. "=" .. v] then outcome = "dup" end
                seen_u[field .. "=" .. v] = true
              end
            end
            seen_ids[r.id] = true
          end
          if rand(10) == 1 then
            list[#list + 1] = rand_record("m" .. step .. "_bad", true)
            outcome = "invalid"
          end
          both("create_many", outcome, function(M) return M:create_many(list) end)
        else -- clear, now and then
          if rand(30) == 1 then
            backend:clear(Indexed)
            backend:clear(Plain)
          end
        end
        if step % BATCH == 0 then compare(step) end
      end
      compare(OPS)

      -- The run exercised what it claims to.
      assert.is_true(checks >= OPS // BATCH)
      assert.is_true(counts.ok > OPS / 3, "ok writes: " .. counts.ok)
      assert.is_true(counts.dup > OPS / 50, "duplicate writes: " .. counts.dup)
      assert.is_true(counts.invalid > OPS / 100, "invalid writes: " .. counts.invalid)
      assert.is_true(index_plans > checks * 10, "index plans: " .. index_plans)
      if SCALE == 1 then
        assert.is_true(counts.notfound > 0, "no stale save was tried")
        assert.is_true(sizes / checks > 40, "too few records on average: " .. sizes / checks)
      end
    end)
  end)

  -- Range counts use order statistics: their cost must not grow with the
  -- table. The same count on an unindexed field scans every record.
  describe("growth #perf", function()
    local SMALL, LARGE = 2000, 200000

    local function build(n)
      local b = InMemoryBackend()
      local M = Model("Person", {
        model_backend = b,
        id = Field.string { primary_key = true },
        age = Field.integer { index = true },
        age2 = Field.integer {},
      })
      local batch = {}
      for i = 1, n do
        local age = (i * 7919) % 100
        batch[#batch + 1] = { id = "p" .. i, age = age, age2 = age }
        if #batch == 1000 or i == n then
          M:create_many(batch)
          batch = {}
        end
      end
      return b, M
    end

    -- Best of three runs of `reps` calls of fn.
    local function time(reps, fn)
      local best = math.huge
      for _ = 1, 3 do
        collectgarbage()
        local t0 = os.clock()
        for _ = 1, reps do fn() end
        best = math.min(best, os.clock() - t0)
      end
      return best
    end

    local small, large = {}, {}

    setup(function()
      for _, size in ipairs({ SMALL, LARGE }) do
        local b, M = build(size)
        local out = size == SMALL and small or large
        out.count = time(2000, function()
          assert(M:where { age__gte = 50 }:count() == size // 2)
        end)
        out.between = time(2000, function() M:where { age__gt = 10, age__lte = 20 }:count() end)
        out.topk = time(2000, function() M:where():order_by("-age"):limit(10):all() end)
        out.first = time(2000, function() M:where { age__gte = 98 }:order_by("age"):first() end)
        out.scan = time(20, function()
          assert(M:where { age2__gte = 50 }:count() == size // 2)
        end)
        b:clear()
      end
    end)

    local function same_cost(what)
      local s, l = small[what], large[what]
      assert.is_true(l < 5 * s + 0.02,
        ("%s: %.4fs at %d records, %.4fs at %d records"):format(what, s, SMALL, l, LARGE))
    end

    it("counts a range on an index field as fast at 200,000 records as at 2,000", function()
      same_cost("count")
      same_cost("between")
    end)

    it("gives the top 10 and the first match along the index as fast at 200,000 records as at 2,000", function()
      same_cost("topk")
      same_cost("first")
    end)

    it("takes longer for the same count on an unindexed field as the table grows", function()
      -- per count: the scan grows with the table, the index count does not
      local scan_small, scan_large = small.scan / 20, large.scan / 20
      local idx_large = large.count / 2000
      assert.is_true(scan_large > 10 * scan_small,
        ("scan: %.6fs per count at %d, %.6fs at %d"):format(scan_small, SMALL, scan_large, LARGE))
      assert.is_true(scan_large > 10 * idx_large,
        ("at %d records: scan %.6fs, index %.6fs per count"):format(LARGE, scan_large, idx_large))
    end)
  end)
end)
