# wgate — WireGuard for API gateways.  Plain GNU make; `make V=1` shows commands.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
DATADIR ?= $(PREFIX)/share/wgate
PKG_CONFIG ?= pkg-config

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=c17 -D_GNU_SOURCE -MMD -MP
CFLAGS += -Wall -Wextra -Wformat=2 -Wstrict-prototypes -Wimplicit-fallthrough \
	-Wshadow -Wmissing-prototypes -Wvla
CFLAGS += -pthread
CFLAGS += -fstack-protector-strong -fstack-clash-protection -fPIE
LDFLAGS += -pie -Wl,-z,relro,-z,now

ifneq ($(WERROR),)
CFLAGS += -Werror
endif

# Sanitizer builds live in their own directory so they never mix with normal objects.
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
BUILD ?= build-san
else
CFLAGS += -D_FORTIFY_SOURCE=3
BUILD ?= build
endif

CRYPTO_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcrypto 2>/dev/null)
CRYPTO_LIBS := $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)
MNL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libmnl 2>/dev/null)
MNL_LIBS := $(shell $(PKG_CONFIG) --libs libmnl 2>/dev/null || echo -lmnl)
MHD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS := $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
SECCOMP_CFLAGS := $(shell $(PKG_CONFIG) --cflags libseccomp 2>/dev/null)
SECCOMP_LIBS := $(shell $(PKG_CONFIG) --libs libseccomp 2>/dev/null || echo -lseccomp)
NFT_CFLAGS := $(shell $(PKG_CONFIG) --cflags libnftables 2>/dev/null)
NFT_LIBS := $(shell $(PKG_CONFIG) --libs libnftables 2>/dev/null || echo -lnftables)
JSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags json-c 2>/dev/null)
JSON_LIBS := $(shell $(PKG_CONFIG) --libs json-c 2>/dev/null || echo -ljson-c)
CURL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
QR_CFLAGS := $(shell $(PKG_CONFIG) --cflags libqrencode 2>/dev/null)
QR_LIBS := $(shell $(PKG_CONFIG) --libs libqrencode 2>/dev/null || echo -lqrencode)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

CFLAGS += -Isrc
CFLAGS += $(CRYPTO_CFLAGS) $(MNL_CFLAGS) $(MHD_CFLAGS) $(JSON_CFLAGS) $(SECCOMP_CFLAGS) $(NFT_CFLAGS) \
	$(QR_CFLAGS) $(CURL_CFLAGS)
LDLIBS += $(CRYPTO_LIBS) $(MNL_LIBS) $(MHD_LIBS) $(JSON_LIBS) $(SECCOMP_LIBS) $(NFT_LIBS) $(QR_LIBS) \
	$(CURL_LIBS) \
	-pthread

ifeq ($(V),)
Q := @
quiet = @printf '  %-7s %s\n' $(1) $(2);
else
Q :=
quiet =
endif

# src/LAYER/*.c; each layer includes only from the ones below it (scripts/layers).
# Everything but main.c goes into a static library that the tests link too.
LIB_SRC := $(filter-out src/cmd/main.c,$(wildcard src/*/*.c))
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libwgate.a
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: wgate

wgate: $(BUILD)/wgate $(BUILD)/wgated
	$(Q)ln -sf $(BUILD)/wgate wgate
	$(Q)ln -sf $(BUILD)/wgated wgated

# The daemon alone, under wireguard-go's process contract: the same binary, another name.
$(BUILD)/wgated: $(BUILD)/wgate
	$(Q)ln -sf wgate $@

$(BUILD)/wgate: $(BUILD)/cmd/main.o $(LIB)
	$(call quiet,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIB): $(LIB_OBJ)
	$(call quiet,AR,$@)$(AR) rcs $@ $^

$(BUILD)/%.o: src/%.c
	$(Q)mkdir -p $(@D)
	$(call quiet,CC,$@)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB) | $(BUILD)/tests
	$(call quiet,CC,$@)$(CC) $(CFLAGS) $(CMOCKA_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(LIB) $(CMOCKA_LIBS) $(LDLIBS)

$(BUILD) $(BUILD)/tests:
	$(Q)mkdir -p $@

# The fuzz harnesses need clang's libFuzzer; they are built on their own, unhardened.
FUZZ_CC ?= clang
FUZZ_SRC := $(wildcard fuzz/*_fuzz.c)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build-fuzz/%)
fuzz: $(FUZZ_BIN)
# The library is compiled once for every harness (coverage and sanitizers, no fuzzer main).
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	-Isrc $(CRYPTO_CFLAGS) $(MHD_CFLAGS) $(JSON_CFLAGS) $(CURL_CFLAGS)
FUZZ_OBJ := $(LIB_SRC:src/%.c=build-fuzz/obj/%.o)
build-fuzz/obj/%.o: src/%.c $(wildcard src/*/*.h)
	$(Q)mkdir -p $(dir $@)
	$(call quiet,FUZZCC,$@)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
build-fuzz/%: fuzz/%.c $(FUZZ_OBJ) $(wildcard fuzz/*.h)
	$(call quiet,FUZZ,$@)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

check: wgate $(UNIT_BIN)
	$(Q)WGATE=$(abspath $(BUILD)/wgate) UNIT_DIR=$(abspath $(BUILD)/tests) tests/run

# The responder's handshake rate against the X25519 limit, for bench/run.
$(BUILD)/bench-handshake: bench/handshake.c $(LIB) | $(BUILD)
	$(call quiet,CC,$@)$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# Sealing with 1 to N data path threads, in-process, for bench/run.
$(BUILD)/bench-threads: bench/threads.c $(LIB) | $(BUILD)
	$(call quiet,CC,$@)$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# What fresh memory costs (2 MiB pages, first and recycled), for bench/reload.
$(BUILD)/bench-memory: bench/memory.c | $(BUILD)
	$(call quiet,CC,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

bench: wgate $(BUILD)/bench-handshake $(BUILD)/bench-threads
	$(Q)bench/run

install: wgate
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/wgate $(DESTDIR)$(BINDIR)/wgate
	ln -sf wgate $(DESTDIR)$(BINDIR)/wgated
	install -m 0644 docs/wgate.8 $(DESTDIR)$(MANDIR)/man8/wgate.8
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/bin|$(BINDIR)|g' dist/wgate@.service >$(DESTDIR)$(UNITDIR)/wgate@.service
	install -d $(DESTDIR)$(DATADIR)/haproxy
	install -m 0644 dist/haproxy/wgate-identity.lua $(DESTDIR)$(DATADIR)/haproxy/

format:
	clang-format -i src/*/*.c src/*/*.h tests/unit/*.c fuzz/*.c fuzz/*.h bench/*.c

clean:
	rm -rf build build-san build-fuzz wgate wgated

.PHONY: all check fuzz bench install format clean wgate
.DELETE_ON_ERROR:

-include $(LIB_OBJ:.o=.d) $(BUILD)/cmd/main.d $(UNIT_BIN:=.d)
