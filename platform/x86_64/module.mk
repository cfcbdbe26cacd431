# platform/x86_64: mneme as a UEFI application on PCs (docs/x86_64.md).
#
#   make image        build/x86_64/mneme.img: GPT disk, FAT ESP with
#                     EFI/BOOT/BOOTX64.EFI and \mneme\ (cmdline, config, ...)
#   make qemu         install what is missing, build, boot it in QEMU (TCG)
#                     with serial on this terminal; GUI=1 opens a window
#   make debug        the same, halted, with the gdb stub and a gdb script
#
# Toolchain: clang targeting x86_64-pc-cygwin (LP64 data model like the
# hosted build, Microsoft x64 calling convention like UEFI, COFF objects)
# and lld-link producing the PE32+ EFI application. Other modules can put
# files on the ESP under \mneme\ with X86_ESP_FILES += path.

X86 := platform/x86_64
X86_FONT ?= /usr/share/consolefonts/Lat15-Terminus16.psf.gz
X86_ESP_FILES ?=
# make image MODEL=path.gguf: a model on the ESP (\mneme\, loaded at boot)
X86_ESP_FILES += $(MODEL)
# make image CA=path.pem: CA certificates trusted for HTTPS (every
# \mneme\*.pem is added to the trust store at boot)
X86_ESP_FILES += $(CA)
# make image SERVE=1: the command line asks for the OpenAI-compatible
# server (llmserve/) on port SERVE_PORT (default 8080); make run SERVE=1
# forwards the host's 127.0.0.1:SERVE_HOST_PORT (default the same) to it.
SERVE ?=
SERVE_PORT ?= 8080
X86_CMDLINE = $(X86_IMG).esp/cmdline
# the image's path (tests make their own images beside the default)
X86_IMG ?= $(O)/mneme.img
X86_CONFIG_BIN = $(O)/config/x86_64.bin
X86_SRCS := $(addprefix $(X86)/,boot_arch.c main.c cpu.c apic.c paging.c serial.c \
              kbd.c plat.c mon_cpu.c libc.c console_svc.c fpu.c pci_plat.c smp.c clockrng.c entry.S trampoline.S) \
            $(addprefix platform/uefi/,boot.c string.c fbcon.c xprintf.c libm.c serial_svc.c port.c \
              efi_clockrng.c dev_words.c efivar.c chat_console.c start.c mon.c acpi.c console_port.c smp_par.c fpu_switch.c)
X86_LIBS := chat mnsettings llmserve llm llmremote infer llmapi virtio nvme usb usbdesc pci net httpsvc http tls bearssl httpparser net lwip net forthsvc services mnfs forth kernel mnheap config_x86_64 mnconfig sermux_frame postcard cobs mnerr

ifeq ($(ARCH),x86_64)
.PHONY: image qemu debug
image:
	$(MAKE) TARGET=x86_64 x86-image
qemu:
	@$(X86)/qemu.sh
debug:
	@DEBUG=1 $(X86)/qemu.sh
endif

ifeq ($(TARGET),x86_64)
X86_OK := $(and $(shell command -v clang 2>/dev/null),$(shell command -v lld-link 2>/dev/null),$(wildcard $(X86_FONT)))
ifeq ($(X86_OK),)
  $(info x86_64: clang, lld-link or the font $(X86_FONT) is missing: skipping the x86_64 target (make deps installs them))
  override ALL_OUTPUTS :=
.PHONY: x86-image
x86-image:
	@echo "x86_64: toolchain missing, no image (run make deps)"; exit 1
else
  CC := clang
  CFLAGS := -target x86_64-pc-cygwin -std=gnu11 -gdwarf-4 -O2 $(COMMON_WARN) \
            -Iinclude -I$(X86) -Iplatform/uefi/include -Iplatform/uefi -MMD -MP -DMN_X86_64=1 \
            -ffreestanding -nostdlibinc -fno-builtin-printf -fno-common \
            -fno-stack-protector -fno-stack-check -mno-stack-arg-probe \
            -mno-red-zone -fno-omit-frame-pointer
  LDFLAGS := /nologo /subsystem:efi_application /entry:efi_main \
             /nodefaultlib /opt:ref
  CFLAGS_$(X86)/libc.c := -fno-builtin
  CFLAGS_platform/uefi/string.c := -fno-builtin
  CFLAGS_platform/uefi/libm.c := -fno-builtin

$(O)/gen/font.c: $(X86_FONT) $(X86)/tools/psf2c.py
	@mkdir -p $(dir $@)
	python3 $(X86)/tools/psf2c.py $< $@

$(O)/gen/font.o: $(O)/gen/font.c
	$(CC) $(CFLAGS) -Iplatform/uefi -c $< -o $@

