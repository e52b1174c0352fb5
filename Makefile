# Mailwarden - the one entry point: build, test, run, bench, fuzz, firmware.
#
#   make            build build/mailwardend and build/mailwarden
#   make run        start the loopback lab (private Postfix on 127.0.0.1:2525
#                   -> mailwardend -> sink); make stop stops it;
#                   make run MTA=sendmail: a private Sendmail instead
#   make test       install test dependencies, build, run every suite
#   make bench      throughput/latency/RSS with and without the milter, the
#                   state store, the shared store (make bench-redis)
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS each
#   make install    install binaries, sample config and signatures (DESTDIR)
#   make firmware   arm64 appliance image (BOARD=qemu-virt-arm64|rpi4); make
#                   deb, test-arm64, qemu-test: see the firmware section below
#
# C11, gcc, -Wall -Wextra -Werror; libraries through pkg-config.

CC       ?= gcc
FUZZCC   ?= clang
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
# SAN=1: AddressSanitizer + UBSan build of everything (use its own B=, e.g.
# `make SAN=1 B=build-asan`); `make test-asan` builds it and runs the suites.
SAN      ?=
ifeq ($(SAN),1)
CFLAGS   += -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif
WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation
CPPFLAGS += -Isrc -D_GNU_SOURCE -DMW_VERSION='"$(VERSION)"' -DMW_SYSCONFDIR='"$(SYSCONFDIR)"' \
            -DMW_DATADIR='"$(DATADIR)"' -DMW_STATEDIR='"$(STATEDIR)"'
PKGS     := libclamav inih sqlite3 libpsl libarchive libidn2 json-c hiredis zbar libpng libjpeg zlib libcrypto
# Read once, when make reads this file: so every target that installs
# packages first (run, test, bench, ...) builds in a second make, started
# after `deps`, which reads them from the installed libraries.  A build
# without them stops with a clear message instead of a link without flags.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
PKG_MISSING := $(shell pkg-config --exists $(PKGS) 2>/dev/null || echo yes)
NEED_PKGS = $(if $(PKG_MISSING),$(error libraries missing (pkg-config $(PKGS)): run `make deps` \
              (sh scripts/deps.sh) first; make run and make test do it themselves))
# sender authentication (src/auth): no usable .pc files (libunbound's needs libevent's)
AUTH_LIBS := -lunbound -lopendkim -lopendmarc -lspf2 -lresolv
LDLIBS   += $(PKG_LIBS) $(AUTH_LIBS) -lgif -lmbedx509 -lmbedcrypto -lpthread
# libmilter is linked statically so that its read()/accept() can be wrapped (src/milter/tcp.c)
MILTER_LIBS := -Wl,--wrap=read,--wrap=accept -l:libmilter.a

VERSION    := 0.1.0
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc/mailwarden
DATADIR    ?= $(PREFIX)/share/mailwarden
STATEDIR   ?= /var/lib/mailwarden
DESTDIR    ?=

B := build
V ?= 0
ifeq ($(V),0)
Q := @
SAY = @printf '  %-6s %s\n'
else
Q :=
SAY = @true
endif
FUZZ_SECONDS ?= 60

