# lib/: libraries that need no kernel (error text, postcard, COBS, sermux
# framing, configuration decoding). All build freestanding.
$(eval $(call LIBRARY,mnerr,lib/err.c))
$(eval $(call LIBRARY,postcard,lib/postcard.c))
$(eval $(call LIBRARY,cobs,lib/cobs.c))
$(eval $(call LIBRARY,sermux_frame,lib/sermux_frame.c))
$(eval $(call LIBRARY,mnconfig,lib/config.c))

ifeq ($(HOSTED),yes)
$(eval $(call TEST,postcard_test,test/postcard_test.c,postcard mnerr))
$(eval $(call TEST,cobs_test,test/cobs_test.c,cobs mnerr))
$(eval $(call TEST,sermux_frame_test,test/sermux_frame_test.c,sermux_frame cobs mnerr))

# The round trip: TOML -> mkconfig.py -> bytes compiled in -> decoded in C.
$(O)/gen/test/config_hosted.c: config/hosted.toml tools/mkconfig.py
	@mkdir -p $(dir $@)
	python3 tools/mkconfig.py $< --c $@ --symbol test_config_hosted
$(O)/gen/test/config_full.c: test/config_full.toml tools/mkconfig.py
	@mkdir -p $(dir $@)
	python3 tools/mkconfig.py $< --c $@ --symbol test_config_full
$(eval $(call TEST,config_test,test/config_test.c $(O)/gen/test/config_hosted.c \
  $(O)/gen/test/config_full.c,mnconfig postcard mnerr))
TEST_SCRIPTS += test/config_errors.sh test/wire_freestanding.sh

$(eval $(call BENCH,wire_bench,bench/wire_bench.c,sermux_frame cobs postcard mnerr))
BENCH_SCRIPTS += bench/wire.sh
endif

# SHA-256, HMAC and HMAC_DRBG (the entropy service's generator; also built
# into libservices beside the service).
DRBG_SRCS := lib/sha256.c lib/hmac_drbg.c
$(eval $(call LIBRARY,mndrbg,$(DRBG_SRCS)))
ifeq ($(HOSTED),yes)
$(eval $(call TEST,hmac_drbg_test,test/hmac_drbg_test.c,mndrbg))
endif
# The user's settings as TOML text (settings.h; docs/settings.md).
$(eval $(call LIBRARY,mnsettings,lib/settings.c))
ifeq ($(HOSTED),yes)
$(eval $(call TEST,settings_test,test/settings_test.c,mnsettings mnerr))
TEST_SCRIPTS += test/settings_fuzz.sh
endif
FUZZ_SCRIPTS += test/settings_fuzz.sh
