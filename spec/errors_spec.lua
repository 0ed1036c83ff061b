-- Errors (API.md section 10): error tables with name, message and
-- __tostring; orm.errors.is following the hierarchy; ValidationError.errors
-- listing every broken rule in one pass.

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend

local support = require("spec.support")
local catch, expect_rule = support.catch, support.expect_rule

describe("errors", function()
  local backend, User

  before_each(function()
    backend = InMemoryBackend()
    User = Model("User", {
      model_backend = backend,
      id = Field.string { primary_key = true },
      email = Field.string { unique = true },
      name = Field.string { min_length = 2, max_length = 10 },
      age = Field.integer { ge = 0, le = 150, default = 0 },
      role = Field.string { choices = { "admin", "member" }, default = "member" },
    })
  end)

  -- One way to provoke each kind of error through the public API.
  local provoke = {
    ValidationError = function()
      return catch(User.create, User, { id = "1", email = "a@example.com", name = "Alice", age = -1 })
    end,
    DuplicateKeyError = function()
      User:create { id = "1", email = "a@example.com", name = "Alice" }
      return catch(User.create, User, { id = "1", email = "b@example.com", name = "Bob" })
    end,
    NotFoundError = function()
      local u = User:create { id = "1", email = "a@example.com", name = "Alice" }
      User:get("1"):delete()
      return catch(u.save, u)
    end,
    MultipleResultsError = function()
      User:create { id = "1", email = "a@example.com", name = "Alice" }
      User:create { id = "2", email = "b@example.com", name = "Alice" }
      return catch(function() return User:where():get { name = "Alice" } end)
    end,
    ConfigurationError = function()
      local Loose = Model("Loose", { id = Field.string { primary_key = true } })
      return catch(Loose.create, Loose, { id = "1" })
    end,
  }

  describe("error objects", function()
    for _, kind in ipairs({ "ValidationError", "DuplicateKeyError", "NotFoundError",
      "MultipleResultsError", "ConfigurationError" }) do
      it(kind .. " is a table with name and message", function()
        local err = provoke[kind]()
        assert.is_table(err, "got: " .. tostring(err))
        assert.equal(kind, err.name)
        assert.is_string(err.message)
        assert.is_true(#err.message > 0)
      end)

      it(kind .. " turns into '<name>: <message>' with tostring", function()
        local err = provoke[kind]()
        assert.equal(kind .. ": " .. err.message, tostring(err))
      end)
    end
  end)

  describe("orm.errors.is", function()
    it("recognises each kind by its own name", function()
      for kind, fn in pairs(provoke) do
        assert.is_true(orm.errors.is(fn(), kind), kind)
        backend:clear()
      end
    end)

    it("counts NotFoundError, DuplicateKeyError and ValidationError as BackendError", function()
      assert.is_true(orm.errors.is(provoke.NotFoundError(), "BackendError"))
      backend:clear()
      assert.is_true(orm.errors.is(provoke.DuplicateKeyError(), "BackendError"))
      backend:clear()
      assert.is_true(orm.errors.is(provoke.ValidationError(), "BackendError"))
    end)

    it("does not count MultipleResultsError or ConfigurationError as BackendError", function()
      assert.is_false(orm.errors.is(provoke.MultipleResultsError(), "BackendError"))
      assert.is_false(orm.errors.is(provoke.ConfigurationError(), "BackendError"))
    end)

    it("does not confuse sibling kinds", function()
      local dup = provoke.DuplicateKeyError()
      assert.is_false(orm.errors.is(dup, "NotFoundError"))
      assert.is_false(orm.errors.is(dup, "ValidationError"))
      assert.is_false(orm.errors.is(dup, "MultipleResultsError"))
      backend:clear()
      local nf = provoke.NotFoundError()
      assert.is_false(orm.errors.is(nf, "DuplicateKeyError"))
    end)

    it("answers false for values that are not ORM errors", function()
      assert.is_false(orm.errors.is("ValidationError: fake", "ValidationError"))
      assert.is_false(orm.errors.is(nil, "BackendError"))
      assert.is_false(orm.errors.is(42, "BackendError"))
      local ok, err = pcall(error, { message = "plain table" })
      assert.is_false(ok)
      assert.is_false(orm.errors.is(err, "BackendError"))
    end)
  end)

  describe("ValidationError.errors", function()
    it("has one entry with field, code and message per broken rule", function()
      local err = provoke.ValidationError()
      assert.is_table(err.errors)
      assert.equal(1, #err.errors)
      local e = err.errors[1]
      assert.equal("age", e.field)
      assert.equal("ge", e.code)
      assert.is_string(e.message)
      assert.is_true(#e.message > 0)
    end)

    it("lists every broken rule of every field in one pass", function()
      local err = catch(User.create, User, {
        id = "1",
        -- email missing
        name = "A",           -- below min_length
        age = 200,            -- above le
        role = "guest",       -- not a choice
        nickname = "x",       -- unknown field
      })
      assert.equal("ValidationError", err.name)
      expect_rule(err, "email", "required")
      expect_rule(err, "name", "min_length")
      expect_rule(err, "age", "le")
      expect_rule(err, "role", "choices")
      expect_rule(err, "nickname", "unknown_field")
      assert.equal(5, #err.errors)
      assert.equal(0, User:count())
    end)

    it("lists two broken rules of one field", function()
      local Tag = Model("Tag", {
        model_backend = backend,
        id = Field.string { primary_key = true },
        label = Field.string { min_length = 3, choices = { "red", "green" } },
      })
      local err = catch(Tag.create, Tag, { id = "1", label = "x" })
      expect_rule(err, "label", "min_length")
      expect_rule(err, "label", "choices")
      assert.equal(2, #err.errors)
    end)

    it("lists wrong types next to other broken rules", function()
      local err = catch(User, { id = "1", email = 5, name = "Al", age = "old" })
      expect_rule(err, "email", "type")
      expect_rule(err, "age", "type")
      assert.equal(2, #err.errors)
    end)

    it("names the model and the broken fields in the message", function()
      local err = catch(User.create, User, { id = "1", email = "a@example.com", name = "A", age = 200 })
      assert.is_not_nil(err.message:find("User", 1, true), err.message)
      assert.is_not_nil(err.message:find("name", 1, true), err.message)
      assert.is_not_nil(err.message:find("age", 1, true), err.message)
    end)
  end)

  describe("after an error", function()
    it("leaves the store unchanged", function()
      User:create { id = "1", email = "a@example.com", name = "Alice" }
      catch(User.create, User, { id = "2", email = "a@example.com", name = "Bob" })
      catch(User.create, User, { id = "3", email = "c@example.com", name = "C" })
      catch(User.upsert, User, { id = "1", email = "a@example.com", name = "Alice", age = -1 })
      assert.equal(1, User:count())
      assert.equal(0, User:get("1").age)
      assert.is_nil(User:get("2"))
      assert.is_nil(User:get("3"))
    end)
  end)
end)
