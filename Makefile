# Mailwarden - the one entry point: build, test, run, bench, fuzz, firmware.
#
#   make            build build/mailwardend and build/mailwarden
#   make run        start the loopback lab (private Postfix on 127.0.0.1:2525
#                   -> mailwardend -> sink); make stop stops it
#   make test       install test dependencies, build, run every suite
#   make bench      throughput/latency/RSS with and without the milter
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS each
#   make install    install binaries, sample config and signatures (DESTDIR)
#
# C11, gcc, -Wall -Wextra -Werror; libraries through pkg-config.

CC       ?= gcc
FUZZCC   ?= clang
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CPPFLAGS += -Isrc -D_GNU_SOURCE -DMW_VERSION='"$(VERSION)"' -DMW_SYSCONFDIR='"$(SYSCONFDIR)"' \
            -DMW_DATADIR='"$(DATADIR)"' -DMW_STATEDIR='"$(STATEDIR)"'
PKGS     := libclamav inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS   += $(PKG_LIBS) -lpthread
MILTER_LIBS := -lmilter

VERSION    := 0.1.0
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc/mailwarden
DATADIR    ?= $(PREFIX)/share/mailwarden
STATEDIR   ?= /var/lib/mailwarden
DESTDIR    ?=

B := build
FUZZ_SECONDS ?= 60

# Library modules: everything but the adapters (milter, cli, console).
LIB_DIRS := util mime engine av policy sender links attach store ctl
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

.PHONY: all deps run stop test unit integration bench fuzz fuzz-build install clean check-format format

all: $(B)/mailwardend $(B)/mailwarden

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -std=c11 $(WARN) -MMD -MP -c -o $@ $<

$(B)/libmw.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/mailwardend: $(MILTER_SRC:%.c=$(B)/%.o) $(B)/libmw.a
	$(CC) $(CFLAGS) -o $@ $^ $(MILTER_LIBS) $(LDLIBS)

$(B)/mailwarden: $(CLI_SRC:%.c=$(B)/%.o) $(B)/libmw.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libmw.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -std=c11 $(WARN) -Wno-unused-parameter -o $@ $< $(B)/libmw.a -lcmocka $(LDLIBS)

$(B)/tools/%: tests/tools/%.c $(B)/libmw.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -std=c11 $(WARN) -o $@ $< $(B)/libmw.a $(LDLIBS)

deps:
	sh scripts/deps.sh all

run: deps all
	sh scripts/lab.sh start

stop:
	sh scripts/lab.sh stop

unit: $(UNIT_BIN) $(TOOL_BIN) all

test: deps
	$(MAKE) all unit
	sh tests/run.sh

bench: deps all
	sh tests/bench/bench.sh

# libFuzzer targets: the library rebuilt with clang, ASan and UBSan.
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
$(B)/fuzzobj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZCC) $(CPPFLAGS) $(PKG_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -std=c11 -Wall -Wextra -c -o $@ $<

$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIBOBJ)
	@mkdir -p $(@D)
	$(FUZZCC) $(CPPFLAGS) $(PKG_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -std=c11 -o $@ $< $(FUZZ_LIBOBJ) $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(DATADIR)/sigs
	install -m 755 $(B)/mailwardend $(DESTDIR)$(PREFIX)/sbin/mailwardend
	install -m 755 $(B)/mailwarden $(DESTDIR)$(PREFIX)/bin/mailwarden
	install -m 644 etc/mailwarden.conf.sample $(DESTDIR)$(SYSCONFDIR)/mailwarden.conf.sample
	install -m 644 sigs/*.ndb $(DESTDIR)$(DATADIR)/sigs/

check-format:
	clang-format --dry-run --Werror $(LIB_SRC) $(MILTER_SRC) $(CLI_SRC)

format:
	clang-format -i $(LIB_SRC) $(MILTER_SRC) $(CLI_SRC)

clean:
	rm -rf $(B)

-include $(LIB_OBJ:.o=.d) $(MILTER_SRC:%.c=$(B)/%.d) $(CLI_SRC:%.c=$(B)/%.d)