X86_OBJS := $(call objs,$(X86_SRCS)) $(O)/gen/font.o

# BOOTX64.EFI goes on the ESP without debug information (the firmware
# loads it faster); mneme.debug.efi is the same image with DWARF, for gdb.
$(O)/BOOTX64.EFI: $(X86_OBJS) $(call libpaths,$(X86_LIBS))
	lld-link $(LDFLAGS) /out:$@ $(X86_OBJS) $(call libpaths,$(X86_LIBS))
	lld-link $(LDFLAGS) /debug:dwarf /out:$(O)/mneme.debug.efi $(X86_OBJS) \
	  $(call libpaths,$(X86_LIBS))

-include $(patsubst %.o,%.d,$(X86_OBJS))

# The ESP: FAT32, at least 64 MiB, 16 MiB more than its files.
# The list of ESP files, rewritten when it changes (MODEL=... or not).
$(X86_IMG).files: FORCE
	@mkdir -p $(dir $@)
	@echo "$(X86_ESP_FILES)" | cmp -s - $@ || echo "$(X86_ESP_FILES)" > $@

# \mneme\cmdline: the platform's, plus serve=PORT with SERVE=1; rewritten
# when it changes.
$(X86_CMDLINE): $(X86)/cmdline FORCE
	@mkdir -p $(dir $@)
	@{ tr -d '\n' < $(X86)/cmdline; $(if $(filter 1 yes,$(SERVE)),printf ' serve=%s' '$(SERVE_PORT)';) echo; } > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@

$(X86_IMG): $(O)/BOOTX64.EFI $(X86_CMDLINE) $(X86_CONFIG_BIN) $(X86_ESP_FILES) $(X86_IMG).files $(X86)/tools/gpt.py
	rm -f $@.fat
	kb=$$(( $$(cat $(filter-out %.py %.files,$^) | wc -c) / 1024 + 16384 )); \
	  [ $$kb -ge 65536 ] || kb=65536; \
	  mkfs.fat -C -F 32 -s 1 -n MNEME $@.fat $$kb >/dev/null
	MTOOLS_SKIP_CHECK=1 mmd -i $@.fat ::/EFI ::/EFI/BOOT ::/mneme
	MTOOLS_SKIP_CHECK=1 mcopy -i $@.fat $(O)/BOOTX64.EFI ::/EFI/BOOT/BOOTX64.EFI
	MTOOLS_SKIP_CHECK=1 mcopy -i $@.fat $(X86_CMDLINE) $(X86_ESP_FILES) ::/mneme/
	MTOOLS_SKIP_CHECK=1 mcopy -i $@.fat $(X86_CONFIG_BIN) ::/mneme/config.bin
	python3 $(X86)/tools/gpt.py $@.fat $@
	rm -f $@.fat

.PHONY: x86-image x86-floor FORCE
FORCE:
x86-image: $(X86_IMG)

# The firmware floor of bench/boot.sh: an EFI app that prints a marker.
$(O)/bench/floor.efi: $(O)/bench/boot_floor.o
	lld-link $(LDFLAGS) /out:$@ $<

$(O)/bench/floor.img: $(O)/bench/floor.efi $(X86)/tools/gpt.py
	rm -f $@.fat
	mkfs.fat -C -F 32 -s 1 -n FLOOR $@.fat 65536 >/dev/null
	MTOOLS_SKIP_CHECK=1 mmd -i $@.fat ::/EFI ::/EFI/BOOT
	MTOOLS_SKIP_CHECK=1 mcopy -i $@.fat $< ::/EFI/BOOT/BOOTX64.EFI
	python3 $(X86)/tools/gpt.py $@.fat $@
	rm -f $@.fat

x86-floor: $(O)/bench/floor.img

ALL_OUTPUTS += $(O)/BOOTX64.EFI
endif
endif

TEST_SCRIPTS += tests/qemu/boot.sh
BENCH_SCRIPTS += bench/boot.sh

# Host unit tests of the platform's portable parts.
ifeq ($(HOSTED),yes)
$(eval $(call TEST,x86_kbd_test,test/x86_kbd_test.c platform/x86_64/kbd.c services/kbd_decode.c,mnerr))
$(eval $(call TEST,x86_fbcon_test,test/x86_fbcon_test.c platform/uefi/fbcon.c,mnerr))
$(eval $(call TEST,x86_libm_test,test/x86_libm_test.c platform/uefi/libm.c,mnerr))
CFLAGS_platform/uefi/libm.c := -fno-builtin -Iplatform/uefi/include
CFLAGS_test/x86_libm_test.c := -fno-builtin
endif
TEST_SCRIPTS += test/x86_fuzz.sh
FUZZ_SCRIPTS += test/x86_fuzz.sh
