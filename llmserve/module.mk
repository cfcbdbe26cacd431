# llmserve/: the inference appliance: an OpenAI-compatible HTTP/1.1 server
# over the network service, answering with llm-local (docs/llmserve.md).
# proto.c (requests through Debian's http-parser, chat bodies through
# llmapi's jsmn helpers, the answers' JSON) needs no kernel and is tested
# and fuzzed on the host; server.c is the kernel part.
LLMSERVE_SRCS := llmserve/proto.c llmserve/server.c
$(foreach s,$(LLMSERVE_SRCS),$(eval CFLAGS_$(s) := $(HTTP_INC) -Illmapi))
$(call objs,$(LLMSERVE_SRCS)): $(HTTPPARSER_STAMP)
$(eval $(call LIBRARY,llmserve,$(LLMSERVE_SRCS)))
ifeq ($(HOSTED),yes)
  CFLAGS_test/llmserve_test.c := $(HTTP_INC)
  $(call objs,test/llmserve_test.c): $(HTTPPARSER_STAMP)
  $(eval $(call TEST,llmserve_test,test/llmserve_test.c,llmserve llmapi httpparser mnerr))
  TEST_SCRIPTS += test/llmserve_fuzz.sh tests/llmserve/hosted.sh
  FUZZ_SCRIPTS += test/llmserve_fuzz.sh
endif
TEST_SCRIPTS += tests/qemu/llmserve.sh
