/*
 * paging.c: four-level page tables built from the loader arena. All
 * physical memory (at least the first 4 GiB, which holds the APICs, HPET
 * and usually the framebuffer) is identity-mapped with 2 MiB pages,
 * writable and non-executable. The PE sections of mneme.efi are remapped
 * with 4 KiB pages: code read-only and executable, read-only data
 * read-only, data writable; all but code non-executable. The framebuffer
 * is write-combining (PAT entry 1), which matters on real hardware. Page 0 and the
 * page below the boot stack are unmapped. A guard page is a non-present
 * entry carrying a software mark, so the page-fault dump can say "stack
 * overflow".
 *
 * Interface: paging_init, paging_map_uc, paging_is_mapped, paging_is_guard,
 * plat_stack_guard.
 */
#include "paging.h"

#include <string.h>

#include "boot.h"
#include "mneme/err.h"
#include "mneme/platform.h"
#include "x86.h"

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PWT 0x8ull /* with the PAT set up below: write-combining */
#define PTE_PCD 0x10ull /* with PWT: PAT entry 3, uncached (device memory) */
#define PTE_PS 0x80ull
#define PTE_GUARD 0x200ull /* software bit (available to the OS) */
#define PTE_ADDR 0x000ffffffffff000ull
#define PAGE 4096ull
#define BIG (2ull << 20)

static uint64_t *pml4;
static uint64_t nx; /* bit 63 when the CPU has NX, else 0 */

extern uint8_t x86_boot_stack[];

static uint64_t *new_table(void) { return boot_alloc(PAGE); }

/* Returns the page-directory entry slot for va, creating tables. */
static uint64_t *pde_slot(uint64_t va) {
  uint64_t *t = pml4;
  for (int shift = 39; shift > 21; shift -= 9) {
    uint64_t *e = &t[(va >> shift) & 511];
    if (!(*e & PTE_P)) {
      uint64_t *n = new_table();
      if (!n) return NULL;
      *e = (uint64_t)n | PTE_P | PTE_W;
    }
    t = (uint64_t *)(*e & PTE_ADDR);
  }
  return &t[(va >> 21) & 511];
}

/* Returns the 4 KiB entry for va, splitting its 2 MiB page if needed. */
static uint64_t *pte_slot(uint64_t va) {
  uint64_t *pde = pde_slot(va);
  if (!pde) return NULL;
  if (!(*pde & PTE_P) || (*pde & PTE_PS)) {
    uint64_t *pt = new_table();
    if (!pt) return NULL;
    if (*pde & PTE_P) {
      uint64_t base = *pde & PTE_ADDR & ~(BIG - 1);
      uint64_t fl = *pde & (PTE_W | nx | PTE_P);
      for (int i = 0; i < 512; i++) pt[i] = (base + i * PAGE) | fl;
    }
    *pde = (uint64_t)pt | PTE_P | PTE_W;
  }
  return &((uint64_t *)(*pde & PTE_ADDR))[(va >> 12) & 511];
}

static int map_big(uint64_t lo, uint64_t hi) {
  for (uint64_t a = lo & ~(BIG - 1); a < hi; a += BIG) {
    uint64_t *e = pde_slot(a);
    if (!e) return MN_ENOMEM;
    if (!(*e & PTE_P)) *e = a | PTE_P | PTE_W | PTE_PS | nx;
  }
  return 0;
}

static int set_pages(uint64_t lo, uint64_t hi, uint64_t flags) {
  for (uint64_t a = lo & ~(PAGE - 1); a < hi; a += PAGE) {
    uint64_t *e = pte_slot(a);
    if (!e) return MN_ENOMEM;
    *e = flags ? (a | flags) : 0;
  }
  return 0;
}

