/*
 * boot.c: the UEFI entry point of both UEFI platforms (x86_64, aarch64).
 * While boot services are up it collects what the kernel needs: the
 * loaded image's sections (for W^X paging), the GOP framebuffer, the ACPI
 * RSDP, every file in \mneme\ on the ESP (the command line, the
 * configuration, models: 2 MiB aligned, refused when they would not leave
 * room for the kernel), the load options (a command line from the UEFI
 * shell) and a loader arena for page tables. Then it takes the final
 * memory map, exits boot services, turns every usable region of the map
 * (conventional memory and the boot services' code and data, now free)
 * into the kernel's heap regions and enters the platform
 * (boot_arch_enter: the kernel stack and the platform's main).
 *
 * The platform brings the hooks of boot_arch.h (platform/<arch>/boot_arch.c).
 *
 * Interface:
 *   efi_main(image, system_table)  the PE entry point
 *   boot_alloc(size)               pages from the loader arena
 *   boot_file(name)                a file read from \mneme\ on the ESP
 *   boot_model()                   the first *.gguf file, or NULL
 *   uefi_boot                       everything gathered (boot.h; the name is
 *                                  historical, the contents are UEFI's)
 */
#include "boot.h"

#include <string.h>

#include "boot_arch.h"
#include "efi.h"

struct uefi_boot uefi_boot;

#define ARENA_SIZE (4u << 20)


static efi_system_table *st;
static efi_boot_services *bs;

efi_status efi_main(efi_handle image, efi_system_table *systab);

static int guid_eq(const efi_guid *a, const efi_guid *b) {
  return memcmp(a, b, sizeof *a) == 0;
}

static void say(const char *s) {
  char16 buf[128];
  size_t i = 0;
  for (; *s && i < 126; s++) {
    if (*s == '\n') buf[i++] = '\r';
    buf[i++] = (char16)(uint8_t)*s;
  }
  buf[i] = 0;
  if (st->con_out) st->con_out->output_string(st->con_out, buf);
}

void *boot_alloc(size_t size) {
  size = (size + 4095) & ~(size_t)4095;
  if (uefi_boot.arena_size - uefi_boot.arena_used < size) return NULL;
  void *p = uefi_boot.arena + uefi_boot.arena_used;
  uefi_boot.arena_used += size;
  memset(p, 0, size);
  return p;
}

const struct boot_file *boot_file(const char *name) {
  for (size_t i = 0; i < uefi_boot.nfiles; i++)
    if (strcmp(uefi_boot.files[i].name, name) == 0) return &uefi_boot.files[i];
  return NULL;
}

static int is_model_name(const char *n) {
  size_t l = strlen(n);
  if (l < 5) return 0;
  const char *e = n + l - 5;
  return e[0] == '.' && (e[1] | 0x20) == 'g' && (e[2] | 0x20) == 'g' &&
         (e[3] | 0x20) == 'u' && (e[4] | 0x20) == 'f';
}

const struct boot_file *boot_model(void) {
  for (size_t i = 0; i < uefi_boot.nfiles; i++)
    if (is_model_name(uefi_boot.files[i].name)) return &uefi_boot.files[i];
  return NULL;
}

/* Records the PE sections of the running image (for paging.c). */
static void find_sections(const uint8_t *img) {
  uint32_t pe = *(const uint32_t *)(img + 0x3c);
  uint16_t nsec = *(const uint16_t *)(img + pe + 6);
  uint16_t optsz = *(const uint16_t *)(img + pe + 20);
  const uint8_t *sec = img + pe + 24 + optsz;
  for (uint16_t i = 0; i < nsec && uefi_boot.nsections < BOOT_MAX_SECTIONS;
       i++, sec += 40) {
    uint32_t vsize = *(const uint32_t *)(sec + 8);
    uint32_t va = *(const uint32_t *)(sec + 12);
    uint32_t ch = *(const uint32_t *)(sec + 36);
    struct boot_section *s = &uefi_boot.sections[uefi_boot.nsections++];
    s->base = (uintptr_t)img + va;
    s->size = vsize;
    s->exec = (ch & 0x20000000u) != 0;
    s->write = (ch & 0x80000000u) != 0;
  }
}

