-- Checks that the rockspec builds every C file into restmachine_orm.core and
-- maps every pure-Lua file under lua/restmachine_orm/ to its module name,
-- and that everything it lists exists. Run from the repository root:
--
--   lua5.4 scripts/check-rockspec.lua ROCKSPEC          check, exit 1 if off
--   lua5.4 scripts/check-rockspec.lua --write ROCKSPEC  rewrite ROCKSPEC's
--                                                       build table in place
--
-- --write keeps everything above the line `build = {` and regenerates the
-- build table from the files present, so adding a file is one command
-- (`make rockspec`).

local write = false
local args = { ... }
if args[1] == "--write" then write = true; table.remove(args, 1) end
local rockspec_path = assert(args[1], "usage: check-rockspec.lua [--write] ROCKSPEC")

-- Lists files whose name matches a find(1) pattern under a directory,
-- sorted; `depth` limits how deep (nil: no limit).
local function find(dir, pattern, depth)
  local files = {}
  local limit = depth and ("-maxdepth %d "):format(depth) or ""
  local p = assert(io.popen(("find %s %s-type f -name '%s' 2>/dev/null | LC_ALL=C sort")
    :format(dir, limit, pattern)))
  for line in p:lines() do files[#files + 1] = line end
  p:close()
  return files
end

-- The module name of a file under lua/: lua/restmachine_orm/init.lua is
-- restmachine_orm, lua/restmachine_orm/x/y.lua is restmachine_orm.x.y.
local function module_name(path)
  local rel = path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", "")
  return (rel:gsub("/", "."))
end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local c_sources = {}
for _, dir in ipairs({ "engine", "bindings" }) do
  -- Only the top level, as the Makefile builds engine/*.c and bindings/*.c.
  for _, f in ipairs(find(dir, "*.c", 1)) do c_sources[#c_sources + 1] = f end
end
local lua_files = find("lua/restmachine_orm", "*.lua")

-- Writes the build table for the files present.
local function render_build()
  local out = { "build = {", '   type = "builtin",', "   modules = {",
    '      ["restmachine_orm.core"] = {', "         sources = {" }
  for _, f in ipairs(c_sources) do out[#out + 1] = ('            "%s",'):format(f) end
  out[#out + 1] = "         },"
  out[#out + 1] = '         incdirs = { "engine", "$(JANSSON_INCDIR)", "$(PCRE2_INCDIR)" },'
  out[#out + 1] = '         libdirs = { "$(JANSSON_LIBDIR)", "$(PCRE2_LIBDIR)" },'
  out[#out + 1] = '         libraries = { "jansson", "pcre2-8" },'
  out[#out + 1] = '         defines = { "_POSIX_C_SOURCE=200809L" },'
  out[#out + 1] = "      },"
  for _, f in ipairs(lua_files) do
    out[#out + 1] = ('      ["%s"] = "%s",'):format(module_name(f), f)
  end
  out[#out + 1] = "   },"
  out[#out + 1] = "}"
  return table.concat(out, "\n") .. "\n"
end

if write then
  local f = assert(io.open(rockspec_path, "rb"))
  local text = f:read("a")
  f:close()
  local head = text:match("^(.-\n)build%s*=%s*{")
  assert(head, rockspec_path .. ": no `build = {` line to replace")
  f = assert(io.open(rockspec_path, "wb"))
  f:write(head, render_build())
  f:close()
  print(("check-rockspec: wrote %s (%d C files, %d Lua files)")
    :format(rockspec_path, #c_sources, #lua_files))
  return
end

local env = {}
local chunk, err = loadfile(rockspec_path, "t", env)
if not chunk then io.stderr:write(err, "\n") os.exit(1) end
chunk()

local problems = {}
local function problem(fmt, ...) problems[#problems + 1] = fmt:format(...) end

local build = env.build or {}
if build.type ~= "builtin" then problem("build.type is %s, not builtin", tostring(build.type)) end
local modules = build.modules or {}

-- The C module: every engine and binding source, nothing else, engine incdir.
local core = modules["restmachine_orm.core"]
if type(core) ~= "table" then
  problem("no C module restmachine_orm.core")
else
  local listed = {}
  for _, f in ipairs(core.sources or {}) do
    listed[f] = true
    if not file_exists(f) then problem("restmachine_orm.core lists %s, which does not exist", f) end
  end
  for _, f in ipairs(c_sources) do
    if not listed[f] then problem("restmachine_orm.core does not list %s", f) end
  end
  local has_engine = false
  for _, d in ipairs(core.incdirs or {}) do if d == "engine" then has_engine = true end end
  if not has_engine then problem("restmachine_orm.core has no incdirs entry \"engine\"") end
  -- The system libraries the C module links (Debian: libjansson-dev,
  -- libpcre2-dev), each also declared as an external dependency.
  for _, lib in ipairs({ "jansson", "pcre2-8" }) do
    local linked = false
    for _, l in ipairs(core.libraries or {}) do if l == lib then linked = true end end
    if not linked then problem("restmachine_orm.core does not link library %s", lib) end
  end
  local ext = env.external_dependencies or {}
  for _, dep in ipairs({ "JANSSON", "PCRE2" }) do
    if type(ext[dep]) ~= "table" then problem("external_dependencies lacks %s", dep) end
  end
end

-- The Lua modules: each file under its own name, nothing missing or extra.
for _, f in ipairs(lua_files) do
  local name = module_name(f)
  if modules[name] == nil then
    problem("module %s (%s) is not mapped", name, f)
  elseif modules[name] ~= f then
    problem("module %s maps to %s, expected %s", name, tostring(modules[name]), f)
  end
end
for name, value in pairs(modules) do
  if type(value) == "string" and not file_exists(value) then
    problem("module %s maps to %s, which does not exist", name, value)
  end
end
if #lua_files == 0 then problem("no Lua files found under lua/restmachine_orm") end
if #c_sources == 0 then problem("no C files found under engine/ and bindings/") end

if #problems > 0 then
  for _, p in ipairs(problems) do io.stderr:write(rockspec_path, ": ", p, "\n") end
  io.stderr:write("check-rockspec: run `make rockspec` to regenerate the build table\n")
  os.exit(1)
end
print(("check-rockspec: %s lists all %d C files and %d Lua modules")
  :format(rockspec_path, #c_sources, #lua_files))
