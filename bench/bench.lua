-- restmachine_orm benchmark: the same workload through the public API,
-- through a hand-written plain-Lua store (bench/plain_store.lua) and, when
-- the `tarantool` binary is installed, through Tarantool's memtx engine
-- (bench/tarantool_bench.lua, run by tarantool itself).
--
--   lua5.4 bench/bench.lua            run them all, print the comparison
--   BENCH_N=10000 BENCH_ROUNDS=1 lua5.4 bench/bench.lua
--
-- Environment: BENCH_N (records, default 100000), BENCH_ROUNDS (default 5),
-- BENCH_QUERY_SECONDS (CPU time each query phase runs for, default 0.5),
-- BENCH_CHART (the PNG to write, default build/bench.png), BENCH_TARANTOOL
-- (the tarantool binary, default `tarantool` from PATH).
--
-- Model User{id string pk, email string, name string, age integer 0..150
-- index, is_active boolean, age_copy integer}; N records with ids
-- "user-<i>", age = age_copy = i % 100. Phases, in this order:
--   create  N creates
--   get     N gets by id, in a random order (fixed seed)
--   q_eq    where{age = 42}:all()        (1% of the records, all built)
--   q_count where{age__gte = 50}:count() (half of the records)
--   q_scan  where{age_copy = 42}:all()   (the same query, no index)
--   q_top10 where():order_by("age"):limit(10):all()
--   q_walk  a full walk with paginate() in pages of 100 (rate in pages/s)
--   update  N times: get by id, assign name, save
--   delete  N deletes by id (restmachine_orm: get, then delete(), the API's
--           way to delete one record by key; plain store: delete(id))
-- Each query phase runs its query over and over for BENCH_QUERY_SECONDS of
-- CPU time (at least 3 times) after checking its result once.
--
-- Issue 4's Doc workload, in processes of its own: Doc{id string pk, title
-- string, tags json} with the Timestamp mixin (created_at, updated_at);
-- N records with ids "doc-<i>" and tags a list of 10 strings and integers
-- ({"t1", i, "t3", i % 7, "t5", "t6", i * 2, "t8", 9, "t10"}). Phases:
--   doc_create  N creates (Doc:create / store:create)
--   doc_get     N gets by id in the random order above, each reading the
--               tags once: #tags and tags[2] (checked against i)
-- against bench/plain_doc_store.lua, which type-checks the fields,
-- deep-copies the tags on create and on get and stamps os.time(). One
-- record is then checked outside the timing (tags, stamps, and that
-- changing get's result leaves the store alone).
-- Memory: RSS growth (from /proc/self/statm, after a full garbage
-- collection) across the create phase, divided by N.
--
-- Systems, each in its own process (this script with --store, or
-- tarantool), so that one's memory does not blur another's:
--   plain        the plain-Lua store; its queries loop over every record
--   orm          restmachine_orm, age indexed (the model above)
--   orm-noindex  restmachine_orm, the same model with age not indexed:
--                the "before indexes" figures the indexed run must stay
--                within 15% of
--   orm-issue2   restmachine_orm, issue 2's model (no index, no age_copy):
--                create only, for its memory target (<= 160 bytes/record)
--   plain-doc    the Doc workload on bench/plain_doc_store.lua
--   orm-doc      the Doc workload on restmachine_orm
--   tarantool    Tarantool memtx (skipped when tarantool is not installed)
-- The driver (this script without arguments) runs them in turn
-- BENCH_ROUNDS times, keeps each phase's best rate and the lowest memory
-- figure, to damp the noise of a shared machine, prints the table, the
-- same-run ratios and the targets, and draws build/bench.png with gnuplot
-- (skipped when gnuplot is not installed). It is a figure, not a test: it
-- exits 0 whether or not the targets are met.
--
-- The cost of the index on create, get, update and delete (its target:
-- within 15%) is measured apart, in BENCH_PAIRS pairs (default 7) of short
-- processes that run only those four phases: orm, then orm-noindex right
-- after it (or the other way round, every other pair). Each pair gives one
-- ratio per phase and the target is read from the median. On a machine
-- whose speed drifts over seconds (other tenants), two runs a second apart
-- are a fairer comparison than the best of each system over a few minutes:
-- on such a machine the best-of ratios of these phases were seen to range
-- from 0.73 to 1.15 between whole runs of the benchmark.

local N = math.tointeger(tonumber(os.getenv("BENCH_N") or "")) or 100000
local ROUNDS = math.max(1, math.tointeger(tonumber(os.getenv("BENCH_ROUNDS") or "")) or 5)
local PAIRS = math.max(1, math.tointeger(tonumber(os.getenv("BENCH_PAIRS") or "")) or 7)
local QUERY_SECONDS = tonumber(os.getenv("BENCH_QUERY_SECONDS") or "") or 0.5
local TARANTOOL = os.getenv("BENCH_TARANTOOL") or "tarantool"
local SEED = 42
local PAGE = 100

local script = arg and arg[0] or "bench/bench.lua"
local here = script:match("^(.*)/[^/]*$") or "."
local root = here == "." and ".." or here:match("^(.*)/[^/]*$") or "."

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

-- What the queries must return for records 1..N with age = i % 100.
local function expected()
  local eq, gte = 0, 0
  for i = 1, N do
    local age = i % 100
    if age == 42 then eq = eq + 1 end
    if age >= 50 then gte = gte + 1 end
  end
  return { eq = eq, gte = gte, pages = (N + PAGE - 1) // PAGE }
end

-- The phases for restmachine_orm. variant: "orm" (age indexed),
-- "orm-noindex" (age not indexed) or "orm-issue2" (issue 2's model).
local function orm_system(variant)
  package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
  package.cpath = root .. "/build/?.so;" .. package.cpath
  local orm = require("restmachine_orm")
  local Model, Field = orm.Model, orm.Field
  local backend = orm.backends.InMemoryBackend()
  local issue2 = variant == "orm-issue2"
  local User = Model("User", {
    model_backend = backend,
    id = Field.string { primary_key = true },
    email = Field.string {},
    name = Field.string {},
    age = Field.integer { ge = 0, le = 150, index = variant == "orm" },
    is_active = Field.boolean {},
    age_copy = not issue2 and Field.integer {} or nil,
  })
  local sys = {}
  function sys.create(n)
    if issue2 then
      for i = 1, n do
        User:create { id = "user-" .. i, email = "user" .. i .. "@example.com",
                      name = "User " .. i, age = i % 100, is_active = i % 2 == 0 }
      end
      return
    end
    for i = 1, n do
      local age = i % 100
      User:create { id = "user-" .. i, email = "user" .. i .. "@example.com",
                    name = "User " .. i, age = age, is_active = i % 2 == 0,
                    age_copy = age }
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

  -- Queries (the query objects are built inside the timed loop too: that
  -- is what a caller pays).
  function sys.q_eq() return User:where { age = 42 }:all() end
  function sys.q_count() return User:where { age__gte = 50 }:count() end
  function sys.q_scan() return User:where { age_copy = 42 }:all() end
  function sys.q_top10() return User:where():order_by("age"):limit(10):all() end
  -- A full walk in insertion order (the API's order without order_by).
  -- With `ids`, also records every id seen there.
  function sys.q_walk(ids)
    local q = User:where():limit(PAGE)
    local page, cursor = q:paginate()
    local seen, pages = 0, 0
    while true do
      seen, pages = seen + #page, pages + 1
      if ids then for i = 1, #page do ids[page[i].id] = true end end
      if cursor == nil then break end
      page, cursor = q:cursor(cursor):paginate()
    end
    return seen, pages
  end
  return sys
end

-- The same phases for the hand-written store.
local function plain_system()
  local Store = dofile(here .. "/plain_store.lua")
  local store = Store.new()
  local sys = {}
  function sys.create(n)
    for i = 1, n do
      local age = i % 100
      store:create { id = "user-" .. i, email = "user" .. i .. "@example.com",
                     name = "User " .. i, age = age, is_active = i % 2 == 0,
                     age_copy = age }
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

  function sys.q_eq() return store:where_eq("age", 42) end
  function sys.q_count() return store:count_gte("age", 50) end
  function sys.q_scan() return store:where_eq("age_copy", 42) end
  function sys.q_top10() return store:smallest_by("age", 10) end
  -- A full walk in id order: sort the ids, then take slices of PAGE.
  function sys.q_walk(ids)
    local sorted = store:sorted_ids()
    local seen, pages = 0, 0
    for first = 1, #sorted, PAGE do
      local page = store:page(sorted, first, PAGE)
      seen, pages = seen + #page, pages + 1
      if ids then for i = 1, #page do ids[page[i].id] = true end end
    end
    return seen, pages
  end
  return sys
end

-- Runs one timed phase of N operations and reports it.
local function timed(tag, name, fn, arg1)
  full_gc()
  local t0 = os.clock()
  fn(arg1)
  local dt = os.clock() - t0
  local ops = N / (dt > 0 and dt or 1e-9)
  io.write(("  [%s] %-9s %d ops in %.3f s\n"):format(tag, name, N, dt))
  io.write(("RESULT %s %.17g\n"):format(name, ops))
end

-- Runs a query for at least QUERY_SECONDS of CPU time (and 3 times at
-- least) and reports its rate; `per` is how many units one call counts for.
local function timed_query(tag, name, fn, per, unit)
  full_gc()
  local reps, t0, dt = 0, os.clock(), 0
  repeat
    fn()
    reps = reps + 1
    dt = os.clock() - t0
  until dt >= QUERY_SECONDS and reps >= 3
  local rate = reps * (per or 1) / dt
  io.write(("  [%s] %-9s %d runs in %.3f s: %.0f %s/s\n")
    :format(tag, name, reps, dt, rate, unit or "queries"))
  io.write(("RESULT %s %.17g\n"):format(name, rate))
end

-- Checks each query's result once, then times it.
local function run_queries(tag, sys)
  local want = expected()
  local function list_where(list, field, value, n, what)
    assert(#list == n, ("%s: %d results, expected %d"):format(what, #list, n))
    for i = 1, #list do
      assert(list[i][field] == value, what .. ": a result does not match")
    end
  end
  list_where(sys.q_eq(), "age", 42, want.eq, "q_eq")
  timed_query(tag, "q_eq", sys.q_eq)
  local c = sys.q_count()
  assert(c == want.gte, ("q_count: %s, expected %d"):format(tostring(c), want.gte))
  timed_query(tag, "q_count", sys.q_count)
  list_where(sys.q_scan(), "age_copy", 42, want.eq, "q_scan")
  timed_query(tag, "q_scan", sys.q_scan)
  list_where(sys.q_top10(), "age", 0, math.min(10, N), "q_top10")
  timed_query(tag, "q_top10", sys.q_top10)
  local ids = {}
  local seen, pages = sys.q_walk(ids)
  local distinct = 0
  for _ in pairs(ids) do distinct = distinct + 1 end
  assert(seen == N and distinct == N,
    ("q_walk: saw %d records (%d distinct), expected %d"):format(seen, distinct, N))
  assert(pages == want.pages, ("q_walk: %d pages, expected %d"):format(pages, want.pages))
  timed_query(tag, "q_walk", sys.q_walk, pages, "pages")
end

-- ------------------------------------------------------- the Doc workload

-- Issue 4's workload: Doc{id string pk, title string, tags json} with the
-- Timestamp mixin (created_at, updated_at), ids "doc-<i>", tags a list of
-- 10 strings and integers. Both systems get the same create loop (the
-- argument table built in the loop) and the same get loop (get by id in
-- the random order, then read the tags once: their length and element 2).
local function doc_tags(i)
  return { "t1", i, "t3", i % 7, "t5", "t6", i * 2, "t8", 9, "t10" }
end

local function doc_system(which)
  local sys = {}
  local create, get, count, engine_bytes
  if which == "orm-doc" then
    package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
    package.cpath = root .. "/build/?.so;" .. package.cpath
    local orm = require("restmachine_orm")
    local Model, Field = orm.Model, orm.Field
    local backend = orm.backends.InMemoryBackend()
    local Doc = Model("Doc", {
      model_backend = backend,
      mixins = { orm.mixins.Timestamp },
      id = Field.string { primary_key = true },
      title = Field.string {},
      tags = Field.json {},
    })
    function create(r) return Doc:create(r) end
    function get(id) return Doc:get(id) end
    function count() return Doc:count() end
    function engine_bytes()
      local ok, stats = pcall(backend.stats, backend)
      return ok and type(stats) == "table" and stats.bytes or nil
    end
  else
    local Store = dofile(here .. "/plain_doc_store.lua")
    local store = Store.new()
    function create(r) return store:create(r) end
    function get(id) return store:get(id) end
    function count() return store.count end
    function engine_bytes() return nil end
  end
  -- (create and get are called through these locals in both systems.)
  function sys.doc_create(n)
    for i = 1, n do
      create { id = "doc-" .. i, title = "Doc " .. i, tags = doc_tags(i) }
    end
  end
  function sys.doc_get(order)
    for k = 1, #order do
      local i = order[k]
      local d = get("doc-" .. i)
      local tags = d.tags
      if #tags ~= 10 or tags[2] ~= i then error("doc-" .. i .. ": wrong tags") end
    end
  end
  -- Outside the timing: one record has the right fields, and changing
  -- what get returned does not change the store.
  function sys.check(i)
    local d = get("doc-" .. i)
    local want = doc_tags(i)
    assert(d.title == "Doc " .. i, "doc: wrong title")
    for j = 1, 10 do
      assert(d.tags[j] == want[j] and math.type(d.tags[j]) == math.type(want[j]),
        "doc: wrong tag " .. j)
    end
    assert(type(d.created_at) == "number" and d.updated_at == d.created_at,
      "doc: created_at/updated_at not set")
    local tags = d.tags
    tags[1] = "changed"
    assert(get("doc-" .. i).tags[1] == "t1", "doc: get's result altered the store")
  end
  sys.count, sys.engine_bytes = count, engine_bytes
  return sys
end

local TAGS = {
  plain = "plain Lua",
  orm = "restmachine_orm",
  ["orm-noindex"] = "orm, no index",
  ["orm-issue2"] = "orm, issue 2 model",
  ["plain-doc"] = "plain Lua, Doc",
  ["orm-doc"] = "orm, Doc",
}

-- The Doc workload's process: create, memory, get. Its figures are named
-- doc_create, doc_get, doc_memory and doc_engine_bytes, so that the driver
-- can file them with the plain and orm figures of the User workload.
local function doc_worker(which, page_size)
  io.stdout:setvbuf("line")
  local sys = doc_system(which)
  local tag = TAGS[which]
  full_gc()
  local rss0 = rss_bytes(page_size)
  timed(tag, "doc_create", sys.doc_create, N)
  full_gc()
  local rss1 = rss_bytes(page_size)
  assert(sys.count() == N, "count after create is not N")
  local per_record = (rss1 - rss0) / N
  io.write(("  [%s] memory %.1f bytes/record (RSS +%d KiB)\n")
    :format(tag, per_record, (rss1 - rss0) // 1024))
  io.write(("RESULT doc_memory %.17g\n"):format(per_record))
  local engine = sys.engine_bytes()
  if engine then io.write(("RESULT doc_engine_bytes %.17g\n"):format(engine / N)) end
  local order = shuffled(N)
  timed(tag, "doc_get", sys.doc_get, order)
  sys.check(order[1])
  sys.check(N)
end

local function worker(which, page_size)
  if which == "plain-doc" or which == "orm-doc" then return doc_worker(which, page_size) end
  io.stdout:setvbuf("line")
  local sys = which == "plain" and plain_system() or orm_system(which)
  local tag = TAGS[which]

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
  if which == "orm-issue2" then return end

  local order = shuffled(N)
  timed(tag, "get", sys.get, order)
  if os.getenv("BENCH_CRUD_ONLY") ~= "1" then run_queries(tag, sys) end
  timed(tag, "update", sys.update, order)
  assert(sys.check_update(order[1]), "update did not store the new name")
  timed(tag, "delete", sys.delete, order)
  assert(sys.count() == 0, "count after delete is not 0")
end

-- ------------------------------------------------------------------ driver

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function command_output(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  if not p then return nil end
  local out = p:read("a")
  p:close()
  return out
end

local function have_command(name)
  local out = command_output("command -v " .. name)
  return out ~= nil and out:match("%S") ~= nil
end

local function page_size()
  return tonumber((command_output("getconf PAGESIZE") or ""):match("%d+") or "") or 4096
end

-- Runs a child process, passing its progress lines through; returns its
-- RESULT figures, or nil and a message when it fails.
local function run_process(cmd)
  local results = {}
  local p = assert(io.popen(cmd .. " 2>&1", "r"))
  for line in p:lines() do
    local key, value = line:match("^RESULT (%S+) (%S+)$")
    if key then
      results[key] = tonumber(value)
    else
      print(line)
    end
  end
  local ok, _, code = p:close()
  if not ok then return nil, ("exit %s"):format(tostring(code)) end
  return results
end

-- The driver's temporary directory (Tarantool's work dirs, the order
-- file), removed at the end and when a run fails.
local tmp_dir

-- crud_only: the create, get, update and delete phases only.
local function run_lua_child(which, psize, crud_only)
  local lua = arg and arg[-1] or "lua5.4"
  local cmd = ("BENCH_N=%d BENCH_QUERY_SECONDS=%s BENCH_CRUD_ONLY=%s %s %s --store %s %d")
    :format(N, QUERY_SECONDS, crud_only and "1" or "0", shell_quote(lua), shell_quote(script),
      which, psize)
  local results, err = run_process(cmd)
  if not results then
    io.stderr:write(("bench: the %s run failed (%s)\n"):format(which, err))
    if tmp_dir then os.execute("rm -rf " .. shell_quote(tmp_dir)) end
    os.exit(1)
  end
  return results
end

-- Tarantool in a fresh temporary work dir (removed afterwards), under
-- `timeout` when there is one so that it cannot outlive the benchmark.
local function run_tarantool(tmp, psize, round)
  local work = ("%s/tarantool-%d"):format(tmp, round)
  assert(os.execute("mkdir -p " .. shell_quote(work)))
  local guard = have_command("timeout") and "timeout -k 10 600 " or ""
  local cmd = ("BENCH_ORDER_FILE=%s BENCH_PAGE_SIZE=%d BENCH_QUERY_SECONDS=%s %s%s %s %d %s")
    :format(shell_quote(tmp .. "/order.txt"), psize, QUERY_SECONDS, guard, shell_quote(TARANTOOL),
      shell_quote(here .. "/tarantool_bench.lua"), N, shell_quote(work))
  local results, err = run_process(cmd)
  if not results then
    print(("  [Tarantool memtx] the run failed (%s); its log:"):format(err))
    local log = io.open(work .. "/tarantool.log", "r")
    if log then
      for line in log:lines() do print("    " .. line) end
      log:close()
    else
      print("    (no log)")
    end
  end
  os.execute("rm -rf " .. shell_quote(work))
  return results
end

-- 1234567.8 -> "1,234,568"
local function thousands(x)
  if x == nil then return "-" end
  local s = ("%d"):format(math.floor(x + 0.5))
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

local function ratio_text(a, b)
  if a == nil or b == nil then return "-" end
  local r = a / b
  if r >= 100 then return ("%.0f"):format(r) end
  if r >= 10 then return ("%.1f"):format(r) end
  return ("%.2f"):format(r)
end

local PHASES = {
  { name = "create", label = "create", short = "create" },
  { name = "get", label = "get by id (random order)", short = "get" },
  { name = "update", label = "update (get, assign, save)", short = "update" },
  { name = "delete", label = "delete by id", short = "delete" },
  { name = "q_eq", label = "age == 42, all()", short = "age == 42\\n(index)" },
  { name = "q_count", label = "count(age >= 50)", short = "count\\nage >= 50" },
  { name = "q_scan", label = "age_copy == 42 (no index)", short = "age_copy == 42\\n(no index)" },
  { name = "q_top10", label = "order_by(age):limit(10)", short = "order_by(age)\\nlimit(10)" },
  { name = "q_walk", label = "paginate by 100 (pages/s)", short = "paginate\\n(pages of 100)" },
  -- issue 4's Doc workload (plain Lua and orm only; see doc_system)
  { name = "doc_create", label = "Doc create (json, Timestamp)", short = "Doc create\\n(json list,\\nTimestamp)",
    doc = true },
  { name = "doc_get", label = "Doc get, read tags", short = "Doc get\\n(json list,\\nTimestamp)",
    doc = true },
}

-- 321302 -> "321k", 5690 -> "5.7k", 23.4 -> "23": the labels over the bars.
local function short(x)
  if x >= 1e6 then return ("%.1fM"):format(x / 1e6) end
  if x >= 1e4 then return ("%.0fk"):format(x / 1e3) end
  if x >= 1e3 then return ("%.1fk"):format(x / 1e3) end
  if x >= 10 then return ("%.0f"):format(x) end
  return ("%.1f"):format(x)
end

-- Writes the data file and gnuplot script under build/ and runs gnuplot;
-- returns the chart's path or nil and why not.
local function draw_chart(systems)
  if not have_command("gnuplot") then return nil, "gnuplot not installed" end
  local build = root .. "/build"
  os.execute("mkdir -p " .. shell_quote(build))
  local png = os.getenv("BENCH_CHART") or (build .. "/bench.png")
  local dat_path, gp_path = build .. "/bench.dat", build .. "/bench.gp"
  local k = #systems
  -- operation, then one rate column per system, then one label column each
  local dat = assert(io.open(dat_path, "w"))
  dat:write("# operation")
  for _, s in ipairs(systems) do dat:write(" ", (s.title:gsub("%W+", "_"))) end
  for _, s in ipairs(systems) do dat:write(" label_", (s.title:gsub("%W+", "_"))) end
  dat:write("\n")
  local top = 1
  for _, ph in ipairs(PHASES) do
    dat:write('"', ph.short, '"')
    for _, s in ipairs(systems) do
      local v = s.results and s.results[ph.name]
      if v and v > top then top = v end
      dat:write(" ", v and ("%.6g"):format(v) or "?")
    end
    for _, s in ipairs(systems) do
      local v = s.results and s.results[ph.name]
      dat:write(" ", v and ("%q"):format(short(v)) or "?")
    end
    dat:write("\n")
  end
  dat:close()
  local gp = assert(io.open(gp_path, "w"))
  gp:write(([[
set terminal pngcairo size 1600,760 font "DejaVu Sans,11"
set output %q
set title "restmachine_orm benchmark: N = %s records, ops/s (best of %d rounds; higher is better)" noenhanced
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.95 relative
set logscale y
set format y "10^{%%L}"
set yrange [1:%g]
set ylabel "operations per second (log scale)"
set grid ytics mytics
set xtics nomirror scale 0 noenhanced
set key inside top left vertical maxrows 2 Left reverse noenhanced samplen 2 width 2 box opaque
set bmargin 5.5
]]):format(png, thousands(N), ROUNDS, top * 40))
  local colors = { "#8c8c8c", "#1f77b4", "#9ecae1", "#d62728" }
  local plots = {}
  for i, s in ipairs(systems) do
    plots[#plots + 1] = ("%s using %d%s title %q lc rgb %q"):format(
      i == 1 and ("%q"):format(dat_path) or "''", i + 1,
      i == 1 and ":xtic(1)" or "", s.title, colors[i])
  end
  -- the value over each bar: bar i of a cluster is centred at
  -- row + (i - (k + 1) / 2) / (k + 1) with gap 1
  for i = 1, k do
    plots[#plots + 1] = ("'' using ($0 + %g):(column(%d) * 1.25):%d with labels " ..
      "rotate by 90 left font \",9\" notitle"):format((i - (k + 1) / 2) / (k + 1), i + 1, k + i + 1)
  end
  gp:write("plot ", table.concat(plots, ", \\\n     "), "\n")
  gp:close()
  local out = command_output("gnuplot " .. shell_quote(gp_path) .. " 2>&1 && echo ok") or ""
  if not out:match("ok%s*$") then return nil, "gnuplot failed: " .. out end
  return png
end

-- The phases whose cost with an index is measured in pairs.
local CRUD = { "create", "get", "update", "delete" }

local function median(xs)
  local sorted = {}
  for i, x in ipairs(xs) do sorted[i] = x end
  table.sort(sorted)
  local n = #sorted
  if n % 2 == 1 then return sorted[(n + 1) // 2] end
  return (sorted[n // 2] + sorted[n // 2 + 1]) / 2
end

-- Runs PAIRS pairs of CRUD-only processes, orm and orm-noindex back to
-- back (which one first alternates), and returns for each phase of CRUD
-- the per-pair ratios indexed / not indexed: { create = {r1, r2, ...}, ... }.
local function measure_index_cost(psize, started)
  local ratios = {}
  for _, ph in ipairs(CRUD) do ratios[ph] = {} end
  for pair = 1, PAIRS do
    print(("index cost, pair %d of %d: create, get, update, delete, indexed and not  [%ds]")
      :format(pair, PAIRS, os.time() - started))
    local a, b
    if pair % 2 == 1 then
      a = run_lua_child("orm", psize, true)
      b = run_lua_child("orm-noindex", psize, true)
    else
      b = run_lua_child("orm-noindex", psize, true)
      a = run_lua_child("orm", psize, true)
    end
    for _, ph in ipairs(CRUD) do table.insert(ratios[ph], a[ph] / b[ph]) end
  end
  return ratios
end

local function driver()
  local started = os.time()
  local psize = page_size()
  print(("restmachine_orm benchmark: N = %s records of User{id string pk, email string, " ..
    "name string, age integer 0..150 index, is_active boolean, age_copy integer}")
    :format(thousands(N)))
  print(("ids \"user-<i>\", age = age_copy = i %% 100; get, update and delete in a random " ..
    "order (seed %d); each system runs in its own process; best of %d rounds; each query " ..
    "runs for %g s of CPU time"):format(SEED, ROUNDS, QUERY_SECONDS))
  print(("and (issue 4) N = %s records of Doc{id string pk, title string, tags json} with " ..
    "the Timestamp mixin, tags a list of 10 strings and integers: create, then get in the " ..
    "same random order reading the tags; against bench/plain_doc_store.lua (type checks, " ..
    "deep copy on create and on get, os.time() stamps)"):format(thousands(N)))

  local tarantool = have_command(shell_quote(TARANTOOL))
  local tmp
  if tarantool then
    tmp = (command_output("mktemp -d /tmp/restmachine-bench.XXXXXX") or ""):match("%S+")
    if not tmp then
      print("could not make a temporary directory: Tarantool skipped")
      tarantool = false
    else
      tmp_dir = tmp
      local f = assert(io.open(tmp .. "/order.txt", "w"))
      f:write(table.concat(shuffled(N), "\n"), "\n")
      f:close()
    end
  else
    print("tarantool not installed, skipped (Debian package `tarantool`; " ..
      "`make bench` installs it when run as root)")
  end
  print()

  -- The Doc runs' figures (doc_create, doc_get, doc_memory, ...) are filed
  -- with the plain and orm ones: their names do not clash.
  local best = { plain = {}, orm = {}, ["orm-noindex"] = {}, ["orm-issue2"] = {} }
  best["plain-doc"], best["orm-doc"] = best.plain, best.orm
  local tt_best, tt_failed = tarantool and {} or nil, false
  -- Keeps the best of the runs: highest rate, lowest memory.
  local function keep(into, got)
    for k, v in pairs(got) do
      local lower_is_better = k == "memory" or k == "engine_bytes"
      if into[k] == nil or (lower_is_better and v < into[k]) or
          (not lower_is_better and v > into[k]) then
        into[k] = v
      end
    end
  end
  local steps = {
    { "plain", "the plain-Lua store (bench/plain_store.lua)" },
    { "orm", "restmachine_orm, age indexed" },
    { "orm-noindex", "restmachine_orm, age not indexed" },
    { "orm-issue2", "restmachine_orm, issue 2's model (create only, for memory)" },
    { "plain-doc", "Doc with a json list and Timestamp, plain-Lua store (bench/plain_doc_store.lua)" },
    { "orm-doc", "Doc with a json list and Timestamp, restmachine_orm" },
  }
  for round = 1, ROUNDS do
    for _, step in ipairs(steps) do
      print(("round %d of %d: %s  [%ds]"):format(round, ROUNDS, step[2], os.time() - started))
      keep(best[step[1]], run_lua_child(step[1], psize))
    end
    if tarantool and not tt_failed then
      print(("round %d of %d: Tarantool memtx (bench/tarantool_bench.lua)  [%ds]")
        :format(round, ROUNDS, os.time() - started))
      local got = run_tarantool(tmp, psize, round)
      if got then
        keep(tt_best, got)
      else
        tt_failed = true
        print("  [Tarantool memtx] not run again in the next rounds")
      end
    end
  end
  if tmp then os.execute("rm -rf " .. shell_quote(tmp)) end
  local index_cost = measure_index_cost(psize, started)
  if tt_failed then
    print("Tarantool failed (see above): its figures are left out")
    tt_best = nil
  end
  local plain, orm, noidx = best.plain, best.orm, best["orm-noindex"]

  print()
  print(("ops/s, best of %d rounds%s"):format(ROUNDS,
    tt_best and "" or "  (Tarantool: not measured)"))
  local row = "%-28s %11s %13s %13s %11s"
  print(row:format("phase", "plain Lua", "orm (index)", "orm no index", "Tarantool"))
  for _, ph in ipairs(PHASES) do
    print(row:format(ph.label, thousands(plain[ph.name]), thousands(orm[ph.name]),
      thousands(noidx[ph.name]), thousands(tt_best and tt_best[ph.name])))
  end

  print()
  print("same-run ratios of rates (higher is better for restmachine_orm)")
  local rrow = "%-28s %10s %14s %14s"
  print(rrow:format("phase", "orm/plain", "orm/Tarantool", "index/no index"))
  for _, ph in ipairs(PHASES) do
    print(rrow:format(ph.label, ratio_text(orm[ph.name], plain[ph.name]),
      ratio_text(orm[ph.name], tt_best and tt_best[ph.name]),
      ratio_text(orm[ph.name], noidx[ph.name])))
  end

  print()
  print(("cost of the index: indexed / not indexed, %d pairs of processes run back to back")
    :format(PAIRS))
  for _, ph in ipairs(PHASES) do
    local rs = index_cost[ph.name]
    if rs then
      local cells = {}
      for i, r in ipairs(rs) do cells[i] = ("%.2f"):format(r) end
      print(("  %-28s median %.2f   pairs %s"):format(ph.label, median(rs), table.concat(cells, " ")))
    end
  end

  print()
  print("targets")
  local met_all = true
  local function target(label, a, b, min)
    if a == nil or b == nil then
      met_all = false
      print(("  %-52s %7s   >= %-5s  not measured"):format(label, "-", ("%g"):format(min)))
      return
    end
    local r = a / b
    local met = r >= min
    met_all = met_all and met
    print(("  %-52s %7s   >= %-5s  %s"):format(label, ratio_text(a, b), ("%g"):format(min),
      met and "met" or "NOT MET"))
  end
  local tt = tt_best or {}
  target("age == 42 (indexed): orm / Tarantool", orm.q_eq, tt.q_eq, 1.0)
  target("count(age >= 50): orm / Tarantool", orm.q_count, tt.q_count, 10)
  target("age_copy == 42 (unindexed): orm / plain Lua", orm.q_scan, plain.q_scan, 10)
  for _, ph in ipairs(PHASES) do
    local rs = index_cost[ph.name]
    if rs then
      target(ph.label .. ": index / no index, paired", median(rs), 1, 0.85)
    end
  end
  -- Issue 2's targets, kept.
  local ISSUE2 = { create = 0.5, get = 0.5, update = 0.3, delete = 0.3 }
  for _, ph in ipairs(PHASES) do
    if ISSUE2[ph.name] then
      target(ph.label .. ": orm / plain Lua", orm[ph.name], plain[ph.name], ISSUE2[ph.name])
    end
  end
  -- Issue 4's: the Doc workload against the plain-Lua store.
  target("Doc create (json list, Timestamp): orm / plain Lua", orm.doc_create, plain.doc_create, 0.5)
  target("Doc get, read tags: orm / plain Lua", orm.doc_get, plain.doc_get, 0.5)

  print()
  print("memory after the create phase (RSS growth / N)")
  local issue2 = best["orm-issue2"]
  local function mem(label, r, extra)
    if r == nil or r.memory == nil then return end
    local engine = r.engine_bytes and (" (engine's own count %.1f)"):format(r.engine_bytes) or ""
    print(("  %-48s %7.1f bytes/record%s%s"):format(label, r.memory, engine, extra or ""))
  end
  mem("plain Lua store", plain)
  mem("restmachine_orm, age indexed", orm)
  mem("restmachine_orm, age not indexed", noidx)
  local mem_met = issue2.memory <= 160
  met_all = met_all and mem_met
  mem("restmachine_orm, issue 2's model (no age_copy)", issue2,
    ("   target <= 160  %s"):format(mem_met and "met" or "NOT MET"))
  mem("Tarantool memtx", tt_best)
  mem("Doc (json list, Timestamp): plain Lua store", { memory = plain.doc_memory })
  mem("Doc (json list, Timestamp): restmachine_orm", { memory = orm.doc_memory, engine_bytes = orm.doc_engine_bytes })

  local systems = {
    { title = "plain Lua", results = plain },
    { title = "restmachine_orm, age indexed", results = orm },
    { title = "restmachine_orm, age not indexed", results = noidx },
    { title = "Tarantool memtx", results = tt_best },
  }
  print()
  local png, why = draw_chart(systems)
  if png then print("chart: " .. png) else print("chart skipped: " .. why) end
  print(("%s  (%d s)"):format(met_all and "all targets met" or
    "some targets not met (a figure, not a test)", os.time() - started))
end

if arg and arg[1] == "--store" then
  worker(arg[2], tonumber(arg[3]) or 4096)
else
  driver()
end
