# chat/: the chat's portable core (conversations, replies over the `llm`
# interface, the store), the line-mode word CHAT and the settings store
# (docs/chat.md, docs/settings.md).
CHAT_SRCS := chat/wizard.c chat/wizard_io.c chat/chat_view.c chat/chat_session.c chat/chat_store.c chat/chat_word.c chat/settings_store.c
$(eval $(call LIBRARY,chat,$(CHAT_SRCS)))
ifeq ($(HOSTED),yes)
TEST_SCRIPTS += test/chat_e2e.py test/wizard_e2e.py
LDLIBS_chat_view_test += -lcmocka
$(eval $(call TEST,chat_view_test,test/chat_view_test.c,chat mnsettings llm infer services mnfs kernel plathosted kernel mnheap postcard cobs mnerr))
endif
TEST_SCRIPTS += tests/qemu/chat.sh
ifeq ($(HOSTED),yes)
TEST_SCRIPTS += test/chat_store_fuzz.sh
endif
FUZZ_SCRIPTS += test/chat_store_fuzz.sh
ifeq ($(HOSTED),yes)
LDLIBS_wizard_test += -lcmocka
$(eval $(call TEST,wizard_test,test/wizard_test.c,chat mnsettings llm infer services mnfs kernel plathosted kernel mnheap postcard cobs mnerr))
endif
