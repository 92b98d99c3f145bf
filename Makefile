# keyrite: a private certificate authority with an offline HSM root.
#
#   make            build everything into $(BUILD)/
#   make check      install missing packages, build, run every test
#   make demo       install missing packages, build, run the lab flow
#   make asan       unit and CLI tests under ASan+UBSan
#   make install    PREFIX=/usr/local DESTDIR=
#   make fuzz       libFuzzer builds of every fuzz target (clang)
#   make bench      benchmarks (bench/)

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
DATADIR	?= $(PREFIX)/share/keyrite
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/keyrite
BUILD	?= build

CC	?= cc
PKG_CONFIG ?= pkg-config
PKGS	 = libcrypto libssl libsodium yaml-0.1 jansson sqlite3 libqrencode \
	   libcurl libmicrohttpd gnutls
CFLAGS	?= -O2 -g
WARNINGS = -Wall -Wextra -Wshadow -Wformat=2 -Wformat-security \
	   -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
	   -Wwrite-strings -Wvla -Wnull-dereference -Wundef \
	   -Wimplicit-fallthrough
HARDEN	 = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
KR_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARNINGS) $(HARDEN) \
	   $(shell $(PKG_CONFIG) --cflags $(PKGS) p11-kit-1) \
	   -DKEYRITE_DATADIR='"$(DATADIR)"' -I.
KR_LDFLAGS = -pie -Wl,-z,relro,-z,now
KR_LIBS	 = $(shell $(PKG_CONFIG) --libs $(PKGS)) -ldl -lresolv

# Each folder is one module built as one static library; dependencies
# point one way (see docs/architecture.md), so this order links.
MODULES	 = ceremony ca policy hsm common
LIBS	 = $(foreach m,$(MODULES),$(BUILD)/lib/libkr$(m).a)
OBJ_OF	 = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

