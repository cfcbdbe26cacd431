# services/: portable services, built only on other services.
SERVICES_SRCS := services/serial.c services/status.c services/userbridge.c \
                 services/sermux.c services/sermux_users.c services/kbdmux.c \
                 services/tracing.c
$(eval $(call LIBRARY,services,$(SERVICES_SRCS)))

ifeq ($(HOSTED),yes)
TEST_SCRIPTS += test/sermux_e2e.sh
endif
