/*
 * main.c: a64_main, entered by boot.c on the kernel stack with boot
 * services gone: installs the exception vectors, the MMU's identity map,
 * the consoles, the GIC and the generic timer, the PL011's receive
 * interrupt; hands every usable memory region to kernel_init(); then the
 * first task starts the services the configuration (config/aarch64.toml,
 * or \mneme\config.bin on the ESP) lists, with the PL011 as the serial
 * port and the framebuffer console port, and a Forth shell on each of
 * the two (services/forth_shell.c; the platform's words from mon.c).
 *
 * Interface: a64_main (a64.h).
 */
#include <string.h>

#include "a64.h"
#include "boot.h"
#include "chat_console.h"
#include "console.h"
#include "console_port.h"
#include "exc.h"
#include "fbcon.h"
#include "gic.h"
#include "mmu.h"
#include "mneme/chat_words.h"
#include "mneme/config.h"
#include "mneme/err.h"
#include "mneme/files.h"
#include "mneme/forth_shell.h"
#include "mneme/forth_task.h"
#include "mneme/kernel.h"
#include "mneme/ktime.h"
#include "mneme/llm.h"
#include "mneme/log.h"
#include "mneme/net.h"
#include "mneme/nvme.h"
#include "mneme/pci.h"
#include "mneme/quant.h"
#include "mneme/platform.h"
#include "mneme/serial.h"
#include "mneme/svcstart.h"
#include "mneme/task.h"
#include "mneme/virtio.h"
#include "mneme/xhci.h"
#include "mon.h"
#include "pl011.h"
#include "serial.h"
#include "serial_svc.h"
#include "smp.h"
#include "gtimer.h"
#include "xprintf.h"

static struct mn_config cfg;

/* The chat starts llm-remote from the settings through a weak reference
 * (chat/chat_session.c): this one links llm-remote into the image. */
int (*const a64_llm_remote_link)(const struct llm_remote_config *) = llm_remote_start;

static int serial_hook(void *arg) {
  (void)arg;
  return x86_serial_start();
}

static int shells_hook(const uint16_t *ports, size_t n, void *arg) {
  (void)arg;
  return forth_shells_start(ports, n);
}

/* Starts one configured service (services/svcstart.c knows them all; the
 * platform brings its serial driver). Returns 0 or an MN_E* code. */
static int start_one(const struct mn_config_service *s) {
  static const struct svcstart_hooks hooks = {serial_hook, shells_hook, NULL, net_svcstart};
  int err = svcstart_one(&cfg, s, &hooks);
  if (err == MN_ENOTSUP) {
    klog(LOG_INFO, "%s: not part of this build", mn_service_name(s->kind));
    return 0;
  }
  return err;
}

/* A Forth shell on a port's rings; an empty line (CR) first, so its VM
 * starts now and ` ok` is the first prompt. */
static void shell_on(const char *what, struct bbq *rx, struct bbq *tx, int err) {
  if (!err) err = bbq_write_all(rx, "\r", 1, 0);
  if (!err) err = forth_console_start(rx, tx, LE_TERMINAL);
  if (err) klog(LOG_INFO, "no Forth shell on the %s: %s", what, mn_strerror(err));
}

/* The dot kernels the command line names (kernels=scalar, neon,
 * neon-dotprod: the benchmark's reference), else NULL (the fastest). */
static const struct quant_ops *cmdline_kernels(void) {
  const char *c = x86_boot.cmdline, *k = NULL;
  for (const char *p = c; *p; p++)
    if ((p == c || p[-1] == ' ') && strncmp(p, "kernels=", 8) == 0) k = p + 8;
  if (!k) return NULL;
  char name[16];
  size_t n = 0;
  while (k[n] && k[n] != ' ' && k[n] != '\n' && k[n] != '\r' && n + 1 < sizeof name) n++;
  memcpy(name, k, n);
  name[n] = 0;
  const struct quant_ops *o = quant_ops_named(name);
  if (!o) klog(LOG_WARN, "cmdline: kernels=%s: unknown or not for this CPU", name);
  return o;
}

/* The other cores, then llm-local over the model loaded from the ESP, if
 * any (a task of its own: the shells start meanwhile). */
static int cores_llm_task(void *arg) {
  (void)arg;
  smp_start();
  for (size_t i = 0; i < x86_boot.nrefused; i++) {
    const struct boot_refused *r = &x86_boot.refused[i];
    klog(LOG_ERROR, "model %s refused: %lu MiB does not fit in memory (largest free region "
         "%lu MiB, %lu MiB kept for the kernel)",
         r->name, (r->size + (1 << 20) - 1) >> 20, r->avail >> 20, 32ul);
  }
  const struct boot_file *f = boot_model();
  if (!f) return 0;
  struct llm_local_config lc = {.gguf = f->data, .gguf_size = f->size, .file_name = f->name,
                                .par = a64_par(), .ops = cmdline_kernels()};
  const char *why = NULL;
  int err = llm_local_start(&lc, &why);
  if (err)
    klog(LOG_ERROR, "model %s: %s (%s)", f->name, why ? why : "", mn_strerror(err));
  else
    klog(LOG_INFO, "llm-local: model %s, %lu KiB at %p", f->name, (uint64_t)f->size >> 10,
         (const void *)f->data);
  return 0;
}

