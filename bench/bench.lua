-- restmachine_orm benchmark: the same workload through the public API and
-- through a hand-written plain-Lua store (bench/plain_store.lua).
--
--   lua5.4 bench/bench.lua            run both, print the comparison
--   BENCH_N=10000 lua5.4 bench/bench.lua
--
-- Model User{id string pk, email string, name string, age integer 0..150,
-- is_active boolean}; N records with ids "user-<i>"; phases:
--   create  N creates
--   get     N gets by id, in a random order (fixed seed)
--   update  N times: get by id, assign name, save
--   delete  N deletes by id (restmachine_orm: get, then delete(), the API's
--           way to delete one record by key; plain store: delete(id))
-- Memory: RSS growth (from /proc/self/statm, after a full garbage
-- collection) across the create phase, divided by N.
--
-- Each store runs in its own lua5.4 process (this script with --store), so
-- that one's memory does not blur the other's; the driver (this script
-- without arguments) combines their figures. It runs the two stores in
-- turn BENCH_ROUNDS times (default 3) and keeps each phase's best rate and
-- the lowest memory figure, to damp the noise of a shared machine. It is a figure, not a test: it
-- exits 0 whether or not the targets are met.

local N = math.tointeger(tonumber(os.getenv("BENCH_N") or "")) or 100000
local ROUNDS = math.tointeger(tonumber(os.getenv("BENCH_ROUNDS") or "")) or 3
local SEED = 42

-- Targets, as ratios restmachine_orm / plain Lua (same run), and bytes.
local TARGETS = { create = 0.5, get = 0.5, update = 0.3, delete = 0.3 }
local MAX_BYTES_PER_RECORD = 160
local PHASES = {
  { name = "create", label = "create" },
  { name = "get", label = "get by id (random order)" },
  { name = "update", label = "update (get, assign name, save)" },
  { name = "delete", label = "delete by id" },
}

local script = arg and arg[0] or "bench/bench.lua"
local here = script:match("^(.*)/[^/]*$") or "."
local root = here .. "/.."

-- ------------------------------------------------------------------ worker

-- Resident set size of this process in bytes.
local function rss_bytes(page_size)
  local f = assert(io.open("/proc/self/statm", "r"))
  local _, resident = f:read("n", "n")
  f:close()
  return resident * page_size
end

local function full_gc()
  collectgarbage("collect")
  collectgarbage("collect")
end

-- A random permutation of 1..n, the same for a given seed.
local function shuffled(n)
  math.randomseed(SEED)
  local order = {}
  for i = 1, n do order[i] = i end
  for i = n, 2, -1 do
    local j = math.random(i)
    order[i], order[j] = order[j], order[i]
  end
  return order
end

-- The four phases for restmachine_orm, and a count for sanity checks.
local function orm_system()
  package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
  package.cpath = root .. "/build/?.so;" .. package.cpath
  local orm = require("restmachine_orm")
  local Model, Field = orm.Model, orm.Field
  local backend = orm.backends.InMemoryBackend()
  local User = Model("User", {
    model_backend = backend,
    id = Field.string { primary_key = true },
    email = Field.string {},
    name = Field.string {},
    age = Field.integer { ge = 0, le = 150 },
    is_active = Field.boolean {},
  })
  local sys = { backend = backend }
  function sys.create(n)
    for i = 1, n do
      User:create { id = "user-" .. i, email = "user" .. i .. "@example.com",
                    name = "User " .. i, age = i % 100, is_active = i % 2 == 0 }
    end
  end
  function sys.get(order)
    for k = 1, #order do
      local u = User:get("user-" .. order[k])
      if u == nil then error("user-" .. order[k] .. " not found") end
    end
  end
  function sys.update(order)
    for k = 1, #order do
      local i = order[k]
      local u = User:get("user-" .. i)
      u.name = "Renamed " .. i
      u:save()
    end
  end
  function sys.delete(order)
    for k = 1, #order do
      local u = User:get("user-" .. order[k])
      u:delete()
    end
  end
  function sys.count() return User:count() end
  function sys.check_update(i) return User:get("user-" .. i).name == "Renamed " .. i end
  function sys.engine_bytes()
    local ok, stats = pcall(backend.stats, backend)
    return ok and type(stats) == "table" and stats.bytes or nil
  end
  return sys
end

-- The same four phases for the hand-written store.
local function plain_system()
  local Store = dofile(here .. "/plain_store.lua")
  local store = Store.new()
  local sys = {}
  function sys.create(n)
    for i = 1, n do
      store:create { id = "user-" .. i, email = "user" .. i .. "@example.com",
                     name = "User " .. i, age = i % 100, is_active = i % 2 == 0 }
    end
  end
  function sys.get(order)
    for k = 1, #order do
      local u = store:get("user-" .. order[k])
      if u == nil then error("user-" .. order[k] .. " not found") end
    end
  end
  function sys.update(order)
    for k = 1, #order do
      local i = order[k]
      local u = store:get("user-" .. i)
      u.name = "Renamed " .. i
      store:save(u)
    end
  end
  function sys.delete(order)
    for k = 1, #order do
      store:delete("user-" .. order[k])
    end
  end
  function sys.count() return store.count end
  function sys.check_update(i) return store:get("user-" .. i).name == "Renamed " .. i end
  function sys.engine_bytes() return nil end
  return sys
