# restmachine_orm: build, tests, demo, benchmark and packaging.
#
#   make          build build/restmachine_orm/core.so (the one C module)
#   make test     install missing Debian packages, then run every check:
#                 warning-free build, engine C tests, busted specs, the same
#                 under valgrind and again under AddressSanitizer and UBSan,
#                 the rockspec's file list, and a luarocks install into a
#                 temporary tree followed by a require from it
#   make demo     run examples/todo.lua
#   make bench    run the benchmark (bench/bench.lua; BENCH_N=... to resize)
#   make memcheck only the valgrind stage (engine tests and specs)
#   make asan     only the AddressSanitizer and UBSan stage (see README.md,
#                 "Memory checking")
#   make fuzz     run each libFuzzer target (tests/fuzz/fuzz_*.c) for
#                 FUZZ_SECONDS (60); needs clang, not part of make test
#   make rockspec regenerate the rockspec's build table after adding or
#                 removing a source file (make test checks it)
#   make clean    remove build/
#
# Targets that need packages first run scripts/deps.sh and then re-enter make,
# so that pkg-config is asked for the Lua flags only once it is installed.
# Every test stage goes through scripts/stage.sh, which prints TAP lines
# ("ok - ..." / "not ok - ...") that .ci/run counts.

LUA        ?= lua5.4
BUSTED     ?= busted
VALGRIND   ?= valgrind
LUAROCKS   ?= luarocks
PKG_CONFIG ?= pkg-config

LUA_CFLAGS := $(shell $(PKG_CONFIG) --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
# PCRE2 (string field patterns) is the engine's; jansson (to_json,
# from_json) belongs to the bindings only.
PCRE2_CFLAGS   := $(shell $(PKG_CONFIG) --cflags libpcre2-8 2>/dev/null)
PCRE2_LIBS     := $(shell $(PKG_CONFIG) --libs libpcre2-8 2>/dev/null || echo -lpcre2-8)
JANSSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags jansson 2>/dev/null)
JANSSON_LIBS   := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null || echo -ljansson)

WARNINGS := -std=c99 -Wall -Wextra -pedantic -Wshadow \
            -Wmissing-prototypes -Wstrict-prototypes
DEFINES  := -D_POSIX_C_SOURCE=200809L
OPT      ?= -O2 -g
MEMCHECK_OPT := -O0 -g
# The engine is compiled without the Lua include path: it must know no Lua.
ALL_CFLAGS = $(WARNINGS) $(DEFINES) -fPIC -Iengine $(EXTRA_CFLAGS) $(CFLAGS)
DEPFLAGS  = -MMD -MP
ENGINE_LIBS := $(PCRE2_LIBS) -lm
LDLIBS   := $(JANSSON_LIBS) $(ENGINE_LIBS)

ENGINE_SRC   := $(sort $(wildcard engine/*.c))
BINDINGS_SRC := $(sort $(wildcard bindings/*.c))
TEST_SRC     := $(sort $(wildcard tests/engine/test_*.c))
LUA_SRC      := $(sort $(wildcard lua/restmachine_orm/*.lua lua/restmachine_orm/*/*.lua))

BUILD     := build
MODULE    := $(BUILD)/restmachine_orm/core.so
MC_MODULE := $(BUILD)/memcheck/restmachine_orm/core.so

ENGINE_OBJ    := $(ENGINE_SRC:%.c=$(BUILD)/obj/release/%.o)
BINDINGS_OBJ  := $(BINDINGS_SRC:%.c=$(BUILD)/obj/release/%.o)
MC_ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/obj/memcheck/%.o)
MC_BIND_OBJ   := $(BINDINGS_SRC:%.c=$(BUILD)/obj/memcheck/%.o)
TEST_BIN      := $(TEST_SRC:tests/engine/%.c=$(BUILD)/tests/%)
# Valgrind builds give every block to malloc (RM_SLAB_DISABLE), so that
# memcheck sees each record; the engine tests keep -O2 there for speed.
NOSLAB_OBJ    := $(ENGINE_SRC:%.c=$(BUILD)/obj/noslab/%.o)
MC_TEST_BIN   := $(TEST_SRC:tests/engine/%.c=$(BUILD)/tests-noslab/%)

# AddressSanitizer and UBSan (make asan): objects in build/obj/asan, the
# module in build/asan, test programs in build/tests-asan. Like the valgrind
# build the slab allocator is off (RM_SLAB_DISABLE): a write past a record
# inside a slab would land in its neighbour, where ASan cannot see it. Any
# undefined behaviour aborts (-fno-sanitize-recover) instead of printing a
# line that a passing test would hide. gcc's "undefined" leaves out
# float-cast-overflow (a double out of an integer's range converted to it),
# which clang's includes: named, so that both check it.
ASAN_FLAGS := -fsanitize=address,undefined,float-cast-overflow \
              -fno-omit-frame-pointer -fno-sanitize-recover=undefined,float-cast-overflow
