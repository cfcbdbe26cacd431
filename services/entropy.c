/*
 * entropy.c: the entropy service (entropy.h, docs/entropy.md).
 *
 * Interface: entropy_get, entropy_try_get, entropy_waitq, entropy_add,
 * entropy_add_source, entropy_start, entropy_stats, entropy_reset_for_test.
 *
 * Bytes from the sources are hashed into a pool (SHA-256) with a credit
 * of the bits each source vouches for. When the credit reaches
 * ENTROPY_SEED_BITS the pool's digest seeds the HMAC-DRBG (the first
 * time) or reseeds it, and the pool starts over. Until the first seeding
 * entropy_get waits on a wait queue; nothing is ever generated from an
 * unseeded state. The service's task polls the sources until seeded, then
 * every ENTROPY_RESEED_S seconds, or sooner after 2^16 requests.
 *
 * State changes run with interrupts off (entropy_add may be called from a
 * handler); tasks are cooperative, so a request's generation is not
 * interleaved with another's.
 */
#include <string.h>

#include "mneme/entropy.h"
#include "mneme/err.h"
#include "mneme/hmac_drbg.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/platform.h"
#include "mneme/task.h"
#include "mneme/waitq.h"

#define MAX_SOURCES 4
#define RESEED_REQUESTS 65536u
#define POLL_UNSEEDED MN_MSEC(10)

static struct {
  struct sha256 pool;
  int pool_open;
  unsigned pool_bits;
  struct hmac_drbg drbg;
  int seeded;
  uint64_t reseeds, bytes_out, seeded_ns;
  struct waitq ready;       /* woken when seeded */
  struct waitq poke;        /* wakes the task for an early reseed */
  struct {
    const char *name;
    entropy_source_fn fn;
    int gave;               /* vouched for some bits at least once */
  } src[MAX_SOURCES];
  unsigned nsrc;
  int boot_bits;            /* entropy_add vouched for bits */
  int started;
} E = { .ready = WAITQ_INIT(E.ready), .poke = WAITQ_INIT(E.poke) };

/* Folds the pool into the generator. Interrupts are off. */
static void
seed_locked(void)
{
  uint8_t d[SHA256_LEN];
  uint64_t now = ktime_now();
  sha256_final(&E.pool, d);
  E.pool_open = 0;
  E.pool_bits = 0;
  if (!E.seeded) {
    static const char pers[] = "mneme entropy v1";
    hmac_drbg_instantiate(&E.drbg, d, sizeof d, &now, sizeof now, pers, sizeof pers - 1);
    E.seeded = 1;
    E.seeded_ns = now;
  } else {
    hmac_drbg_reseed(&E.drbg, d, sizeof d, &now, sizeof now);
  }
  E.reseeds++;
  memset(d, 0, sizeof d);
  waitq_wake_all(&E.ready);
}

static void
mix(const void *buf, size_t len, unsigned bits)
{
  unsigned long irq = plat_irq_save();
  if (!E.pool_open) {
    sha256_init(&E.pool);
    E.pool_open = 1;
  }
  sha256_update(&E.pool, buf, len);
  unsigned max = (unsigned)(len * 8 < 65536 ? len * 8 : 65536);
  E.pool_bits += bits < max ? bits : max;
  if (E.pool_bits >= ENTROPY_SEED_BITS)
    seed_locked();
  plat_irq_restore(irq);
}

void
entropy_add(const void *buf, size_t len, unsigned bits)
{
  if (bits)
    E.boot_bits = 1;
  mix(buf, len, bits);
}

struct waitq *
entropy_waitq(void)
{
  return &E.ready;
}

int
entropy_try_get(void *buf, size_t len)
{
  if (!E.seeded)
    return MN_EAGAIN;
  uint8_t *p = buf;
  while (len) {
    size_t n = len < HMAC_DRBG_MAX_REQUEST ? len : HMAC_DRBG_MAX_REQUEST;
    /* Additional input: the time, so two forks of one state differ. */
    uint64_t now = ktime_now();
    unsigned long irq = plat_irq_save();
    hmac_drbg_generate(&E.drbg, p, n, &now, sizeof now);
    uint64_t reqs = E.drbg.reseed_counter;
    E.bytes_out += n;
    plat_irq_restore(irq);
    if (reqs > RESEED_REQUESTS)
      waitq_wake_one(&E.poke);
    p += n;
    len -= n;
  }
  return 0;
}

