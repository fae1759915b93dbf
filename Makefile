# cgoguard: LD_PRELOAD checker for the C side of cgo programs.
# `make` builds build/libcgoguard.so; `make test`, `make demo`, `make bench`,
# `make realworld`, `make fuzz`, `make soak`.

CC      ?= gcc
BUILD   := build
# -flto: the entry points inline the table, quarantine and bitmap helpers
# of other files (C malloc+free loop -5%, see README "Cost")
CFLAGS  := -O2 -g -fPIC -Wall -Wextra -Werror -std=gnu11 -mcx16 \
           -fno-builtin -fno-tree-loop-distribute-patterns \
           -fvisibility=hidden -ftls-model=initial-exec -flto=auto
LDLIBS  := -ljemalloc -lunwind -ldl -lpthread
SRCS    := $(wildcard interpose/*.c)
OBJS    := $(SRCS:interpose/%.c=$(BUILD)/obj/%.o)
SHIM    := $(BUILD)/libcgoguard.so

.PHONY: all deps test unit integration demo bench lint clean install realworld fuzz soak

PREFIX  ?= /usr/local
DESTDIR ?=

all: $(SHIM)

$(BUILD)/obj/%.o: interpose/%.c interpose/internal.h include/cgoguard.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

LINK_SHIM = $(CC) $(CFLAGS) -shared -Wl,-z,defs -Wl,--as-needed $^ -o $@ $(LDLIBS)
$(SHIM): $(OBJS)
	$(LINK_SHIM)

# The faults shim, for the integration tests only: alloc.c built with
# CG_FAULT_HOOKS (races forced to go the rare way), the rest as above.
FAULT_SHIM := $(BUILD)/faults/libcgoguard.so
FAULT_OBJS := $(filter-out $(BUILD)/obj/alloc.o,$(OBJS)) $(BUILD)/obj-faults/alloc.o
$(BUILD)/obj-faults/alloc.o: interpose/alloc.c interpose/internal.h include/cgoguard.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DCG_FAULT_HOOKS -c $< -o $@
$(FAULT_SHIM): $(FAULT_OBJS)
	@mkdir -p $(dir $@)
	$(LINK_SHIM)

deps:
	@scripts/install-deps

# ---- unit tests: plain, under ThreadSanitizer and AddressSanitizer ----
UNIT_SRCS := interpose/shadow.c interpose/depot.c interpose/options.c interpose/format.c \
             interpose/heapmap.c interpose/memmap.c interpose/symbolize.c \
             interpose/runtime.c interpose/classify.c interpose/unwind.c interpose/report.c interpose/guard.c \
             interpose/suppress.c interpose/sigheap.c tests/unit/stubs.c
UNIT_CFLAGS := -O1 -g -Wall -Wextra -Werror -std=gnu11 -mcx16 -Iinterpose -pthread -DCG_UNIT_HOOKS
UNIT_LDLIBS := -lunwind -ldl

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_SRCS) interpose/internal.h tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $< $(UNIT_SRCS) -o $@ $(UNIT_LDLIBS)
$(BUILD)/unit-tsan/%: tests/unit/%.c $(UNIT_SRCS) interpose/internal.h tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -fsanitize=thread $< $(UNIT_SRCS) -o $@ $(UNIT_LDLIBS)
$(BUILD)/unit-asan/%: tests/unit/%.c $(UNIT_SRCS) interpose/internal.h tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -fsanitize=address,undefined $< $(UNIT_SRCS) -o $@ $(UNIT_LDLIBS)

UNIT_TESTS := $(basename $(notdir $(wildcard tests/unit/test_*.c)))
UNIT_BINS  := $(UNIT_TESTS:%=$(BUILD)/unit/%) $(UNIT_TESTS:%=$(BUILD)/unit-tsan/%) \
              $(UNIT_TESTS:%=$(BUILD)/unit-asan/%)

unit: $(UNIT_BINS)

test: deps
	@$(MAKE) --no-print-directory all unit $(FAULT_SHIM)
	@scripts/run-tests

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo

# Debian's cgo packages' own test suites (go-sqlite3, DataDog/zstd, git2go,
# go-magic), plain and under the shim: each must pass with zero reports.
realworld: deps
	@$(MAKE) --no-print-directory all
	@scripts/realworld

# libFuzzer targets (clang): options parser, printf format walker, pointer
# classifier, FUZZ_SECONDS each (default 60)
fuzz:
	@scripts/fuzz

# 64 goroutines of C allocations and string calls for SOAK_SECONDS (default
# 60) under the shim: no report, RSS flat after warm-up
soak: deps
	@$(MAKE) --no-print-directory all
	@scripts/soak

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench

# The library, the wrappers and the header, for images and hosts:
#   $(PREFIX)/lib/cgoguard/libcgoguard.so, $(PREFIX)/bin/cgoguard-*,
#   $(PREFIX)/include/cgoguard.h
install: all
	install -d $(DESTDIR)$(PREFIX)/lib/cgoguard $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include
	install -m 0755 $(SHIM) $(DESTDIR)$(PREFIX)/lib/cgoguard/libcgoguard.so
	for s in cgoguard-run cgoguard-exec cgoguard-repro cgoguard-symbolize; do \
	  [ -f scripts/$$s ] && install -m 0755 scripts/$$s $(DESTDIR)$(PREFIX)/bin/$$s; done; true
	install -m 0644 include/cgoguard.h $(DESTDIR)$(PREFIX)/include/cgoguard.h

lint:
	@echo "clang-tidy and cppcheck on interpose/"
	clang-tidy --quiet --warnings-as-errors="*" $(SRCS) -- -std=gnu11 -mcx16
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 \
	  --suppress=missingIncludeSystem --inline-suppr interpose/

clean:
	rm -rf $(BUILD)
