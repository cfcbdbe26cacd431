# tls/: BearSSL (the TLS library), the trust store and the TLS client
# (docs/tls.md). BearSSL's sources are fetched at build time from Debian's
# source package by tools/fetch-source.sh (pinned in tools/sources.lock)
# into build/src/, never committed; they build here as libbearssl with
# the target's flags plus -DBR_USE_UNIX_TIME=0 (the clock comes from the
# time service, not time()).

BEARSSL_VERSION := 0.6+dfsg.1-3
BEARSSL_DIR := build/src/bearssl-$(BEARSSL_VERSION)
BEARSSL_STAMP := $(BEARSSL_DIR)/.fetched
BEARSSL_SUBDIRS := aead codec ec hash int kdf mac rand rsa ssl symcipher x509
# The list is fixed (not a wildcard) so make knows it before the fetch.
BEARSSL_SRCS := $(BEARSSL_DIR)/src/settings.c \
  $(foreach f,$(shell cat tls/bearssl.files),$(BEARSSL_DIR)/src/$(f))
BEARSSL_INC := -I$(BEARSSL_DIR)/inc
# BearSSL's own code is held to compiling, not to our warning set.
BEARSSL_CFLAGS := $(BEARSSL_INC) -I$(BEARSSL_DIR)/src -DBR_USE_UNIX_TIME=0 \
  -DBR_USE_URANDOM=0 -DBR_USE_GETENTROPY=0 -DBR_USE_WIN32_RAND=0 \
  -DBR_USE_WIN32_TIME=0 -w

$(BEARSSL_STAMP): tools/fetch-source.sh tools/sources.lock
	tools/fetch-source.sh bearssl
$(BEARSSL_SRCS): $(BEARSSL_STAMP) ;
$(call objs,$(BEARSSL_SRCS)): $(BEARSSL_STAMP)
$(foreach s,$(BEARSSL_SRCS),$(eval CFLAGS_$(s) := $(BEARSSL_CFLAGS)))
$(eval $(call LIBRARY,bearssl,$(BEARSSL_SRCS)))

# The trust store: Debian's ca-certificates (Mozilla's roots) converted at
# build time into BearSSL trust anchors (C arrays) by tools/mkanchors, a
# host program built from BearSSL's own decoder. Never committed.
CA_CERT_DIR ?= /usr/share/ca-certificates/mozilla
HOST_CC ?= cc
TLS_GEN := build/gen/tls
BEARSSL_HOST_LIB := $(TLS_GEN)/host/libbearssl.a
$(BEARSSL_HOST_LIB): $(BEARSSL_STAMP) tls/bearssl.files
	@mkdir -p $(TLS_GEN)/host
	cd $(TLS_GEN)/host && for f in settings.c $(shell cat tls/bearssl.files); do \
	  $(HOST_CC) -O1 -w -I$(CURDIR)/$(BEARSSL_DIR)/inc -I$(CURDIR)/$(BEARSSL_DIR)/src \
	    -c $(CURDIR)/$(BEARSSL_DIR)/src/$$f -o $$(echo $$f | tr / _ | sed 's/\.c$$/.o/') || exit 1; \
	done && rm -f libbearssl.a && ar rcs libbearssl.a *.o
$(TLS_GEN)/mkanchors: tools/mkanchors.c $(BEARSSL_HOST_LIB)
	$(HOST_CC) -O1 -Wall -Wextra -Werror -I$(BEARSSL_DIR)/inc -o $@ $< $(BEARSSL_HOST_LIB)
$(TLS_GEN)/anchors_mozilla.c: $(TLS_GEN)/mkanchors $(wildcard $(CA_CERT_DIR)/*.crt)
	@[ -d $(CA_CERT_DIR) ] || { echo "tls: $(CA_CERT_DIR) is missing: install ca-certificates (make deps)" >&2; exit 1; }
	@$(TLS_GEN)/mkanchors $(sort $(wildcard $(CA_CERT_DIR)/*.crt)) > $@.tmp && mv $@.tmp $@

TLS_SRCS := $(TLS_GEN)/anchors_mozilla.c tls/anchors.c tls/client.c
$(foreach s,$(TLS_SRCS),$(eval CFLAGS_$(s) := $(BEARSSL_INC) -Itls))
$(call objs,$(TLS_SRCS)): $(BEARSSL_STAMP)
$(eval $(call LIBRARY,tls,$(TLS_SRCS)))

ifeq ($(HOSTED),yes)
  CFLAGS_test/tls_anchors_test.c := $(BEARSSL_INC) -Itls
  $(call objs,test/tls_anchors_test.c): $(BEARSSL_STAMP)
  $(eval $(call TEST,tls_anchors_test,test/tls_anchors_test.c,tls bearssl))
endif

ifeq ($(HOSTED),yes)
  # The HTTP client over host sockets (tests, bench): http_probe URL.
  CFLAGS_test/http_probe.c := $(HTTP_INC) $(BEARSSL_INC)
  $(call objs,test/http_probe.c): $(HTTPPARSER_STAMP) $(BEARSSL_STAMP)
  $(eval $(call PROGRAM,http_probe,test/http_probe.c,http tls bearssl httpparser mnerr))
  TEST_SCRIPTS += test/tls_local.sh test/http_local.py
  BENCH_SCRIPTS += bench/https.sh
  # Brief in make test (the BearSSL files the client uses, instrumented
  # once: about 40 s of CPU), longer in make fuzz.
  TEST_SCRIPTS += test/tls_fuzz.sh
  FUZZ_SCRIPTS += test/tls_fuzz.sh
endif
