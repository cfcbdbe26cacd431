/*
 * pci_svc.c: the PCI bus as a service: enumeration at start, drivers
 * bound by match/probe, the `pci` service answering device queries,
 * and pci_print for the Forth word PCI (include/mneme/pci.h).
 *
 * Interface: pci_start, pci_print.
 */
#include <string.h>

#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/pci.h"
#include "mneme/platform.h"
#include "mneme/task.h"

static struct pci_dev devs[PCI_MAX_DEVICES];
static size_t ndevs, nfound;
static struct svc_server *srv;

static int server_task(void *arg) {
  (void)arg;
  SVC_MSG_BUF(m, sizeof(struct pci_req));
  while (svc_recv(srv, m, MN_FOREVER) == 0) {
    if (m->env.kind != SVC_MSG_REQUEST) continue;
    const struct pci_req *rq = (const struct pci_req *)m->body;
    if (rq->kind == PCI_DEVICE && rq->index < ndevs) {
      static struct pci_resp r; /* large: not on the task's stack */
      r.dev = devs[rq->index];
      r.dev.drvdata = NULL;
      r.dev.cfg = NULL;
      for (int i = 0; i < 6; i++) r.dev.bar[i].va = NULL;
      r.count = (uint32_t)ndevs;
      svc_reply_ok(srv, &m->env, &r);
    } else {
      struct pci_err e = {PCI_NO_SUCH_DEVICE};
      svc_reply_err(srv, &m->env, &e);
    }
  }
  return 0;
}

int pci_start(const struct pci_driver *const *drivers, size_t ndrivers) {
  static const struct svc_type type = PCI_TYPE;
  if (srv) return MN_EEXIST;
  uint64_t t0 = plat_now_ns();
  nfound = pci_enumerate(devs, PCI_MAX_DEVICES);
  ndevs = nfound < PCI_MAX_DEVICES ? nfound : PCI_MAX_DEVICES;
  if (nfound > ndevs)
    klog(LOG_WARN, "pci: %zu functions, only the first %zu kept", nfound, ndevs);
  klog(LOG_INFO, "pci: %zu functions (%s, %lu us)", ndevs,
       devs[0].cfg ? "ECAM" : "port I/O", (unsigned long)((plat_now_ns() - t0) / 1000));
  int err = svc_register(&(struct uuid)PCI_UUID, "pci", &type, NULL, SVC_ACCEPT_ALL, 8, &srv);
  if (err) return err;
  if (task_spawn("pci", server_task, NULL, 0, NULL)) return MN_ENOMEM;
  for (size_t i = 0; i < ndevs; i++) {
    struct pci_dev *d = &devs[i];
    for (size_t k = 0; k < ndrivers; k++) {
      const struct pci_driver *drv = drivers[k];
      if (!drv->match(d)) continue;
      int rc = drv->probe(d);
      if (rc) {
        klog(LOG_WARN, "pci %02x:%02x.%u %04x:%04x: %s: %s", d->bus, d->dev, d->fn,
             d->vendor, d->device, drv->name, mn_strerror(rc));
        continue;
      }
      size_t n = strlen(drv->name);
      if (n >= PCI_NAME_MAX) n = PCI_NAME_MAX - 1;
      memcpy(d->driver, drv->name, n);
      d->driver[n] = 0;
      break;
    }
  }
  return 0;
}

static void size_text(char *b, size_t cap, uint64_t size) {
  static const char units[] = "KMGT";
  if (size < 1024) {
    ksnprintf(b, cap, "%lu", (unsigned long)size);
    return;
  }
  int u = -1;
  while (size >= 1024 && u < 3 && (size % 1024) == 0) size /= 1024, u++;
  if (u < 0) ksnprintf(b, cap, "%lu", (unsigned long)size);
  else ksnprintf(b, cap, "%lu%c", (unsigned long)size, units[u]);
}

static const char *const irq_names[] = {"-", "msix", "msi", "intx"};

int pci_print(void (*out)(void *arg, const char *s, size_t n), void *arg) {
  static const struct svc_type type = PCI_TYPE;
  struct svc_client c;
  int err = svc_connect(&(struct uuid)PCI_UUID, &type, NULL, NULL, 0, &c);
  if (err) return err;
  struct pci_req rq = {PCI_DEVICE, 0};
  struct pci_resp r;
  struct pci_err e;
  char line[160];
  for (;;) {
    err = svc_call(&c, &rq, &r, &e, MN_SEC(2));
    if (err == MN_ESERVICE) { /* past the last device */
      err = 0;
      break;
    }
    if (err) break;
    const struct pci_dev *d = &r.dev;
    int n = ksnprintf(line, sizeof line, "%02x:%02x.%u %04x:%04x %02x%02x %-12s %-4s %s\n",
                      d->bus, d->dev, d->fn, d->vendor, d->device, d->class_code,
                      d->subclass, pci_class_name(d->class_code, d->subclass),
                      irq_names[d->irq_mode < 4 ? d->irq_mode : 0],
                      d->driver[0] ? d->driver : "-");
    out(arg, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    for (int i = 0; i < 6; i++) {
      const struct pci_bar *b = &d->bar[i];
      if (b->kind == PCI_BAR_NONE) continue;
      char sz[16];
      size_text(sz, sizeof sz, b->size);
      static const char *const kinds[] = {"", "mem32", "mem64", "io"};
      n = ksnprintf(line, sizeof line, "        BAR%d %-5s %s0x%lx %s\n", i, kinds[b->kind],
                    b->prefetch ? "pf " : "", (unsigned long)b->base, sz);
      out(arg, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
    rq.index++;
  }
  svc_disconnect(&c);
  return err;
}
