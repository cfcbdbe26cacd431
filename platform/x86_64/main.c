/*
 * main.c: x86_main, entered by boot.c on the kernel stack with boot
 * services gone: brings up the CPU tables, paging, the consoles, the
 * APICs and timer, the UART and keyboard interrupts; hands every usable
 * memory region to kernel_init(); then platform/uefi/start.c starts the
 * services the configuration (config/x86_64.toml, or \mneme\config.bin
 * on the ESP) lists, with COM1 as the serial port and the console port
 * (framebuffer + PS/2 keyboard), and a Forth shell on each of the two
 * (services/forth_shell.c; the platform's diagnostic words from mon.c).
 *
 * Interface: x86_main (boot.h).
 */
#include "apic.h"
#include "boot.h"
#include "console_svc.h"
#include "cpu.h"
#include "fbcon.h"
#include "kbd.h"
#include "mneme/config.h"
#include "mneme/err.h"
#include "mneme/forth_task.h"
#include "mneme/kernel.h"
#include "mneme/log.h"
#include "mneme/platform.h"
#include "paging.h"
#include "serial.h"
#include "serial_svc.h"
#include "smp.h"
#include "start.h"
#include "x86.h"
#include "xprintf.h"

static void route(unsigned irq, void (*h)(void), const char *what) {
  int gsi = apic_route_isa(irq);
  if (gsi < 0) {
    xprintf("warning: cannot route IRQ %u (%s): %s\n", irq, what, mn_strerror(gsi));
    return;
  }
  cpu_set_irq_handler((unsigned)gsi, h);
}

static uint64_t us_since_entry(void) { return apic_tsc_to_ns(rdtsc()) / 1000; }

static const struct uefi_start_ops start_ops = {
    .start_cores = smp_start,
    .par = smp_par,
    .console_start = x86_console_start,
    .us_since_entry = us_since_entry,
};

static struct mn_config cfg;

_Noreturn void x86_main(void) {
  apic_calibrate_start();
  serial_init();
  uefi_serial_early_init();
  x86_console_early_init();
  cpu_init();
  int rc = paging_init();
  if (rc) xprintf("warning: paging: %s (running on firmware tables)\n", mn_strerror(rc));
  fbcon_init(&uefi_boot.fb);
  xprintf("\033[1mmneme\033[0m x86_64 (UEFI) image at %p\n", (void *)uefi_boot.image_base);
  rc = apic_init(uefi_boot.rsdp);
  if (rc) xprintf("warning: no APIC/ACPI MADT (%s): no interrupts\n", mn_strerror(rc));
  route(4, uefi_serial_irq, "COM1");
  route(1, x86_console_kbd_irq, "keyboard");
  serial_irq_on();
  if (kbd_init()) xprintf("warning: no PS/2 keyboard controller\n");
  xprintf("memory: %lu MiB usable in %zu regions; framebuffer %ux%u; cmdline '%s'\n",
          uefi_boot.ram_total >> 20, uefi_boot.info.nregions, uefi_boot.fb.width,
          uefi_boot.fb.height, uefi_boot.cmdline);
  uefi_config_load(&cfg, MN_PLATFORM_X86_64, "x86_64");
  forth_task_configure(mn_config_find(&cfg, MN_SVC_FORTH_SHELLS));
  klog_set_level(cfg.kernel.log_level);
  if (kernel_init(&uefi_boot.info)) {
    xprintf("mneme: kernel_init failed: not enough memory\n");
    plat_halt(1);
  }
  if (x86_clockrng_start()) xprintf("warning: cannot start the entropy service\n");
  if (uefi_start(&start_ops, &cfg)) {
    xprintf("mneme: cannot start the first task\n");
    plat_halt(1);
  }
  __asm__ volatile("sti");
  plat_halt(kernel_run());
}
