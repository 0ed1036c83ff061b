-- Q expressions (API.md section 6, issue 3): orm.Q{...} combined with &, |
-- and ~ (Lua 5.4 bitwise metamethods), accepted by where, and_, or_ and
-- not_, nested to any depth; plain condition tables as operands; checked
-- against the model when a query uses them; clear errors for bad operands.

local orm = require("restmachine_orm")
local Model, Field, Q = orm.Model, orm.Field, orm.Q
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local catch, text, mentions = support.catch, support.text, support.mentions
local expect, expect_rule, ids = support.expect, support.expect_rule, support.ids

-- Runs a Lua script in a child process, so that a crash cannot take the
-- test run down with it. Returns its output, and true when it exited
-- normally with status 0, else a description of how it ended.
local function run_child(code)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  local cmd = ("LUA_PATH_5_4='%s' LUA_CPATH_5_4='%s' %s %s 2>&1"):format(
    package.path, package.cpath, os.getenv("LUA") or "lua5.4", path)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok, how, code_ = p:close()
  os.remove(path)
  if ok then return out, true end
  return out, ("%s %s"):format(tostring(how), tostring(code_))
end

describe("Q", function()
  local backend, Person

  -- The five people of query_spec.lua: Dave has no age and no status,
  -- Carol no score; Bob is the only inactive one.
  before_each(function()
    backend = InMemoryBackend()
    Person = Model("Person", {
      model_backend = backend,
      id = Field.string { primary_key = true },
      name = Field.string {},
      age = Field.integer { optional = true },
      status = Field.string { optional = true },
      score = Field.number { optional = true },
      is_active = Field.boolean { default = true },
    })
    Person:create { id = "p1", name = "Alice", age = 30, status = "active", score = 1.5 }
    Person:create { id = "p2", name = "Bob", age = 25, status = "inactive", score = 3, is_active = false }
    Person:create { id = "p3", name = "Carol", age = 35, status = "active" }
    Person:create { id = "p4", name = "Dave", score = 2 }
    Person:create { id = "p5", name = "Eve", age = 30, status = "deleted", score = 0.5 }
  end)

  -- The ids where(expr) returns; count, #q and exists must agree.
  local function where(expr)
    local q = Person:where(expr)
    local got = ids(q:all())
    assert.equal(#got, q:count())
    assert.equal(#got, #q)
    assert.equal(#got > 0, q:exists())
    return got
  end

  describe("operators", function()
    it("matches like the same conditions in a table when used alone", function()
      assert.same({ "p3" }, where(Q { status = "active", age__gt = 30 }))
      assert.same({ "p1", "p5" }, where(Q { age = 30 }))
    end)

    it("& matches the records where both sides hold", function()
      assert.same({ "p1" }, where(Q { status = "active" } & Q { age__lt = 35 }))
      assert.same({}, where(Q { name = "Bob" } & Q { is_active = true }))
    end)

    it("| matches the records where either side holds, each once", function()
      assert.same({ "p1", "p5" }, where(Q { name = "Alice" } | Q { age = 30 }))
      assert.same({ "p2", "p4" }, where(Q { name = "Dave" } | Q { is_active = false }))
    end)

    it("~ matches the records where the expression does not hold, nil values included", function()
      assert.same({ "p1", "p2", "p3", "p4" }, where(~Q { status = "deleted" }))
      assert.same({ "p2", "p4" }, where(~Q { age__gte = 30 }))
      assert.same({ "p3" }, where(~Q { score__isnull = false }))
    end)

    it("~ of several conditions excludes only the records where all of them hold", function()
      assert.same({ "p2", "p3", "p4", "p5" }, where(~Q { age = 30, status = "active" }))
    end)

    it("~~ gives back the expression: negation is two-valued", function()
      assert.same({ "p1", "p3", "p5" }, where(~~Q { age__gte = 30 }))
      assert.same({ "p5" }, where(~~Q { status = "deleted" }))
    end)

    it("binds & tighter than |, as Lua does", function()
      -- Bob | (active & age > 30)
      assert.same({ "p2", "p3" }, where(Q { name = "Bob" } | Q { status = "active" } & Q { age__gt = 30 }))
      assert.same({ "p2", "p3" }, where(Q { status = "active" } & Q { age__gt = 30 } | Q { name = "Bob" }))
    end)

    it("follows parentheses", function()
      -- (Bob | active) & age > 30
      assert.same({ "p3" }, where((Q { name = "Bob" } | Q { status = "active" }) & Q { age__gt = 30 }))
      -- active & (age > 30 | Bob)
      assert.same({ "p3" }, where(Q { status = "active" } & (Q { age__gt = 30 } | Q { name = "Bob" })))
    end)

    it("binds ~ tighter than & and |", function()
      -- (~active) & is_active
      assert.same({ "p4", "p5" }, where(~Q { status = "active" } & Q { is_active = true }))
      -- ~(active & is_active)
      assert.same({ "p2", "p4", "p5" }, where(~(Q { status = "active" } & Q { is_active = true })))
      -- (~Bob) | Bob is everything; ~(Bob | Bob) is everyone but Bob
      assert.same({ "p1", "p2", "p3", "p4", "p5" }, where(~Q { name = "Bob" } | Q { name = "Bob" }))
      assert.same({ "p1", "p3", "p4", "p5" }, where(~(Q { name = "Bob" } | Q { name = "Bob" })))
    end)

    it("obeys De Morgan's laws, nil values included", function()
      local a, b = Q { age__gt = 26 }, Q { status = "active" }
      assert.same(where(~a & ~b), where(~(a | b)))
      assert.same({ "p2", "p4" }, where(~(a | b)))
      assert.same(where(~a | ~b), where(~(a & b)))
      assert.same({ "p2", "p4", "p5" }, where(~(a & b)))
    end)

    it("matches every record with an empty Q and none with its negation", function()
      assert.same({ "p1", "p2", "p3", "p4", "p5" }, where(Q {}))
      assert.same({}, where(~Q {}))
      assert.same({ "p2" }, where(Q {} & Q { name = "Bob" }))
      assert.same({ "p1", "p2", "p3", "p4", "p5" }, where(Q {} | Q { name = "Bob" }))
    end)

    it("takes a plain condition table as an operand on either side", function()
      assert.same({ "p1" }, where(Q { status = "active" } & { age__lt = 35 }))
      assert.same({ "p1" }, where({ age__lt = 35 } & Q { status = "active" }))
      assert.same({ "p2", "p5" }, where({ name = "Bob" } | Q { name = "Eve" }))
      assert.same({ "p2", "p5" }, where(Q { name = "Bob" } | { name = "Eve" }))
      assert.same({ "p2", "p4", "p5" }, where(~(Q { status = "active" } & { is_active = true })))
    end)

    it("leaves its operands unchanged", function()
      local active = Q { status = "active" }
      local older = active & Q { age__gt = 30 }
      local or_bob = active | Q { name = "Bob" }
      local negated = ~active
      assert.same({ "p1", "p3" }, where(active))
      assert.same({ "p3" }, where(older))
      assert.same({ "p1", "p2", "p3" }, where(or_bob))
      assert.same({ "p2", "p4", "p5" }, where(negated))
      assert.same({ "p1", "p3" }, where(active))
    end)

    it("is not tied to a model: one Q serves every model with those fields", function()
      local Pet = Model("Pet", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        name = Field.string {},
      })
      Pet:create { id = "d1", name = "Bob" }
      Pet:create { id = "d2", name = "Rex" }
      local bob = Q { name = "Bob" } | Q { name = "Nobody" }
      assert.same({ "p2" }, where(bob))
      assert.same({ "d1" }, ids(Pet:where(bob):all()))
    end)

    it("takes every lookup", function()
      assert.same({ "p1", "p3" }, where(Q { name__icontains = "L" } & Q { status__startswith = "act" }))
      assert.same({ "p4" }, where(Q { age__isnull = true } | Q { name__iexact = "nobody" }))
      assert.same({ "p2", "p3" }, where(Q { age__in = { 25, 35 } }))
      assert.same({ "p1", "p2", "p3", "p5" }, where(~Q { status__isnull = true }))
    end)
  end)

  describe("in query methods", function()
    it("keep the conditions they were built with when the caller's tables change", function()
      local conds, names = { age__gte = 30 }, { "Alice", "Carol" }
      local e = Q(conds) & Q { name__in = names }
      local by_plain = { name__in = names }
      local e2 = by_plain | Q { name = "Eve" }
      conds.age__gte, conds.status = 99, "deleted"
      names[1], names[3] = "Bob", "Eve"
      by_plain.name__in = { "Dave" }
      assert.same({ "p1", "p3" }, where(e))
      assert.same({ "p1", "p3", "p5" }, where(e2))
    end)

    it("are accepted by where", function()
      assert.same({ "p2", "p3" }, ids(Person:where(Q { name = "Bob" } | Q { age = 35 }):all()))
    end)

    it("are added to the current group by and_", function()
      -- active & (age = 30 | Eve)
      local q = Person:where { status = "active" }:and_(Q { age = 30 } | Q { name = "Eve" })
      assert.same({ "p1" }, ids(q:all()))
    end)

    it("start a group of their own with or_", function()
      local q = Person:where { name = "Bob" }:or_(Q { status = "active" } & Q { age__gt = 30 })
      assert.same({ "p2", "p3" }, ids(q:all()))
      -- Bob | (active & age > 30): the and_ extends the group the Q began
      q = Person:where { name = "Bob" }:or_(Q { status = "active" }):and_ { age__gt = 30 }
      assert.same({ "p2", "p3" }, ids(q:all()))
    end)

    it("are negated by not_ within the current group", function()
      -- is_active & ~(age = 30 | active)
      local q = Person:where { is_active = true }:not_(Q { age = 30 } | Q { status = "active" })
      assert.same({ "p4" }, ids(q:all()))
      -- Bob | (age = 30 & ~deleted)
      q = Person:where { name = "Bob" }:or_ { age = 30 }:not_(Q { status = "deleted" })
      assert.same({ "p1", "p2" }, ids(q:all()))
      -- not_ of a negation
      q = Person:where():not_(~Q { status = "active" })
      assert.same({ "p1", "p3" }, ids(q:all()))
    end)

    it("work with order_by, limit, offset and every result method", function()
      local q = Person:where(Q { age = 30 } | Q { age = 25 }):order_by("-age")
      assert.same({ "p1", "p5", "p2" }, ids(q:all()))
      assert.same({ "p5", "p2" }, ids(q:offset(1):all()))
      local lim = q:limit(2)
      assert.same({ "p1", "p5" }, ids(lim:all()))
      assert.equal(2, lim:count())
      assert.equal(2, #lim)
      assert.equal("p1", lim:first().id)
      assert.equal("p5", lim:last().id)
      assert.is_true(lim:exists())
      assert.equal("p2", q:get(Q { is_active = false }).id)
    end)

    it("mix with table conditions in one query", function()
      local q = Person:where { is_active = true }
        :and_(Q { age__gte = 30 } | Q { score__gte = 2 })
        :not_ { name = "Eve" }
        :or_(~Q { is_active = true })
      assert.same({ "p1", "p2", "p3", "p4" }, ids(q:all()))
    end)
  end)

  describe("nesting", function()
    local N = 2000

    it("handles a left-deep chain of thousands of |", function()
      local e = Q { age = 0 }
      for i = 1, N do e = e | Q { age = i } end
      assert.same({ "p1", "p2", "p3", "p5" }, where(e))
    end)

    it("handles a right-deep chain of thousands of &", function()
      local e = Q { is_active = true }
      for i = 1, N do e = Q { age__lt = 1000 + i } & e end
      assert.same({ "p1", "p3", "p5" }, where(e))
    end)

    it("handles thousands of nested ~", function()
      local e = Q { status = "active" }
      for _ = 1, N do e = ~e end -- an even count: the expression itself
      assert.same({ "p1", "p3" }, where(e))
      assert.same({ "p2", "p4", "p5" }, where(~e))
    end)

    it("handles deep alternations of &, | and ~", function()
      local e = Q { name = "Alice" }
      for i = 1, N do
        if i % 3 == 0 then e = ~~e
        elseif i % 3 == 1 then e = e | Q { name = "Nobody" .. i }
        else e = e & Q { age__lt = 100 + i } end
      end
      assert.same({ "p1" }, where(e))
      assert.same({ "p1" }, ids(Person:where():or_(e):all()))
      assert.same({ "p2", "p3", "p4", "p5" }, ids(Person:where():not_(e):all()))
    end)

    -- The child scripts' start: P with 100 records, n = 1..100, and
    -- try(label, fn), which prints fn's result or its error.
    local CHILD_PRELUDE = [[
        local orm = require("restmachine_orm")
        local Q = orm.Q
        local backend = orm.backends.InMemoryBackend()
        local P = orm.Model("P", {
          model_backend = backend,
          id = orm.Field.string { primary_key = true },
          n = orm.Field.integer {},
        })
        for i = 1, 100 do P:create { id = "p" .. i, n = i } end
        local function try(label, fn)
          local ok, res = pcall(fn)
          print(label, ok and tostring(res) or ("error: " .. tostring(res)))
        end
]]

    it("evaluates a chain of 100,000 | or ~ correctly, without crashing the process", function()
      local out, ended = run_child(CHILD_PRELUDE .. [[
        local e = Q { n = 0 }
        for i = 1, 100000 do e = e | Q { n = i } end
        try("count", function() return P:where(e):count() end)
        try("all", function() return #P:where(e):all() end)
        try("page", function() return #P:where(e):limit(10):paginate() end)
        local e2 = Q { n = 1 }
        for _ = 1, 100000 do e2 = ~e2 end
        try("not", function() return P:where(e2):count() end)
        e, e2 = nil, nil
        collectgarbage()
        collectgarbage()
        print("done")
      ]])
      assert.is_true(ended == true, "the child process ended with " .. tostring(ended) .. "; output:\n" .. out)
      assert.equal("count\t100\nall\t100\npage\t10\nnot\t1\ndone\n", out)
    end)

    it("evaluates chains of 100,000 built from the right, and writes deep chains with tostring", function()
      local out, ended = run_child(CHILD_PRELUDE .. [[
        local N = 100000
        local right, left = Q { n = 0 }, Q { n = 0 }
        for i = 1, N do right = Q { n = i } | right end
        for i = 1, N do left = left | Q { n = i } end
        try("count", function() return P:where(right):count() end)
        try("and_", function() return P:where { id = "p7" }:and_(right):count() end)
        local mixed = Q { n = 3 }
        for _ = 1, N / 4 do mixed = Q { n__ne = 0 } & ~~mixed end
        try("mixed", function() return P:where(mixed):count() end)
        -- The texts expected, built without tostring.
        local want = { ("("):rep(N), "Q{n=0}" }
        for i = 1, N do want[#want + 1] = " | Q{n=" .. i .. "})" end
        try("left text", function() return tostring(left) == table.concat(want) end)
        want = {}
        for i = N, 1, -1 do want[#want + 1] = "(Q{n=" .. i .. "} | " end
        want[#want + 1] = "Q{n=0}" .. (")"):rep(N)
        try("right text", function() return tostring(right) == table.concat(want) end)
        try("mixed text", function() return #tostring(mixed) end)
        print("done")
      ]])
      assert.is_true(ended == true, "the child process ended with " .. tostring(ended) .. "; output:\n" .. out)
      assert.equal("count\t100\nand_\t1\nmixed\t1\nleft text\ttrue\n"
        .. "right text\ttrue\nmixed text\t" .. (#"Q{n=3}" + 25000 * #"(Q{n__ne=0} & ~~)") .. "\ndone\n", out)
    end)

    it("writes expressions with tostring, any depth", function()
      assert.equal("(~(Q{age=1} & Q{name=x}) | Q{age__gt=3})",
        tostring(~(Q { age = 1 } & Q { name = "x" }) | Q { age__gt = 3 }))
      local left, right, nots = Q { age = 0 }, Q { age = 0 }, Q { age = 0 }
      for i = 1, 300 do
        left = left & Q { age = i }
        right = Q { age = i } & right
        nots = ~nots
      end
      local text_left, text_right = tostring(left), tostring(right)
      local head = ("("):rep(300) .. "Q{age=0} & Q{age=1}) & Q{age=2})"
      assert.equal(head, text_left:sub(1, #head))
      assert.equal(" & Q{age=299}) & Q{age=300})", text_left:sub(-#" & Q{age=299}) & Q{age=300})"))
      head = "(Q{age=300} & (Q{age=299} & "
      assert.equal(head, text_right:sub(1, #head))
      assert.equal("Q{age=0}" .. (")"):rep(300), text_right:sub(-308))
      assert.equal(("~"):rep(300) .. "Q{age=0}", tostring(nots))
      local any = Q { age = 0 }
      for i = 1, 300 do any = Q { age = i } | any end
      assert.same({ "p1", "p2", "p3", "p5" }, where(any))
      assert.same({ "p4" }, where(~any))
    end)

    -- Random expression trees over varied records, each compared with the
    -- same expression evaluated in plain Lua: nil values fail every atom
    -- but ne and isnull, and ~ is plain boolean negation.
    it("matches random nested expressions exactly like a plain-Lua evaluation", function()
      local rng_state = 12345
      local function rand(n) -- a small LCG: the same sequence everywhere
        rng_state = (rng_state * 1103515245 + 12345) % 2147483648
        return rng_state % n + 1
      end
      local names = { "Al", "bea", "Cid", "dora", "Ed", "fay" }
      local statuses = { "active", "inactive", "deleted" }
      for i = 6, 40 do
        Person:create {
          id = "p" .. i,
          name = names[rand(#names)] .. i,
          age = rand(4) > 1 and 20 + rand(20) or nil,
          status = rand(4) > 1 and statuses[rand(3)] or nil,
          score = rand(3) > 1 and rand(8) / 2 or nil,
          is_active = rand(2) == 1,
        }
      end
      local atoms = {
        { { age = 30 }, function(r) return r.age == 30 end },
        { { age__ne = 30 }, function(r) return r.age ~= 30 end },
        { { age__gt = 26 }, function(r) return r.age ~= nil and r.age > 26 end },
        { { age__lte = 30 }, function(r) return r.age ~= nil and r.age <= 30 end },
        { { age__in = { 25, 35, 22 } }, function(r) return r.age == 25 or r.age == 35 or r.age == 22 end },
        { { age__isnull = true }, function(r) return r.age == nil end },
        { { status = "active" }, function(r) return r.status == "active" end },
        { { status__ne = "deleted" }, function(r) return r.status ~= "deleted" end },
        { { status__isnull = false }, function(r) return r.status ~= nil end },
        { { status__istartswith = "IN" }, function(r) return r.status ~= nil and r.status:sub(1, 2) == "in" end },
        { { name__icontains = "a" }, function(r) return r.name:lower():find("a", 1, true) ~= nil end },
        { { name__endswith = "1" }, function(r) return r.name:sub(-1) == "1" end },
        { { score__gte = 1.5 }, function(r) return r.score ~= nil and r.score >= 1.5 end },
        { { score__lt = 2 }, function(r) return r.score ~= nil and r.score < 2 end },
        { { is_active = false }, function(r) return r.is_active == false end },
        { {}, function() return true end },
        { { age__gte = 25, status = "active" },
          function(r) return r.age ~= nil and r.age >= 25 and r.status == "active" end },
      }
      local records = {}
      for _, p in ipairs(Person:all()) do records[#records + 1] = p:to_table() end

      -- Returns expr, predicate; sometimes a plain table instead of a Q
      -- (only as an operand of & or |, where Lua lets it be).
      local function gen(depth, plain_ok)
        local k = depth <= 0 and 1 or rand(4)
        if k == 1 then
          local a = atoms[rand(#atoms)]
          if plain_ok and rand(3) == 1 then return a[1], a[2] end
          return Q(a[1]), a[2]
        elseif k == 2 then
          local e, f = gen(depth - 1, false)
          return ~e, function(r) return not f(r) end
        else
          local e1, f1 = gen(depth - 1, true)
          local e2, f2 = gen(depth - 1, true)
          if not Q.is(e1) and not Q.is(e2) then e1 = Q(e1) end
          if k == 3 then return e1 & e2, function(r) return f1(r) and f2(r) end end
          return e1 | e2, function(r) return f1(r) or f2(r) end
        end
      end

      for trial = 1, 300 do
        local e, f = gen(1 + rand(6), false)
        local want, rest = {}, {}
        for _, r in ipairs(records) do
          if f(r) then want[#want + 1] = r.id else rest[#rest + 1] = r.id end
        end
        local got = ids(Person:where(e):all())
        assert.same(want, got, "trial " .. trial .. ": " .. tostring(e))
        assert.equal(#want, Person:where(e):count(), "trial " .. trial)
        assert.same(rest, ids(Person:where():not_(e):all()), "trial " .. trial .. ": not_")
      end
    end)
  end)

  describe("errors", function()
    it("are not raised when a Q with a bad condition is made, only when a query uses it", function()
      local e = Q { nmae = "x" }
      local err = catch(function() return Person:where(e) end)
      expect("ValidationError", err, "Person", "nmae")
      expect_rule(err, "nmae", "unknown_field")
    end)

    it("name the field of a bad condition nested deep in an expression", function()
      local e = Q { name = "Bob" } | ~(Q { status = "x" } & Q { age__gt = "5" })
      local err = catch(function() return Person:where(e) end)
      expect("ValidationError", err, "Person", "age")
      expect_rule(err, "age", "type")
      err = catch(function() return Person:where(Q { name = "Bob" } & { age__foo = 1 }) end)
      expect("ValidationError", err, "Person", "age")
      expect_rule(err, "age", "lookup")
    end)

    it("are raised by and_, or_ and not_ as by where", function()
      local bad = Q { name = "Bob" } | Q { agee = 1 }
      local q = Person:where()
      for _, method in ipairs({ "and_", "or_", "not_" }) do
        local err = catch(q[method], q, bad)
        expect("ValidationError", err, "Person", "agee")
        expect_rule(err, "agee", "unknown_field")
      end
    end)

    it("are raised for Q{} & 1 and every other operand that is not a Q or a table", function()
      local bad = { 1, "x", true, 2.5 }
      for _, v in ipairs(bad) do
        expect("ValidationError", catch(function() return Q {} & v end))
        expect("ValidationError", catch(function() return v & Q {} end))
        expect("ValidationError", catch(function() return Q {} | v end))
        expect("ValidationError", catch(function() return v | Q {} end))
      end
    end)

    it("are raised for a query as an operand", function()
      expect("ValidationError", catch(function() return Q {} & Person:where() end))
      expect("ValidationError", catch(function() return Person:where() | Q { name = "Bob" } end))
    end)

    it("are raised for Q made from something other than a table", function()
      for _, v in ipairs({ 5, "name", true }) do
        expect("ValidationError", catch(Q, v))
      end
      expect("ValidationError", catch(Q))
    end)

    it("are raised when where, and_, or_ or not_ get neither a table nor a Q", function()
      local q = Person:where()
      for _, method in ipairs({ "and_", "or_", "not_" }) do
        expect("ValidationError", catch(q[method], q, 5), "Person")
        expect("ValidationError", catch(q[method], q, "name = 'Bob'"), "Person")
      end
      expect("ValidationError", catch(Person.where, Person, 5), "Person")
    end)

    it("leave the Q usable after a failed combination", function()
      local e = Q { name = "Bob" }
      catch(function() return e & 1 end)
      assert.same({ "p2" }, where(e))
    end)
  end)
end)
