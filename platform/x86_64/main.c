/*
 * main.c: x86_main, entered by boot.c on the kernel stack with boot
 * services gone: brings up the CPU tables, paging, the consoles, the
 * APICs and timer, the UART and keyboard interrupts; hands every usable
 * memory region to kernel_init(); then the first task starts the services
 * the configuration (config/x86_64.toml, or \mneme\config.bin on the
 * ESP) lists, with COM1 as the serial port and the console port
 * (framebuffer + PS/2 keyboard), and a Forth shell on each of the two
 * (services/forth_shell.c; the platform's diagnostic words from mon.c).
 *
 * Interface: x86_main (boot.h).
 */
#include <string.h>

#include "apic.h"
#include "chat_console.h"
#include "boot.h"
#include "console_svc.h"
#include "cpu.h"
#include "fbcon.h"
#include "kbd.h"
#include "mneme/chat_words.h"
#include "mneme/config.h"
#include "mneme/err.h"
#include "mneme/files.h"
#include "mneme/forth_shell.h"
#include "mneme/forth_task.h"
#include "mneme/keyboard.h"
#include "mneme/llm.h"
#include "mneme/llmserve.h"
#include "mneme/ktime.h"
#include "mneme/kernel.h"
#include "mneme/log.h"
#include "mneme/net.h"
#include "mneme/nvme.h"
#include "mneme/pci.h"
#include "mneme/platform.h"
#include "mneme/serial.h"
#include "mneme/sermux.h"
#include "mneme/svcstart.h"
#include "mneme/status.h"
#include "mneme/task.h"
#include "mneme/tls.h"
#include "mneme/trace.h"
#include "mneme/virtio.h"
#include "mneme/xhci.h"
#include "mneme/waitq.h"
#include "mon.h"
#include "paging.h"
#include "serial.h"
#include "serial_svc.h"
#include "smp.h"
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

static struct mn_config cfg;

/* The chat starts llm-remote from the settings through a weak reference
 * (chat/chat_session.c): this one links llm-remote into the image. */
int (*const x86_llm_remote_link)(const struct llm_remote_config *) = llm_remote_start;

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

/* A Forth shell on a port's rings. Shells make their VM at the first
 * input byte: an empty line (CR) is put in first, so the VM starts now
 * and its ` ok` is the first prompt. No port (sermux owns COM1, say): no
 * shell there. */
static void shell_on(const char *what, struct bbq *rx, struct bbq *tx, int err) {
  if (!err) err = bbq_write_all(rx, "\r", 1, 0);
  if (!err) err = forth_console_start(rx, tx, LE_TERMINAL);
  if (err) klog(LOG_INFO, "no Forth shell on the %s: %s", what, mn_strerror(err));
}

/* serve=PORT on the command line (make image SERVE=1): the OpenAI-
 * compatible server (llmserve/) on that port of the network service. */
static void serve_if_asked(void) {
  const char *c = x86_boot.cmdline;
  for (const char *p = c; *p; p++) {
    if ((p != c && p[-1] != ' ') || strncmp(p, "serve=", 6)) continue;
    unsigned port = 0;
    const char *q = p + 6;
    for (; *q >= '0' && *q <= '9' && port <= 65535; q++) port = port * 10 + (unsigned)(*q - '0');
    if (q == p + 6 || (*q && *q != ' ') || port == 0 || port > 65535) {
      klog(LOG_ERROR, "cmdline: bad serve= port");
      return;
    }
    int err = llmserve_start((uint16_t)port);
    if (err) klog(LOG_ERROR, "llmserve on port %u: %s", port, mn_strerror(err));
    return;
  }
}

/* The other cores, then llm-local over the model loaded from the ESP, if
 * any (a task of its own: the shells start meanwhile). */
static int cores_llm_task(void *arg) {
  (void)arg;
  smp_start();
  llm_words_set_par(x86_par()); /* LOAD-MODEL's models use every core too */
  for (size_t i = 0; i < x86_boot.nrefused; i++) {
    const struct boot_refused *r = &x86_boot.refused[i];
    klog(LOG_ERROR, "model %s refused: %lu MiB does not fit in memory (largest free region %lu MiB, %lu MiB kept for the kernel)",
         r->name, (r->size + (1 << 20) - 1) >> 20, r->avail >> 20, 32ul);
  }
  const struct boot_file *f = boot_model();
  if (!f) {
    serve_if_asked();
    return 0;
  }
  struct llm_local_config lc = {.gguf = f->data, .gguf_size = f->size, .file_name = f->name,
                                .par = x86_par()};
  const char *why = NULL;
  int err = llm_local_start(&lc, &why);
  if (err)
    klog(LOG_ERROR, "model %s: %s (%s)", f->name, why ? why : "", mn_strerror(err));
  else
    klog(LOG_INFO, "llm-local: model %s, %lu KiB at %p", f->name, (uint64_t)f->size >> 10,
         (const void *)f->data);
  serve_if_asked();
  return 0;
}

