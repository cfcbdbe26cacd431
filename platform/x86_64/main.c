/*
 * main.c: x86_main, entered by boot.c on the kernel stack with boot
 * services gone: brings up the CPU tables, paging, the consoles, the
 * APICs and timer, the UART and keyboard interrupts; hands every usable
 * memory region to kernel_init(); registers the drivers as services
 * (COM1 as the serial port, framebuffer + keyboard as the console port);
 * starts the first task and runs the kernel.
 *
 * Interface: x86_main (boot.h).
 */
#include "apic.h"
#include "boot.h"
#include "console_svc.h"
#include "cpu.h"
#include "fbcon.h"
#include "kbd.h"
#include "mneme/err.h"
#include "mneme/kernel.h"
#include "mneme/log.h"
#include "mneme/platform.h"
#include "mneme/status.h"
#include "mneme/task.h"
#include "mneme/waitq.h"
#include "mon.h"
#include "paging.h"
#include "serial.h"
#include "serial_svc.h"
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

static int init_task(void *arg) {
  (void)arg;
  int err = status_start();
  if (err) klog(LOG_ERROR, "status service: %s", mn_strerror(err));
  err = task_spawn("shell", mon_task, 0, 32 * 1024, 0);
  if (err) klog(LOG_ERROR, "shell: %s", mn_strerror(err));
  return 0;
}

_Noreturn void x86_main(void) {
  apic_calibrate_start();
  serial_init();
  x86_serial_early_init();
  x86_console_early_init();
  cpu_init();
  int rc = paging_init();
  if (rc) xprintf("warning: paging: %s (running on firmware tables)\n", mn_strerror(rc));
  fbcon_init(&x86_boot.fb);
  xprintf("\033[1mmneme\033[0m x86_64 (UEFI) image at %p\n", (void *)x86_boot.image_base);
  rc = apic_init(x86_boot.rsdp);
  if (rc) xprintf("warning: no APIC/ACPI MADT (%s): no interrupts\n", mn_strerror(rc));
  route(4, x86_serial_irq, "COM1");
  route(1, x86_console_kbd_irq, "keyboard");
  serial_irq_on();
  if (kbd_init()) xprintf("warning: no PS/2 keyboard controller\n");
  xprintf("memory: %lu MiB usable in %zu regions; framebuffer %ux%u; cmdline '%s'\n",
          x86_boot.ram_total >> 20, x86_boot.info.nregions, x86_boot.fb.width,
          x86_boot.fb.height, x86_boot.cmdline);
  if (kernel_init(&x86_boot.info)) {
    xprintf("mneme: kernel_init failed: not enough memory\n");
    plat_halt(1);
  }
  rc = x86_serial_start();
  if (rc) klog(LOG_ERROR, "serial port service: %s", mn_strerror(rc));
  rc = x86_console_start();
  if (rc) klog(LOG_ERROR, "console port service: %s", mn_strerror(rc));
  if (task_spawn("init", init_task, 0, 0, 0)) {
    xprintf("mneme: cannot start the first task\n");
    plat_halt(1);
  }
  __asm__ volatile("sti");
  plat_halt(kernel_run());
}