ASAN_OPT   := -O1 -g
# The ASan runtime that make asan preloads into lua5.4: gcc's. With CC=clang,
# pass ASAN_RUNTIME=$(clang -print-file-name=libclang_rt.asan-x86_64.so).
ASAN_RUNTIME = $(shell $(CC) -print-file-name=libasan.so)
ASAN_ENV := ASAN_OPTIONS=detect_stack_use_after_return=1:strict_string_checks=1 \
            UBSAN_OPTIONS=print_stacktrace=1
ASAN_DIR        := $(BUILD)/asan
ASAN_MODULE     := $(ASAN_DIR)/restmachine_orm/core.so
ASAN_ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/obj/asan/%.o)
ASAN_BIND_OBJ   := $(BINDINGS_SRC:%.c=$(BUILD)/obj/asan/%.o)
ASAN_TEST_BIN   := $(TEST_SRC:tests/engine/%.c=$(BUILD)/tests-asan/%)

# libFuzzer (make fuzz): clang only. The engine objects are built again
# with the ASan stage's flags plus coverage for the fuzzer, into
# build/obj/fuzz; targets, seeds, corpora and findings go to build/fuzz.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_SEEDS   := $(FUZZ_DIR)/seeds/.done
FUZZ_ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/obj/fuzz/%.o)

STAGE := bash scripts/stage.sh
RUN_ENV := LUA_PATH_5_4="lua/?.lua;lua/?/init.lua;;" LUA_CPATH_5_4="build/?.so;;"

# valgrind: errors and definite leaks fail the run; "possibly lost" and
# "still reachable" blocks belong to the interpreter and busted's C modules
# (dlopen'ed libraries, interned strings) and are not reported.
VALGRIND_FLAGS := --tool=memcheck --error-exitcode=1 --leak-check=full \
                  --errors-for-leak-kinds=definite --show-leak-kinds=definite \
                  --track-origins=yes --num-callers=12 --keep-debuginfo=yes \
                  --suppressions=scripts/valgrind.supp

.PHONY: all deps test check demo bench memcheck asan fuzz clean FORCE \
        check-warnings check-engine check-specs check-memcheck \
        check-memcheck-engine check-memcheck-specs \
        check-asan check-asan-engine check-asan-specs \
        check-rockspec check-rock run-demo run-bench engine-tests rockspec

all: $(MODULE)

deps:
	@bash scripts/deps.sh

# ----------------------------------------------------------------- building

# Every object and test program also depends on $(FLAGS_STAMP), which is
# rewritten only when the compiler or a flag differs from the last build's
# (make OPT=-O0, CFLAGS=..., a new pkg-config answer): a change of flags
# rebuilds them, where make would otherwise keep objects built the old way.
BUILD_FLAGS := $(CC) | $(WARNINGS) $(DEFINES) $(CFLAGS) | $(OPT) | \
               $(MEMCHECK_OPT) | $(ASAN_OPT) $(ASAN_FLAGS) | $(FUZZ_CC) | \
               $(LUA_CFLAGS) $(PCRE2_CFLAGS) $(JANSSON_CFLAGS)
FLAGS_STAMP := $(BUILD)/flags

$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '$(BUILD_FLAGS)' | cmp -s - $@ || printf '%s\n' '$(BUILD_FLAGS)' > $@

FORCE:

# Linked under a temporary name and renamed, so that a Lua process loading
# the module meanwhile never sees a half-written file.
$(MODULE): $(ENGINE_OBJ) $(BINDINGS_OBJ)
	@mkdir -p $(@D)
	$(CC) -shared -o $@.tmp $^ $(LDLIBS)
	@mv -f $@.tmp $@

$(MC_MODULE): $(MC_ENGINE_OBJ) $(MC_BIND_OBJ)
	@mkdir -p $(@D)
	$(CC) -shared -o $@.tmp $^ $(LDLIBS)
	@mv -f $@.tmp $@

$(ASAN_MODULE): $(ASAN_ENGINE_OBJ) $(ASAN_BIND_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ASAN_FLAGS) -shared -o $@.tmp $^ $(LDLIBS)
	@mv -f $@.tmp $@

$(BINDINGS_OBJ) $(MC_BIND_OBJ) $(ASAN_BIND_OBJ): EXTRA_CFLAGS = $(LUA_CFLAGS) $(JANSSON_CFLAGS)
$(ENGINE_OBJ) $(MC_ENGINE_OBJ) $(NOSLAB_OBJ) $(ASAN_ENGINE_OBJ) $(FUZZ_ENGINE_OBJ): EXTRA_CFLAGS = $(PCRE2_CFLAGS)

