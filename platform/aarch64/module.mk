# platform/aarch64: mneme as a UEFI application on 64-bit ARM
# (docs/aarch64.md).
#
#   make image ARCH=aarch64   build/aarch64/mneme.img: GPT disk, FAT ESP with
#                             EFI/BOOT/BOOTAA64.EFI and \mneme\ (cmdline, config)
#   make run ARCH=aarch64     install what is missing, build, boot it in
#                             QEMU (virt, TCG, AAVMF); GUI=1 opens a window
#   make debug ARCH=aarch64   the same, halted, with the gdb stub
#
# Toolchain: UEFI on AArch64 uses the ordinary AAPCS64 calling convention,
# so the code is compiled by clang for aarch64-none-elf (LP64, like the
# hosted build) as position-independent code, linked by ld.lld into a
# static PIE at address 0 (link.ld), and tools/elf2efi.py writes the PE32+
# image with its base relocations. The UEFI loader's state, the
# framebuffer console, printf, the serial port service, the byte port
# server, libm and the device words are shared with x86_64 in
# platform/uefi/.
# Other modules can put files on the ESP under \mneme\ with
# A64_ESP_FILES += path.

A64 := platform/aarch64
A64_FONT ?= /usr/share/consolefonts/Lat15-Terminus16.psf.gz
A64_ESP_FILES ?=
# make image ARCH=aarch64 MODEL=path.gguf: a model on the ESP (\mneme\, loaded at boot)
A64_ESP_FILES += $(MODEL)
# the image's path (tests make their own images beside the default)
A64_IMG ?= $(O)/mneme.img
A64_CONFIG_BIN ?= $(O)/config/aarch64.bin
A64_SRCS := $(addprefix $(A64)/,boot_arch.c main.c exc.c mmu.c gic.c gtimer.c pl011.c \
              plat.c mon_cpu.c neon.c fpu.c pci_plat.c smp.c libc.c clockrng.c entry.S) \
            $(addprefix platform/uefi/,boot.c string.c fbcon.c xprintf.c port.c serial_svc.c libm.c \
              efi_clockrng.c dev_words.c efivar.c chat_console.c start.c mon.c acpi.c console_port.c smp_par.c fpu_switch.c)
A64_LIBS := chat mnsettings llmserve llm llmremote llmapi infer virtio nvme usb usbdesc pci net httpsvc http tls bearssl httpparser lwip net forthsvc services mnfs forth kernel infer mnheap config_aarch64 mnconfig sermux_frame postcard cobs mnerr

ifeq ($(ARCH),aarch64)
.PHONY: image qemu debug
image:
	$(MAKE) TARGET=aarch64 a64-image
qemu:
	@$(A64)/qemu.sh
debug:
	@DEBUG=1 $(A64)/qemu.sh
endif

ifeq ($(TARGET),aarch64)
A64_OK := $(and $(shell command -v clang 2>/dev/null),$(shell command -v ld.lld 2>/dev/null),$(shell command -v llvm-ar 2>/dev/null),$(wildcard $(A64_FONT)))
ifeq ($(A64_OK),)
  $(info aarch64: clang, ld.lld, llvm-ar or the font $(A64_FONT) is missing: skipping the aarch64 target (make deps installs them))
  override ALL_OUTPUTS :=
.PHONY: a64-image
a64-image:
	@echo "aarch64: toolchain missing, no image (run make deps)"; exit 1
else
  CC := clang
  CFLAGS := --target=aarch64-none-elf -std=gnu11 -gdwarf-4 -O2 $(COMMON_WARN) \
            -Iinclude -I$(A64) -Iplatform/uefi -Iplatform/uefi/include \
            -MMD -MP -DMN_AARCH64=1 \
            -ffreestanding -nostdlibinc -fno-builtin-printf -fno-common \
            -fno-stack-protector -fpie -fvisibility=hidden \
            -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer
  A64_LDFLAGS := -pie --no-dynamic-linker -z max-page-size=4096 -z norelro \
                 --gc-sections -nostdlib -T $(A64)/link.ld
  CFLAGS_$(A64)/libc.c := -fno-builtin
  CFLAGS_platform/uefi/string.c := -fno-builtin
  CFLAGS_platform/uefi/libm.c := -fno-builtin

