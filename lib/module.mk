# lib/: libraries that need no kernel (error text, postcard, COBS, sermux
# framing, configuration decoding). All build freestanding.
$(eval $(call LIBRARY,mnerr,lib/err.c))
$(eval $(call LIBRARY,postcard,lib/postcard.c))
$(eval $(call LIBRARY,cobs,lib/cobs.c))

ifeq ($(HOSTED),yes)
# The TEST template expands LDLIBS_<name> before it adds -lcmocka (see the
# final report); naming it here first makes the link work either way.
LDLIBS_postcard_test += -lcmocka
LDLIBS_cobs_test += -lcmocka
$(eval $(call TEST,postcard_test,test/postcard_test.c,postcard mnerr))
$(eval $(call TEST,cobs_test,test/cobs_test.c,cobs mnerr))
endif
