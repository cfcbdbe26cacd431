# forth/: the Forth VM library (libforth), its host program
# build/<target>/mneme-forth, tests and benchmark.

# The prelude (Forth source compiled into every VM) becomes a C string.
$(O)/gen/forth_prelude.c: forth/prelude.fs
	@mkdir -p $(dir $@)
	{ echo '/* generated from forth/prelude.fs */'; \
	  echo 'extern const char forth_prelude[];'; \
	  echo 'const char forth_prelude[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

FORTH_SRCS := forth/vm.c forth/vm_aux.c forth/core.c forth/interp.c forth/compile.c \
              forth/words.c forth/strings.c forth/tools.c forth/heap.c forth/spawn.c \
              forth/search.c forth/substitute.c forth/locals.c forth/float.c \
              forth/fnum.c forth/fmath.c forth/facility.c forth/errors.c \
              forth/ledit.c forth/file.c forth/dspace.c \
              $(O)/gen/forth_prelude.c
$(eval $(call LIBRARY,forth,$(FORTH_SRCS)))

ifeq ($(HOSTED),yes)
$(eval $(call PROGRAM,mneme-forth,forth/main.c,forth mnerr))
endif

ifeq ($(HOSTED),yes)
# (rules.mk adds -lcmocka after the link rule is expanded, so set it first)
LDLIBS_forth_test := -lcmocka
$(eval $(call TEST,forth_test,test/forth_test.c,forth mnerr))
endif
BENCH_SCRIPTS += bench/forth.sh
TEST_SCRIPTS += test/forth.sh test/forth_fuzz.sh
FUZZ_SCRIPTS += test/forth_fuzz.sh

# The same VM and tests with 32-bit cells (forth/cell32/ wraps the sources).
FORTH32_SRCS := $(addprefix forth/cell32/,vm.c vm_aux.c core.c interp.c compile.c \
                words.c strings.c tools.c heap.c spawn.c ledit.c search.c substitute.c locals.c float.c fnum.c fmath.c facility.c errors.c file.c dspace.c) \
                test/forth32_test.c
$(foreach s,$(FORTH32_SRCS),$(eval CFLAGS_$(s) := -DFORTH_CELL_BITS=32))
ifeq ($(HOSTED),yes)
LDLIBS_forth32_test := -lcmocka
$(eval $(call TEST,forth32_test,$(FORTH32_SRCS) $(O)/gen/forth_prelude.c,mnerr))
endif