$(O)/gen/font.c: $(A64_FONT) platform/x86_64/tools/psf2c.py
	@mkdir -p $(dir $@)
	python3 platform/x86_64/tools/psf2c.py $< $@

$(O)/gen/font.o: $(O)/gen/font.c
	$(CC) $(CFLAGS) -c $< -o $@

A64_OBJS := $(call objs,$(A64_SRCS)) $(O)/gen/font.o

# mneme.elf (with DWARF, for gdb and llvm-symbolizer) -> BOOTAA64.EFI.
$(O)/mneme.elf: $(A64_OBJS) $(call libpaths,$(A64_LIBS)) $(A64)/link.ld
	ld.lld $(A64_LDFLAGS) -o $@ $(A64_OBJS) --start-group $(call libpaths,$(A64_LIBS)) --end-group

$(O)/BOOTAA64.EFI: $(O)/mneme.elf $(A64)/tools/elf2efi.py
	python3 $(A64)/tools/elf2efi.py $< $@

-include $(patsubst %.o,%.d,$(A64_OBJS))

# The ESP: FAT32, at least 64 MiB, 16 MiB more than its files.
# The list of ESP files, rewritten when it changes (MODEL=... or not).
$(A64_IMG).files: FORCE
	@mkdir -p $(dir $@)
	@echo "$(A64_ESP_FILES)" | cmp -s - $@ || echo "$(A64_ESP_FILES)" > $@

$(A64_IMG): $(O)/BOOTAA64.EFI $(A64)/cmdline $(A64_CONFIG_BIN) $(A64_ESP_FILES) $(A64_IMG).files platform/x86_64/tools/gpt.py
	rm -f $@.fat
	kb=$$(( $$(cat $(filter-out %.py %.files,$^) | wc -c) / 1024 + 16384 )); \
	  [ $$kb -ge 65536 ] || kb=65536; \
	  mkfs.fat -C -F 32 -s 1 -n MNEME $@.fat $$kb >/dev/null
	MTOOLS_SKIP_CHECK=1 mmd -i $@.fat ::/EFI ::/EFI/BOOT ::/mneme
	MTOOLS_SKIP_CHECK=1 mcopy -i $@.fat $(O)/BOOTAA64.EFI ::/EFI/BOOT/BOOTAA64.EFI
	MTOOLS_SKIP_CHECK=1 mcopy -i $@.fat $(A64)/cmdline $(A64_ESP_FILES) ::/mneme/
	MTOOLS_SKIP_CHECK=1 mcopy -i $@.fat $(A64_CONFIG_BIN) ::/mneme/config.bin
	python3 platform/x86_64/tools/gpt.py $@.fat $@
	rm -f $@.fat

.PHONY: a64-image a64-floor FORCE
FORCE:
a64-image: $(A64_IMG)

# The firmware floor of bench/boot.sh: an EFI app that prints a marker.
$(O)/bench/floor.elf: $(O)/bench/boot_floor.o $(A64)/link.ld
	ld.lld $(A64_LDFLAGS) -o $@ $<

$(O)/bench/floor.efi: $(O)/bench/floor.elf $(A64)/tools/elf2efi.py
	python3 $(A64)/tools/elf2efi.py $< $@

$(O)/bench/floor.img: $(O)/bench/floor.efi platform/x86_64/tools/gpt.py
	rm -f $@.fat
	mkfs.fat -C -F 32 -s 1 -n FLOOR $@.fat 65536 >/dev/null
	MTOOLS_SKIP_CHECK=1 mmd -i $@.fat ::/EFI ::/EFI/BOOT
	MTOOLS_SKIP_CHECK=1 mcopy -i $@.fat $< ::/EFI/BOOT/BOOTAA64.EFI
	python3 platform/x86_64/tools/gpt.py $@.fat $@
	rm -f $@.fat

a64-floor: $(O)/bench/floor.img

ALL_OUTPUTS += $(O)/BOOTAA64.EFI
endif
endif

TEST_SCRIPTS += tests/qemu/aarch64.sh
BENCH_SCRIPTS += bench/aarch64_quant.sh bench/aarch64_llm.sh
