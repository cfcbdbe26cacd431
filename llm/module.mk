# llm/: the `llm` interface's backends: llm-local (the inference engine
# inside the kernel) and llm-remote (OpenAI-compatible and Anthropic APIs
# over http_request, with the `forth` tool), and the Forth words GENERATE
# and ASK (docs/llm.md).
LLM_SRCS := llm/llm_local.c llm/llm_words.c
$(eval $(call LIBRARY,llm,$(LLM_SRCS)))
# llm-remote is its own library: it needs http_request (libhttp) and llmapi.
LLMREMOTE_SRCS := llm/llm_remote.c llm/llm_tool.c llm/llm_ask.c llm/llm_remote_settings.c
CFLAGS_llm/llm_remote.c := $(HTTP_INC)
CFLAGS_llm/llm_tool.c := $(HTTP_INC)
$(call objs,llm/llm_remote.c llm/llm_tool.c): $(HTTPPARSER_STAMP)
$(eval $(call LIBRARY,llmremote,$(LLMREMOTE_SRCS)))
TEST_SCRIPTS += tests/qemu/llm.sh
ifeq ($(HOSTED),yes)
LDLIBS_llm_local_test += -lcmocka
$(eval $(call TEST,llm_local_test,test/llm_local_test.c,llm infer $(KTEST_LIBS)))
LDLIBS_llm_remote_test += -lcmocka
CFLAGS_test/llm_remote_test.c := $(HTTP_INC)
$(call objs,test/llm_remote_test.c): $(HTTPPARSER_STAMP)
$(eval $(call TEST,llm_remote_test,test/llm_remote_test.c,llmremote llmapi forthsvc forth services mnfs sermux_frame $(KTEST_LIBS)))
# The driver of the mock-server test and the streaming bench: llm-remote
# over a POSIX plain-HTTP http_request (test/http_posix.c).
CFLAGS_test/llm_remote_client.c := $(HTTP_INC)
CFLAGS_test/http_posix.c := $(HTTP_INC)
$(call objs,test/llm_remote_client.c test/http_posix.c): $(HTTPPARSER_STAMP)
LDLIBS_llm_remote_client += -lcmocka
$(eval $(call PROGRAM,llm_remote_client,test/llm_remote_client.c test/http_posix.c,\
  llmremote llmapi http httpparser forthsvc forth services mnfs sermux_frame $(KTEST_LIBS)))
# The chat screen's streaming path for bench/llm_stream.sh: the chat core,
# the chat view and a memory framebuffer over the same transport.
LDLIBS_chat_bench_client += -lcmocka
$(eval $(call PROGRAM,chat_bench_client,test/chat_bench_client.c test/http_posix.c,\
  chat mnsettings llmremote llm infer llmapi http httpparser forthsvc forth services mnfs sermux_frame $(KTEST_LIBS)))
TEST_SCRIPTS += test/llm_remote_mock.py test/llm_remote_e2e.py
BENCH_SCRIPTS += bench/llm_stream.sh
endif
BENCH_SCRIPTS += bench/llm_qemu.sh