/* The PCI bus and its drivers (whose services the configured ones may
 * use), the configured services, the files service, the console port,
 * then the shells. */
static int init_task(void *arg) {
  (void)arg;
  mon_words_register();
  int err = chat_words_register(); /* CHAT, SETTINGS, SETTING!, WIZARD */
  if (err) klog(LOG_ERROR, "chat words: %s", mn_strerror(err));
  static const struct pci_driver *const drivers[] = {&virtio_net_driver, &virtio_blk_driver,
                                                     &nvme_driver, &xhci_driver};
  err = pci_start(drivers, sizeof drivers / sizeof drivers[0]);
  if (err) klog(LOG_ERROR, "pci: %s", mn_strerror(err));
  for (size_t i = 0; i < cfg.nservices; i++) {
    err = start_one(&cfg.services[i]);
    if (err) klog(LOG_ERROR, "%s: %s", mn_service_name(cfg.services[i].kind), mn_strerror(err));
  }
  svcstart_done(); /* the serial mux may read its input now */
  err = files_start(); /* the FAT volumes of the disks pci_start found */
  if (err) klog(LOG_ERROR, "files: %s", mn_strerror(err));
  if (task_spawn("cores+llm", cores_llm_task, 0, 64 * 1024, 0))
    klog(LOG_ERROR, "cannot start the task that starts the cores and llm-local");
  err = a64_console_start(mn_config_find(&cfg, MN_SVC_KEYBOARD_MUX) != NULL);
  if (err) klog(LOG_ERROR, "console port service: %s", mn_strerror(err));
  err = x86_chat_start();
  if (err) klog(LOG_INFO, "no chat screen: %s", mn_strerror(err));
  struct bbq *rx = 0, *tx = 0;
  err = mn_config_find(&cfg, MN_SVC_SERIAL) && !mn_config_find(&cfg, MN_SVC_SERMUX)
            ? serial_get_port(MN_SEC(1), &rx, &tx)
            : MN_ENOTSUP;
  shell_on("serial port", rx, tx, err);
  err = console_get_port(MN_SEC(1), &rx, &tx);
  shell_on("console", rx, tx, err);
  xprintf("boot: %lu us from entry to the shells' start\n",
          gtimer_ticks_to_ns(a64_counter() - x86_boot.tsc_entry) / 1000);
  return 0;
}

/* \mneme\config.bin from the ESP if it decodes, else the baked one. */
static void load_config(void) {
  const struct boot_info *bi = &x86_boot.info;
  if (bi->config) {
    int err = mn_config_decode(&cfg, bi->config, bi->config_len);
    if (!err && cfg.platform.kind == MN_PLATFORM_AARCH64) return;
    xprintf("warning: \\mneme\\config.bin: %s; using the built-in configuration\n",
            err ? mn_strerror(err) : "not for aarch64");
  }
  int err = mn_config_decode(&cfg, mn_config_baked, mn_config_baked_len);
  if (err) {
    xprintf("mneme: the built-in configuration does not decode: %s\n", mn_strerror(err));
    plat_halt(1);
  }
}

_Noreturn void a64_main(void) {
  SYSREG_WRITE(tpidr_el1, 0); /* smp_cpu_index: the first core */
  exc_init();
  /* First: entered from EL2, the MMU is off (all memory is device memory,
   * no unaligned accesses) until this. */
  int rc = mmu_init();
  gtimer_early_init();
  pl011_probe(x86_boot.rsdp);
  serial_init();
  x86_serial_early_init();
  if (rc) xprintf("warning: mmu: %s (running on the firmware's tables)\n", mn_strerror(rc));
  if (a64_entered_el2) xprintf("firmware ran at EL2: mneme runs at EL1\n");
  load_config();
  forth_task_configure(mn_config_find(&cfg, MN_SVC_FORTH_SHELLS));
  if (cfg.platform.u.aarch64.framebuffer) fbcon_init(&x86_boot.fb);
  xprintf("\033[1mmneme\033[0m aarch64 (UEFI) image at %p\n", (void *)x86_boot.image_base);
  rc = gic_init(x86_boot.rsdp);
  if (rc) xprintf("warning: no GIC in the ACPI MADT (%s): no interrupts\n", mn_strerror(rc));
  rc = gtimer_init(x86_boot.rsdp);
  if (rc) xprintf("warning: timer interrupt: %s\n", mn_strerror(rc));
  if (gic_enable(pl011_irq_id(), x86_serial_irq) == 0) serial_irq_on();
  xprintf("memory: %lu MiB usable in %zu regions; framebuffer %ux%u; GICv%d; "
          "cmdline '%s'\n", x86_boot.ram_total >> 20, x86_boot.info.nregions,
          x86_boot.fb.width, x86_boot.fb.height, gic_version(), x86_boot.cmdline);
  klog_set_level(cfg.kernel.log_level);
  if (kernel_init(&x86_boot.info)) {
    xprintf("mneme: kernel_init failed: not enough memory\n");
    plat_halt(1);
  }
  if (a64_clockrng_start()) xprintf("warning: cannot start the entropy service\n");
  if (task_spawn("init", init_task, 0, 0, 0)) {
    xprintf("mneme: cannot start the first task\n");
    plat_halt(1);
  }
  __asm__ volatile("msr daifclr, #2" ::: "memory");
  plat_halt(kernel_run());
}
