# http/: HTTP/1.1 (docs/http.md). Responses are parsed by Debian's
# http-parser (2.9.4, the parser Node.js used for a decade: callbacks, no
# allocation), fetched at build time by tools/fetch-source.sh (pinned in
# tools/sources.lock) into build/src/, never committed; it builds here as
# libhttpparser with the target's flags.

HTTPPARSER_VERSION := 2.9.4-5
HTTPPARSER_DIR := build/src/http-parser-$(HTTPPARSER_VERSION)
HTTPPARSER_STAMP := $(HTTPPARSER_DIR)/.fetched
HTTPPARSER_SRCS := $(HTTPPARSER_DIR)/http_parser.c
HTTP_INC := -I$(HTTPPARSER_DIR) -DHTTP_MAX_HEADER_SIZE=65536 -DHTTP_PARSER_STRICT=1
ifneq ($(HOSTED),yes)
  HTTP_INC += -Ihttp/freestanding
endif

$(HTTPPARSER_STAMP): tools/fetch-source.sh tools/sources.lock
	tools/fetch-source.sh http-parser
$(HTTPPARSER_SRCS): $(HTTPPARSER_STAMP) ;
$(call objs,$(HTTPPARSER_SRCS)): $(HTTPPARSER_STAMP)
# http-parser's own code is held to compiling, not to our warnings.
$(foreach s,$(HTTPPARSER_SRCS),$(eval CFLAGS_$(s) := $(HTTP_INC) -w))
$(eval $(call LIBRARY,httpparser,$(HTTPPARSER_SRCS)))

# The client (http/client.c) runs on a struct http_io (http/io.h): the
# network service in the kernel, host sockets in http_probe.
HTTP_SRCS := http/response.c http/client.c
$(foreach s,$(HTTP_SRCS),$(eval CFLAGS_$(s) := $(HTTP_INC)))
$(call objs,$(HTTP_SRCS)): $(HTTPPARSER_STAMP)
$(eval $(call LIBRARY,http,$(HTTP_SRCS)))

# The http service, its net.h transport and the Forth words (kernel only;
# started by the network service's svcstart).
HTTPSVC_SRCS := http/service.c http/words.c
$(foreach s,$(HTTPSVC_SRCS),$(eval CFLAGS_$(s) := $(HTTP_INC)))
$(call objs,$(HTTPSVC_SRCS)): $(HTTPPARSER_STAMP)
$(eval $(call LIBRARY,httpsvc,$(HTTPSVC_SRCS)))

ifeq ($(HOSTED),yes)
  CFLAGS_test/http_response_test.c := $(HTTP_INC)
  $(call objs,test/http_response_test.c): $(HTTPPARSER_STAMP)
  $(eval $(call TEST,http_response_test,test/http_response_test.c,http httpparser))
  TEST_SCRIPTS += test/http_fuzz.sh test/http_e2e.py
  FUZZ_SCRIPTS += test/http_fuzz.sh
endif

# HTTPS from the Forth shell on x86_64 under QEMU (one boot).
TEST_SCRIPTS += tests/qemu/https.sh
