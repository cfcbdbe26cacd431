/*
 * mmu.c: builds and installs the identity map (see mmu.h); stack guard
 * pages (plat_stack_guard).
 *
 * Translation: 48-bit input addresses (T0SZ 16), 4 KiB granule, walks
 * from level 0; 1 GiB blocks for device space, 2 MiB blocks for RAM,
 * 4 KiB pages where attributes change inside a block (the image, the
 * framebuffer's edges, guard pages). Blocks are split on demand. Tables
 * come from the loader arena (boot_alloc), which the kernel heap never
 * sees. MAIR: 0 device nGnRE, 1 normal write-back, 2 normal
 * non-cacheable. A guard page is an invalid descriptor carrying a
 * software mark (bit 55), so a fault there is known as a stack overflow.
 *
 * Interface: mmu_init, mmu_regs, mmu_is_mapped, mmu_is_device, mmu_is_guard, mmu_table_pages,
 * plat_stack_guard.
 */
#include "mmu.h"

#include <string.h>

#include "a64.h"
#include "boot.h"
#include "mneme/err.h"
#include "mneme/platform.h"

#define PAGE 4096ull
#define BLOCK2M (2ull << 20)
#define BLOCK1G (1ull << 30)
#define MAP_TOP MMU_MAP_TOP

#define D_VALID 1ull
#define D_TABLE 3ull  /* table (levels 0-2) or page (level 3) */
#define D_BLOCK 1ull
#define D_ATTR(i) ((uint64_t)(i) << 2)
#define D_RO (1ull << 7)
#define D_SH_INNER (3ull << 8)
#define D_AF (1ull << 10)
#define D_PXN (1ull << 53)
#define D_UXN (1ull << 54)
#define D_GUARD (1ull << 55) /* software: a stack guard page */
#define D_ADDR 0x0000fffffffff000ull

#define A_DEVICE (D_ATTR(0) | D_AF | D_PXN | D_UXN)
#define A_NORMAL (D_ATTR(1) | D_AF | D_SH_INNER | D_PXN | D_UXN)
#define A_NC (D_ATTR(2) | D_AF | D_SH_INNER | D_PXN | D_UXN)
#define A_CODE (D_ATTR(1) | D_AF | D_SH_INNER | D_RO)
#define A_RODATA (A_NORMAL | D_RO)
#define A_FWCODE (D_ATTR(1) | D_AF | D_SH_INNER) /* the firmware's runtime code: RWX */

static uint64_t *l0;
static uint64_t regs[4]; /* TTBR0, TCR, MAIR, SCTLR in use */
static int live; /* the tables are in use: changes follow break-before-make */
static unsigned pages_used;
static int nomem;

static uint64_t *new_table(void) {
  uint64_t *t = boot_alloc(PAGE);
  if (!t) nomem = 1;
  else pages_used++;
  return t;
}

static unsigned idx(uint64_t va, int level) {
  return (unsigned)(va >> (39 - 9 * level)) & 511;
}

/* The next-level table under *e, splitting a block into 512 entries of
 * the next level with the same attributes (size: the new entries' span). */
static uint64_t *descend(uint64_t *e, uint64_t size, int last) {
  if ((*e & 3) == D_TABLE) return (uint64_t *)(*e & D_ADDR);
  uint64_t *t = new_table();
  if (!t) return NULL;
  uint64_t base = *e & D_ADDR & ~(size * 512 - 1);
  if (*e & D_VALID) {
    uint64_t attrs = *e & ~D_ADDR & ~3ull;
    for (int i = 0; i < 512; i++)
      t[i] = (base + i * size) | attrs | (last ? D_TABLE : D_BLOCK);
  }
  if (live && (*e & D_VALID)) {
    /* Break before make: invalid, the block's TLB entries gone, then the
     * table. No memory access in between (the running stack may be in
     * this very block), interrupts are off (plat_stack_guard). */
    __asm__ volatile("dsb ishst\n str xzr, [%0]\n dsb ishst\n tlbi vaae1is, %1\n"
                     "dsb ish\n str %2, [%0]\n dsb ishst\n isb"
                     : : "r"(e), "r"(base >> 12), "r"((uint64_t)t | D_TABLE) : "memory");
  } else {
    *e = (uint64_t)t | D_TABLE;
  }
  return t;
}

/* The level-3 (or level-2 when level == 2) entry for va, made on demand. */
static uint64_t *entry(uint64_t va, int level) {
  uint64_t *t = l0;
  static const uint64_t span[4] = {1ull << 39, BLOCK1G, BLOCK2M, PAGE};
  for (int l = 0; l < level; l++) {
    t = descend(&t[idx(va, l)], span[l + 1], l + 1 == 3);
    if (!t) return NULL;
  }
  return &t[idx(va, level)];
}

/* Maps [lo, hi) with attrs, 2 MiB blocks where aligned, else pages. */
static void map_range(uint64_t lo, uint64_t hi, uint64_t attrs) {
  lo &= ~(PAGE - 1);
  hi = (hi + PAGE - 1) & ~(PAGE - 1);
  while (lo < hi) {
    if (!(lo & (BLOCK2M - 1)) && hi - lo >= BLOCK2M) {
      uint64_t *e = entry(lo, 2);
      if (!e) return;
      *e = attrs ? (lo | attrs | D_BLOCK) : 0; /* a table under it is dropped */
      lo += BLOCK2M;
    } else {
      uint64_t *e = entry(lo, 3);
      if (!e) return;
      *e = lo | attrs | (attrs ? D_TABLE : 0);
      lo += PAGE;
    }
  }
}

