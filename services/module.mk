# services/: portable services, built only on other services.
SERVICES_SRCS := services/serial.c services/status.c services/userbridge.c
$(eval $(call LIBRARY,services,$(SERVICES_SRCS)))
