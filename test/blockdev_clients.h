/*
 * blockdev_clients.h: client tasks making blockdev calls, for the host
 * tests of block drivers (nvme_test.c, virtio_blk_test.c). A test fills
 * struct call's requests (REQ), groups them into clients (each a task
 * making its calls in order over its own connection to blockdev 0) and
 * runs them with run_clients, which plays the device through tick (if
 * not NULL) between sleeps. Include after ktest.h and the driver.
 */
#ifndef MNEME_TEST_BLOCKDEV_CLIENTS_H
#define MNEME_TEST_BLOCKDEV_CLIENTS_H

#include "mneme/blockdev.h"
#include "mneme/task.h"

struct call {
  struct blockdev_req rq;
  int rc;
  struct blockdev_resp resp;
  struct blockdev_err err;
};

struct client {
  struct call *calls;
  size_t n;
  int done;
};

#define REQ(k, l, c, b) ((struct blockdev_req){(k), (l), (c), (b)})

static int client_task(void *arg) {
  static const struct svc_type type = BLOCKDEV_TYPE;
  struct client *c = arg;
  struct svc_client sc;
  int rc = svc_connect(&(struct uuid)BLOCKDEV_UUID_N(0), &type, NULL, NULL, MN_SEC(1), &sc);
  for (size_t i = 0; i < c->n; i++)
    c->calls[i].rc = rc ? rc : svc_call(&sc, &c->calls[i].rq, &c->calls[i].resp,
                                        &c->calls[i].err, MN_SEC(3));
  if (!rc) svc_disconnect(&sc);
  c->done = 1;
  return 0;
}

/* Runs the clients until all are done (at most 4 s), calling tick each
 * millisecond. */
static void run_clients(struct client *cs, size_t ncs, void (*tick)(void)) {
  for (size_t i = 0; i < ncs; i++)
    assert_int_equal(task_spawn("client", client_task, &cs[i], 0, NULL), 0);
  for (int t = 0; t < 4000; t++) {
    size_t done = 0;
    for (size_t i = 0; i < ncs; i++) done += cs[i].done;
    if (done == ncs) return;
    if (tick) tick();
    task_sleep(MN_MSEC(1));
  }
  fail_msg("the clients did not finish");
}

#endif
