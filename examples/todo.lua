-- A small todo application on the in-memory backend.
--
-- Two models, TodoList and Todo, share one backend. The script creates a
-- few lists and todos, lists them, completes some, queries them by state and
-- priority, shows what happens with bad input, deletes, and prints stats,
-- saying what it does at each step. It uses only the documented public API
-- (API.md sections 1 to 6).
--
-- Run it from the repository root with `make demo`, or after `make` with:
--   LUA_PATH_5_4="lua/?.lua;lua/?/init.lua;;" LUA_CPATH_5_4="build/?.so;;" lua5.4 examples/todo.lua

local orm = require("restmachine_orm")
local Model, Field = orm.Model, orm.Field
local InMemoryBackend = orm.backends.InMemoryBackend
local InMemoryAdapter = orm.backends.InMemoryAdapter

-- Prints a section title.
local function section(title)
  print()
  print("== " .. title)
end

-- Formats a datetime field (epoch seconds) for display.
local function when(t)
  if t == nil then return "no due date" end
  return "due " .. orm.isoformat(t)
end

local backend = InMemoryBackend(InMemoryAdapter())

local TodoList = Model("TodoList", {
  model_backend = backend,
  id    = Field.string { primary_key = true },
  title = Field.string { min_length = 1, max_length = 60 },
})

local Todo = Model("Todo", {
  model_backend = backend,
  id       = Field.string   { primary_key = true },
  list_id  = Field.string   { index = true },
  title    = Field.string   { min_length = 1, max_length = 100 },
  done     = Field.boolean  { default = false },
  due      = Field.datetime { optional = true },
  priority = Field.integer  { ge = 1, le = 5, default = 3 },

  -- An instance method: one line describing the todo.
  line = function(self)
    return ("[%s] %-6s %-26s priority %d, %s"):format(
      self.done and "x" or " ", self.id, self.title, self.priority, when(self.due))
  end,
})