int
entropy_get(void *buf, size_t len, uint64_t timeout_ns)
{
  uint64_t deadline = ktime_deadline(timeout_ns);
  for (;;) {
    uint32_t seq = waitq_seq(&E.ready);
    int err = entropy_try_get(buf, len);
    if (err != MN_EAGAIN)
      return err;
    if (!task_current() || ktime_now() >= deadline)
      return MN_ETIMEDOUT;
    err = waitq_wait_seq(&E.ready, seq, deadline);
    if (err == MN_ECANCELED)
      return err;
  }
}

int
entropy_add_source(const char *name, entropy_source_fn fn)
{
  if (!fn || E.nsrc >= MAX_SOURCES)
    return MN_EINVAL;
  E.src[E.nsrc].name = name;
  E.src[E.nsrc].fn = fn;
  E.src[E.nsrc].gave = 0;
  E.nsrc++;
  return 0;
}

/* One round over the sources. Returns the bits they vouched for. */
static unsigned
poll_sources(void)
{
  unsigned total = 0;
  for (unsigned i = 0; i < E.nsrc; i++) {
    uint8_t buf[64];
    unsigned bits = 0;
    size_t n = E.src[i].fn(buf, sizeof buf, &bits);
    if (n > sizeof buf)
      n = sizeof buf;
    if (n) {
      mix(buf, n, bits);
      if (bits)
        E.src[i].gave = 1;
      total += bits;
    }
    memset(buf, 0, sizeof buf);
  }
  return total;
}

static int
entropy_task(void *arg)
{
  (void)arg;
  uint64_t t0 = ktime_now();
  unsigned rounds = 0;
  while (!E.seeded) {
    unsigned got = poll_sources();
    rounds++;
    if (E.seeded)
      break;
    if (!got && rounds == 100)
      klog(LOG_WARN, "entropy: no source gives entropy yet; requests wait");
    if (task_sleep(POLL_UNSEEDED))
      return 0;
  }
  struct entropy_stats st;
  entropy_stats(&st);
  klog(LOG_INFO, "entropy: seeded after %llu ms (%s)",
       (unsigned long long)((ktime_now() - t0) / 1000000u), st.sources);
  for (;;) {
    uint64_t deadline = ktime_deadline(MN_SEC(ENTROPY_RESEED_S));
    while (ktime_now() < deadline && E.drbg.reseed_counter <= RESEED_REQUESTS) {
      int err = waitq_wait_until(&E.poke, deadline);
      if (err == MN_ECANCELED)
        return 0;
    }
    /* Until the pool holds a full reseed's worth (a source may give
     * less per round), keep polling. */
    uint64_t before = E.reseeds;
    for (int i = 0; i < 64 && E.reseeds == before; i++) {
      poll_sources();
      if (E.reseeds == before && task_sleep(POLL_UNSEEDED))
        return 0;
    }
  }
}

int
entropy_start(void)
{
  if (E.started)
    return MN_EEXIST;
  int err = task_spawn("entropy", entropy_task, 0, 0, 0);
  if (!err)
    E.started = 1;
  return err;
}

void
entropy_stats(struct entropy_stats *st)
{
  memset(st, 0, sizeof *st);
  st->seeded = E.seeded;
  st->pool_bits = E.pool_bits;
  st->reseeds = E.reseeds;
  st->bytes_out = E.bytes_out;
  size_t n = 0;
  for (unsigned i = 0; i <= E.nsrc; i++) {
    const char *name = i < E.nsrc ? (E.src[i].gave ? E.src[i].name : NULL)
                                  : (E.boot_bits ? "boot" : NULL);
    if (!name)
      continue;
    size_t l = strlen(name);
    if (n + l + 3 > sizeof st->sources)
      break;
    if (n) {
      st->sources[n++] = ',';
      st->sources[n++] = ' ';
    }
    memcpy(st->sources + n, name, l);
    n += l;
  }
  if (!n)
    memcpy(st->sources, "none", 5);
  else
    st->sources[n] = 0;
}

void
entropy_reset_for_test(void)
{
  unsigned long irq = plat_irq_save();
  memset(&E.drbg, 0, sizeof E.drbg);
  E.pool_open = 0;
  E.pool_bits = 0;
  E.seeded = 0;
  E.reseeds = E.bytes_out = 0;
  E.nsrc = 0;
  E.boot_bits = 0;
  plat_irq_restore(irq);
}
