/*
 * boot.h: what the UEFI loader (boot.c) gathered before it left boot
 * services, for the rest of the x86_64 platform.
 */
#ifndef MNEME_X86_BOOT_H
#define MNEME_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/platform.h"

#define BOOT_MAX_REGIONS 256
#define BOOT_MAX_FILES 16
#define BOOT_MAX_SECTIONS 16

struct boot_fb {
  uintptr_t base;        /* 0: no framebuffer */
  size_t size;
  uint32_t width, height, stride; /* stride in pixels */
  int bgr;               /* 1: blue in the low byte (BGRX), 0: RGBX */
};

struct boot_file {
  char name[64];         /* path below \mneme\ on the ESP, ASCII */
  const uint8_t *data;
  size_t size;
};

/* A model file (*.gguf) that was not loaded: larger than the memory. */
struct boot_refused {
  char name[64];
  uint64_t size;         /* the file's bytes */
  uint64_t avail;        /* the largest free region at the time */
};

struct boot_section {    /* a PE section of the loaded image */
  uintptr_t base;
  size_t size;
  int exec, write;
};

struct boot_rt_region { /* the firmware's runtime code and data */
  uint64_t base, size;
  int code;
};
#define BOOT_MAX_RT 32

struct uefi_boot {
  struct boot_info info;                        /* for kernel_init() */
  struct mem_region regions[BOOT_MAX_REGIONS];  /* usable RAM (heap) */
  uint64_t ram_total;    /* bytes of usable RAM given to the kernel */
  uint64_t phys_top;     /* highest address in the memory map */
  struct boot_fb fb;
  uintptr_t rsdp;        /* ACPI RSDP, 0 if the firmware had none */
  uintptr_t image_base;
  size_t image_size;
  struct boot_section sections[BOOT_MAX_SECTIONS];
  size_t nsections;
  struct boot_file files[BOOT_MAX_FILES];
  size_t nfiles;
  struct boot_refused refused[4];
  size_t nrefused;
  char cmdline[256];
  uint8_t *arena;        /* loader-owned pages for page tables etc. */
  size_t arena_size, arena_used;
  uint64_t tsc_entry;    /* TSC at efi_main */
  uintptr_t trampoline;  /* a page below 1 MiB for starting the APs, or 0 */
  /* read just before ExitBootServices (efi_clockrng.c) */
  int64_t efi_time_s;    /* UEFI GetTime as Unix seconds, or INT64_MIN */
  uint8_t efi_rng[64];   /* EFI_RNG_PROTOCOL's bytes */
  size_t efi_rng_len;    /* 0: no such protocol, or it failed */
  void *runtime;         /* efi_runtime_services (efivar.c), or NULL */
  struct boot_rt_region rt[BOOT_MAX_RT];
  size_t nrt;
};

/* Reads the clock (GetTime) and 64 bytes from EFI_RNG_PROTOCOL into
 * uefi_boot while boot services are up (efi_clockrng.c; also aarch64's). */
void efi_clockrng_collect(void *system_table);
/* After kernel_init (efi_clockrng.c): sets the wall clock from GetTime's
 * reading, checked against the platform's RTC (rtc, or rtc_err when it
 * has none), else from the RTC, and says which in the log. */
void uefi_clock_set(int rtc_err, int64_t rtc, const char *rtc_name);
/* Mixes the EFI_RNG_PROTOCOL bytes into the entropy pool and wipes them;
 * 1 if there were some. */
int uefi_entropy_from_efi(void);
/* An entropy source's body over a cycle counter: len bytes of timing
 * jitter of a memory walk of walk_steps steps per byte, *bits credited. */
size_t uefi_jitter(void *buf, size_t len, unsigned *bits, uint64_t (*counter)(void),
                   unsigned walk_steps);

extern struct uefi_boot uefi_boot;

/*
 * Takes size bytes (4 KiB aligned, zeroed) from the loader arena, memory
 * the kernel heap never sees. Returns NULL when the arena is exhausted.
 */
void *boot_alloc(size_t size);

/* Returns the file loaded from \mneme\<name> on the ESP, or NULL. */
const struct boot_file *boot_file(const char *name);

/* Returns the first model (a *.gguf file) loaded from \mneme\, or NULL.
 * Models are loaded 2 MiB aligned into pages the kernel heap never sees. */
const struct boot_file *boot_model(void);

/* The time and entropy services' sources (clockrng.c): sets the clock,
 * registers RDSEED/RDRAND/TSC jitter and EFI_RNG_PROTOCOL's bytes, starts
 * the entropy service. After kernel_init. */
int x86_clockrng_start(void);
/* The CMOS RTC as Unix seconds: 0 or MN_EIO. */
int x86_cmos_time(int64_t *out);

/* Platform main, entered on the kernel stack after ExitBootServices. */
_Noreturn void x86_main(void);

#endif
