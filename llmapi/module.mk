# llmapi/: the protocol core of the remote LLM clients: JSON strings (jsmn
# for parsing), server-sent events, OpenAI/Anthropic requests, stream
# decoders and error bodies (docs/llmapi.md). Hosted-only for now: jsmn.h
# comes from /usr/include (libjsmn-dev), outside the freestanding include path.
ifeq ($(HOSTED),yes)
LLMAPI_SRCS := llmapi/json.c llmapi/sse.c llmapi/llmapi.c
$(eval $(call LIBRARY,llmapi,$(LLMAPI_SRCS)))
$(eval $(call TEST,llmapi_test,test/llmapi_test.c,llmapi mnerr))
FUZZ_SCRIPTS += test/llmapi_fuzz.sh
TEST_SCRIPTS += test/llmapi_fuzz.sh
endif