/* Every \mneme\*.pem on the ESP (make image CA=path.pem) adds its CA
 * certificates to the TLS trust store, for servers under a private CA
 * (a local model server, the tests' own CA). */
static void trust_esp_pem(void) {
  for (size_t i = 0; i < x86_boot.nfiles; i++) {
    const struct boot_file *f = &x86_boot.files[i];
    size_t l = strlen(f->name);
    if (l < 5 || strcmp(f->name + l - 4, ".pem") != 0) continue;
    const char *why = NULL;
    int n = tls_anchors_add_pem((const char *)f->data, f->size, &why);
    if (n < 0)
      klog(LOG_ERROR, "tls: \\mneme\\%s: %s", f->name, why ? why : mn_strerror(n));
    else
      klog(LOG_INFO, "tls: %d trust anchor%s from \\mneme\\%s", n, n == 1 ? "" : "s", f->name);
  }
}

/* The PCI bus and its drivers (whose services the configured ones may
 * use), the configured services, the console port, then the shells. */
static int init_task(void *arg) {
  (void)arg;
  int err;
  mon_words_register();
  trust_esp_pem();
  err = chat_words_register(); /* CHAT, SETTINGS, SETTING! */
  if (err) klog(LOG_ERROR, "chat words: %s", mn_strerror(err));
  static const struct pci_driver *const drivers[] = {&virtio_net_driver, &virtio_blk_driver,
                                                     &nvme_driver,
                                                     &xhci_driver};
  err = pci_start(drivers, sizeof drivers / sizeof drivers[0]);
  if (err) klog(LOG_ERROR, "pci: %s", mn_strerror(err));
  for (size_t i = 0; i < cfg.nservices; i++) {
    err = start_one(&cfg.services[i]);
    if (err) klog(LOG_ERROR, "%s: %s", mn_service_name(cfg.services[i].kind), mn_strerror(err));
  }
  svcstart_done();
  err = files_start();  /* the FAT volumes of the disks pci_start found */
  if (err) klog(LOG_ERROR, "files: %s", mn_strerror(err));
  if (task_spawn("cores+llm", cores_llm_task, 0, 64 * 1024, 0))
    klog(LOG_ERROR, "cannot start the task that starts the cores and llm-local");
  err = x86_console_start(mn_config_find(&cfg, MN_SVC_KEYBOARD_MUX) != NULL);
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
  xprintf("boot: %lu us from entry to the shells' start\n", apic_tsc_to_ns(rdtsc()) / 1000);
  return 0;
}

/* \mneme\config.bin from the ESP if it decodes, else the baked one. */
static void load_config(void) {
  const struct boot_info *bi = &x86_boot.info;
  if (bi->config) {
    int err = mn_config_decode(&cfg, bi->config, bi->config_len);
    if (!err && cfg.platform.kind == MN_PLATFORM_X86_64) return;
    xprintf("warning: \\mneme\\config.bin: %s; using the built-in configuration\n",
            err ? mn_strerror(err) : "not for x86_64");
  }
  int err = mn_config_decode(&cfg, mn_config_baked, mn_config_baked_len);
  if (err) {
    xprintf("mneme: the built-in configuration does not decode: %s\n", mn_strerror(err));
    plat_halt(1);
  }
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
  load_config();
  forth_task_configure(mn_config_find(&cfg, MN_SVC_FORTH_SHELLS));
  klog_set_level(cfg.kernel.log_level);
  if (kernel_init(&x86_boot.info)) {
    xprintf("mneme: kernel_init failed: not enough memory\n");
    plat_halt(1);
  }
  if (x86_clockrng_start()) xprintf("warning: cannot start the entropy service\n");
  if (task_spawn("init", init_task, 0, 0, 0)) {
    xprintf("mneme: cannot start the first task\n");
    plat_halt(1);
  }
  __asm__ volatile("sti");
  plat_halt(kernel_run());
}
