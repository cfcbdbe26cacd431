# net/: the network service (docs/net.md) and lwIP, the TCP/IP stack it
# owns. lwIP's sources are fetched at build time from Debian's source
# package by tools/fetch-source.sh (pinned in tools/sources.lock) into
# build/src/, never committed; it builds here as the library liblwip with
# the target's flags, our lwipopts.h and arch/cc.h (net/lwip/).

LWIP_VERSION := 2.1.3+dfsg1-2
LWIP_DIR := build/src/lwip-$(LWIP_VERSION)
LWIP_STAMP := $(LWIP_DIR)/.fetched
LWIP_CORE := def dns inet_chksum init ip mem memp netif pbuf raw sys tcp \
             tcp_in tcp_out timeouts udp
LWIP_SRCS := $(foreach f,$(LWIP_CORE),$(LWIP_DIR)/src/core/$(f).c) \
             $(foreach f,dhcp etharp icmp ip4 ip4_addr ip4_frag,$(LWIP_DIR)/src/core/ipv4/$(f).c) \
             $(LWIP_DIR)/src/netif/ethernet.c
LWIP_INC := -Inet/lwip -I$(LWIP_DIR)/src/include
ifneq ($(HOSTED),yes)
  LWIP_INC += -Inet/lwip/freestanding
endif
# lwIP's own code is not held to our warnings (only to compiling).
LWIP_CFLAGS := $(LWIP_INC) -w

$(LWIP_STAMP): tools/fetch-source.sh tools/sources.lock
	tools/fetch-source.sh lwip
$(LWIP_SRCS): $(LWIP_STAMP) ;
$(call objs,$(LWIP_SRCS)): $(LWIP_STAMP)
$(foreach s,$(LWIP_SRCS),$(eval CFLAGS_$(s) := $(LWIP_CFLAGS)))
$(eval $(call LIBRARY,lwip,$(LWIP_SRCS)))

# The network service and its client calls (libnet; needs lwip, kernel).
NET_SRCS := net/net.c net/client.c net/lwip_port.c net/words.c net/svcstart.c net/rxcheck.c
$(foreach s,$(NET_SRCS),$(eval CFLAGS_$(s) := $(LWIP_INC)))
$(call objs,$(NET_SRCS)): $(LWIP_STAMP)
$(eval $(call LIBRARY,net,$(NET_SRCS)))

ifeq ($(HOSTED),yes)
# End to end over slirp against servers the test runs on 127.0.0.1.
NET_TEST_LIBS := net lwip net forthsvc forth services kernel plathosted kernel mnheap \
                 sermux_frame postcard cobs mnerr
$(eval $(call TEST,net_test,test/net_test.c,$(NET_TEST_LIBS)))
LDLIBS_net_test += -lslirp
# A NIC played by the test: malformed DHCP, connect timeout, link down/up.
$(eval $(call TEST,net_fake_test,test/net_fake_test.c,$(NET_TEST_LIBS)))
endif

# Random Ethernet frames into the stack (libFuzzer; brief in make test).
ifeq ($(HOSTED),yes)
TEST_SCRIPTS += test/net_fuzz.sh
endif
FUZZ_SCRIPTS += test/net_fuzz.sh

# tools/fetch-source.sh offline: cached pin, checksum mismatch, no network.
TEST_SCRIPTS += test/fetch_source_test.sh
# The Forth words over --net slirp, against the test's own servers.
TEST_SCRIPTS += test/net_words_e2e.py
# --net tap:NAME in a network namespace of its own (root; skips otherwise).
TEST_SCRIPTS += test/net_tap_e2e.py

ifeq ($(HOSTED),yes)
$(eval $(call BENCH,net_bench,bench/net_bench.c,$(NET_TEST_LIBS)))
LDLIBS_net_bench += -lslirp
BENCH_SCRIPTS += bench/net.sh
endif
