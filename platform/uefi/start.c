/*
 * start.c: the UEFI platforms' start after kernel_init (start.h). The
 * order matters:
 *   1. the platform's Forth words, the ESP's trust anchors, the chat words;
 *   2. the PCI bus and its drivers, whose services (NICs, disks, USB
 *      keyboards) the configured services may use;
 *   3. the configured services, in the configuration's order; then the
 *      serial mux may read its input (svcstart_done);
 *   4. the files service over the FAT volumes the disks hold;
 *   5. a task of its own for the other cores and llm-local (a model takes
 *      seconds to load; the shells start meanwhile), then the server;
 *   6. the console port, the chat screen, and a Forth shell on the serial
 *      port and on the console.
 *
 * Interface: start.h.
 */
#include "start.h"

#include <string.h>

#include "boot.h"
#include "chat_console.h"
#include "console_port.h"
#include "mneme/chat_words.h"
#include "mneme/err.h"
#include "mneme/files.h"
#include "mneme/forth_shell.h"
#include "mneme/forth_task.h"
#include "mneme/ktime.h"
#include "mneme/llm.h"
#include "mneme/llmserve.h"
#include "mneme/log.h"
#include "mneme/net.h"
#include "mneme/nvme.h"
#include "mneme/pci.h"
#include "mneme/platform.h"
#include "mneme/quant.h"
#include "mneme/serial.h"
#include "mneme/svcstart.h"
#include "mneme/task.h"
#include "mneme/tls.h"
#include "mneme/virtio.h"
#include "mneme/xhci.h"
#include "mon.h"
#include "serial_svc.h"
#include "xprintf.h"

/* The chat starts llm-remote from the settings through a weak reference
 * (chat/chat_session.c): this one links llm-remote into the image. */
int (*const uefi_llm_remote_link)(const struct llm_remote_config *) = llm_remote_start;

static const struct uefi_start_ops *ops;
static const struct mn_config *cfg;

void uefi_config_load(struct mn_config *c, enum mn_platform_kind kind, const char *arch) {
  const struct boot_info *bi = &uefi_boot.info;
  if (bi->config) {
    int err = mn_config_decode(c, bi->config, bi->config_len);
    if (!err && c->platform.kind == kind) return;
    xprintf("warning: \\mneme\\config.bin: %s%s; using the built-in configuration\n",
            err ? mn_strerror(err) : "not for ", err ? "" : arch);
  }
  int err = mn_config_decode(c, mn_config_baked, mn_config_baked_len);
  if (err) {
    xprintf("mneme: the built-in configuration does not decode: %s\n", mn_strerror(err));
    plat_halt(1);
  }
}

int uefi_cmdline_arg(const char *key, char *out, size_t n) {
  const char *c = uefi_boot.cmdline;
  size_t kl = strlen(key);
  for (const char *p = c; *p; p++) {
    if ((p != c && p[-1] != ' ') || strncmp(p, key, kl) || p[kl] != '=') continue;
    const char *v = p + kl + 1;
    size_t l = 0;
    while (v[l] && v[l] != ' ' && v[l] != '\n' && v[l] != '\r') l++;
    if (n == 0) return 1;
    if (l > n - 1) l = n - 1;
    memcpy(out, v, l);
    out[l] = 0;
    return 1;
  }
  return 0;
}

/* kernels=NAME on the command line (scalar, avx2, neon, ...: a
 * benchmark's reference), else NULL (the fastest this CPU has). */
static const struct quant_ops *cmdline_kernels(void) {
  char name[16];
  if (!uefi_cmdline_arg("kernels", name, sizeof name)) return NULL;
  const struct quant_ops *o = quant_ops_named(name);
  if (!o) klog(LOG_WARN, "cmdline: kernels=%s: unknown or not for this CPU", name);
  return o;
}

/* serve=PORT on the command line (make image SERVE=1): the OpenAI-
 * compatible server (llmserve/) on that port of the network service. */
static void serve_if_asked(void) {
  char v[8];
  if (!uefi_cmdline_arg("serve", v, sizeof v)) return;
  unsigned port = 0;
  const char *q = v;
  for (; *q >= '0' && *q <= '9' && port <= 65535; q++) port = port * 10 + (unsigned)(*q - '0');
  if (q == v || *q || port == 0 || port > 65535) {
    klog(LOG_ERROR, "cmdline: bad serve= port");
    return;
  }
  int err = llmserve_start((uint16_t)port);
  if (err) klog(LOG_ERROR, "llmserve on port %u: %s", port, mn_strerror(err));
}

/* The other cores, then llm-local over the model loaded from the ESP, if
 * any, then the server if asked. */
