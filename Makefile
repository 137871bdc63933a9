# zkeep: plain GNU make. One library (lib/), one binary (cmd/), cmocka unit
# tests, integration tests in a QEMU VM. See README.md.
#   make                 build build/zkeep
#   make check           unit + integration tests (both OpenZFS flavours)
#   make check-unit      unit tests only (no VM)
#   make check-asan      the same tests, built with ASan+UBSan into build-asan/
#   make lint            cppcheck, clang-tidy, clang-format, header self-containment
#   make install         PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BUILD ?= build
CC ?= cc
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)

# Linked: what nearly every command needs. Loaded on first use (lib/dl.h):
# the libraries of one feature each, whose headers only are needed here.
PKGS := jansson inih zlib
DL_PKGS := libmicrohttpd libcurl libcrypto libmosquitto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(DL_PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS)) -ldl -lm -pthread

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
ifeq ($(SAN),1)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ilib $(PKG_CFLAGS) \
	-DZKEEP_VERSION='"$(VERSION)"' -MMD -MP

LIB_SRC := $(wildcard lib/*.c)
CMD_SRC := $(wildcard cmd/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
HELPER_SRC := $(wildcard tests/helpers/*.c)
FORMAT_SRC := $(wildcard lib/*.[ch] cmd/*.[ch] tests/unit/*.[ch] tests/helpers/*.c tests/fuzz/*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ := $(CMD_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)
HELPER_BIN := $(HELPER_SRC:%.c=$(BUILD)/%)
LIBZK := $(BUILD)/libzkeep.a

# The seed's tool names, installed as symlinks to zkeep.
SEED_NAMES := zfs-snapshot zfs-prune zfs-snapshot-report zfs-pull-backups \
	zfs-push-backups zfs-api

all: $(BUILD)/zkeep $(UNIT_BIN) $(HELPER_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The version is compiled into these objects: they are rebuilt when it
# changes (the stamp is rewritten only then), not only when their source does.
VERSION_OBJ := $(BUILD)/cmd/main.o $(BUILD)/lib/api.o $(BUILD)/lib/ui.o $(BUILD)/lib/history.o \
	$(BUILD)/lib/notify.o
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@[ "$$(cat $@ 2>/dev/null)" = "$(VERSION)" ] || echo "$(VERSION)" >$@
$(VERSION_OBJ): $(BUILD)/version.stamp
FORCE:

$(LIBZK): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/zkeep: $(CMD_OBJ) $(LIBZK)
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJ) $(LIBZK) $(PKG_LIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/unit.c $(LIBZK) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< tests/unit/unit.c $(LIBZK) $(PKG_LIBS) -lcmocka $(LDFLAGS)

$(BUILD)/tests/helpers/%: tests/helpers/%.c $(LIBZK)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBZK) $(PKG_LIBS) $(LDFLAGS)

check: all
	ZKEEP_BUILDS=$(BUILD) tests/run

check-unit: all
	ZKEEP_BUILDS=$(BUILD) tests/run --unit

check-it: all
	ZKEEP_BUILDS=$(BUILD) tests/run --it

check-asan:
	$(MAKE) BUILD=build-asan SAN=1 all
	ZKEEP_BUILDS=build-asan tests/run

check-unit-asan:
	$(MAKE) BUILD=build-asan SAN=1 all
	ZKEEP_BUILDS=build-asan tests/run --unit

# Every header compiles on its own.
check-headers:
	@for h in lib/*.h cmd/*.h; do \
		echo "#include \"$$h\"" | $(CC) $(ALL_CFLAGS) -I. -x c -fsyntax-only - || exit 1; \
	done; echo "headers: all self-contained"

# clang-tidy, the slow part, one process per file, as many at once as
# make's -j allows (scripts/test: -j$(nproc)).
TIDY_STAMPS := $(patsubst %.c,$(BUILD)/tidy/%.ok,$(LIB_SRC) $(CMD_SRC))
$(BUILD)/tidy/%.ok: %.c $(wildcard lib/*.h cmd/*.h) .clang-tidy
	@mkdir -p $(dir $@)
	clang-tidy --quiet $< -- -std=c11 -D_GNU_SOURCE -Ilib $(PKG_CFLAGS)
	@touch $@

lint: check-headers $(TIDY_STAMPS)
	scripts/check-layers
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -D_GNU_SOURCE -Ilib lib cmd
	clang-format --dry-run --Werror $(FORMAT_SRC)

format:
	clang-format -i $(FORMAT_SRC)

install: $(BUILD)/zkeep
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR)
	install -m 0755 $(BUILD)/zkeep $(DESTDIR)$(BINDIR)/zkeep
	for n in $(SEED_NAMES); do ln -sf zkeep $(DESTDIR)$(BINDIR)/$$n; done
	if ls man/*.1 >/dev/null 2>&1; then \
		install -d $(DESTDIR)$(MANDIR)/man1 && install -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1/; \
	fi
	install -d $(DESTDIR)$(MANDIR)/man5 && install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/zkeep
	for n in $(SEED_NAMES); do rm -f $(DESTDIR)$(BINDIR)/$$n; done
	for m in man/*.1; do rm -f $(DESTDIR)$(MANDIR)/man1/$$(basename $$m); done
	for m in man/*.5; do rm -f $(DESTDIR)$(MANDIR)/man5/$$(basename $$m); done

clean:
	rm -rf build build-asan build-clang build-fuzz

.PHONY: FORCE all check check-unit check-it check-asan check-unit-asan check-headers lint format \
	install uninstall clean

# the OpenAPI document is built into lib/openapi.o (.incbin)
$(BUILD)/lib/openapi.o: docs/openapi.json

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# libFuzzer targets (clang), each run for FUZZ_SECONDS on a corpus seeded
# from the real fixtures and the config examples.
FUZZ_SECONDS ?= 30
COMMA := ,
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Ilib $(PKG_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

# lib/ is compiled once for all targets (it was compiled again per target),
# with -fsanitize=fuzzer-no-link so each target adds libFuzzer's main.
FUZZ_LIB_OBJ := $(LIB_SRC:lib/%.c=build-fuzz/lib/%.o)
.SECONDARY: $(FUZZ_LIB_OBJ)
build-fuzz/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p build-fuzz/lib
	clang $(subst fuzzer$(COMMA),fuzzer-no-link$(COMMA),$(FUZZ_CFLAGS)) -c -o $@ $<

build-fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_OBJ) $(PKG_LIBS)

# Each target runs for FUZZ_SECONDS on its own corpus; with make -jN, N of
# them at once (they are independent: 6 x 30 s took 3 minutes one by one).
FUZZ_MAX_LEN_zfs := 65536
FUZZ_MAX_LEN_config := 8192
FUZZ_MAX_LEN_gate := 512
FUZZ_MAX_LEN_token := 8192
FUZZ_MAX_LEN_record := 4096
FUZZ_MAX_LEN_http := 8192
fuzz: $(patsubst build-fuzz/fuzz_%,fuzz-run-%,$(FUZZ_TARGETS))
fuzz-run-%: build-fuzz/fuzz_% fuzz-corpus
	build-fuzz/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN_$*) build-fuzz/corpus-$*
fuzz-corpus:
	@mkdir -p build-fuzz/corpus-zfs build-fuzz/corpus-config build-fuzz/corpus-gate build-fuzz/corpus-http
	for f in tests/fixtures/*/*.out; do \
		cp $$f build-fuzz/corpus-zfs/$$(basename $$(dirname $$f))-$$(basename $$f); done
	cp deploy/zkeep.conf.example build-fuzz/corpus-config/
	printf 'zfs receive -F -u tank/b/x' >build-fuzz/corpus-gate/recv
	printf 'zfs list -t snapshot -H -o name -s creation -r tank/b' >build-fuzz/corpus-gate/list
	printf 'zfs send -w -I tank/b@a tank/b@b' >build-fuzz/corpus-gate/send
	printf 'zfs destroy tank/b/x#zkeep_j_s1' >build-fuzz/corpus-gate/destroy
	printf 'zfs receive -u -x mountpoint -o canmount=noauto -F -s tank/b/x' >build-fuzz/corpus-gate/recv-zkeep
	printf 'zfs list tank' >build-fuzz/corpus-gate/ancestor
	printf 'zfs create -o canmount=off tank' >build-fuzz/corpus-gate/create-ancestor
	@mkdir -p build-fuzz/corpus-token
	for f in tests/fixtures/*/resume-token.out; do \
		awk -v d=build-fuzz/corpus-token/$$(basename $$(dirname $$f)) \
		'{ printf "\001%s", $$5 > (d "-" NR) }' $$f; done
	@mkdir -p build-fuzz/corpus-record
	printf '%s' '{"job": "f", "kind": "pull", "source_host": "c", "start": 1795679000, "end": 1795679100, "result": "ok", "datasets": [{"source": "tank/a", "target": "zb/f/tank/a", "result": "ok", "bytes": 4096, "start": 1795679010, "end": 1795679070, "newest": {"name": "s", "guid": 1, "creation": 1795670000}, "resume_token": null, "last_success": 1795679070}]}' >build-fuzz/corpus-record/ok
	# every form of record lib/record.c reads (tests/fixtures/records/README.md)
	cp tests/fixtures/records/v0/*.json build-fuzz/corpus-record/
	# numbers at int64's edges: UBSan aborted in lib/ui.c on this before view.c checked them
	printf '%s' '{"job": "f", "kind": "pull", "start": -9223372036854775808, "end": 9223372036854775807, "result": "ok", "datasets": [{"source": "tank/a", "target": "zb/f/tank/a", "result": "ok", "bytes": 9223372036854775807, "start": 9223372036854775807, "end": -9223372036854775808, "newest": {"name": "s", "creation": -9223372036854775808}, "last_success": -9223372036854775807}]}' >build-fuzz/corpus-record/edges
	printf '/api/v1/backups/logs/pull.log\0001000' >build-fuzz/corpus-http/log
	printf '/api/v1/datasets/tank/a b/snapshots/' >build-fuzz/corpus-http/ds
	printf '/api/v1/pools/tank/status' >build-fuzz/corpus-http/pool
	printf '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"pool":"t"},"values":[[1,"2"],[3,"NaN"]]}]}}' >build-fuzz/corpus-http/range
	printf 'text/html,application/xhtml+xml,*/*;q=0.8' >build-fuzz/corpus-http/accept
	printf 'gzip;q=0.5, deflate, *;q=0' >build-fuzz/corpus-http/encoding

.PHONY: fuzz fuzz-corpus