static void find_fb(void) {
  efi_guid g = EFI_GOP_GUID;
  efi_gop *gop = NULL;
  if (bs->locate_protocol(&g, NULL, (void **)&gop) != EFI_SUCCESS || !gop)
    return;
  efi_gop_mode_info *mi = gop->mode->info;
  if (mi->pixel_format != EFI_PIXEL_RGBX && mi->pixel_format != EFI_PIXEL_BGRX)
    return;
  uefi_boot.fb.base = gop->mode->fb_base;
  uefi_boot.fb.size = gop->mode->fb_size;
  uefi_boot.fb.width = mi->width;
  uefi_boot.fb.height = mi->height;
  uefi_boot.fb.stride = mi->pixels_per_line;
  uefi_boot.fb.bgr = mi->pixel_format == EFI_PIXEL_BGRX;
}

static void find_rsdp(void) {
  efi_guid g20 = EFI_ACPI20_GUID, g10 = EFI_ACPI10_GUID;
  for (uint64_t i = 0; i < st->n_tables; i++)
    if (guid_eq(&st->tables[i].guid, &g20)) {
      uefi_boot.rsdp = (uintptr_t)st->tables[i].table;
      return;
    }
  for (uint64_t i = 0; i < st->n_tables; i++)
    if (guid_eq(&st->tables[i].guid, &g10))
      uefi_boot.rsdp = (uintptr_t)st->tables[i].table;
}

/* Bytes in the largest run of free (conventional) memory, 0 if unknown. */
static uint64_t largest_free(void) {
  uint64_t size = 0, key, dsz, best = 0, run_lo = 0, run_hi = 0;
  uint32_t dver;
  uint8_t *map = NULL;
  bs->get_memory_map(&size, NULL, &key, &dsz, &dver);
  size += 16 * dsz;
  if (bs->allocate_pool(EFI_LOADER_DATA, size, (void **)&map) != EFI_SUCCESS) return 0;
  if (bs->get_memory_map(&size, (efi_memory_descriptor *)map, &key, &dsz, &dver) ==
      EFI_SUCCESS) {
    for (uint64_t off = 0; off + dsz <= size; off += dsz) {
      const efi_memory_descriptor *d = (const void *)(map + off);
      if (d->type != EFI_CONVENTIONAL) continue;
      uint64_t lo = d->phys, hi = d->phys + d->pages * 4096;
      if (lo == run_hi) run_hi = hi;
      else run_lo = lo, run_hi = hi;
      if (run_hi - run_lo > best) best = run_hi - run_lo;
    }
  }
  bs->free_pool(map);
  return best;
}

/* Memory a model must leave free for the kernel heap (KV caches, VMs). */
#define MODEL_RESERVE (32ull << 20)
#define MODEL_ALIGN (2ull << 20)

/* Reads one regular file of dir into loader pages (a model: 2 MiB
 * aligned, refused when it would not leave MODEL_RESERVE free).
 * Returns 0 or -1. */
static int load_file(efi_file *dir, const efi_file_info *fi) {
  struct boot_file *bf = &uefi_boot.files[uefi_boot.nfiles];
  size_t n = 0;
  for (const char16 *c = fi->name; *c; c++) {
    if (*c > 0x7e || n + 1 >= sizeof bf->name) return -1;
    bf->name[n++] = (char)*c;
  }
  bf->name[n] = 0;
  efi_file *f;
  if (dir->open(dir, &f, fi->name, EFI_FILE_MODE_READ, 0) != EFI_SUCCESS)
    return -1;
  uint64_t phys = 0, size = fi->file_size, extra = 0;
  int rc = -1;
  if (is_model_name(bf->name)) {
    uint64_t avail = largest_free();
    if (size + MODEL_ALIGN + MODEL_RESERVE > avail) {
      if (uefi_boot.nrefused < sizeof uefi_boot.refused / sizeof uefi_boot.refused[0]) {
        struct boot_refused *r = &uefi_boot.refused[uefi_boot.nrefused++];
        memcpy(r->name, bf->name, sizeof r->name);
        r->size = size;
        r->avail = avail;
      }
      say("mneme: a model is larger than the memory: not loaded\n");
      f->close(f);
      return -1;
    }
    extra = MODEL_ALIGN;
  }
  if (bs->allocate_pages(EFI_ALLOCATE_ANY, EFI_LOADER_DATA,
                         (size + extra + 4096) / 4096, &phys) == EFI_SUCCESS &&
      (phys = extra ? (phys + extra - 1) & ~(extra - 1) : phys, 1) &&
      f->read(f, &size, (void *)(uintptr_t)phys) == EFI_SUCCESS) {
    ((uint8_t *)(uintptr_t)phys)[size] = 0; /* text files end in NUL */
    bf->data = (const uint8_t *)(uintptr_t)phys;
    bf->size = size;
    uefi_boot.nfiles++;
    rc = 0;
  }
  f->close(f);
  return rc;
}