int paging_init(void) {
  uint32_t r[4];
  cpuid(0x80000000u, 0, r);
  if (r[0] >= 0x80000001u) {
    cpuid(0x80000001u, 0, r);
    if (r[3] & (1u << 20)) nx = 1ull << 63;
  }
  pml4 = new_table();
  if (!pml4) return MN_ENOMEM;
  uint64_t top = uefi_boot.phys_top > (4ull << 30) ? uefi_boot.phys_top : (4ull << 30);
  int rc = map_big(0, top);
  const struct boot_fb *fb = &uefi_boot.fb;
  if (!rc && fb->base) rc = map_big(fb->base, fb->base + fb->size);
  /* The framebuffer write-combining: PAT entry 1 (PWT) becomes WC. */
  if (!rc && fb->base) {
    wrmsr(0x277, (rdmsr(0x277) & ~0xff00ull) | 0x0100ull);
    rc = set_pages(fb->base, fb->base + fb->size, PTE_P | PTE_W | PTE_PWT | nx);
  }
  if (!rc) rc = set_pages(0, PAGE, 0); /* NULL faults */
  /* The firmware's runtime code stays executable (efivar.c calls it). */
  for (size_t i = 0; i < uefi_boot.nrt && !rc; i++)
    if (uefi_boot.rt[i].code)
      rc = set_pages(uefi_boot.rt[i].base, uefi_boot.rt[i].base + uefi_boot.rt[i].size,
                     PTE_P | PTE_W);
  /* The image: headers and sections with their own permissions. */
  uint64_t ib = uefi_boot.image_base;
  if (!rc) rc = set_pages(ib, ib + PAGE, PTE_P | nx);
  for (size_t i = 0; i < uefi_boot.nsections && !rc; i++) {
    const struct boot_section *s = &uefi_boot.sections[i];
    uint64_t fl = PTE_P | (s->write ? PTE_W : 0) | (s->exec ? 0 : nx);
    if (s->exec) fl &= ~PTE_W;
    rc = set_pages(s->base, s->base + s->size, fl);
  }
  /* The APs' start page: they run its code with these tables (smp.c). */
  if (!rc && uefi_boot.trampoline)
    rc = set_pages(uefi_boot.trampoline, uefi_boot.trampoline + PAGE, PTE_P | PTE_W);
  if (!rc) rc = set_pages((uint64_t)x86_boot_stack, (uint64_t)x86_boot_stack + PAGE,
                          0);
  if (rc) return rc;
  *pte_slot((uint64_t)x86_boot_stack) = (uint64_t)x86_boot_stack | PTE_GUARD;
  if (nx) wrmsr(0xc0000080u, rdmsr(0xc0000080u) | (1ull << 11));
  write_cr0(read_cr0() | (1ull << 16)); /* WP: read-only binds ring 0 too */
  write_cr3((uint64_t)pml4);
  return 0;
}

/*
 * Device memory: [phys, phys + size) identity-mapped uncached (PAT entry
 * 3), writable, NX. 2 MiB pages where the range covers a whole one or
 * the page is already a big page (the rest of a 2 MiB page around a
 * device window is never RAM on PCs), else the 4 KiB entries.
 */
int paging_map_uc(uint64_t phys, uint64_t size) {
  if (!pml4) return 0; /* firmware tables: identity, MTRRs decide */
  uint64_t end = phys + size;
  if (end < phys || end > (1ull << 46)) return MN_ERANGE;
  unsigned long s = plat_irq_save();
  int rc = 0;
  const uint64_t uc = PTE_P | PTE_W | PTE_PCD | PTE_PWT | nx;
  for (uint64_t a = phys & ~(BIG - 1); a < end && !rc; a += BIG) {
    uint64_t *pde = pde_slot(a);
    if (!pde) {
      rc = MN_ENOMEM;
      break;
    }
    if (!(*pde & PTE_P) || (*pde & PTE_PS)) {
      *pde = a | PTE_PS | uc;
      continue;
    }
    uint64_t lo = a < phys ? phys & ~(PAGE - 1) : a;
    uint64_t hi = a + BIG < end ? a + BIG : end;
    for (uint64_t p = lo; p < hi; p += PAGE) {
      uint64_t *e = pte_slot(p);
      if (!e) {
        rc = MN_ENOMEM;
        break;
      }
      *e = p | uc;
    }
  }
  write_cr3(read_cr3()); /* flush the TLB */
  plat_irq_restore(s);
  return rc;
}

/* Returns the leaf entry for va (4 KiB or 2 MiB), or 0. */
static uint64_t leaf(uint64_t va) {
  if (!pml4) return PTE_P; /* firmware tables: identity, all present */
  uint64_t *t = pml4;
  for (int shift = 39; shift >= 12; shift -= 9) {
    uint64_t e = t[(va >> shift) & 511];
    if (!(e & PTE_P)) return shift == 12 ? e : 0;
    if (shift == 12 || (shift == 21 && (e & PTE_PS))) return e;
    t = (uint64_t *)(e & PTE_ADDR);
  }
  return 0;
}

int paging_is_mapped(uint64_t va) {
  if ((va >> 47) != 0 && (va >> 47) != 0x1ffff) return 0;
  return (leaf(va) & PTE_P) != 0;
}

int paging_is_guard(uint64_t va) {
  uint64_t e = leaf(va);
  return !(e & PTE_P) && (e & PTE_GUARD);
}

/*
 * plat_stack_guard: lo and size must be page multiples inside the
 * identity map. Returns 0, MN_EINVAL, MN_ENOMEM (no page-table pages
 * left) or MN_ENOTSUP before paging_init.
 */
int plat_stack_guard(void *lo, size_t size, int on) {
  uint64_t a = (uint64_t)lo;
  if (!pml4) return MN_ENOTSUP;
  if ((a | size) & (PAGE - 1) || size == 0) return MN_EINVAL;
  unsigned long s = plat_irq_save();
  int rc = 0;
  for (uint64_t p = a; p < a + size; p += PAGE) {
    uint64_t *e = pte_slot(p);
    if (!e) {
      rc = MN_ENOMEM;
      break;
    }
    *e = on ? (p | PTE_GUARD) : (p | PTE_P | PTE_W | nx);
    invlpg(p);
  }
  plat_irq_restore(s);
  return rc;
}