# Library modules: everything but the adapters (milter, cli, console).
LIB_DIRS := util verdict mime policy store appliance alert scan av attach links content extract sender auth engine outcome ctl
LIB_SRC  := $(foreach d,$(LIB_DIRS),$(wildcard src/$(d)/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
MILTER_SRC := $(wildcard src/milter/*.c)
CLI_SRC    := $(wildcard src/cli/*.c src/console/*.c)
UNIT_SRC   := $(wildcard tests/unit/*_test.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
FUZZ_LIBOBJ := $(LIB_SRC:%.c=$(B)/fuzzobj/%.o)

.PHONY: all deps run stop test unit integration miltertest difftest bench bench-store bench-auth bench-redis bench-sigdb bench-peers test-asan fuzz fuzz-build install clean check-format format fresh-check analyze

all: $(B)/mailwardend $(B)/mailwarden

$(B)/%.o: %.c
	$(NEED_PKGS)@mkdir -p $(@D)
	$(SAY) CC $<
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -std=c11 $(WARN) -MMD -MP -c -o $@ $<

$(B)/libmw.a: $(LIB_OBJ)
	@rm -f $@
	$(SAY) AR $@
	$(Q)ar rcs $@ $^

$(B)/mailwardend: $(MILTER_SRC:%.c=$(B)/%.o) $(B)/libmw.a
	$(SAY) LD $@
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(MILTER_LIBS) $(LDLIBS)

$(B)/mailwarden: $(CLI_SRC:%.c=$(B)/%.o) $(B)/libmw.a
	$(SAY) LD $@
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libmw.a
	@mkdir -p $(@D)
	$(SAY) LD $@
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -std=c11 $(WARN) -Wno-unused-parameter -o $@ $< $(B)/libmw.a -lcmocka $(LDLIBS)

$(B)/bench/%: tests/bench/%.c $(B)/libmw.a
	@mkdir -p $(@D)
	$(SAY) LD $@
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -std=c11 $(WARN) -o $@ $< $(B)/libmw.a $(LDLIBS)

# the state database: RCPT decisions with 100,000 senders, a soak within the
# row cap, quarantine writes/s, tracking queries on 1,000,000 messages
bench-store: $(B)/bench/store_bench
	d=/tmp/mw-store-bench.$$$$; $(B)/bench/store_bench $$d 100000 100000 1000000 500; rc=$$?; rm -rf $$d; exit $$rc

$(B)/tools/%: tests/tools/%.c $(B)/libmw.a
	@mkdir -p $(@D)
	$(SAY) LD $@
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -std=c11 $(WARN) -o $@ $< $(B)/libmw.a $(LDLIBS)

deps:
	sh scripts/deps.sh all

# deps, then a second make for the build: see PKG_CFLAGS above
MTA ?= postfix
run: deps
	$(MAKE) all
	BUILD_DIR=$(B) MTA=$(MTA) sh scripts/lab.sh start

stop:
	BUILD_DIR=$(B) sh scripts/lab.sh stop

# The fault-injection shim (tests/faults/README.md): LD_PRELOAD'ed into
# mailwarden and mailwardend by tests/integration/test_fault_inject.py.
# Built without $(CFLAGS): a sanitizer runtime cannot be preloaded.
FAULT_LIB := $(B)/tools/libmwfault.so
$(FAULT_LIB): tests/faults/mwfault.c
	@mkdir -p $(@D)
	$(SAY) CC $@
	$(Q)$(CC) -D_GNU_SOURCE $(OPT) -g -std=c11 $(WARN) -fPIC -shared -o $@ $< -ldl -lpthread

unit: $(UNIT_BIN) $(TOOL_BIN) $(FAULT_LIB) all

test: deps
	$(MAKE) all unit
	BUILD_DIR=$(B) sh tests/run.sh

# The differential test's long run (tests/difftest/README.md): DIFFTEST_CASES
# cases or DIFFTEST_SECONDS, whichever ends first; the figures and findings
# go to tests/difftest/RESULTS.md, every finding to $(B)/difftest-findings.jsonl.
# `make test` runs a bounded slice of it (suite "difftest" of tests/run.sh).
DIFFTEST_CASES   ?= 20000
DIFFTEST_SECONDS ?= 3600
DIFFTEST_SEED    ?= 1
difftest: all
	/usr/bin/python3 tests/difftest/difftest.py --seed $(DIFFTEST_SEED) --cases $(DIFFTEST_CASES) \
		--seconds $(DIFFTEST_SECONDS) --mailwarden $(B)/mailwarden \
		--results tests/difftest/RESULTS.md --findings $(B)/difftest-findings.jsonl

# Convenience: one suite at a time (tests/run.sh runs them all).
miltertest: all
	BUILD_DIR=$(B) sh tests/miltertest/run.sh

integration: all
	BUILD_DIR=$(B) SUITES=integration sh tests/run.sh

bench: deps
	$(MAKE) all $(B)/bench/store_bench $(B)/bench/clamav_rss $(B)/bench/redis_bench $(B)/bench/auth_bench
	BUILD_DIR=$(B) sh tests/bench/bench.sh
	$(MAKE) --no-print-directory bench-store
	$(MAKE) --no-print-directory bench-redis
	$(MAKE) --no-print-directory bench-sigdb
	$(MAKE) --no-print-directory bench-auth

# the shared store: RCPT decision p50/p99 on SQLite, Redis on loopback and
# Redis 1 ms away; two gateways on one Redis against one
bench-redis: $(B)/bench/redis_bench
	BUILD_DIR=$(B) sh tests/bench/redis_bench.sh

# the realistic signature database (tests/sigdb): load time and RSS at
# scales 0.25/0.5/1.0, reload peak RSS and mail deferral per reload_mode,
# libclamav options; writes tests/sigdb/RESULTS.md
bench-sigdb: all $(B)/sigdb/loadstat
	BUILD_DIR=$(B) sh tests/sigdb/bench.sh

$(B)/sigdb/loadstat: tests/sigdb/loadstat.c
	@mkdir -p $(@D)
	$(SAY) LD $@
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -std=c11 $(WARN) -o $@ $< $(PKG_LIBS)

# sender authentication: added latency (cache cold and warm), RCPT/EOM
# reply times with DNS answering in 50 ms, benign mail held before/after
bench-auth: all $(B)/bench/auth_bench
	BUILD_DIR=$(B) /usr/bin/python3 tests/bench/auth_bench.py

# mailwardend against Debian's clamav-milter + clamd and rspamd, one run
# (installs them with scripts/deps.sh peers; writes tests/bench/RESULTS.md)
bench-peers: deps
	$(MAKE) all $(B)/bench/nullmilter
	BUILD_DIR=$(B) sh tests/bench/peers.sh

# the do-nothing libmilter filter: the floor of bench-peers
$(B)/bench/nullmilter: tests/bench/nullmilter.c
	@mkdir -p $(@D)
	$(SAY) LD $@
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -std=c11 $(WARN) -o $@ $< -l:libmilter.a -lpthread

# The sanitizer build (SAN=1, in build-asan) through the unit, miltertest
# and end-to-end suites.  Reports of the daemon (which drops privileges)
# and of the CLI go to files in ASAN_LOG; any report, leaks at daemon
# exit included, fails the target.
ASAN_LOG ?= /tmp/mw-asan-logs
test-asan: deps
	$(MAKE) SAN=1 B=build-asan all unit
	rm -rf $(ASAN_LOG) && mkdir -p $(ASAN_LOG) && chmod 1777 $(ASAN_LOG)
	ASAN_OPTIONS=log_path=$(ASAN_LOG)/asan:detect_leaks=1:handle_abort=1 \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$(ASAN_LOG)/ubsan \
	BUILD_DIR=build-asan SUITES="unit milter integration" sh tests/run.sh; rc=$$?; \
	reports=$$(grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' $(ASAN_LOG)/* 2>/dev/null); \
	for f in $$reports; do echo "==== $$f"; head -n 60 $$f; done; \
	echo "test-asan: $$(ls $(ASAN_LOG) | wc -l) sanitizer log file(s), $$(echo $$reports | wc -w) with reports"; \
	[ $$rc = 0 ] && [ -z "$$reports" ]

# libFuzzer targets: the library rebuilt with clang, ASan and UBSan.
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
$(B)/fuzzobj/%.o: %.c
	@mkdir -p $(@D)
	$(SAY) FUZZCC $<
	$(Q)$(FUZZCC) $(CPPFLAGS) $(PKG_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -std=c11 -Wall -Wextra -c -o $@ $<

$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIBOBJ)
	@mkdir -p $(@D)
	$(SAY) LD $@
	$(Q)$(FUZZCC) $(CPPFLAGS) $(PKG_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -std=c11 -o $@ $< $(FUZZ_LIBOBJ) $(LDLIBS)

# keep the sanitizer objects between runs (they are not intermediate files)
.SECONDARY: $(FUZZ_LIBOBJ)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

# The README's two commands on a clean Debian 12 root (scripts/fresh-check.sh:
# mmdebstrap base cached in /var/cache/mailwarden-fresh, needs root)
fresh-check:
	bash scripts/fresh-check.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(DATADIR)/sigs
	install -m 755 $(B)/mailwardend $(DESTDIR)$(PREFIX)/sbin/mailwardend
	install -m 755 $(B)/mailwarden $(DESTDIR)$(PREFIX)/bin/mailwarden
	install -m 755 scripts/mailwarden-release-probe $(DESTDIR)$(PREFIX)/sbin/mailwarden-release-probe
	install -m 644 etc/mailwarden.conf.sample $(DESTDIR)$(SYSCONFDIR)/mailwarden.conf.sample
	install -m 644 sigs/*.ndb $(DESTDIR)$(DATADIR)/sigs/

# Static analysis: clang's analyzer (scan-build, clang-tools-14) over every C
# file of the tree, src/ and tests/, each compiled once with the usual flags
# into $(B)/analyze/obj; any finding fails, the HTML report stays in
# $(B)/analyze/report.  Chosen over GCC 12's -fanalyzer: on this tree each
# flagged about five correct places in src/, but clang's go away with a local
# initialisation or assert (it honours assert and noreturn) and it also found
# a dead store; GCC's were an iconv handle and a FILE closed on every path.
ANALYZE_SRC = $(sort $(wildcard src/*/*.c tests/*/*.c))
# (a failed cmocka assertion ends the test: tell the analyzer)
$(B)/tests/unit/%.o: CPPFLAGS += -include tests/unit/cmocka_analyzer.h
# (the fault shim defines open and open64 both: built, as FAULT_LIB is,
# without the libraries' -D_FILE_OFFSET_BITS=64)
$(B)/tests/faults/%.o: PKG_CFLAGS =
analyze: deps
	rm -rf $(B)/analyze
	scan-build --status-bugs -o $(B)/analyze/report \
	  $(MAKE) --no-print-directory B=$(B)/analyze/obj WARN="$(WARN) -Wno-unused-parameter" \
	  $(ANALYZE_SRC:%.c=$(B)/analyze/obj/%.o)
	@echo "analyze: $(words $(ANALYZE_SRC)) files, no finding"

# Every C source and header of the tree, tests included (.clang-format).
FORMAT_SRC = $(sort $(wildcard src/*/*.[ch] tests/*/*.[ch]))
check-format:
	@clang-format --dry-run --Werror $(FORMAT_SRC) && echo "check-format: $(words $(FORMAT_SRC)) files formatted"

format:
	clang-format -i $(FORMAT_SRC)

# The arm64 appliance (firmware/README.md).  Cross build, .deb, root
# filesystem and images go to build/firmware/ via scripts/firmware-build.sh
# (needs root: mmdebstrap, chroot, binfmt_misc for the rootfs build).
#   make firmware BOARD=qemu-virt-arm64|rpi4   image in build/firmware/BOARD/
#   make deb          build/firmware/deb/mailwarden_VERSION_arm64.deb
#   make test-arm64   cross-built unit tests under qemu-user
#   make qemu-test    boot the qemu-virt-arm64 image, feed mail, drive the console
#   make rpi4-boot    boot the rpi4 image under QEMU -M raspi4b to its console prompt
BOARD ?= qemu-virt-arm64
.PHONY: firmware deb test-arm64 qemu-test rpi4-boot
firmware:
	bash scripts/firmware-build.sh image $(BOARD)

deb:
	bash scripts/firmware-build.sh deb

test-arm64:
	bash scripts/firmware-build.sh test-arm64

qemu-test:
	bash scripts/firmware-build.sh image qemu-virt-arm64
	/usr/bin/python3 tests/qemu/run.py

# the rpi4 SD image's own kernel, dtb and initramfs under QEMU -M raspi4b
# (QEMU >= 9) to the serial console's first-boot prompt (scripts/rpi4-boot.sh)
rpi4-boot:
	bash scripts/firmware-build.sh image rpi4
	bash scripts/rpi4-boot.sh

clean:
	rm -rf $(B)

-include $(LIB_OBJ:.o=.d) $(MILTER_SRC:%.c=$(B)/%.d) $(CLI_SRC:%.c=$(B)/%.d)
