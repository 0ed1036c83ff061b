-- restmachine_orm: an ActiveRecord-style ORM for Lua 5.4 with a C engine.
-- This module gathers the public API (API.md §1); the C core
-- (restmachine_orm.core) does storage, validation and queries.
local core = require("restmachine_orm.core")
local errors = require("restmachine_orm.errors")
local Field = require("restmachine_orm.field")
local model = require("restmachine_orm.model")
local backends = require("restmachine_orm.backends")
local Q = require("restmachine_orm.q")
local mixins = require("restmachine_orm.mixins")

local orm = {
  Model = model.Model,
  Field = Field,
  backends = backends,
  errors = errors,
  Q = Q,
  mixins = mixins,
  _VERSION = "0.1.0",
}

--- The current time as epoch seconds, with sub-second precision.
orm.now = core.now

--- Formats epoch seconds as ISO-8601 UTC ("2025-01-15T10:30:00Z").
orm.isoformat = core.isoformat

--- JSON null inside json field values (nil cannot live in a Lua array).
orm.null = core.null

return orm
