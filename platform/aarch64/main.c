/*
 * main.c: a64_main, entered by boot.c on the kernel stack with boot
 * services gone: installs the exception vectors, the MMU's identity map,
 * the consoles, the GIC and the generic timer, the PL011's receive
 * interrupt; hands every usable memory region to kernel_init(); then
 * platform/uefi/start.c starts the services the configuration
 * (config/aarch64.toml, or \mneme\config.bin on the ESP) lists, with the PL011 as the serial
 * port and the framebuffer console port, and a Forth shell on each of
 * the two (services/forth_shell.c; the platform's words from mon.c).
 *
 * Interface: a64_main (a64.h).
 */
#include "a64.h"
#include "boot.h"
#include "console_port.h"
#include "exc.h"
#include "fbcon.h"
#include "gic.h"
#include "gtimer.h"
#include "mmu.h"
#include "mneme/config.h"
#include "mneme/err.h"
#include "mneme/forth_task.h"
#include "mneme/kernel.h"
#include "mneme/log.h"
#include "mneme/platform.h"
#include "pl011.h"
#include "serial.h"
#include "serial_svc.h"
#include "smp.h"
#include "start.h"
#include "xprintf.h"

static uint64_t us_since_entry(void) {
  return gtimer_ticks_to_ns(a64_counter() - uefi_boot.tsc_entry) / 1000;
}

static const struct uefi_start_ops start_ops = {
    .start_cores = smp_start,
    .par = smp_par,
    .console_start = console_port_start,
    .us_since_entry = us_since_entry,
};

static struct mn_config cfg;

_Noreturn void a64_main(void) {
  SYSREG_WRITE(tpidr_el1, 0); /* smp_cpu_index: the first core */
  exc_init();
  /* First: entered from EL2, the MMU is off (all memory is device memory,
   * no unaligned accesses) until this. */
  int rc = mmu_init();
  gtimer_early_init();
  pl011_probe(uefi_boot.rsdp);
  serial_init();
  uefi_serial_early_init();
  if (rc) xprintf("warning: mmu: %s (running on the firmware's tables)\n", mn_strerror(rc));
  if (a64_entered_el2) xprintf("firmware ran at EL2: mneme runs at EL1\n");
  uefi_config_load(&cfg, MN_PLATFORM_AARCH64, "aarch64");
  forth_task_configure(mn_config_find(&cfg, MN_SVC_FORTH_SHELLS));
  if (cfg.platform.u.aarch64.framebuffer) fbcon_init(&uefi_boot.fb);
  xprintf("\033[1mmneme\033[0m aarch64 (UEFI) image at %p\n", (void *)uefi_boot.image_base);
  rc = gic_init(uefi_boot.rsdp);
  if (rc) xprintf("warning: no GIC in the ACPI MADT (%s): no interrupts\n", mn_strerror(rc));
  rc = gtimer_init(uefi_boot.rsdp);
  if (rc) xprintf("warning: timer interrupt: %s\n", mn_strerror(rc));
  if (gic_enable(pl011_irq_id(), uefi_serial_irq) == 0) serial_irq_on();
  xprintf("memory: %lu MiB usable in %zu regions; framebuffer %ux%u; GICv%d; "
          "cmdline '%s'\n", uefi_boot.ram_total >> 20, uefi_boot.info.nregions,
          uefi_boot.fb.width, uefi_boot.fb.height, gic_version(), uefi_boot.cmdline);
  klog_set_level(cfg.kernel.log_level);
  if (kernel_init(&uefi_boot.info)) {
    xprintf("mneme: kernel_init failed: not enough memory\n");
    plat_halt(1);
  }
  if (a64_clockrng_start()) xprintf("warning: cannot start the entropy service\n");
  if (uefi_start(&start_ops, &cfg)) {
    xprintf("mneme: cannot start the first task\n");
    plat_halt(1);
  }
  __asm__ volatile("msr daifclr, #2" ::: "memory");
  plat_halt(kernel_run());
}
