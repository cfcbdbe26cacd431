/*
 * net_fuzz.c: libFuzzer target: random Ethernet frames through the NIC's
 * receive path (records in the netdev rx ring) into the network service
 * and lwIP, on a hosted kernel booted once. The input is a sequence of
 * frames, each a 2-byte little-endian length and its bytes. The service
 * has an address (10.0.2.15), a TCP listener (port 80) and a UDP port (7);
 * checksum checks are off in this build (MNEME_NET_FUZZ) so frames get
 * past the headers. A crash, sanitizer report, lwIP assertion (a panic)
 * or a frame left unread is a finding. Built by test/net_fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/kernel.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/net.h"
#include "mneme/netdev.h"
#include "mneme/task.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct bbq rx, tx;
static struct netdev_state st;
static struct svc_server *srv;
static struct net_listener *lst;

static int
nic_task(void *arg)
{
  (void)arg;
  SVC_MSG_BUF(m, sizeof(struct netdev_req));
  while (svc_recv(srv, m, MN_FOREVER) == 0) {
    struct netdev_resp r = { &rx, &tx, &st, { 0x52, 0x54, 0, 0x12, 0x34, 0x56 }, 1500, "fuzz0" };
    svc_reply_ok(srv, &m->env, &r);
  }
  return 0;
}

static void
drain_tx(void)
{
  const uint8_t *g;
  size_t len;
  while (bbq_read(&tx, &g, &len) == 0)
    bbq_release(&tx, len);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  static struct mem_region region;
  static struct boot_info bi;
  size_t size = 256u << 20;
  void *mem = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  region.base = (uintptr_t)mem;
  region.size = size;
  bi.regions = &region;
  bi.nregions = 1;
  if (mem == MAP_FAILED || kernel_init(&bi))
    abort();
  klog_set_level(LOG_ERROR);
  static const struct svc_type type = NETDEV_TYPE;
  waitq_init(&st.link_changed);
  st.link_up = 1;
  if (bbq_init(&rx, 64 * 1024) || bbq_init(&tx, 64 * 1024) ||
      svc_register(&(struct uuid)NETDEV_UUID, "fuzz-nic", &type, NULL, SVC_ACCEPT_ALL, 4, &srv) ||
      task_spawn("fuzz-nic", nic_task, NULL, 0, NULL))
    abort();
  struct net_config c = { .dhcp = 0, .ip = 0x0a00020f, .netmask = 0xffffff00,
                          .gateway = 0x0a000202, .ndns = 1, .dns = { 0x0a000202 } };
  struct net_udp *u;
  if (net_start(&c) || net_wait_up(MN_SEC(5)) || net_tcp_listen(80, &lst) ||
      net_udp_open(7, &u))
    abort();
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  size_t off = 0;
  while (off + 2 <= size) {
    size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
    off += 2;
    if (len > size - off)
      len = size - off;
    if (len > NETDEV_FRAME_MAX)
      len = NETDEV_FRAME_MAX;
    uint8_t *g;
    if (bbq_grant_exact(&rx, NETDEV_REC_HDR + len, &g))
      break;
    g[0] = (uint8_t)len;
    g[1] = (uint8_t)(len >> 8);
    memcpy(g + NETDEV_REC_HDR, data + off, len);
    bbq_commit(&rx, NETDEV_REC_HDR + len);
    off += len;
  }
  /* let the service take them (it yields between batches) */
  for (int i = 0; i < 1000 && bbq_used(&rx); i++) {
    drain_tx();
    task_yield();
  }
  if (bbq_used(&rx))
    abort();                     /* the service stopped reading */
  drain_tx();
  /* connections the frames opened: accept and close them */
  struct net_conn *c;
  while (net_tcp_accept(lst, 0, &c) == 0)
    net_tcp_close(c);
  drain_tx();
  return 0;
}
