-- Bad input (issue 2): every wrong value, declaration or call gives a clear
-- error of the right kind that names the model and the field, and nothing is
-- stored.

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local catch, text, mentions = support.catch, support.text, support.mentions
local expect, expect_rule = support.expect, support.expect_rule

describe("bad input", function()
  local backend, User

  -- The model of these specs, under a name (a twin of User is another
  -- model with the same fields).
  local function user_model(name)
    return Model(name, {
      model_backend = backend,
      id = Field.string { primary_key = true },
      email = Field.string {},
      name = Field.string {},
      age = Field.integer { optional = true },
      score = Field.number { optional = true },
      is_active = Field.boolean { default = true },
    })
  end

  before_each(function()
    backend = InMemoryBackend()
    User = user_model("User")
    User:create { id = "seed", email = "seed@example.com", name = "Seed", age = 40 }
  end)

  local function valid(extra)
    local t = { id = "user-1", email = "a@example.com", name = "Alice" }
    for k, v in pairs(extra or {}) do t[k] = v end
    return t
  end

  -- Nothing new was stored and the seed record is as it was.
  local function nothing_stored()
    assert.equal(1, User:count())
    assert.is_nil(User:get("user-1"))
    local seed = User:get("seed")
    assert.equal("Seed", seed.name)
    assert.equal(40, seed.age)
  end

  -- Creating with one bad value gives a ValidationError for that field.
  local function bad_create(field, value, code)
    local err = catch(User.create, User, valid { [field] = value })
    expect("ValidationError", err, "User", field)
    expect_rule(err, field, code)
    nothing_stored()
    return err
  end

  describe("wrong type", function()
    it("rejects a string for an integer field", function()
      bad_create("age", "30", "type")
    end)

    it("rejects 1.5 for an integer field", function()
      bad_create("age", 1.5, "type")
    end)

    it("rejects the string '5' for a number field", function()
      bad_create("score", "5", "type")
    end)

    it("rejects a table for a string field", function()
      bad_create("name", { "Alice" }, "type")
    end)

    it("rejects a number for a boolean field", function()
      bad_create("is_active", 1, "type")
    end)

    it("rejects a wrong type on assignment to a stored instance", function()
      local u = User:get("seed")
      local err = catch(function() u.age = "41" end)
      expect("ValidationError", err, "User", "age")
      expect_rule(err, "age", "type")
      assert.equal(40, u.age)
      u:save()
      nothing_stored()
    end)
  end)

  describe("missing required field", function()
    it("is reported as required", function()
      local t = valid()
      t.email = nil
      local err = catch(User.create, User, t)
      expect("ValidationError", err, "User", "email")
      expect_rule(err, "email", "required")
      nothing_stored()
    end)
  end)

  describe("unknown field", function()
    it("is rejected in the constructor", function()
      local err = catch(User.create, User, valid { emial = "typo@example.com" })
      expect("ValidationError", err, "User", "emial")
      expect_rule(err, "emial", "unknown_field")
      nothing_stored()
      err = catch(User, valid { emial = "typo@example.com" })
      expect("ValidationError", err, "User", "emial")
    end)

    it("is rejected in assignment", function()
      local u = User:get("seed")
      local err = catch(function() u.emial = "typo@example.com" end)
      expect("ValidationError", err, "User", "emial")
      expect_rule(err, "emial", "unknown_field")
      u:save()
      nothing_stored()
      assert.is_nil(User:get("seed"):to_table().emial)
    end)

    it("is rejected in a query", function()
      local err = catch(function() return User:where { emial = "seed@example.com" }:all() end)
      expect("ValidationError", err, "User", "emial")
      expect_rule(err, "emial", "unknown_field")
      nothing_stored()
    end)

    -- "name\0x" is not the field name, and a message cut at the zero
    -- byte would say it is: each error shows the whole key, escaped.
    it("is named in full when the key holds a zero byte", function()
      local key, shown = "name\0x", "name\\0x"
      local function rejected(err, where)
        expect("ValidationError", err, "User", shown)
        expect_rule(err, shown, "unknown_field", where)
      end
      rejected(catch(User.create, User, valid { [key] = "Zed" }), "create")
      nothing_stored()
      local u = User:get("seed")
      rejected(catch(function() u[key] = "Zed" end), "assignment")
      rejected(catch(function() return User:where { [key] = "Seed" }:all() end), "where")
      rejected(catch(function() return User:where():order_by(key):all() end), "order_by")
      rejected(catch(function() return User:where():select(key):all() end), "select")
      rejected(catch(function() return User:where():update { [key] = "Zed" } end), "q:update")
      assert.equal("Seed", User:get("seed").name)
      local err = catch(function() return User:where { ["name__g\0t"] = "S" }:all() end)
      expect("ValidationError", err, "User", "name__g\\0t", "g\\0t")
      expect_rule(err, "name", "lookup")
    end)

    it("shows control bytes in a key as escapes and cuts a long key short", function()
      local err = catch(User.create, User, valid { ["a\nb"] = 1, [("k"):rep(500)] = 2 })
      expect("ValidationError", err, "User", "a\\10b")
      expect_rule(err, "a\\10b", "unknown_field")
      assert.is_true(mentions(err, ("k"):rep(60) .. "..."), text(err))
      assert.is_false(mentions(err, ("k"):rep(100)), text(err))
    end)
  end)

  describe("invalid UTF-8", function()
    it("is rejected in a string field", function()
      bad_create("name", "\xff", "utf8")
    end)

    it("is rejected when a truncated sequence ends the string", function()
      bad_create("name", "caf\xc3", "utf8")
    end)
  end)

  describe("NaN", function()
    it("is rejected in a number field", function()
      bad_create("score", 0 / 0, "nan")
    end)
  end)

  describe("primary key", function()
    it("may not be nil", function()
      local t = valid()
      t.id = nil
      local err = catch(User.create, User, t)
      expect("ValidationError", err, "User", "id")
      expect_rule(err, "id", "required")
      nothing_stored()
    end)

    it("may not be the empty string", function()
      bad_create("id", "", "empty_key")
    end)
  end)

  describe("non-table argument to create", function()
    it("raises an error naming the model", function()
      for _, arg in ipairs({ "user-1", 42, true }) do
        local err = catch(User.create, User, arg)
        assert.is_true(mentions(err, "User"), "message does not name User: " .. text(err))
        nothing_stored()
      end
      local err = catch(User.create, User)
      assert.is_true(mentions(err, "User"), "message does not name User: " .. text(err))
      nothing_stored()
    end)
  end)

  describe("declaration mistakes", function()
    -- Declaring Thing with the given spec raises ConfigurationError naming
    -- "Thing" and the field. The whole declaration, Field calls included,
    -- runs inside pcall.
    local function bad_declaration(field, build)
      local err = catch(build)
      expect("ConfigurationError", err, "Thing", field)
      assert.is_false(orm.errors.is(err, "BackendError"))
      return err
    end

    it("rejects a model without a key", function()
      local err = bad_declaration(nil, function()
        return Model("Thing", { model_backend = backend, name = Field.string {} })
      end)
      assert.is_not_nil(text(err):lower():find("primary", 1, true), text(err))
    end)

    it("rejects two primary keys", function()
      local err = bad_declaration(nil, function()
        return Model("Thing", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          code = Field.string { primary_key = true },
        })
      end)
      assert.is_true(mentions(err, "id") or mentions(err, "code"), text(err))
    end)

    it("rejects field names that conditions could not name", function()
      for _, name in ipairs { "age__gt", "__x", "a\0b", "" } do
        local err = catch(function()
          return Model("Thing", { model_backend = backend, id = Field.string { primary_key = true },
                                  [name] = Field.integer {} })
        end)
        expect("ConfigurationError", err, "Thing", ("%q"):format(name), "__")
      end
      bad_declaration("a__b", function()
        return Model("Thing", { model_backend = backend, id = Field.string { primary_key = true }, a__b = "string" })
      end)
    end)

    it("rejects hook and mixin lists with holes, which would drop what follows", function()
      local function log() end
      expect("ConfigurationError", catch(Model, "Thing", { model_backend = backend,
        id = Field.string { primary_key = true }, before_save = { log, nil, log } }), "Thing", "before_save")
      expect("ConfigurationError", catch(Model, "Thing", { model_backend = backend,
        id = Field.string { primary_key = true }, mixins = { orm.mixins.Timestamp, nil, orm.mixins.Expiration } }),
        "Thing", "mixins")
      expect("ConfigurationError", catch(Model, "Thing", { model_backend = backend,
        id = Field.string { primary_key = true }, after_save = { log, x = log } }), "Thing", "after_save")
    end)

    it("rejects a model name that is empty or holds a zero byte", function()
      for _, name in ipairs { "", "Th\0ing" } do
        expect("ConfigurationError", catch(Model, name, { model_backend = backend, id = Field.string { primary_key = true } }),
          "name")
      end
    end)

    it("rejects an unknown type", function()
      bad_declaration("age", function()
        return Model("Thing", { model_backend = backend, id = Field.string { primary_key = true }, age = "integr" })
      end)
    end)

    it("rejects an unknown field option", function()
      local err = bad_declaration("name", function()
        return Model("Thing", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          name = Field.string { max_len = 5 },
        })
      end)
      assert.is_true(mentions(err, "max_len"), text(err))
    end)

    it("rejects an unknown model option", function()
      bad_declaration("modle_backend", function()
        return Model("Thing", { modle_backend = backend, id = Field.string { primary_key = true } })
      end)
    end)

    it("rejects ge on a string field", function()
      local err = bad_declaration("name", function()
        return Model("Thing", {
          model_backend = backend,
          id = Field.string { primary_key = true },
          name = Field.string { ge = 1 },
        })
      end)
      assert.is_true(mentions(err, "ge"), text(err))
    end)

    it("rejects a field named save", function()
      bad_declaration("save", function()
        return Model("Thing", { model_backend = backend, id = Field.string { primary_key = true }, save = Field.string {} })
      end)
      bad_declaration("save", function()
        return Model("Thing", { model_backend = backend, id = Field.string { primary_key = true }, save = "string" })
      end)
    end)

    -- Thing with a string key and the field c declared by field().
    local function thing_with(field)
      return function()
        return Model("Thing", { model_backend = backend, id = Field.string { primary_key = true }, c = field() })
      end
    end

    it("rejects choices that are not a plain non-empty list", function()
      local counted = setmetatable({}, { __len = function() return 5 end })
      for _, choices in ipairs { {}, counted, setmetatable({ "a" }, {}), { "a", nil, "b" }, { "a", x = "b" } } do
        local err = bad_declaration("c", thing_with(function() return Field.string { choices = choices } end))
        assert.is_true(mentions(err, "choices"), text(err))
      end
    end)

    it("rejects bounds that leave no valid value", function()
      local empty = {
        function() return Field.integer { ge = 10, le = 1 } end,
        function() return Field.integer { gt = 5, lt = 5 } end,
        function() return Field.integer { gt = 5, le = 5 } end,
        function() return Field.integer { ge = 5, lt = 5 } end,
        function() return Field.integer { gt = 5, lt = 6 } end,
        function() return Field.integer { gt = math.maxinteger } end,
        function() return Field.number { gt = 1.5, lt = 1.5 } end,
        function() return Field.number { ge = 2, le = 1.5 } end,
        function() return Field.datetime { ge = "2025-01-02T00:00:00Z", le = "2025-01-01T00:00:00Z" } end,
      }
      for _, field in ipairs(empty) do
        local err = bad_declaration("c", thing_with(field))
        assert.is_true(mentions(err, "bound"), text(err))
      end
      -- One value left is enough.
      for _, field in ipairs {
        function() return Field.integer { ge = 5, le = 5 } end,
        function() return Field.integer { gt = 5, lt = 7, ge = 1, le = 10 } end,
        function() return Field.number { gt = 5, lt = 6 } end,
      } do
        assert.is_table(thing_with(field)())
      end
    end)

    it("rejects a primary key declared optional or auto_now", function()
      for _, key in ipairs {
        function() return Field.string { primary_key = true, optional = true } end,
        function() return Field.datetime { primary_key = true, auto_now = true } end,
        function() return Field.datetime { primary_key = true, auto_now_add = true } end,
      } do
        local err = bad_declaration("id", function() return Model("Thing", { model_backend = backend, id = key() }) end)
        assert.is_true(mentions(err, "primary key"), text(err))
      end
      -- A default may still give the key its value.
      local T = Model("Thing", { model_backend = backend,
                                 id = Field.string { primary_key = true, default = function() return "k" end } })
      assert.equal("k", T:create({}).id)
    end)

    it("rejects a choice that breaks the field's own rules", function()
      for _, field in ipairs {
        function() return Field.string { choices = { "ab", "abcdef" }, max_length = 2 } end,
        function() return Field.string { choices = { "abc", "a" }, min_length = 2 } end,
        function() return Field.string { choices = { "\255" } } end,
        function() return Field.string { choices = { "A1", "b2" }, pattern = "^[A-Z]" } end,
        function() return Field.string { choices = { 1 } } end,
        function() return Field.integer { choices = { 1, 2.5 } } end,
        function() return Field.integer { choices = { 0, 5 }, ge = 1 } end,
        function() return Field.datetime { choices = { "yesterday" } } end,
      } do
        local err = bad_declaration("c", thing_with(field))
        assert.is_true(mentions(err, "choice"), text(err))
      end
    end)

    it("rejects Field options that are not a table", function()
      for _, bad in ipairs { 5, "max_length=5", true } do
        expect("ConfigurationError", catch(Field.string, bad), "Field.string", type(bad))
      end
    end)

    it("stores nothing", function()
      pcall(Model, "Thing", { model_backend = backend, name = Field.string {} })
      assert.equal(1, backend:stats().records)
      nothing_stored()
    end)
  end)

  describe("query values", function()
    it("rejects age__gt = '5' when the query is built", function()
      local err = catch(function() return User:where { age__gt = "5" } end)
      expect("ValidationError", err, "User", "age")
      expect_rule(err, "age", "type")
      nothing_stored()
    end)

    it("rejects a wrong type inside an __in list", function()
      local err = catch(function() return User:where { age__in = { 1, "2" } } end)
      expect("ValidationError", err, "User", "age")
      expect_rule(err, "age", "type")
    end)

    it("rejects orm.null as a value to compare with, pointing to isnull", function()
      for _, cond in ipairs { { email = orm.null }, { age__gt = orm.null }, { name__ne = orm.null } } do
        local field = next(cond):match("^[^_]+")
        expect("ValidationError", catch(function() return User:where(cond):all() end),
          "User." .. field, field .. "__isnull")
      end
    end)

    it("rejects an unknown lookup", function()
      local err = catch(function() return User:where { age__foo = 5 } end)
      expect("ValidationError", err, "User", "age")
      expect_rule(err, "age", "lookup")
      assert.is_true(mentions(err, "foo"), text(err))
      nothing_stored()
    end)

    it("rejects bad conditions in and_, or_, not_ and get", function()
      local q = User:where()
      expect("ValidationError", catch(q.and_, q, { age__gt = "5" }), "User", "age")
      expect("ValidationError", catch(q.or_, q, { nmae = "x" }), "User", "nmae")
      expect("ValidationError", catch(q.not_, q, { age__foo = 1 }), "User", "age")
      expect("ValidationError", catch(User.get, User, { age__gt = "5" }), "User", "age")
      expect("ValidationError", catch(User.find_by, User, { nmae = "x" }), "User", "nmae")
    end)
  end)

  describe("limit and offset", function()
    it("reject limit(-1)", function()
      local q = User:where()
      local err = catch(q.limit, q, -1)
      assert.is_true(mentions(err, "limit"), text(err))
      nothing_stored()
    end)

    it("reject limit('x')", function()
      local q = User:where()
      local err = catch(q.limit, q, "x")
      assert.is_true(mentions(err, "limit"), text(err))
      nothing_stored()
    end)

    it("reject a fractional limit and a negative offset", function()
      local q = User:where()
      catch(q.limit, q, 1.5)
      local err = catch(q.offset, q, -1)
      assert.is_true(mentions(err, "offset"), text(err))
    end)
  end)

  describe("calls used wrongly", function()
    it("raise an error table for an instance method called with a dot", function()
      local Hooked = Model("Hooked", { model_backend = backend, id = Field.string { primary_key = true },
                                       before_save = function() end, after_load = function() end })
      for _, u in ipairs { User:get("seed"), Hooked:create { id = "h" } } do
        for _, method in ipairs { "save", "delete", "reload", "to_table", "to_json" } do
          local err = catch(function() return u[method]() end)
          expect("ConfigurationError", err, "with a colon")
        end
      end
      local u = User:get("seed")
      expect("ConfigurationError", catch(function() return u.to_json() end), "u:to_json()")
      local h = Hooked:get("h")
      expect("ConfigurationError", catch(function() return h.save() end), "u:save()")
      expect("ConfigurationError", catch(function() return h.delete(User:get("seed")) end),
        "Hooked", "instance of Hooked")
      assert.equal(1, User:count())
      assert.equal(1, Hooked:count())
    end)

    it("raise a ValidationError naming the model for an unknown name read", function()
      local u = User:get("seed")
      local err = expect("ValidationError", catch(function() return u.nmae end), "User", "nmae")
      expect_rule(err, "nmae", "unknown_field")
    end)

    it("raise an error table for a backend method called with a dot", function()
      for _, call in ipairs { function() return backend.clear() end,
                              function() return backend.clear(User) end,
                              function() return backend.stats() end } do
        expect("ConfigurationError", catch(call), "backend:")
      end
      assert.equal(1, User:count())
    end)

    it("raise a ValidationError for from_json and isoformat given no text", function()
      expect("ValidationError", catch(User.from_json, User, nil), "User", "from_json")
      expect("ValidationError", catch(User.from_json, User, 5), "User", "from_json")
      for _, bad in ipairs { 1e20, "x", true } do
        expect("ValidationError", catch(orm.isoformat, bad), "isoformat")
      end
      expect("ValidationError", catch(orm.isoformat), "isoformat")
    end)

    it("refuse create_many of a table that is not a list, storing nothing", function()
      expect("ValidationError", catch(User.create_many, User, { valid(), nil, valid { id = "user-3" } }),
        "User", "create_many")
      expect("ValidationError", catch(User.create_many, User, { a = valid() }), "User", "create_many")
      nothing_stored()
    end)

    it("refuse conditions given to all and count", function()
      expect("ValidationError", catch(User.count, User, { age = 30 }), "User", "count", "where")
      expect("ValidationError", catch(User.all, User, { age = 30 }), "User", "all", "where")
      assert.equal(1, User.count())
    end)
  end)

  describe("query calls", function()
    it("name the method called with a dot instead of a colon", function()
      local q = User:where {}
      for _, call in ipairs { function() return q.all() end, function() return q.limit(5) end,
                              function() return q.update { name = "x" } end,
                              function() return q.where { age = 1 } end } do
        expect("ConfigurationError", catch(call), "q:")
      end
      expect("ConfigurationError", catch(function() return q.count() end), "count")
      assert.equal("Seed", User:get("seed").name)
    end)

    it("name where, not and_, for a bad where argument", function()
      local err = expect("ValidationError", catch(User.where, User, 5), "User:where", "number")
      assert.is_false(mentions(err, "and_"), text(err))
    end)

    it("list an error that names no field as one rule of field *", function()
      for _, call in ipairs { function() return User:where(5) end,
                              function() return User:where():order_by(1) end,
                              function() return User:where():update(5) end,
                              function() return orm.Q {} & 1 end,
                              function() return User:create(5) end } do
        local err = catch(call)
        assert.is_table(err, tostring(err))
        assert.equal("ValidationError", err.name)
        local rule = expect_rule(err, "*", nil, err.message)
        assert.equal(err.message, rule.message)
      end
    end)

    it("refuse a filter name that is not a string", function()
      expect("ConfigurationError", catch(function() return User:where():disable_filter(nil) end),
        "disable_filter")
    end)
  end)

  describe("order_by and select", function()
    it("reject an argument that is not a field name, naming the call", function()
      local q = User:where()
      for _, call in ipairs { "order_by", "select" } do
        local err = expect("ValidationError", catch(q[call], q, "id", {}), "User", call)
        assert.is_true(mentions(err, "table"), text(err))
        expect("ValidationError", catch(q[call], q, "id", nil), "User", call, "nil")
        expect("ValidationError", catch(q[call], q, 5), "User", call, "number")
      end
    end)

    it("reject more order_by fields than a query can sort by", function()
      local names = {}
      for i = 1, 100 do names[i] = "id" end
      local q = User:where()
      expect("ValidationError", catch(q.order_by, q, table.unpack(names)), "User", "order_by")
    end)
  end)

  -- Query objects are plain tables: the C core checks what it reads from
  -- one, so that a field changed by hand gives ConfigurationError naming
  -- the model, never a crash or a read outside the model's fields.
  describe("a query object changed by hand", function()
    local Other, Twin

    before_each(function()
      Other = Model("Other", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        a = Field.string { optional = true }, b = Field.string { optional = true },
        c = Field.string { optional = true }, d = Field.string { optional = true },
        f = Field.string { optional = true }, g = Field.string { optional = true },
        e = Field.integer { optional = true },
      })
      Other:create { id = "o1", e = 5 }
      -- The same fields as User, under another name.
      Twin = user_model("Twin")
    end)

    -- Every way of running a query; each must refuse the changed one.
    local RUNS = {
      all = function(q) return q:all() end,
      first = function(q) return q:first() end,
      last = function(q) return q:last() end,
      count = function(q) return q:count() end,
      exists = function(q) return q:exists() end,
      get = function(q) return q:get() end,
      paginate = function(q) return q:paginate() end,
      each = function(q) for _ in q:each() do end end,
      delete = function(q) return q:delete() end,
      update = function(q) return q:update { name = "Changed" } end,
      explain = function(q) return q:explain() end,
    }

    -- Runs q every way; each must raise ConfigurationError naming User
    -- and the words given, and leave the store as it was.
    local function refused(q, ...)
      for what, run in pairs(RUNS) do
        local err = catch(run, q)
        -- each() computes with limit_n in Lua before the core reads it: a
        -- limit that is no number fails there, with a Lua error.
        local in_lua = what == "each" and q.limit_n ~= nil and type(q.limit_n) ~= "number"
        if not in_lua then
          assert.is_table(err, what .. ": " .. tostring(err))
          assert.equal("ConfigurationError", err.name, what .. ": " .. tostring(err))
          expect("ConfigurationError", err, "User", ...)
        end
      end
      assert.equal(1, Other:count())
      nothing_stored()
    end

    local function changed(key, value)
      local q = User:where { age__gte = 0 }
      q[key] = value
      return q
    end

    it("refuses order terms naming a field the model does not have", function()
      refused(changed("order", { 100000000, false }), "order")
      refused(changed("order", { 999, true }), "order")
      refused(changed("order", { 6, true }), "order")
      refused(changed("order", { -1, true }), "order")
      refused(changed("order", { math.mininteger, true }), "order")
    end)

    it("refuses order terms that are not a field index and a boolean", function()
      refused(changed("order", { 1.5, true }), "order")
      refused(changed("order", { "1", true }), "order")
      refused(changed("order", { 1, "desc" }), "order", "string")
      refused(changed("order", { 1, 0 }), "order", "number")
      refused(changed("order", { 1 }), "order")
      refused(changed("order", 5), "order", "number")
      local many = {}
      for i = 1, 9 do many[#many + 1] = 0; many[#many + 1] = i % 2 == 0 end
      refused(changed("order", many), "order")
    end)

    it("still runs order terms as order_by makes them", function()
      local q = changed("order", { 3, true })
      User:create { id = "u2", email = "b@example.com", name = "B", age = 41 }
      assert.same({ "u2", "seed" }, support.ids(q:all()))
      User:get("u2"):delete()
    end)

    it("refuses the condition tree of another model", function()
      local q = User:where()
      q.groups = Other:where { e = 5 }.groups
      refused(q, "Other")
      q = User:where()
      q.groups = Twin:where { name = "Seed" }.groups
      refused(q, "Twin")
      q = User:where()
      q.groups = Other:where(orm.Q { e = 5 } | orm.Q { a = "x" }):not_ { b = "y" }.groups
      refused(q, "Other")
    end)

    it("refuses a tree of another model joined with one of this model", function()
      local q = User:where { name = "Seed" }
      local groups = { q.groups[1], Other:where { e = 5 }.groups[1] }
      q.groups = groups
      refused(q, "Other")
      q = User:where { name = "Seed" }
      q.groups = { Other:where { e = 5 }.groups[1] }
      local err = catch(q.and_, q, { name = "Seed" })
      expect("ConfigurationError", err, "Other", "User")
    end)

    it("refuses a condition tree that is not one", function()
      for _, bad in ipairs({ "x", 5, true, {}, io.stdout }) do
        local q = User:where()
        rawset(q, "node", bad)
        local err = catch(q.all, q)
        expect("ConfigurationError", err, "User", "node")
        err = catch(q.count, q)
        expect("ConfigurationError", err, "User", "node")
      end
      nothing_stored()
    end)

    it("refuses limits and offsets that are not non-negative integers", function()
      for _, bad in ipairs({ -1, -3, 2.5, "3", true, {}, math.mininteger }) do
        refused(changed("limit_n", bad), "limit")
        refused(changed("offset_n", bad), "offset")
      end
    end)

    it("refuses a select mask of another length or type", function()
      refused(changed("mask", "\1"), "mask")
      refused(changed("mask", ("\1"):rep(7)), "mask")
      refused(changed("mask", 5), "mask")
      refused(changed("mask", {}), "mask")
    end)

    it("refuses a cursor that is not a string, and an identity that is not a tree", function()
      refused(changed("cursor_text", 5), "cursor")
      refused(changed("cursor_text", {}), "cursor")
      refused(changed("identity", true), "identity")
      refused(changed("identity", Other:where { e = 5 }.groups[1].node), "Other")
    end)
  end)

  describe("model without a backend", function()
    local Loose

    before_each(function()
      Loose = Model("User", {
        id = Field.string { primary_key = true },
        name = Field.string {},
      })
    end)

    it("raises ConfigurationError naming model_backend on create", function()
      local err = catch(Loose.create, Loose, { id = "1", name = "Alice" })
      expect("ConfigurationError", err, "User", "model_backend")
      assert.equal(1, User:count())
    end)

    it("raises ConfigurationError naming model_backend on save, get and count", function()
      local u = Loose { id = "1", name = "Alice" }
      expect("ConfigurationError", catch(u.save, u), "User", "model_backend")
      expect("ConfigurationError", catch(Loose.get, Loose, "1"), "User", "model_backend")
      expect("ConfigurationError", catch(Loose.count, Loose), "User", "model_backend")
      expect("ConfigurationError", catch(function() return Loose:where():all() end), "User", "model_backend")
      nothing_stored()
    end)
  end)
end)