/* The descriptor that maps va (a block or page), or 0 (invalid). */
static uint64_t lookup(uint64_t va) {
  if (!l0 || va >= MAP_TOP) return 0;
  uint64_t *t = l0;
  for (int l = 0; l < 4; l++) {
    uint64_t e = t[idx(va, l)];
    if (!(e & D_VALID)) return e; /* invalid: keeps the guard mark */
    if (l == 3 || (e & 3) == D_BLOCK) return e;
    t = (uint64_t *)(e & D_ADDR);
  }
  return 0;
}

int mmu_is_mapped(uint64_t va) {
  if (!l0) return va >= PAGE; /* the firmware's map */
  return (lookup(va) & D_VALID) != 0;
}

int mmu_is_device(uint64_t va) {
  uint64_t e = lookup(va);
  return (e & D_VALID) && ((e >> 2) & 7) == 0; /* MAIR index 0: device nGnRE */
}

int mmu_is_guard(uint64_t va) {
  uint64_t e = lookup(va);
  return !(e & D_VALID) && (e & D_GUARD);
}

unsigned mmu_table_pages(void) { return pages_used; }

int mmu_regs(uint64_t out[4]) {
  if (!live) return MN_ENOTSUP;
  for (int i = 0; i < 4; i++) out[i] = regs[i];
  return 0;
}

int mmu_init(void) {
  l0 = new_table();
  if (!l0) return MN_ENOMEM;
  /* Everything: device memory in 1 GiB blocks. */
  for (uint64_t a = 0; a < MAP_TOP; a += BLOCK1G) {
    uint64_t *e = entry(a, 1);
    if (!e) break;
    *e = a | A_DEVICE | D_BLOCK;
  }
  for (size_t i = 0; i < a64_nram; i++) {
    uint64_t lo = a64_ram[i].base, hi = lo + a64_ram[i].size;
    if (hi > MAP_TOP) hi = MAP_TOP;
    if (lo < hi) map_range(lo, hi, A_NORMAL);
  }
  map_range(0, BLOCK2M, 0); /* page 0 and the flash below 2 MiB */
  if (uefi_boot.fb.base)
    map_range(uefi_boot.fb.base, uefi_boot.fb.base + uefi_boot.fb.size, A_NC);
  /* The firmware's runtime services (efivar.c calls them in physical
   * mode): their code executable, their data writable. */
  for (size_t i = 0; i < uefi_boot.nrt; i++) {
    const struct boot_rt_region *r = &uefi_boot.rt[i];
    if (r->base + r->size <= MAP_TOP)
      map_range(r->base, r->base + r->size, r->code ? A_FWCODE : A_NORMAL);
  }
  /* The image: headers read-only, then each section by its flags. */
  map_range(uefi_boot.image_base, uefi_boot.image_base + PAGE, A_RODATA);
  for (size_t i = 0; i < uefi_boot.nsections; i++) {
    const struct boot_section *s = &uefi_boot.sections[i];
    uint64_t a = s->exec ? A_CODE : s->write ? A_NORMAL : A_RODATA;
    map_range(s->base, s->base + s->size, a);
  }
  /* The boot stack's guard page. */
  uint64_t *g = entry((uint64_t)a64_boot_stack, 3);
  if (g) *g = (uint64_t)a64_boot_stack | D_GUARD;
  if (nomem) {
    l0 = NULL;
    return MN_ENOMEM;
  }
  uint64_t pa = SYSREG_READ(id_aa64mmfr0_el1) & 0xf;
  if (pa > 5) pa = 5;
  uint64_t tcr = 16 | (1ull << 8) | (1ull << 10) | (3ull << 12) | (16ull << 16) |
                 (1ull << 23) | (pa << 32);
  uint64_t mair = 0x04 | (0xffull << 8) | (0x44ull << 16);
  uint64_t sctlr = SYSREG_READ(sctlr_el1);
  sctlr |= 1 | (1u << 2) | (1u << 12);  /* M, C, I */
  sctlr &= ~((1ull << 1) | (1ull << 19)); /* no alignment checks, no WXN */
  a64_mmu_enable((uint64_t)l0, tcr, mair, sctlr);
  regs[0] = (uint64_t)l0, regs[1] = tcr, regs[2] = mair, regs[3] = sctlr;
  live = 1;
  return 0;
}

static void tlb_flush_page(uint64_t va) {
  __asm__ volatile("dsb ishst\n tlbi vaae1is, %0\n dsb ish\n isb"
                   : : "r"(va >> 12) : "memory");
}

/*
 * plat_stack_guard: lo and size must be page multiples inside the
 * identity map. Returns 0, MN_EINVAL, MN_ENOMEM (no page-table pages
 * left) or MN_ENOTSUP before mmu_init.
 */
int plat_stack_guard(void *lo, size_t size, int on) {
  uint64_t a = (uint64_t)lo;
  if (!l0) return MN_ENOTSUP;
  if ((a | size) & (PAGE - 1) || size == 0 || a + size > MAP_TOP) return MN_EINVAL;
  unsigned long s = plat_irq_save();
  int rc = 0;
  for (uint64_t p = a; p < a + size; p += PAGE) {
    uint64_t *e = entry(p, 3);
    if (!e) {
      rc = MN_ENOMEM;
      break;
    }
    *e = on ? (p | D_GUARD) : (p | A_NORMAL | D_TABLE);
    tlb_flush_page(p);
  }
  plat_irq_restore(s);
  return rc;
}
