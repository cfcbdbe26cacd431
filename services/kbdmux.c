/*
 * kbdmux.c: the keyboard mux and the byte-to-key decoder.
 *
 * Interface: kbdmux_start, kbdmux_stats, kbd_publisher_connect,
 * kbd_publish, kbd_subscribe, kbd_next. The byte decoder is in
 * kbd_decode.c.
 *
 * Two tasks, one per service. "kbdmux" takes published events and puts
 * each into every subscriber's queue (kchannel_try_send: a full queue
 * counts the event as lost for that subscriber). "keyboard" answers
 * Subscribe by allocating a queue and linking it at the end of the list,
 * so subscribers get events from the moment they subscribed, in order.
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/keyboard.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/task.h"

#define KBD_TASK_STACK (6u * 1024u)
#define KBD_QUEUE_DEFAULT 32
#define KBD_QUEUE_MAX 4096

static struct {
  struct svc_server *pub, *subsrv;
  struct kbd_sub *subs, **tail;   /* written by the keyboard task */
  struct kbdmux_stats st;
  int running;
} km;

static int
publish_task(void *arg)
{
  (void)arg;
  SVC_MSG_BUF(m, sizeof(struct kbd_publish_req));
  while (svc_recv(km.pub, m, MN_FOREVER) == 0) {
    struct kbd_publish_req q;
    memcpy(&q, m->body, sizeof q);
    struct kbd_publish_resp r = { 0 };
    km.st.published++;
    for (struct kbd_sub *s = km.subs; s; s = s->next) {
      if (kchannel_try_send(&s->ch, &q.ev) == 0) {
        s->delivered++;
        km.st.delivered++;
        r.subscribers++;
      } else {
        s->lost++;
        km.st.lost++;
      }
    }
    svc_reply_ok(km.pub, &m->env, &r);
  }
  return 0;
}

static int
subscribe_task(void *arg)
{
  (void)arg;
  SVC_MSG_BUF(m, sizeof(struct kbd_subscribe_req));
  while (svc_recv(km.subsrv, m, MN_FOREVER) == 0) {
    struct kbd_subscribe_req q;
    memcpy(&q, m->body, sizeof q);
    uint32_t cap = q.capacity ? q.capacity : KBD_QUEUE_DEFAULT;
    struct kbd_sub *s = cap <= KBD_QUEUE_MAX ? kzalloc(sizeof *s) : 0;
    if (!s || kchannel_init(&s->ch, sizeof(struct key_event), cap)) {
      kfree(s);
      struct kbd_err e = { KBD_NO_MEMORY };
      svc_reply_err(km.subsrv, &m->env, &e);
      continue;
    }
    *km.tail = s;
    km.tail = &s->next;
    km.st.subscribers++;
    struct kbd_subscribe_resp r = { s };
    svc_reply_ok(km.subsrv, &m->env, &r);
  }
  return 0;
}

int
kbdmux_start(void)
{
  static const struct svc_type pub_type = KBDMUX_TYPE;
  static const struct svc_type sub_type = KEYBOARD_TYPE;
  if (km.running)
    return MN_EEXIST;
  memset(&km, 0, sizeof km);
  km.tail = &km.subs;
  int err = svc_register(&(struct uuid)KBDMUX_UUID, "kbdmux", &pub_type, 0,
                         SVC_ACCEPT_ALL, 16, &km.pub);
  if (!err)
    err = svc_register(&(struct uuid)KEYBOARD_UUID, "keyboard", &sub_type, 0,
                       SVC_ACCEPT_ALL, 4, &km.subsrv);
  if (err)
    return err;
  if (task_spawn("kbdmux", publish_task, 0, KBD_TASK_STACK, 0) ||
      task_spawn("keyboard", subscribe_task, 0, KBD_TASK_STACK, 0))
    return MN_ENOMEM;
  km.running = 1;
  return 0;
}

void
kbdmux_stats(struct kbdmux_stats *out)
{
  *out = km.st;
}

/* ---- clients ----------------------------------------------------------------- */

int
kbd_publisher_connect(struct svc_client *c, uint64_t timeout_ns)
{
  static const struct svc_type type = KBDMUX_TYPE;
  return svc_connect(&(struct uuid)KBDMUX_UUID, &type, 0, 0, timeout_ns, c);
}

int
kbd_publish(struct svc_client *c, const struct key_event *ev, uint64_t timeout_ns)
{
  struct kbd_publish_req q = { *ev };
  struct kbd_publish_resp r;
  struct kbd_err e;
  return svc_call(c, &q, &r, &e, timeout_ns);
}

int
kbd_subscribe(uint32_t capacity, uint64_t timeout_ns, struct kbd_sub **out)
{
  static const struct svc_type type = KEYBOARD_TYPE;
  struct svc_client c;
  int err = svc_connect(&(struct uuid)KEYBOARD_UUID, &type, 0, 0, timeout_ns, &c);
  if (err)
    return err;
  struct kbd_subscribe_req q = { capacity };
  struct kbd_subscribe_resp r;
  struct kbd_err e;
  err = svc_call(&c, &q, &r, &e, timeout_ns);
  svc_disconnect(&c);
  if (err == MN_ESERVICE)
    return MN_ENOMEM;
  if (err)
    return err;
  *out = r.sub;
  return 0;
}

int
kbd_next(struct kbd_sub *s, struct key_event *ev, uint64_t timeout_ns)
{
  return kchannel_recv(&s->ch, ev, timeout_ns);
}