static int cores_llm_task(void *arg) {
  (void)arg;
  ops->start_cores();
  llm_words_set_par(ops->par()); /* LOAD-MODEL's models use every core too */
  for (size_t i = 0; i < uefi_boot.nrefused; i++) {
    const struct boot_refused *r = &uefi_boot.refused[i];
    klog(LOG_ERROR, "model %s refused: %lu MiB does not fit in memory (largest free region "
         "%lu MiB, %lu MiB kept for the kernel)",
         r->name, (r->size + (1 << 20) - 1) >> 20, r->avail >> 20, 32ul);
  }
  const struct boot_file *f = boot_model();
  if (f) {
    struct llm_local_config lc = {.gguf = f->data, .gguf_size = f->size, .file_name = f->name,
                                  .par = ops->par(), .ops = cmdline_kernels()};
    const char *why = NULL;
    int err = llm_local_start(&lc, &why);
    if (err)
      klog(LOG_ERROR, "model %s: %s (%s)", f->name, why ? why : "", mn_strerror(err));
    else
      klog(LOG_INFO, "llm-local: model %s, %lu KiB at %p", f->name, (uint64_t)f->size >> 10,
           (const void *)f->data);
  }
  serve_if_asked();
  return 0;
}

/* Every \mneme\*.pem on the ESP (make image CA=path.pem) adds its CA
 * certificates to the TLS trust store, for servers under a private CA
 * (a local model server, the tests' own CA). */
static void trust_esp_pem(void) {
  for (size_t i = 0; i < uefi_boot.nfiles; i++) {
    const struct boot_file *f = &uefi_boot.files[i];
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

static int serial_hook(void *arg) {
  (void)arg;
  return uefi_serial_start();
}

static int shells_hook(const uint16_t *ports, size_t n, void *arg) {
  (void)arg;
  return forth_shells_start(ports, n);
}

/* Starts one configured service (services/svcstart.c knows them all; the
 * platform brings its serial driver). Returns 0 or an MN_E* code. */
static int start_one(const struct mn_config_service *s) {
  static const struct svcstart_hooks hooks = {serial_hook, shells_hook, NULL, net_svcstart};
  int err = svcstart_one(cfg, s, &hooks);
  if (err == MN_ENOTSUP) {
    klog(LOG_INFO, "%s: not part of this build", mn_service_name(s->kind));
    return 0;
  }
  return err;
}

/* A Forth shell on a port's rings. Shells make their VM at the first
 * input byte: an empty line (CR) is put in first, so the VM starts now
 * and its ` ok` is the first prompt. No port (sermux owns the UART, say):
 * no shell there. */
static void shell_on(const char *what, struct bbq *rx, struct bbq *tx, int err) {
  if (!err) err = bbq_write_all(rx, "\r", 1, 0);
  if (!err) err = forth_console_start(rx, tx, LE_TERMINAL);
  if (err) klog(LOG_INFO, "no Forth shell on the %s: %s", what, mn_strerror(err));
}

static int init_task(void *arg) {
  (void)arg;
  mon_words_register();
  trust_esp_pem();
  int err = chat_words_register(); /* CHAT, SETTINGS, SETTING!, WIZARD */
  if (err) klog(LOG_ERROR, "chat words: %s", mn_strerror(err));
  static const struct pci_driver *const drivers[] = {&virtio_net_driver, &virtio_blk_driver,
                                                     &nvme_driver, &xhci_driver};
  err = pci_start(drivers, sizeof drivers / sizeof drivers[0]);
  if (err) klog(LOG_ERROR, "pci: %s", mn_strerror(err));
  for (size_t i = 0; i < cfg->nservices; i++) {
    err = start_one(&cfg->services[i]);
    if (err) klog(LOG_ERROR, "%s: %s", mn_service_name(cfg->services[i].kind), mn_strerror(err));
  }
  svcstart_done(); /* the serial mux may read its input now */
  err = files_start(); /* the FAT volumes of the disks pci_start found */
  if (err) klog(LOG_ERROR, "files: %s", mn_strerror(err));
  if (task_spawn("cores+llm", cores_llm_task, 0, 64 * 1024, 0))
    klog(LOG_ERROR, "cannot start the task that starts the cores and llm-local");
  err = ops->console_start(mn_config_find(cfg, MN_SVC_KEYBOARD_MUX) != NULL);
  if (err) klog(LOG_ERROR, "console port service: %s", mn_strerror(err));
  err = uefi_chat_start();
  if (err) klog(LOG_INFO, "no chat screen: %s", mn_strerror(err));
  struct bbq *rx = 0, *tx = 0;
  err = mn_config_find(cfg, MN_SVC_SERIAL) && !mn_config_find(cfg, MN_SVC_SERMUX)
            ? serial_get_port(MN_SEC(1), &rx, &tx)
            : MN_ENOTSUP;
  shell_on("serial port", rx, tx, err);
  err = console_get_port(MN_SEC(1), &rx, &tx);
  shell_on("console", rx, tx, err);
  xprintf("boot: %lu us from entry to the shells' start\n", ops->us_since_entry());
  return 0;
}

int uefi_start(const struct uefi_start_ops *o, const struct mn_config *c) {
  ops = o;
  cfg = c;
  return task_spawn("init", init_task, 0, 0, 0);
}
