-- examples/todo.lua is what `make demo` runs and what the README points
-- new users to: it must run to its end with the documented API, and show
-- what each of its steps promises.
-- The child gets this run's package paths, so that it loads the module
-- under test (build/asan/?.so under `make asan`), not always build/'s.
local function run_example(path)
  local cmd = ("LUA_PATH_5_4='%s' LUA_CPATH_5_4='%s' lua5.4 %s 2>&1"):format(
    package.path, package.cpath, path)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  return p:close(), out
end

describe("examples/todo.lua", function()
  it("runs to its end and shows each step's outcome", function()
    local ok, out = run_example("examples/todo.lua")
    assert.is_true(ok, out)
    for _, expected in ipairs {
      'created TodoList(id="home", title="Home")',
      "t5 was given as 15:30+01:00; stored as 2025-03-03T14:30:00Z",
      "draft t7 persisted? false; Todo:count() = 6",
      "open todos with priority >= 4: 3",
      'TodoList(id="home", title="Home & garden")',
      "Todo.priority: must be <= 5, got 9",
      "t8 stored? false",
      "DuplicateKeyError: Todo: a record with id \"t1\" already exists",
      "delete t3 again (already gone): false",
      "all lists      6 todos, 2 done (33%)",
      "backend:clear(): 0 todos, 0 lists left",
    } do
      assert.truthy(out:find(expected, 1, true), "missing from the output: " .. expected)
    end
    assert.matches("\ndone%.\n$", out)
  end)
end)
