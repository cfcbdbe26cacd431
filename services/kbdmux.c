/*
 * kbdmux.c: the keyboard mux and the byte-to-key decoder.
 *
 * Interface: kbdmux_start, kbdmux_stats, kbd_publisher_connect,
 * kbd_publish, kbd_subscribe, kbd_next, kbd_decode_byte.
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

/* ---- bytes to keys ----------------------------------------------------------- */

enum { KD_NORMAL, KD_ESC, KD_CSI, KD_CSI_NUM, KD_UTF8 };

/* Stores the press and release of one key at out; returns 2. */
static int
key(struct key_event *out, uint16_t code, uint8_t mods, uint32_t ch)
{
  out[0] = (struct key_event){ KEY_PRESSED, mods, code, ch };
  out[1] = (struct key_event){ KEY_RELEASED, mods, code, ch };
  return 2;
}

static int
decode_csi(struct kbd_decoder *d, uint8_t b, struct key_event *out)
{
  static const uint8_t letters[] = { 'A', 'B', 'C', 'D', 'H', 'F' };
  static const uint16_t codes[] = { KEY_UP, KEY_DOWN, KEY_RIGHT, KEY_LEFT,
                                    KEY_HOME, KEY_END };
  if (d->state == KD_CSI && b >= '0' && b <= '9') {
    d->num = (uint8_t)(b - '0');
    d->state = KD_CSI_NUM;
    return 0;
  }
  int n = 0;
  if (d->state == KD_CSI) {
    for (size_t i = 0; i < sizeof letters; i++)
      if (b == letters[i])
        n = key(out, codes[i], 0, 0);
  } else if (b == '~') {
    static const uint16_t tilde[] = { 0, KEY_HOME, KEY_INSERT, KEY_DELETE,
                                      KEY_END, KEY_PAGE_UP, KEY_PAGE_DOWN };
    if (d->num >= 1 && d->num <= 6)
      n = key(out, tilde[d->num], 0, 0);
  } else if (b >= '0' && b <= '9') {
    return 0; /* longer numbers: not a key we know; wait for the end */
  }
  d->state = KD_NORMAL;
  return n; /* an unknown sequence is ignored */
}

static int
decode_plain(struct kbd_decoder *d, uint8_t b, struct key_event *out)
{
  if (b == '\r' || b == '\n')
    return key(out, KEY_ENTER, 0, 0);
  if (b == 0x7f || b == 0x08)
    return key(out, KEY_BACKSPACE, 0, 0);
  if (b == '\t')
    return key(out, KEY_TAB, 0, 0);
  if (b == 0x1b) {
    d->state = KD_ESC;
    return 0;
  }
  if (b >= 1 && b <= 26)
    return key(out, KEY_CHAR, KEYMOD_CTRL, (uint32_t)('a' + b - 1));
  if (b < 0x20)
    return 0;
  if (b < 0x80) {
    uint8_t mods = b >= 'A' && b <= 'Z' ? KEYMOD_SHIFT : 0;
    return key(out, KEY_CHAR, mods, b);
  }
  if (b >= 0xc2 && b <= 0xf4) {
    d->need = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
    d->cp = b & (0x3fu >> d->need);
    d->state = KD_UTF8;
  }
  return 0; /* a stray continuation byte or an invalid lead is ignored */
}

int
kbd_decode_byte(struct kbd_decoder *d, uint8_t b, struct key_event out[4])
{
  switch (d->state) {
  case KD_ESC:
    d->state = KD_NORMAL;
    if (b == '[') {
      d->state = KD_CSI;
      return 0;
    }
    {
      int n = key(out, KEY_ESC, 0, 0);
      return n + decode_plain(d, b, out + n);
    }
  case KD_CSI:
  case KD_CSI_NUM:
    return decode_csi(d, b, out);
  case KD_UTF8:
    if ((b & 0xc0) != 0x80) {
      d->state = KD_NORMAL;
      return decode_plain(d, b, out);
    }
    d->cp = d->cp << 6 | (b & 0x3f);
    if (--d->need)
      return 0;
    d->state = KD_NORMAL;
    if (d->cp < 0x80 || d->cp > 0x10ffff || (d->cp >= 0xd800 && d->cp < 0xe000))
      return 0;
    return key(out, KEY_CHAR, 0, d->cp);
  default:
    return decode_plain(d, b, out);
  }
}
