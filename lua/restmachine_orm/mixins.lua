-- Built-in mixins (API.md §8). A mixin is a plain table with the keys of a
-- model spec (fields, hooks, methods, extensions) plus query_filters; the
-- metatable's __name only labels it in error messages.
local core = require("restmachine_orm.core")
local Field = require("restmachine_orm.field")

local mixins = {}

local function named(name, t)
  return setmetatable(t, { __name = name })
end

--- created_at is set on the first save, updated_at on every save.
mixins.Timestamp = named("Timestamp", {
  created_at = Field.datetime { auto_now_add = true },
  updated_at = Field.datetime { auto_now = true },
})

--- expires_at (optional); is_expired(); and the result filter
--- "expiration", which leaves expired records out of every query until
--- q:disable_filter("expiration"). The filter is a condition evaluated in
--- C, with the clock read when the query runs.
mixins.Expiration = named("Expiration", {
  expires_at = Field.datetime { optional = true },
  is_expired = function(self)
    local at = self.expires_at
    return at ~= nil and at <= core.now()
  end,
  query_filters = {
    function(q)
      return q:_add_condition_filter("expiration", function()
        local Q = require("restmachine_orm.q")
        return Q { expires_at__isnull = true } | Q { expires_at__gt = core.now() }
      end)
    end,
  },
})

return mixins
