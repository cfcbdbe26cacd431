/*
 * main.c: x86_main, entered by boot.c on the kernel stack with boot
 * services gone: brings up the CPU tables, paging, the consoles, the
 * APICs and timer, the UART and keyboard interrupts, reports the boot,
 * then runs the built-in monitor.
 *
 * Interface: x86_main (boot.h).
 */
#include "apic.h"
#include "boot.h"
#include "cpu.h"
#include "fbcon.h"
#include "kbd.h"
#include "mneme/err.h"
#include "mneme/platform.h"
#include "mon.h"
#include "paging.h"
#include "serial.h"
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

_Noreturn void x86_main(void) {
  serial_init();
  cpu_init();
  int rc = paging_init();
  if (rc) xprintf("warning: paging: %s (running on firmware tables)\n", mn_strerror(rc));
  fbcon_init(&x86_boot.fb);
  xprintf("\033[1mmneme\033[0m x86_64 (UEFI) image at %p\n", (void *)x86_boot.image_base);
  rc = apic_init(x86_boot.rsdp);
  if (rc) xprintf("warning: no APIC/ACPI MADT (%s): no interrupts\n", mn_strerror(rc));
  route(4, serial_irq, "COM1");
  route(1, kbd_irq, "keyboard");
  serial_irq_on();
  if (kbd_init()) xprintf("warning: no PS/2 keyboard controller\n");
  __asm__ volatile("sti");
  xprintf("memory: %lu MiB usable in %zu regions; framebuffer %ux%u; cmdline '%s'\n",
          x86_boot.ram_total >> 20, x86_boot.info.nregions, x86_boot.fb.width,
          x86_boot.fb.height, x86_boot.cmdline);
  xprintf("boot: %lu us from entry to prompt\n",
          apic_tsc_to_ns(rdtsc()) / 1000);
  mon_run();
}