$(BUILD)/obj/release/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(OPT) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/obj/memcheck/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(MEMCHECK_OPT) -DRM_SLAB_DISABLE $(DEPFLAGS) -c -o $@ $<

$(BUILD)/obj/noslab/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(OPT) -DRM_SLAB_DISABLE $(DEPFLAGS) -c -o $@ $<

$(BUILD)/obj/asan/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ASAN_OPT) $(ASAN_FLAGS) -DRM_SLAB_DISABLE $(DEPFLAGS) -c -o $@ $<

# Engine tests link the engine objects only: no bindings, no Lua.
$(BUILD)/tests/%: tests/engine/%.c $(ENGINE_OBJ) $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(OPT) -Itests/engine $(DEPFLAGS) -o $@ $< $(ENGINE_OBJ) $(ENGINE_LIBS)

$(BUILD)/tests-noslab/%: tests/engine/%.c $(NOSLAB_OBJ) $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(OPT) -DRM_SLAB_DISABLE -Itests/engine $(DEPFLAGS) -o $@ $< $(NOSLAB_OBJ) $(ENGINE_LIBS)

$(BUILD)/tests-asan/%: tests/engine/%.c $(ASAN_ENGINE_OBJ) $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ASAN_OPT) $(ASAN_FLAGS) -DRM_SLAB_DISABLE -Itests/engine $(DEPFLAGS) -o $@ $< $(ASAN_ENGINE_OBJ) $(ENGINE_LIBS)

# Fuzzer objects: coverage instrumentation only (fuzzer-no-link); the
# targets link libFuzzer's main (-fsanitize=fuzzer).
$(BUILD)/obj/fuzz/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(ALL_CFLAGS) $(ASAN_OPT) $(ASAN_FLAGS) -fsanitize=fuzzer-no-link -DRM_SLAB_DISABLE $(DEPFLAGS) -c -o $@ $<

$(FUZZ_DIR)/%: tests/fuzz/%.c $(FUZZ_ENGINE_OBJ) $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(ALL_CFLAGS) $(ASAN_OPT) $(ASAN_FLAGS) -fsanitize=fuzzer -DRM_SLAB_DISABLE -Itests/fuzz $(DEPFLAGS) -o $@ $< $(FUZZ_ENGINE_OBJ) $(ENGINE_LIBS)

# The seed writer is an ordinary program on the release objects.
$(FUZZ_DIR)/seeds-writer: tests/fuzz/seeds.c $(ENGINE_OBJ) $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(OPT) -Itests/fuzz $(DEPFLAGS) -o $@ $< $(ENGINE_OBJ) $(ENGINE_LIBS)

$(FUZZ_SEEDS): $(FUZZ_DIR)/seeds-writer
	@rm -rf $(@D)
	@mkdir -p $(patsubst tests/fuzz/fuzz_%.c,$(@D)/%,$(FUZZ_SRC))
	$(FUZZ_DIR)/seeds-writer $(@D)
	@touch $@

.SECONDARY: $(NOSLAB_OBJ) $(ASAN_ENGINE_OBJ) $(FUZZ_ENGINE_OBJ)

engine-tests: $(TEST_BIN)

