# platform/hosted/: mneme as a Linux process (build/hosted*/mneme).
ifeq ($(HOSTED),yes)
HOSTED_PLAT_SRCS := platform/hosted/plat.c platform/hosted/context.c \
                    platform/hosted/context_x86_64.S platform/hosted/serial.c \
                    platform/hosted/console.c platform/hosted/slirp.c \
                    platform/hosted/disk.c platform/hosted/clockrng.c \
                    platform/hosted/tap.c platform/hosted/settings_file.c
$(eval $(call LIBRARY,plathosted,$(HOSTED_PLAT_SRCS)))
MNEME_LIBS := chat mnsettings llmserve llm llmremote infer llmapi net httpsvc http tls bearssl httpparser net lwip net forthsvc forth services mnfs kernel plathosted kernel mnheap config_hosted mnconfig sermux_frame postcard cobs mnerr
$(eval $(call PROGRAM,mneme,platform/hosted/main.c,$(MNEME_LIBS)))
LDLIBS_mneme += -lslirp
endif
TEST_SCRIPTS += test/hosted_e2e.py