-- Prints each todo of a list of instances, under a heading.
local function show(heading, todos)
  print(("%s (%d):"):format(heading, #todos))
  for _, todo in ipairs(todos) do print("  " .. todo:line()) end
end

print(("restmachine_orm todo demo: backend %q, models %s and %s")
  :format(backend.backend_name, TodoList.name, Todo.name))
io.write("Todo fields, in declaration order:")
for _, f in ipairs(Todo:fields()) do
  io.write((" %s:%s%s"):format(f.name, f.type, f.primary_key and "(key)" or ""))
end
print()

-- A fixed "today", so that the output is the same on every run.
local today = "2025-03-03T12:00:00Z"

section("Creating two lists")
for _, spec in ipairs({ { id = "home", title = "Home" }, { id = "work", title = "Work" } }) do
  local list = TodoList:create(spec)
  print("created " .. tostring(list))
end

section("Adding todos (dates given as ISO-8601 text are stored as epoch seconds)")
local seed = {
  { id = "t1", list_id = "home", title = "Buy milk", due = "2025-03-02T18:00:00Z", priority = 2 },
  { id = "t2", list_id = "home", title = "Pay the electricity bill", due = "2025-03-04T09:00:00Z", priority = 5 },
  { id = "t3", list_id = "home", title = "Water the plants", due = "2025-03-01T08:00:00Z" },
  { id = "t4", list_id = "work", title = "Write the quarterly report", due = "2025-03-07T17:00:00Z", priority = 4 },
  { id = "t5", list_id = "work", title = "Review pull requests", due = "2025-03-03T15:30:00+01:00", priority = 4 },
  { id = "t6", list_id = "work", title = "Book the team offsite", due = "2025-03-20T10:00:00Z", priority = 1 },
}
for _, spec in ipairs(seed) do
  local todo = Todo:create(spec)
  print("created " .. todo:line())
end
print(("t5 was given as 15:30+01:00; stored as %s (epoch %s)")
  :format(orm.isoformat(Todo:get("t5").due), tostring(Todo:get("t5").due)))

section("A new instance is not stored until save()")
local draft = Todo { id = "t7", list_id = "home", title = "Call the plumber", priority = 4 }
print(("draft t7 persisted? %s; Todo:count() = %d"):format(tostring(draft:is_persisted()), Todo:count()))
draft:save()
print(("after save: persisted? %s; Todo:count() = %d"):format(tostring(draft:is_persisted()), Todo:count()))

section("Listing everything (insertion order)")
show("all todos", Todo:all())

section("Completing todos")
local milk = Todo:get "t1"                       -- by primary key value
milk.done = true
milk:save()
print("completed " .. milk:line())
local review = Todo:get { id = "t5" }            -- by conditions
review.done = true
review:save()
print("completed " .. review:line())
local a, b = Todo:get "t5", Todo:get "t5"
print(("two loads of t5 are equal: %s"):format(tostring(a == b)))
a.title = "Changed locally"
print(("changed one copy without save(); the store still says %q"):format(Todo:get("t5").title))

section("Queries")
show("open todos, most important first, then by due date",
  Todo:where { done = false }:order_by("-priority", "due"):all())
print(("open todos with priority >= 4: %d"):format(Todo:where { done = false, priority__gte = 4 }:count()))
show("overdue on " .. today .. " or priority 5 (an OR of two groups), by due date",
  Todo:where { done = false, due__lt = today }:or_ { done = false, priority = 5 }:order_by("due"):all())
show("open work todos (not_ excludes the done ones)",
  Todo:where { list_id = "work" }:not_ { done = true }:all())
show("low-priority todos (priority__in = {1, 2})", Todo:where { priority__in = { 1, 2 } }:all())
show("titles containing \"THE\", ignoring case (title__icontains)",
  Todo:where { title__icontains = "THE" }:all())
show("todos without a due date (due__isnull = true)", Todo:where { due__isnull = true }:all())
local next_up = Todo:where { done = false, due__gte = today }:order_by("due")
print("next deadline: " .. next_up:first():line())
print("last deadline: " .. next_up:last():line())
show("the two open todos after the next deadline (offset 1, limit 2)", next_up:offset(1):limit(2):all())
print(("anything due in 2024? %s"):format(tostring(Todo:where { due__lt = "2025-01-01" }:exists())))
local plants = Todo:find_by { title = "Water the plants" }
print("find_by title: " .. plants:line())

section("Renaming a list with upsert (create or overwrite)")
TodoList:upsert { id = "home", title = "Home & garden" }
for _, list in ipairs(TodoList:all()) do print("  " .. tostring(list)) end

section("Bad input is rejected, and nothing is stored")
local ok, err = pcall(Todo.create, Todo, { id = "t8", list_id = "home", title = "", priority = 9 })
print(("create with an empty title and priority 9: ok=%s"):format(tostring(ok)))
print("  error: " .. tostring(err))
if type(err) == "table" and err.errors then
  for _, e in ipairs(err.errors) do
    print(("    field %-8s rule %-10s %s"):format(e.field, e.code, e.message))
  end
end
print(("  t8 stored? %s"):format(tostring(Todo:get "t8" ~= nil)))
ok, err = pcall(Todo.create, Todo, { id = "t1", list_id = "home", title = "Buy milk again" })
print(("create t1 a second time: ok=%s, error: %s"):format(tostring(ok), tostring(err)))
local t2 = Todo:get "t2"
ok, err = pcall(function() t2.priority = "high" end)
print(("assigning priority = \"high\": ok=%s, error: %s"):format(tostring(ok), tostring(err)))
print(("  t2 keeps priority %d"):format(t2.priority))

section("Deleting")
local plants_again = Todo:get "t3"
print(("delete t3: %s"):format(tostring(plants_again:delete())))
print(("delete t3 again (already gone): %s"):format(tostring(plants_again:delete())))
print(("t3 found afterwards? %s"):format(tostring(Todo:get "t3" ~= nil)))

section("Stats")
for _, list in ipairs(TodoList:all()) do
  local mine = Todo:where { list_id = list.id }
  local done = mine:and_ { done = true }:count()
  print(("  %-14s %d todos, %d done, %d open"):format(list.title, mine:count(), done, mine:count() - done))
end
local total, done = Todo:count(), Todo:where { done = true }:count()
print(("  all lists      %d todos, %d done (%.0f%%)"):format(total, done, 100 * done / total))
local stats = backend:stats()
print(("  backend: %d records (TodoList %d, Todo %d), %d bytes held by the engine")
  :format(stats.records, stats.models.TodoList or 0, stats.models.Todo or 0, stats.bytes))
print("  a todo as a plain table:")
local row = Todo:get("t2"):to_table()
for _, f in ipairs(Todo:fields()) do
  local v = row[f.name]
  if f.type == "datetime" and v ~= nil then v = orm.isoformat(v) end
  print(("    %-8s = %s"):format(f.name, tostring(v)))
end

section("Clearing")
backend:clear(Todo)
print(("backend:clear(Todo): %d todos, %d lists left"):format(Todo:count(), TodoList:count()))
backend:clear()
print(("backend:clear(): %d todos, %d lists left"):format(Todo:count(), TodoList:count()))
print()
print("done.")