/* Loads every regular file of \mneme\ on the boot volume. */
static void load_files(efi_handle device) {
  efi_guid gfs = EFI_SIMPLE_FS_GUID;
  efi_simple_fs *fs;
  efi_file *root, *dir;
  if (bs->handle_protocol(device, &gfs, (void **)&fs) != EFI_SUCCESS) return;
  if (fs->open_volume(fs, &root) != EFI_SUCCESS) return;
  if (root->open(root, &dir, u"\\mneme", EFI_FILE_MODE_READ, 0) ==
      EFI_SUCCESS) {
    uint64_t buf[128];
    for (;;) {
      uint64_t size = sizeof buf;
      if (dir->read(dir, &size, buf) != EFI_SUCCESS || size == 0) break;
      const efi_file_info *fi = (const efi_file_info *)buf;
      if (fi->attr & EFI_FILE_DIRECTORY) continue;
      if (uefi_boot.nfiles == BOOT_MAX_FILES) break;
      load_file(dir, fi);
    }
    dir->close(dir);
  }
  root->close(root);
}

static void set_cmdline(void) {
  const struct boot_file *f = boot_file("cmdline");
  if (!f) return;
  size_t n = 0;
  for (size_t i = 0; i < f->size && n + 1 < sizeof uefi_boot.cmdline; i++) {
    char c = (char)f->data[i];
    if (c == '\r' || c == '\n') c = ' ';
    uefi_boot.cmdline[n++] = c;
  }
  while (n > 0 && uefi_boot.cmdline[n - 1] == ' ') n--;
  uefi_boot.cmdline[n] = 0;
  uefi_boot.info.cmdline = uefi_boot.cmdline;
}

/*
 * Load options given by a UEFI shell (`fs0:\EFI\BOOT\BOOTX64.EFI opt=1`)
 * are UCS-2 text starting with the program's name: the rest replaces
 * the command line of \mneme\cmdline. Binary options (a boot entry's
 * optional data) are ignored.
 */
static void take_load_options(const efi_loaded_image *li) {
  const char16 *o = li->load_options;
  size_t n = li->load_options_size / 2;
  if (!o || n == 0) return;
  char buf[sizeof uefi_boot.cmdline];
  size_t len = 0;
  for (size_t i = 0; i < n && o[i]; i++) {
    if (o[i] < 0x20 || o[i] > 0x7e) return;
    if (len + 1 < sizeof buf) buf[len++] = (char)o[i];
  }
  buf[len] = 0;
  const char *args = strchr(buf, ' ');
  if (!args) return;
  while (*args == ' ') args++;
  size_t k = 0;
  for (; args[k] && k + 1 < sizeof uefi_boot.cmdline; k++) uefi_boot.cmdline[k] = args[k];
  uefi_boot.cmdline[k] = 0;
  uefi_boot.info.cmdline = uefi_boot.cmdline;
}

static int usable_type(uint32_t t) {
  return t == EFI_CONVENTIONAL || t == EFI_BS_CODE || t == EFI_BS_DATA;
}