-include $(wildcard $(BUILD)/obj/*/*/*.d $(BUILD)/tests/*.d $(BUILD)/tests-noslab/*.d \
                    $(BUILD)/tests-asan/*.d $(FUZZ_DIR)/*.d)

# ------------------------------------------------------------------ testing

test: deps
	@$(MAKE) --no-print-directory check

check: check-warnings check-engine check-specs check-memcheck check-asan \
       check-rockspec check-rock
	@echo "== make test: every stage passed"

# Builds every C file again with -Werror, at both optimisation levels used,
# into /dev/null: the release build is not -Werror, but must stay clean.
check-warnings:
	@echo "== stage: warning-free build (-Werror, -O2 and -O0)"
	@$(STAGE) "C sources compile without warnings" -- \
	  bash scripts/check-warnings.sh "$(CC) $(ALL_CFLAGS) $(LUA_CFLAGS) $(PCRE2_CFLAGS) $(JANSSON_CFLAGS) -Itests/engine -Itests/fuzz -Werror" \
	  $(ENGINE_SRC) $(BINDINGS_SRC) $(TEST_SRC) $(FUZZ_SRC) tests/fuzz/seeds.c

check-engine: $(TEST_BIN)
	@echo "== stage: engine C tests"
	@$(STAGE) --tap "engine C tests" -- bash scripts/run-engine-tests.sh $(TEST_BIN)

check-specs: $(MODULE)
	@echo "== stage: busted specs"
	@$(STAGE) --tap "busted specs" -- $(BUSTED) --lua=$(LUA) -o TAP

# The engine tests and the specs again under valgrind's memcheck, the specs
# with core.so built at -O0. See README.md, "Memory checking".
check-memcheck: check-memcheck-engine check-memcheck-specs

check-memcheck-engine: $(MC_TEST_BIN)
	@echo "== stage: engine C tests under valgrind"
	@$(STAGE) --tap "engine C tests under valgrind" -- \
	  bash scripts/run-engine-tests.sh --wrap "$(VALGRIND) $(VALGRIND_FLAGS) --quiet" $(MC_TEST_BIN)

check-memcheck-specs: $(MC_MODULE)
	@echo "== stage: busted specs under valgrind (this takes a while)"
	@$(STAGE) --tap "busted specs under valgrind" -- \
	  env RESTMACHINE_ORM_MEMCHECK=1 $(VALGRIND) $(VALGRIND_FLAGS) --quiet \
	  $(LUA) $$(command -v $(BUSTED)) --ignore-lua --run=memcheck -o TAP

memcheck: deps
	@$(MAKE) --no-print-directory check-memcheck

# The engine tests and the specs again with AddressSanitizer and UBSan, all
# built at -O1 (faster than valgrind, and it also sees overflows of stack
# and global arrays, and undefined behaviour). See README.md, "Memory
# checking".
check-asan: check-asan-engine check-asan-specs

check-asan-engine: $(ASAN_TEST_BIN)
	@echo "== stage: engine C tests under ASan and UBSan"
	@$(STAGE) --tap "engine C tests under ASan and UBSan" -- \
	  env $(ASAN_ENV) bash scripts/run-engine-tests.sh $(ASAN_TEST_BIN)

# lua5.4 is not built with ASan, so its runtime must be the first library
# loaded (LD_PRELOAD); libubsan comes in as a dependency of core.so. The
# module is preloaded too: Lua unloads it (dlclose) when busted closes the
# state, before the leak check runs at exit, and the leak report would then
# have no symbols for the module's frames. Preloaded, it stays, and Lua's
# dlopen of the same file gets that copy. Leak checking stays on: the
# interpreter and busted free everything at lua_close, so any leak reported
# is the module's. Child processes of the specs inherit the preload: the
# module's Lua symbols are bound lazily, so it loads even into sh.
check-asan-specs: $(ASAN_MODULE)
	@echo "== stage: busted specs under ASan and UBSan"
	@$(STAGE) --tap "busted specs under ASan and UBSan" -- \
	  env $(ASAN_ENV) LD_PRELOAD="$(ASAN_RUNTIME) $(CURDIR)/$(ASAN_MODULE)" \
	  $(LUA) $$(command -v $(BUSTED)) --ignore-lua --cpath='$(ASAN_DIR)/?.so' -o TAP

asan: deps
	@$(MAKE) --no-print-directory check-asan

# Each fuzz target in turn for FUZZ_SECONDS (make fuzz FUZZ_SECONDS=300),
# from its seeds and the corpus earlier runs left in build/fuzz/corpus.
# Not a stage of make test: it needs clang, and its findings are random.
fuzz: $(FUZZ_BIN) $(FUZZ_SEEDS)
	@echo "== fuzzing: each target for $(FUZZ_SECONDS) s"
	@$(STAGE) --tap "fuzz targets" -- \
	  env $(ASAN_ENV) bash scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_DIR)/seeds $(FUZZ_BIN)

check-rockspec:
	@echo "== stage: rockspec lists every source file"
	@$(STAGE) "rockspec lists every engine, binding and Lua file" -- \
	  $(LUA) scripts/check-rockspec.lua restmachine_orm-dev-1.rockspec

check-rock:
	@echo "== stage: luarocks make into a temporary tree, then require"
	@$(STAGE) "luarocks install into a temporary tree loads and works" -- \
	  bash scripts/check-rock.sh restmachine_orm-dev-1.rockspec

# ------------------------------------------------------------ demo, bench

demo: deps
	@$(MAKE) --no-print-directory run-demo

run-demo: $(MODULE)
	@$(RUN_ENV) $(LUA) examples/todo.lua

# The benchmark also wants tarantool and gnuplot-nox; deps.sh bench installs
# them when it can and goes on without them when it cannot.
bench:
	@bash scripts/deps.sh bench
	@$(MAKE) --no-print-directory run-bench

run-bench: $(MODULE)
	@$(RUN_ENV) $(LUA) bench/bench.lua

clean:
	rm -rf $(BUILD)

# Regenerates the rockspec's build table from the files present.
rockspec:
	$(LUA) scripts/check-rockspec.lua --write restmachine_orm-dev-1.rockspec
