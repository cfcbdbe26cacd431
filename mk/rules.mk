# Templates for module.mk files.
#
#   $(eval $(call LIBRARY,name,sources))          -> $(O)/lib/libname.a
#   $(eval $(call PROGRAM,name,sources,libs))     -> $(O)/name
#   $(eval $(call TEST,name,sources,libs))        -> $(O)/test/name (run by make test)
#   $(eval $(call BENCH,name,sources,libs))       -> $(O)/bench/name
#
# `libs` are library names (most dependent first), e.g. "kernel postcard".
# Extra flags for one source file: CFLAGS_path/to/file.c := -mavx2
# Script tests: TEST_SCRIPTS += test/foo.sh (run with O=build/hosted; TAP
# "ok"/"not ok" lines or a cmocka summary; exit status 0 iff passed).

ALL_OUTPUTS :=
TEST_BINS :=
BENCH_BINS :=
TEST_SCRIPTS :=
BENCH_SCRIPTS :=
FUZZ_SCRIPTS :=

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CFLAGS_$<) -c $< -o $@

$(O)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CFLAGS_$<) -c $< -o $@

libpaths = $(foreach l,$(1),$(O)/lib/lib$(l).a)
objs = $(patsubst %.S,$(O)/%.o,$(patsubst %.c,$(O)/%.o,$(1)))

define LIBRARY
$(O)/lib/lib$(1).a: $(call objs,$(2))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && $(AR) rcs $$@ $$^
ALL_OUTPUTS += $(O)/lib/lib$(1).a
-include $(patsubst %.o,%.d,$(call objs,$(2)))
endef

define LINKED
$(O)/$(1): $(call objs,$(2)) $(call libpaths,$(3))
	@mkdir -p $$(dir $$@)
	$(CC) $(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(call libpaths,$(3)) $$(LDLIBS_$(notdir $(1))) $(LDLIBS)
-include $(patsubst %.o,%.d,$(call objs,$(2)))
endef

define PROGRAM
$(call LINKED,$(1),$(2),$(3))
ALL_OUTPUTS += $(O)/$(1)
endef

define TEST
$(call LINKED,test/$(1),$(2),$(3))
TEST_BINS += $(O)/test/$(1)
LDLIBS_$(1) += -lcmocka
endef

define BENCH
$(call LINKED,bench/$(1),$(2),$(3))
BENCH_BINS += $(O)/bench/$(1)
endef