/* Turns the final memory map into merged heap regions (no page 0). */
static void build_regions(const uint8_t *map, uint64_t size, uint64_t dsz) {
  size_t n = 0;
  uint64_t total = 0, top = 0;
  for (uint64_t off = 0; off + dsz <= size; off += dsz) {
    const efi_memory_descriptor *d = (const void *)(map + off);
    uint64_t lo = d->phys, hi = d->phys + d->pages * 4096;
    if (hi > top) top = hi;
    boot_arch_memory(lo, hi, d->type);
    if ((d->type == EFI_RT_CODE || d->type == EFI_RT_DATA) && uefi_boot.nrt < BOOT_MAX_RT) {
      struct boot_rt_region *r = &uefi_boot.rt[uefi_boot.nrt++];
      r->base = lo;
      r->size = hi - lo;
      r->code = d->type == EFI_RT_CODE;
    }
    if (!usable_type(d->type)) continue;
    if (lo == 0) lo = 4096;
    if (hi <= lo) continue;
    total += hi - lo;
    if (n > 0 && uefi_boot.regions[n - 1].base + uefi_boot.regions[n - 1].size ==
                     lo) {
      uefi_boot.regions[n - 1].size += hi - lo;
    } else if (n < BOOT_MAX_REGIONS) {
      uefi_boot.regions[n].base = lo;
      uefi_boot.regions[n].size = hi - lo;
      n++;
    } else {
      total -= hi - lo; /* more fragments than slots: left unused */
    }
  }
  uefi_boot.info.regions = uefi_boot.regions;
  uefi_boot.info.nregions = n;
  uefi_boot.ram_total = total;
  uefi_boot.phys_top = top;
}

/* Takes the memory map and exits boot services (retrying once). */
static int exit_boot(efi_handle image) {
  uint64_t size = 0, key, dsz;
  uint32_t dver;
  uint8_t *map = NULL;
  bs->get_memory_map(&size, NULL, &key, &dsz, &dver);
  size += 32 * sizeof(efi_memory_descriptor) + 32 * dsz;
  if (bs->allocate_pool(EFI_LOADER_DATA, size, (void **)&map) != EFI_SUCCESS)
    return -1;
  for (int tries = 0; tries < 3; tries++) {
    uint64_t msize = size;
    if (bs->get_memory_map(&msize, (efi_memory_descriptor *)map, &key, &dsz,
                           &dver) != EFI_SUCCESS)
      return -1;
    if (bs->exit_boot_services(image, key) == EFI_SUCCESS) {
      build_regions(map, msize, dsz);
      return 0;
    }
  }
  return -1;
}

efi_status efi_main(efi_handle image, efi_system_table *systab) {
  uefi_boot.tsc_entry = boot_arch_counter();
  st = systab;
  bs = st->boot_services;
  bs->set_watchdog_timer(0, 0, 0, NULL);

  efi_guid gli = EFI_LOADED_IMAGE_GUID;
  efi_loaded_image *li = NULL;
  if (bs->handle_protocol(image, &gli, (void **)&li) != EFI_SUCCESS) {
    say("mneme: no loaded image protocol\n");
    return EFI_ERR(1);
  }
  uefi_boot.runtime = st->runtime_services;
  uefi_boot.image_base = (uintptr_t)li->image_base;
  uefi_boot.image_size = li->image_size;
  find_sections(li->image_base);
  find_fb();
  find_rsdp();
  load_files(li->device);
  set_cmdline();
  take_load_options(li);
  const struct boot_file *cfg = boot_file("config.bin");
  if (cfg) {
    uefi_boot.info.config = cfg->data;
    uefi_boot.info.config_len = cfg->size;
  }
  uint64_t arena = 0;
  if (bs->allocate_pages(EFI_ALLOCATE_ANY, EFI_LOADER_DATA, ARENA_SIZE / 4096,
                         &arena) != EFI_SUCCESS) {
    say("mneme: cannot allocate the loader arena\n");
    return EFI_ERR(9);
  }
  uefi_boot.arena = (uint8_t *)(uintptr_t)arena;
  boot_arch_prepare(bs);
  uefi_boot.arena_size = ARENA_SIZE;
  efi_clockrng_collect(st); /* last, so the time is as fresh as can be */
  if (exit_boot(image) != 0) {
    say("mneme: ExitBootServices failed\n");
    return EFI_ERR(1);
  }
  /* No firmware from here on. */
  boot_arch_enter(); /* no return */
  return EFI_SUCCESS; /* not reached */
}