PROGRAMS = keyrite keyrited keyrite-trust
# Programs linked with every module and library (keyrite-trust is not).
FULL_PROGRAMS = keyrite keyrited
# Sources of a program: its folder, plus what it shares with another.
SRC_keyrite  = $(wildcard cmd/keyrite/*.c)
SRC_keyrited = $(wildcard cmd/keyrited/*.c) cmd/keyrite/cli.c
# The endpoint tool: only what reads and verifies bundles, so that it
# links OpenSSL, libcurl and a static jansson (Debian's libjansson.a, the
# same parser as keyrite's) and never libsodium, libp11, SQLite, libyaml
# or libmicrohttpd (docs/trust.md; tests/cli/trust.bats checks ldd).
SRC_keyrite-trust = $(wildcard cmd/keyrite-trust/*.c) ca/bundle.c ca/tar.c \
	   ca/tstate.c ca/x509.c common/kr.c common/file.c common/der.c
TRUST_LIBS = $(shell $(PKG_CONFIG) --libs libcrypto libssl libcurl) \
	   $(shell $(PKG_CONFIG) --variable=libdir jansson)/libjansson.a
BINS	 = $(foreach p,$(PROGRAMS),$(BUILD)/bin/$(p))

UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_RUN = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz-replay/%,$(FUZZ_SRC))
CT_SRC	 = $(wildcard tests/ct/ct_*.c)
CT_BIN	 = $(patsubst tests/ct/%.c,$(BUILD)/ct/%,$(CT_SRC))
TOOLS_SRC = $(wildcard tests/tools/*.c)
TOOLS_BIN = $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOLS_SRC))
BENCH_SRC = $(wildcard bench/*.c)
BENCH_BIN = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all check demo deps asan install uninstall format clean fuzz bench \
	tests lint-src FORCE
.SUFFIXES:
.SECONDARY:

all: $(BINS) $(UNIT_BIN) $(FUZZ_RUN) $(CT_BIN) $(TOOLS_BIN)

# Objects are rebuilt when PREFIX/DATADIR or CFLAGS change, so that
# `make install PREFIX=/usr` after `make` installs what it says.
$(BUILD)/.flags: FORCE
	@mkdir -p $(BUILD)
	@printf '%s\n' "$(DATADIR)" "$(CC) $(CFLAGS)" | cmp -s - $@ || \
	    printf '%s\n' "$(DATADIR)" "$(CC) $(CFLAGS)" > $@

$(BUILD)/obj/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(KR_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

define module_rule
$(BUILD)/lib/libkr$(1).a: $(call OBJ_OF,$(wildcard $(1)/*.c))
	@mkdir -p $$(dir $$@)
	rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rule,$(m))))

define program_rule
$(BUILD)/bin/$(1): $(call OBJ_OF,$(SRC_$(1))) $(LIBS)
	@mkdir -p $$(dir $$@)
	$(CC) $(CFLAGS) $(KR_LDFLAGS) -o $$@ \
	    $(call OBJ_OF,$(SRC_$(1))) $(LIBS) $(KR_LIBS) $(LDFLAGS) -lpthread
endef
$(foreach p,$(FULL_PROGRAMS),$(eval $(call program_rule,$(p))))

$(BUILD)/bin/keyrite-trust: $(call OBJ_OF,$(SRC_keyrite-trust))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KR_LDFLAGS) -Wl,--as-needed -o $@ \
	    $(call OBJ_OF,$(SRC_keyrite-trust)) $(TRUST_LIBS) $(LDFLAGS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KR_LDFLAGS) -o $@ $< $(LIBS) $(KR_LIBS) \
	    $(shell $(PKG_CONFIG) --libs cmocka) $(LDFLAGS)

# Every fuzz target also builds as a replay program over its corpus, so
# `make check` runs the seeds and past crashes without needing clang.
$(BUILD)/fuzz-replay/%: $(BUILD)/obj/tests/fuzz/%.o \
    $(BUILD)/obj/tests/fuzz/replay.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KR_LDFLAGS) -o $@ $< $(BUILD)/obj/tests/fuzz/replay.o \
	    $(LIBS) $(KR_LIBS) $(LDFLAGS)

# Constant-time checks: run under valgrind by tests/run.sh (suite ct).
$(BUILD)/ct/%: $(BUILD)/obj/tests/ct/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KR_LDFLAGS) -o $@ $< $(LIBS) $(KR_LIBS) $(LDFLAGS)

# Test-only helper programs (tests/tools/), never installed.
$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KR_LDFLAGS) -o $@ $< $(LIBS) $(KR_LIBS) $(LDFLAGS)

# Benchmarks (bench/): built for `make bench` only, never by `all`.
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KR_LDFLAGS) -o $@ $< $(LIBS) $(KR_LIBS) $(LDFLAGS)

tests: all

deps:
	scripts/install-deps.sh

check: deps
	$(MAKE) all
	tests/run.sh $(BUILD)

demo: deps
	$(MAKE) all
	scripts/demo.sh $(BUILD)

asan: deps
	$(MAKE) BUILD=build-asan \
	    CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' \
	    LDFLAGS='-fsanitize=address,undefined' all
	KEYRITE_ASAN=1 tests/run.sh build-asan unit cli fuzz

fuzz:
	tests/fuzz/build.sh

bench: all $(BENCH_BIN)
	bench/run.sh $(BUILD)

# The systemd unit goes to $(DATADIR), naming $(BINDIR)/keyrited, and is
# not enabled: the operator copies it (docs/signer.md).
install: $(BINS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/profiles \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -m 0644 profiles/*.yaml $(DESTDIR)$(DATADIR)/profiles/
	install -d $(DESTDIR)$(DATADIR)/ceremony
	install -m 0644 ceremony/scripts/*.yaml $(DESTDIR)$(DATADIR)/ceremony/
	sed 's|/usr/local/bin/keyrited|$(BINDIR)/keyrited|g' \
	    scripts/keyrited.service > $(DESTDIR)$(DATADIR)/keyrited.service
	chmod 0644 $(DESTDIR)$(DATADIR)/keyrited.service
	install -m 0644 docs/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(foreach p,$(PROGRAMS),$(DESTDIR)$(BINDIR)/$(p))
	rm -f $(foreach f,$(wildcard profiles/*.yaml),$(DESTDIR)$(DATADIR)/$(f))
	rm -f $(foreach f,$(wildcard ceremony/scripts/*.yaml),$(DESTDIR)$(DATADIR)/ceremony/$(notdir $(f)))
	rm -f $(foreach f,$(wildcard docs/man/*.1),$(DESTDIR)$(MANDIR)/man1/$(notdir $(f)))
	rm -f $(foreach f,$(wildcard docs/man/*.8),$(DESTDIR)$(MANDIR)/man8/$(notdir $(f)))
	rm -f $(DESTDIR)$(DATADIR)/keyrited.service
	rm -f $(foreach f,$(wildcard docs/*.md),$(DESTDIR)$(DOCDIR)/$(notdir $(f)))
	-rmdir $(DESTDIR)$(DATADIR)/profiles $(DESTDIR)$(DATADIR)/ceremony \
	    $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)

format:
	clang-format -i $(wildcard */*.h */*.c cmd/*/*.c tests/unit/*.c tests/fuzz/*.c)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
