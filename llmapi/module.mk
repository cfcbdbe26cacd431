# llmapi/: the protocol core of the remote LLM clients: JSON strings (jsmn
# for parsing), server-sent events, OpenAI/Anthropic requests, stream
# decoders and error bodies (docs/llmapi.md). Builds for every target; the
# freestanding ones reach jsmn.h (libjsmn-dev) by its path, since they
# must not search /usr/include.
LLMAPI_SRCS := llmapi/json.c llmapi/sse.c llmapi/llmapi.c
$(eval $(call LIBRARY,llmapi,$(LLMAPI_SRCS)))
ifeq ($(HOSTED),yes)
$(eval $(call TEST,llmapi_test,test/llmapi_test.c,llmapi mnerr))
FUZZ_SCRIPTS += test/llmapi_fuzz.sh
TEST_SCRIPTS += test/llmapi_fuzz.sh
else
CFLAGS_llmapi/json.c := '-DLLMAPI_JSMN_H="/usr/include/jsmn.h"'
endif