end

-- Runs one timed phase and reports it.
local function timed(tag, name, fn, arg1)
  full_gc()
  local t0 = os.clock()
  fn(arg1)
  local dt = os.clock() - t0
  local ops = N / (dt > 0 and dt or 1e-9)
  io.write(("  [%s] %-6s %d ops in %.3f s\n"):format(tag, name, N, dt))
  io.write(("RESULT %s %.17g\n"):format(name, ops))
end

local function worker(which, page_size)
  io.stdout:setvbuf("line")
  local sys = which == "orm" and orm_system() or plain_system()
  local tag = which == "orm" and "restmachine_orm" or "plain Lua"

  full_gc()
  local rss0 = rss_bytes(page_size)
  timed(tag, "create", sys.create, N)
  full_gc()
  local rss1 = rss_bytes(page_size)
  assert(sys.count() == N, "count after create is not N")
  local per_record = (rss1 - rss0) / N
  io.write(("  [%s] memory %.1f bytes/record (RSS +%d KiB)\n")
    :format(tag, per_record, (rss1 - rss0) // 1024))
  io.write(("RESULT memory %.17g\n"):format(per_record))
  local engine = sys.engine_bytes()
  if engine then io.write(("RESULT engine_bytes %.17g\n"):format(engine / N)) end

  local order = shuffled(N)
  timed(tag, "get", sys.get, order)
  timed(tag, "update", sys.update, order)
  assert(sys.check_update(order[1]), "update did not store the new name")
  timed(tag, "delete", sys.delete, order)
  assert(sys.count() == 0, "count after delete is not 0")
end

-- ------------------------------------------------------------------ driver

local function page_size()
  local p = io.popen("getconf PAGESIZE 2>/dev/null")
  local size = p and tonumber(p:read("l") or "")
  if p then p:close() end
  return size or 4096
end

-- Runs one store in a child process, passing its progress lines through;
-- returns its RESULT figures.
local function run_child(which, psize)
  local lua = arg and arg[-1] or "lua5.4"
  local cmd = ("BENCH_N=%d %s %s --store %s %d 2>&1"):format(N, lua, script, which, psize)
  local results = {}
  local p = assert(io.popen(cmd, "r"))
  for line in p:lines() do
    local key, value = line:match("^RESULT (%S+) (%S+)$")
    if key then results[key] = tonumber(value) else print(line) end
  end
  local ok, _, code = p:close()
  if not ok then
    io.stderr:write(("bench: the %s run failed (exit %s)\n"):format(which, tostring(code)))
    os.exit(1)
  end
  return results
end

-- 1234567.8 -> "1,234,568"
local function thousands(x)
  local s = ("%d"):format(math.floor(x + 0.5))
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

local function driver()
  local psize = page_size()
  print(("restmachine_orm benchmark: N = %s records of User{id string pk, email string, " ..
    "name string, age integer 0..150, is_active boolean}"):format(thousands(N)))
  print(("ids \"user-<i>\"; get, update and delete in a random order (seed %d); " ..
    "each store runs in its own process; best of %d rounds"):format(SEED, ROUNDS))
  print()
  local plain, orm = {}, {}
  -- Keeps the best of the runs: highest rate, lowest memory.
  local function keep(best, got)
    for k, v in pairs(got) do
      local lower_is_better = k == "memory" or k == "engine_bytes"
      if best[k] == nil or (lower_is_better and v < best[k]) or (not lower_is_better and v > best[k]) then
        best[k] = v
      end
    end
  end
  for round = 1, ROUNDS do
    print(("round %d of %d: the plain-Lua store (bench/plain_store.lua)"):format(round, ROUNDS))
    keep(plain, run_child("plain", psize))
    print(("round %d of %d: restmachine_orm"):format(round, ROUNDS))
    keep(orm, run_child("orm", psize))
  end
  print()
  print(("%-32s %15s %17s %7s %8s  %s"):format("phase", "plain Lua ops/s",
    "restmachine_orm", "ratio", "target", ""))
  local met_all = true
  for _, ph in ipairs(PHASES) do
    local a, b = plain[ph.name], orm[ph.name]
    local ratio = b / a
    local met = ratio >= TARGETS[ph.name]
    met_all = met_all and met
    print(("%-32s %15s %17s %7.2f %8s  %s"):format(ph.label, thousands(a), thousands(b),
      ratio, (">= %.1f"):format(TARGETS[ph.name]), met and "met" or "NOT MET"))
  end
  print()
  print("memory after the create phase (RSS growth / N):")
  print(("  %-24s %8.1f bytes/record"):format("plain Lua store", plain.memory))
  local mem_met = orm.memory <= MAX_BYTES_PER_RECORD
  met_all = met_all and mem_met
  print(("  %-24s %8.1f bytes/record   target <= %d  %s"):format("restmachine_orm",
    orm.memory, MAX_BYTES_PER_RECORD, mem_met and "met" or "NOT MET"))
  if orm.engine_bytes then
    print(("  (restmachine_orm's own count, backend:stats().bytes / N: %.1f bytes/record)")
      :format(orm.engine_bytes))
  end
  print()
  print(met_all and "all targets met" or "some targets not met (a figure, not a test)")
end

if arg and arg[1] == "--store" then
  worker(arg[2], tonumber(arg[3]) or 4096)
else
  driver()
end
