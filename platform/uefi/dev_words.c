/*
 * dev_words.c: the device words shared by the UEFI platforms (see
 * dev_words.h):
 *   PCI ( -- )      PCI functions: location, vendor:device, class,
 *                   interrupt mode, bound driver, BARs (the pci service)
 *   USB ( -- )      USB host controllers, their connected ports and
 *                   devices (usb/xhci.c)
 *   DISKS ( -- )    the block devices (blockdev services)
 *   SECTOR ( lba disk -- )  reads a sector: FNV-1a hash, first bytes
 *   SECTOR-FILL ( byte lba disk -- )  writes a sector filled with byte,
 *                   then flushes (test aids for disk drivers)
 *   ARP-PROBE ( -- ) test aid: takes the first free network interface and
 *                   asks 10.0.2.2 (QEMU's user-network gateway) for its
 *                   MAC from 10.0.2.15, then prints the counters
 *   NET-SEND ( n len -- )  test aid: n test frames of len bytes (0:
 *                   varying) out of that interface
 *   NET-RECV ( n -- )  test aid: waits for n test frames and checks them
 *   GENERATE ( c-addr u n -- ) the model's greedy continuation (llm/)
 *   LLM-STATS ( -- ) llm-local's counters (llm/)
 *   LOAD-MODEL ( c-addr u -- ) serves a GGUF file from the files service (llm/)
 * Output goes to the calling VM's terminal (forth_task_out).
 *
 * Interface: dev_words, dev_words_register.
 */
#include "dev_words.h"

#include <stdint.h>

#include "mneme/err.h"
#include "mneme/forth.h"
#include "mneme/forth_task.h"
#include "mneme/ktime.h"
#include "mneme/llm.h"
#include "mneme/pci.h"
#include "mneme/platform.h"
#include "mneme/virtio.h"
#include "mneme/xhci.h"

/* Output callback for the portable printers (pci_print, ...). */
static void out(void *arg, const char *s, size_t n) {
  struct forth_task *ft = arg;
  if (ft) forth_task_out(ft, s, n);
  else plat_console_write(s, n);
}

static void flush(void *arg) {
  if (arg) forth_task_flush(arg);
}

/* Pops n cells (the top into v[n-1]); 0, or -4 (stack underflow). */
static int pop(forth_vm *vm, forth_cell *v, int n) {
  if (forth_depth(vm) < n) return -4;
  for (int i = n - 1; i >= 0; i--) forth_pop(vm, &v[i]);
  return 0;
}

static struct forth_task *begin(forth_vm *vm) {
  struct forth_task *ft = forth_host_ctx(vm);
  out(ft, "\n", 1);
  return ft;
}

static int w_pci(forth_vm *vm, void *ctx) {
  (void)ctx;
  struct forth_task *ft = begin(vm);
  int err = pci_print(out, ft);
  if (err) {
    out(ft, "pci: ", 5);
    const char *e = mn_strerror(err);
    size_t l = 0;
    while (e[l]) l++;
    out(ft, e, l);
    out(ft, "\n", 1);
  }
  return 0;
}

static int w_usb(forth_vm *vm, void *ctx) {
  (void)ctx;
  usb_print(out, begin(vm));
  return 0;
}

static int w_arp_probe(forth_vm *vm, void *ctx) {
  (void)ctx;
  static const uint8_t ip[4] = {10, 0, 2, 15}, gw[4] = {10, 0, 2, 2};
  netdev_arp_probe(ip, gw, MN_SEC(3), out, begin(vm));
  return 0;
}

static int w_disks(forth_vm *vm, void *ctx) {
  (void)ctx;
  blockdev_list(out, begin(vm));
  return 0;
}

static int w_sector(forth_vm *vm, void *ctx) {
  (void)ctx;
  forth_cell v[2]; /* lba disk */
  if (pop(vm, v, 2)) return -4;
  blockdev_sector((unsigned)v[1], (uint64_t)v[0], out, begin(vm));
  return 0;
}

static int w_sector_fill(forth_vm *vm, void *ctx) {
  (void)ctx;
  forth_cell v[3]; /* byte lba disk */
  if (pop(vm, v, 3)) return -4;
  blockdev_sector_fill((unsigned)v[2], (uint64_t)v[1], (uint8_t)v[0], out, begin(vm));
  return 0;
}

static int w_net_send(forth_vm *vm, void *ctx) {
  (void)ctx;
  forth_cell v[2]; /* n len */
  if (pop(vm, v, 2)) return -4;
  netdev_send_frames((uint32_t)v[0], (size_t)v[1], out, begin(vm));
  return 0;
}

static int w_net_recv(forth_vm *vm, void *ctx) {
  (void)ctx;
  forth_cell n;
  if (pop(vm, &n, 1)) return -4;
  netdev_recv_frames((uint32_t)n, out, flush, begin(vm));
  return 0;
}

static const struct forth_task_word words[] = {
    {"PCI", w_pci},           {"ARP-PROBE", w_arp_probe},   {"DISKS", w_disks},
    {"SECTOR", w_sector},     {"SECTOR-FILL", w_sector_fill}, {"NET-SEND", w_net_send},
    {"NET-RECV", w_net_recv}, {"GENERATE", llm_word_generate}, {"LLM-STATS", llm_word_stats},
    {"LOAD-MODEL", llm_word_load_model},
    {"USB", w_usb},
};

#define NDEV (sizeof words / sizeof words[0])

size_t dev_words(const struct forth_task_word **o) {
  *o = words;
  return NDEV;
}

void dev_words_register(const struct forth_task_word *w, size_t n) {
  static struct forth_task_word all[64];
  size_t k = 0;
  for (size_t i = 0; i < n && k < sizeof all / sizeof all[0]; i++) all[k++] = w[i];
  for (size_t i = 0; i < NDEV && k < sizeof all / sizeof all[0]; i++) all[k++] = words[i];
  forth_words_platform(all, k);
}
