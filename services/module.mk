# services/: portable services, built only on other services.
SERVICES_SRCS := services/serial.c services/status.c services/userbridge.c \
                 services/sermux.c services/sermux_users.c services/kbdmux.c \
                 services/kbd_decode.c \
                 services/tracing.c services/svcstart.c services/files.c \
                 services/wallclock.c services/entropy.c lib/sha256.c lib/hmac_drbg.c
$(eval $(call LIBRARY,services,$(SERVICES_SRCS)))

ifeq ($(HOSTED),yes)
TEST_SCRIPTS += test/sermux_e2e.sh
endif

ifeq ($(HOSTED),yes)
LDLIBS_sermux_test += -lcmocka
CFLAGS_test/sermux_test.c := -Itools/mnemeterm
$(eval $(call TEST,sermux_test,test/sermux_test.c tools/mnemeterm/trace_decode.c,\
  services kernel plathosted kernel mnheap sermux_frame postcard cobs mnerr))
endif

ifeq ($(HOSTED),yes)
BENCH_SCRIPTS += bench/sermux.sh
endif

# Brief fuzzing in make test, longer in make fuzz (test/svc_fuzz.sh).
ifeq ($(HOSTED),yes)
TEST_SCRIPTS += test/svc_fuzz.sh
endif
FUZZ_SCRIPTS += test/svc_fuzz.sh

# Forth userspace: VMs as kernel tasks, their kernel words, the shells and
# their line editor (libforthsvc; needs libforth and libservices).
FORTHSVC_SRCS := services/forth_task.c services/forth_words.c \
                 services/forth_shell.c services/lineedit.c services/forth_files.c \
                 services/forth_clock.c
$(eval $(call LIBRARY,forthsvc,$(FORTHSVC_SRCS)))
ifeq ($(HOSTED),yes)
TEST_SCRIPTS += test/forth_shell_e2e.py
LDLIBS_lineedit_test += -lcmocka
$(eval $(call TEST,lineedit_test,test/lineedit_test.c,forthsvc))
endif

# The time and entropy services (docs/time.md, docs/entropy.md).
ifeq ($(HOSTED),yes)
$(eval $(call TEST,wallclock_test,test/wallclock_test.c,services $(KTEST_LIBS)))
$(eval $(call TEST,entropy_test,test/entropy_test.c,services $(KTEST_LIBS)))
endif
