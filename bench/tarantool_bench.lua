-- The benchmark's workload on Tarantool's memtx engine, driven by
-- Tarantool's own Lua (LuaJIT, Lua 5.1 dialect: this file is not Lua 5.4).
-- bench/bench.lua runs it as
--
--   tarantool bench/tarantool_bench.lua <N> <temporary work dir>
--
-- and reads its "RESULT <name> <value>" lines; the other lines are progress.
-- box.cfg: 1 GiB of memtx memory, wal_mode = "none", no listening socket,
-- no automatic checkpoints; the log and the bootstrap snapshot go to the
-- work dir, which the driver removes. The script ends with os.exit (a
-- Tarantool script that called box.cfg would otherwise keep running).
--
-- Space "users", tuples {id, email, name, age, is_active, age_copy} with a
-- typed format; a HASH primary index on id (string) and a non-unique TREE
-- index "age" on age (integer); age_copy has no index. Query results are
-- kept as tuples (Tarantool's own record objects, fields decoded on access,
-- as restmachine_orm's instances are), not converted to Lua tables.

local N = tonumber(arg[1]) or 100000
local WORK_DIR = arg[2] or error("usage: tarantool tarantool_bench.lua N WORK_DIR")
local QUERY_SECONDS = tonumber(os.getenv("BENCH_QUERY_SECONDS") or "") or 0.5
local SEED = 42
local PAGE = 100

io.stdout:setvbuf("line")

local function rss_bytes(page_size)
  local f = assert(io.open("/proc/self/statm", "r"))
  local _, resident = f:read("*n", "*n")
  f:close()
  return resident * page_size
end

local function full_gc()
  collectgarbage("collect")
  collectgarbage("collect")
end

-- The same permutation as bench/bench.lua's shuffled(): it is passed in by
-- the driver as a file, since LuaJIT's math.random is not Lua 5.4's.
local function read_order(path)
  local order = {}
  local f = assert(io.open(path, "r"))
  for line in f:lines() do order[#order + 1] = tonumber(line) end
  f:close()
  assert(#order == N, "the order file does not hold N numbers")
  return order
end

local TAG = "Tarantool memtx"

local function timed(name, fn, a)
  full_gc()
  local t0 = os.clock()
  fn(a)
  local dt = os.clock() - t0
  io.write(("  [%s] %-9s %d ops in %.3f s\n"):format(TAG, name, N, dt))
  io.write(("RESULT %s %.17g\n"):format(name, N / (dt > 0 and dt or 1e-9)))
end

-- Runs fn repeatedly for at least QUERY_SECONDS of CPU time (and at least
-- 3 times); `per` is how many units one call counts for (pages of a walk).
local function timed_query(name, label, fn, check, per, unit)
  per, unit = per or 1, unit or "queries"
  check(fn())
  full_gc()
  local reps, t0 = 0, os.clock()
  local dt
  repeat
    fn()
    reps = reps + 1
    dt = os.clock() - t0
  until dt >= QUERY_SECONDS and reps >= 3
  local rate = reps * per / dt
  io.write(("  [%s] %-9s %d runs in %.3f s: %.0f %s/s  (%s)\n")
    :format(TAG, name, reps, dt, rate, unit, label))
  io.write(("RESULT %s %.17g\n"):format(name, rate))
end

local function main()
  box.cfg {
    memtx_memory = 1024 * 1024 * 1024,
    wal_mode = "none",
    work_dir = WORK_DIR,
    log = "tarantool.log",
    listen = nil,
    checkpoint_interval = 0,
    background = false,
  }
  local space = box.schema.space.create("users", { format = {
    { name = "id", type = "string" }, { name = "email", type = "string" },
    { name = "name", type = "string" }, { name = "age", type = "integer" },
    { name = "is_active", type = "boolean" }, { name = "age_copy", type = "integer" },
  } })
  local primary = space:create_index("primary", { type = "HASH", parts = { 1, "string" } })
  local age = space:create_index("age", { type = "TREE", unique = false, parts = { 4, "integer" } })

  local page_size = tonumber(os.getenv("BENCH_PAGE_SIZE") or "") or 4096
  full_gc()
  local rss0 = rss_bytes(page_size)
  timed("create", function(n)
    for i = 1, n do
      space:insert { "user-" .. i, "user" .. i .. "@example.com", "User " .. i,
                     i % 100, i % 2 == 0, i % 100 }
    end
  end, N)
  full_gc()
  local rss1 = rss_bytes(page_size)
  assert(space:len() == N, "count after create is not N")
  io.write(("  [%s] memory %.1f bytes/record (RSS +%d KiB)\n")
    :format(TAG, (rss1 - rss0) / N, math.floor((rss1 - rss0) / 1024)))
  io.write(("RESULT memory %.17g\n"):format((rss1 - rss0) / N))

  local order = read_order(os.getenv("BENCH_ORDER_FILE"))
  timed("get", function(o)
    for k = 1, #o do
      local t = space:get("user-" .. o[k])
      if t == nil then error("user-" .. o[k] .. " not found") end
    end
  end, order)

  -- Queries on the same N records.
  local eq_n, gte_n = math.floor(N / 100) + ((N % 100 >= 42) and 1 or 0), 0
  for i = 1, N do if i % 100 >= 50 then gte_n = gte_n + 1 end end
  timed_query("q_eq", "age:select(42)", function() return age:select(42) end,
    function(r)
      assert(#r == eq_n, "eq query: wrong number of results")
      for i = 1, #r do assert(r[i][4] == 42) end
    end)
  timed_query("q_count", "age:count(50, GE)",
    function() return age:count(50, { iterator = "GE" }) end,
    function(c) assert(c == gte_n, "count: wrong result") end)
  timed_query("q_scan", "pairs() filter age_copy", function()
    local out, n = {}, 0
    for _, t in space:pairs() do
      if t[6] == 42 then
        n = n + 1
        out[n] = t
      end
    end
    return out
  end, function(r) assert(#r == eq_n, "scan: wrong number of results") end)
  timed_query("q_top10", "age:select({}, {limit=10})",
    function() return age:select({}, { limit = 10 }) end,
    function(r)
      assert(#r == 10, "top 10: wrong number of results")
      for i = 1, 10 do assert(r[i][4] == 0) end
    end)
  local pages_per_walk = math.ceil(N / PAGE)
  timed_query("q_walk", "walk", function()
    local seen, pages = 0, 0
    local page = primary:select({}, { iterator = "ALL", limit = PAGE })
    while #page > 0 do
      seen = seen + #page
      pages = pages + 1
      page = primary:select({ page[#page][1] }, { iterator = "GT", limit = PAGE })
    end
    return seen, pages
  end, function(seen, pages)
    assert(seen == N, "walk: saw " .. seen .. " records, not N")
    assert(pages == pages_per_walk, "walk: wrong number of pages")
  end, pages_per_walk, "pages")

  timed("update", function(o)
    for k = 1, #o do
      local i = o[k]
      space:update("user-" .. i, { { "=", 3, "Renamed " .. i } })
    end
  end, order)
  assert(space:get("user-" .. order[1])[3] == "Renamed " .. order[1],
    "update did not store the new name")
  timed("delete", function(o)
    for k = 1, #o do space:delete("user-" .. o[k]) end
  end, order)
  assert(space:len() == 0, "count after delete is not 0")
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  io.stderr:write("tarantool_bench: " .. tostring(err) .. "\n")
  os.exit(1)
end
os.exit(0)
