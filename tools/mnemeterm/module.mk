# tools/mnemeterm/: the host terminal for the serial mux (docs/mnemeterm.md).
ifeq ($(HOSTED),yes)
MNEMETERM_SRCS := tools/mnemeterm/mnemeterm.c tools/mnemeterm/trace_decode.c \
                  tools/mnemeterm/connect.c
CFLAGS_tools/mnemeterm/mnemeterm.c := -Itools/mnemeterm
$(eval $(call PROGRAM,mnemeterm,$(MNEMETERM_SRCS),sermux_frame cobs postcard mnerr))
TEST_SCRIPTS += test/mnemeterm_test.sh
endif
