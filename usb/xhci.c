/*
 * xhci.c: the xHCI host controller driver (include/mneme/xhci.h;
 * docs/usb.md).
 *
 * Bring-up (in pci_start's task): the BIOS hand-off (USB legacy support
 * capability), halt and reset (HCRST, CNR awaited), the supported-protocol
 * capabilities (which root ports are USB 2, which USB 3), the device
 * context array (with scratchpad buffers when the controller asks), the
 * command ring (one segment closed by a link TRB), the event ring of
 * interrupter 0 (one segment), the interrupt (MSI-X, else MSI, else INTx
 * through pci_irq_setup; the handler acknowledges IMAN.IP and USBSTS.EINT
 * and only wakes the task; with none, the task polls every 10 ms), run.
 *
 * One task per controller, "xhciN", does the rest and is the only one to
 * touch the rings: it takes events (command completions, transfer events,
 * port status changes), enumerates a device when a port connects (a USB 2
 * port is reset first; Enable Slot, Address Device, GET_DESCRIPTOR device
 * and configuration, SET_CONFIGURATION), and for a HID keyboard
 * (SET_PROTOCOL boot + SET_IDLE, or the report descriptor parsed) keeps
 * one interrupt IN transfer queued; reports become key events published
 * to the keyboard mux, and held keys repeat from the task's timer
 * (usb/hid.c). A disconnect releases held keys and disables the slot.
 * Commands and control transfers wait (on the interrupt's wait queue,
 * with a deadline) for their own completion while taking other events;
 * a device that answers wrongly or not at all is left unconfigured with
 * its error shown by USB, never trusted further.
 *
 * Interface: xhci_driver, usb_print.
 */
#include <string.h>

#include "mneme/err.h"
#include "mneme/keyboard.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/task.h"
#include "mneme/usb.h"
#include "mneme/waitq.h"
#include "mneme/xhci.h"

#define MAX_CTRLS 4
#define MAX_SLOTS 32
#define MAX_PORTS 64
#define CMD_RING 32
#define EVT_RING 64
#define XFER_RING 32
#define BUF_SIZE 1024
#define CMD_TIMEOUT MN_SEC(5)
#define XFER_TIMEOUT MN_SEC(5)

/* capability registers */
#define CAP_HCSPARAMS1 0x04
#define CAP_HCSPARAMS2 0x08
#define CAP_HCCPARAMS1 0x10
#define CAP_DBOFF 0x14
#define CAP_RTSOFF 0x18
/* operational registers */
#define OP_USBCMD 0x00
#define OP_USBSTS 0x04
#define OP_CRCR 0x18
#define OP_DCBAAP 0x30
#define OP_CONFIG 0x38
#define OP_PORTSC(n) (0x400 + 0x10 * ((n) - 1))
#define CMD_RS (1u << 0)
#define CMD_HCRST (1u << 1)
#define CMD_INTE (1u << 2)
#define STS_HCH (1u << 0)
#define STS_HSE (1u << 2)
#define STS_EINT (1u << 3)
#define STS_CNR (1u << 11)
/* interrupter 0 (runtime registers) */
#define RT_IMAN 0x20
#define RT_IMOD 0x24
#define RT_ERSTSZ 0x28
#define RT_ERSTBA 0x30
#define RT_ERDP 0x38
/* PORTSC */
#define PS_CCS (1u << 0)
#define PS_PED (1u << 1)
#define PS_PR (1u << 4)
#define PS_PP (1u << 9)
#define PS_CHANGES (0x7fu << 17)   /* CSC PEC WRC OCC PRC PLC CEC */
#define PS_CSC (1u << 17)
/* bits written back unchanged: RO and RWS (writing 1 to PED or a change
 * bit would disable the port or clear the change) */
#define PS_KEEP 0x0e00c3e9u
/* TRB types */
#define TRB_NORMAL 1
#define TRB_SETUP 2
#define TRB_DATA 3
#define TRB_STATUS 4
#define TRB_LINK 6
#define TRB_ENABLE_SLOT 9
#define TRB_DISABLE_SLOT 10
#define TRB_ADDRESS_DEVICE 11
#define TRB_CONFIGURE_EP 12
#define TRB_EVALUATE_CTX 13
#define TRB_RESET_EP 14
#define TRB_SET_DEQUEUE 16
#define EV_TRANSFER 32
#define EV_COMMAND 33
#define EV_PORT 34
#define T_CYCLE (1u << 0)
#define T_TC (1u << 1)
#define T_ISP (1u << 2)
#define T_IOC (1u << 5)
#define T_IDT (1u << 6)
#define T_DIR_IN (1u << 16)
#define T_TYPE(t) ((uint32_t)(t) << 10)
#define CC_SUCCESS 1
#define CC_STALL 6
#define CC_SHORT 13

struct trb {
  uint64_t param;
  uint32_t status, control;
};

struct ring {
  volatile struct trb *t;
  uint64_t dma;
  unsigned n, idx;
  uint32_t cycle;
};

enum dev_state { D_NEW, D_ADDRESSED, D_OTHER, D_KEYBOARD, D_FAILED };

struct usbdev {
  struct xhci *c;
  uint8_t slot, port, speed, state;
  int err;                      /* why D_FAILED, or what was not a keyboard */
  struct usb_device_info info;
  struct usb_hid_iface hid;
  int boot;
  uint8_t *out_ctx, *in_ctx;
  struct ring ep0, intr;
  uint8_t intr_dci;
  uint16_t intr_len;
  uint8_t *buf, *rep;
  /* the control transfer waited for */
  uint64_t status_trb;
  int ep0_done, ep0_code;
  uint32_t ep0_residual;
  /* the interrupt transfer: completed, not yet taken */
  int intr_done, intr_code, intr_queued;
  uint32_t intr_residual, intr_errors;
  struct hid_kbd kbd;
};

struct xhci {
  int index;
  struct pci_dev *pci;
  volatile uint8_t *cap, *op, *rt;
  volatile uint32_t *db;
  unsigned max_slots, max_ports, ctxsz;
  uint16_t version;
  uint64_t *dcbaa;
  struct ring cmd;
  volatile struct trb *evt;
  uint64_t evt_dma;
  unsigned evt_idx;
  uint32_t evt_cycle;
  uint8_t proto[MAX_PORTS + 1];   /* USB major revision of each port */
  uint64_t port_pending;          /* bit p-1: port p to look at */
  struct waitq irq;
  int irq_mode;                   /* enum pci_irq_mode; PCI_IRQ_NONE: polled */
  volatile uint32_t irqs;
  uint64_t events;
  int cmd_done, cmd_code, cmd_slot;
  uint64_t cmd_trb;
  struct usbdev *slots[MAX_SLOTS + 1];
  struct usbdev *port_dev[MAX_PORTS + 1];
  struct svc_client pub;
  int pub_state;                  /* 0: not tried, 1: connected, -1: none */
  int failed;
};

static struct xhci *ctrls[MAX_CTRLS];
static int nctrls;

static uint32_t rd32(volatile uint8_t *b, unsigned off) { return *(volatile uint32_t *)(b + off); }
static void wr32(volatile uint8_t *b, unsigned off, uint32_t v) { *(volatile uint32_t *)(b + off) = v; }
static void wr64(volatile uint8_t *b, unsigned off, uint64_t v) {
  wr32(b, off, (uint32_t)v);
  wr32(b, off + 4, (uint32_t)(v >> 32));
}

static void *dma_alloc(size_t size) {
  void *p = kmalloc_aligned(size, 4096); /* never crosses a page (64 KiB rule) */
  if (p) memset(p, 0, size);
  return p;
}

/* ---- rings ------------------------------------------------------------------ */

static int ring_init(struct ring *r, unsigned n) {
  r->t = dma_alloc(n * sizeof(struct trb));
  if (!r->t) return MN_ENOMEM;
  r->dma = plat_dma_addr((const void *)r->t);
  r->n = n;
  r->idx = 0;
  r->cycle = 1;
  volatile struct trb *link = &r->t[n - 1];
  link->param = r->dma;
  link->status = 0;
  link->control = T_TYPE(TRB_LINK) | T_TC; /* cycle 0: not yet the producer's */
  return 0;
}

/* Writes a TRB (the cycle bit last); returns its bus address. */
static uint64_t ring_push(struct ring *r, uint64_t param, uint32_t status, uint32_t control) {
  volatile struct trb *t = &r->t[r->idx];
  uint64_t at = r->dma + r->idx * sizeof(struct trb);
  t->param = param;
  t->status = status;
  plat_io_barrier();
  t->control = (control & ~T_CYCLE) | r->cycle;
  if (++r->idx == r->n - 1) { /* hand over the link TRB and wrap */
    volatile struct trb *link = &r->t[r->n - 1];
    plat_io_barrier();
    link->control = T_TYPE(TRB_LINK) | T_TC | r->cycle;
    r->idx = 0;
    r->cycle ^= 1;
  }
  return at;
}

static uint64_t ring_enqueue_ptr(const struct ring *r) {
  return (r->dma + r->idx * sizeof(struct trb)) | r->cycle;
}

static void ring_free(struct ring *r) {
  kfree((void *)r->t);
  r->t = NULL;
}

/* ---- events -------------------------------------------------------------- */

static void irq_handler(void *arg) {
  struct xhci *c = arg;
  wr32(c->rt, RT_IMAN, 3);          /* IP (write 1 clears), IE kept */
  wr32(c->op, OP_USBSTS, STS_EINT); /* write 1 clears */
  c->irqs++;
  waitq_wake_all(&c->irq);
}

#define POLL_NS MN_MSEC(10)

/* A wait's deadline: without an interrupt, the event ring is polled. */
static uint64_t poll_deadline(const struct xhci *c, uint64_t deadline) {
  if (c->irq_mode != PCI_IRQ_NONE) return deadline;
  uint64_t p = ktime_deadline(POLL_NS);
  return p < deadline ? p : deadline;
}

static void mark_port(struct xhci *c, unsigned port) {
  if (port >= 1 && port <= c->max_ports) c->port_pending |= 1ull << (port - 1);
}

static void transfer_event(struct xhci *c, const struct trb *e) {
  unsigned slot = e->control >> 24, ep = (e->control >> 16) & 0x1f;
  int code = (int)(e->status >> 24);
  if (slot < 1 || slot > c->max_slots || !c->slots[slot]) return;
  struct usbdev *d = c->slots[slot];
  if (ep == 1) {
    if (code == CC_SHORT) {
      d->ep0_residual = e->status & 0xffffff;
      if (e->param == d->status_trb) d->ep0_done = 1;
      return;
    }
    if (code == CC_SUCCESS && e->param != d->status_trb) return; /* not ours */
    d->ep0_code = code;
    d->ep0_done = 1;
  } else if (ep == d->intr_dci && d->intr_queued) {
    d->intr_code = code;
    d->intr_residual = e->status & 0xffffff;
    d->intr_done = 1;
    d->intr_queued = 0;
  }
}

/* Takes every event the controller wrote; returns how many. */
static unsigned take_events(struct xhci *c) {
  unsigned n = 0;
  for (;;) {
    volatile struct trb *v = &c->evt[c->evt_idx];
    uint32_t ctl = v->control;
    if ((ctl & T_CYCLE) != c->evt_cycle) break;
    plat_io_barrier();
    struct trb e = {v->param, v->status, ctl};
    unsigned type = (ctl >> 10) & 0x3f;
    if (type == EV_COMMAND) {
      c->cmd_done = 1;
      c->cmd_code = (int)(e.status >> 24);
      c->cmd_slot = (int)(ctl >> 24);
      c->cmd_trb = e.param;
    } else if (type == EV_TRANSFER) {
      transfer_event(c, &e);
    } else if (type == EV_PORT) {
      mark_port(c, (unsigned)(e.param >> 24) & 0xff);
    }
    n++;
    if (++c->evt_idx == EVT_RING) {
      c->evt_idx = 0;
      c->evt_cycle ^= 1;
    }
  }
  if (n) {
    c->events += n;
    wr64(c->rt, RT_ERDP, (c->evt_dma + c->evt_idx * sizeof(struct trb)) | 8); /* EHB cleared */
  }
  uint32_t st = rd32(c->op, OP_USBSTS);
  if (!c->failed && (st == 0xffffffffu || (st & STS_HSE))) {
    c->failed = 1;
    klog(LOG_ERROR, "xhci%d: controller %s", c->index,
         st == 0xffffffffu ? "gone (registers read all ones)" : "reports a host system error");
  }
  return n;
}

/* Waits until *flag is set (events taken meanwhile) or the deadline. */
static int wait_flag(struct xhci *c, int *flag, uint64_t deadline) {
  for (;;) {
    uint32_t seq = waitq_seq(&c->irq);
    take_events(c);
    if (*flag) return 0;
    if (c->failed) return MN_EIO;
    int err = waitq_wait_seq(&c->irq, seq, poll_deadline(c, deadline));
    if (err == MN_ECANCELED) return err;
    if (err == MN_ETIMEDOUT && ktime_now() >= deadline) {
      take_events(c);
      return *flag ? 0 : MN_ETIMEDOUT;
    }
  }
}

/* One command; returns 0 (success, *slot_out the slot it names), MN_EIO
 * (a completion code other than success), MN_ETIMEDOUT. */
static int command(struct xhci *c, uint64_t param, uint32_t control, int *slot_out) {
  c->cmd_done = 0;
  uint64_t at = ring_push(&c->cmd, param, 0, control);
  plat_io_barrier();
  c->db[0] = 0;
  uint64_t deadline = ktime_deadline(CMD_TIMEOUT);
  for (;;) {
    int err = wait_flag(c, &c->cmd_done, deadline);
    if (err) {
      klog(LOG_ERROR, "xhci%d: command %u: %s", c->index, (unsigned)(control >> 10) & 0x3f,
           mn_strerror(err));
      return err;
    }
    if (c->cmd_trb == at) break;
    c->cmd_done = 0; /* an older command's late completion */
  }
  if (slot_out) *slot_out = c->cmd_slot;
  if (c->cmd_code != CC_SUCCESS) {
    klog(LOG_WARN, "xhci%d: command %u: completion code %d", c->index,
         (unsigned)(control >> 10) & 0x3f, c->cmd_code);
    return MN_EIO;
  }
  return 0;
}

/* ---- devices ------------------------------------------------------------- */

static uint32_t *ctx(struct usbdev *d, uint8_t *base, unsigned i) {
  return (uint32_t *)(base + i * d->c->ctxsz);
}

/* Input context entry i: 0 the input control context, 1 the slot, 2.. endpoints. */
static uint32_t *in_ctx(struct usbdev *d, unsigned i) { return ctx(d, d->in_ctx, i); }

static void ring_doorbell(struct usbdev *d, unsigned target) {
  plat_io_barrier();
  d->c->db[d->slot] = target;
}

/* Resets a halted endpoint and moves its dequeue pointer past what was
 * queued. */
static int reset_endpoint(struct usbdev *d, unsigned dci, struct ring *r) {
  struct xhci *c = d->c;
  int err = command(c, 0, T_TYPE(TRB_RESET_EP) | dci << 16 | (uint32_t)d->slot << 24, NULL);
  if (err) return err;
  return command(c, ring_enqueue_ptr(r), T_TYPE(TRB_SET_DEQUEUE) | dci << 16 | (uint32_t)d->slot << 24,
                 NULL);
}

/* A control transfer on endpoint 0 (data IN when type & 0x80). Returns
 * the bytes transferred, MN_EIO (stall or error), MN_ETIMEDOUT. */
static int control(struct usbdev *d, uint8_t type, uint8_t req, uint16_t value, uint16_t index,
                   uint16_t len) {
  if (len > BUF_SIZE) return MN_EINVAL;
  int in = (type & 0x80) != 0;
  uint64_t setup = type | (uint64_t)req << 8 | (uint64_t)value << 16 | (uint64_t)index << 32 |
                   (uint64_t)len << 48;
  d->ep0_done = 0;
  d->ep0_code = 0;
  d->ep0_residual = 0;
  ring_push(&d->ep0, setup, 8, T_TYPE(TRB_SETUP) | T_IDT | (len ? (in ? 3u : 2u) << 16 : 0));
  if (len)
    ring_push(&d->ep0, plat_dma_addr(d->buf), len,
              T_TYPE(TRB_DATA) | T_ISP | (in ? T_DIR_IN : 0));
  d->status_trb =
      ring_push(&d->ep0, 0, 0, T_TYPE(TRB_STATUS) | T_IOC | (len && in ? 0 : T_DIR_IN));
  ring_doorbell(d, 1);
  int err = wait_flag(d->c, &d->ep0_done, ktime_deadline(XFER_TIMEOUT));
  if (!err && d->ep0_code != CC_SUCCESS) {
    if (d->ep0_code == CC_STALL) reset_endpoint(d, 1, &d->ep0);
    err = MN_EIO;
  }
  if (err) return err;
  uint32_t got = d->ep0_residual > len ? 0 : len - d->ep0_residual;
  return (int)got;
}

static int get_descriptor(struct usbdev *d, uint8_t rtype, uint16_t value, uint16_t index,
                          uint16_t len) {
  return control(d, rtype, USB_REQ_GET_DESCRIPTOR, value, index, len);
}

/* The interrupt endpoint's interval as xHCI wants it: 2^n 125 us frames. */
static unsigned xhci_interval(uint8_t speed, uint8_t b) {
  if (speed >= 3) { /* high and super speed: 2^(b-1) microframes */
    if (b < 1) b = 1;
    if (b > 16) b = 16;
    return b - 1u;
  }
  unsigned frames = b ? b * 8u : 8u, n = 3; /* full/low speed: b ms = 8b microframes */
  while (n < 10 && (1u << (n + 1)) <= frames) n++;
  return n;
}

static void queue_intr(struct usbdev *d) {
  ring_push(&d->intr, plat_dma_addr(d->rep), d->intr_len, T_TYPE(TRB_NORMAL) | T_ISP | T_IOC);
  d->intr_queued = 1;
  ring_doorbell(d, d->intr_dci);
}

static const char *speed_name(unsigned s) {
  static const char *const names[] = {"?", "full", "low", "high", "super", "super+"};
  return s < 6 ? names[s] : "?";
}

/* The keyboard part: protocol, idle, the interrupt endpoint. */
static int setup_keyboard(struct usbdev *d) {
  struct xhci *c = d->c;
  struct usb_hid_iface *h = &d->hid;
  struct hid_kbd_layout lay;
  d->boot = h->subclass == 1 && h->protocol == 1;
  if (d->boot) {
    hid_boot_layout(&lay);
  } else {
    uint16_t n = h->report_len < BUF_SIZE ? h->report_len : BUF_SIZE;
    if (!n) return MN_ENOENT;
    int got = get_descriptor(d, 0x81, USB_DT_REPORT << 8, h->iface, n);
    if (got < 0) return got;
    int err = hid_parse_keyboard(d->buf, (size_t)got, &lay);
    if (err) return err;
  }
  int err = control(d, 0x00, USB_REQ_SET_CONFIGURATION, h->config_value, 0, 0);
  if (err < 0) return err;
  if (d->boot) {
    err = control(d, 0x21, HID_REQ_SET_PROTOCOL, 0, h->iface, 0);
    if (err < 0) return err;
  }
  control(d, 0x21, HID_REQ_SET_IDLE, 0, h->iface, 0); /* optional: a stall is fine */

  unsigned epn = h->ep_addr & 0xf;
  if (!epn) return MN_EPROTO;
  d->intr_dci = (uint8_t)(2 * epn + 1);
  d->intr_len = h->ep_max_packet > BUF_SIZE ? BUF_SIZE : h->ep_max_packet;
  if ((err = ring_init(&d->intr, XFER_RING))) return err;
  memset(d->in_ctx, 0, 33 * c->ctxsz);
  in_ctx(d, 0)[1] = 1u | 1u << d->intr_dci;            /* add the slot and the endpoint */
  uint32_t *sl = in_ctx(d, 1);
  memcpy(sl, ctx(d, d->out_ctx, 0), c->ctxsz);
  sl[0] = (sl[0] & ~(0x1fu << 27)) | (uint32_t)d->intr_dci << 27;
  sl[3] = 0;
  uint32_t *ep = in_ctx(d, 1 + d->intr_dci);
  ep[0] = xhci_interval(d->speed, h->ep_interval) << 16;
  ep[1] = 3u << 1 | 7u << 3 | (uint32_t)h->ep_max_packet << 16; /* CErr 3, interrupt IN */
  ep[2] = (uint32_t)d->intr.dma | 1;
  ep[3] = (uint32_t)(d->intr.dma >> 32);
  ep[4] = d->intr_len | (uint32_t)d->intr_len << 16;
  if ((err = command(c, plat_dma_addr(d->in_ctx), T_TYPE(TRB_CONFIGURE_EP) | (uint32_t)d->slot << 24,
                     NULL)))
    return err;
  hid_kbd_init(&d->kbd, &lay);
  queue_intr(d);
  return 0;
}

static void dev_free(struct usbdev *d) {
  ring_free(&d->ep0);
  ring_free(&d->intr);
  kfree(d->out_ctx);
  kfree(d->in_ctx);
  kfree(d->buf);
  kfree(d->rep);
  kfree(d);
}

/* Everything from Enable Slot to a running keyboard. d->err tells what
 * stopped it; d stays listed. */
static int enumerate(struct usbdev *d) {
  struct xhci *c = d->c;
  int slot = 0;
  int err = command(c, 0, T_TYPE(TRB_ENABLE_SLOT), &slot);
  if (err) return err;
  if (slot < 1 || (unsigned)slot > c->max_slots || c->slots[slot]) return MN_EPROTO;
  d->slot = (uint8_t)slot;
  c->slots[slot] = d;
  d->out_ctx = dma_alloc(32 * c->ctxsz);
  d->in_ctx = dma_alloc(33 * c->ctxsz);
  d->buf = dma_alloc(BUF_SIZE);
  d->rep = dma_alloc(BUF_SIZE);
  if (!d->out_ctx || !d->in_ctx || !d->buf || !d->rep) return MN_ENOMEM;
  if ((err = ring_init(&d->ep0, XFER_RING))) return err;
  c->dcbaa[slot] = plat_dma_addr(d->out_ctx);

  unsigned mp = d->speed == 4 || d->speed == 5 ? 512 : d->speed == 3 ? 64 : 8;
  in_ctx(d, 0)[1] = 3; /* add the slot and endpoint 0 */
  uint32_t *sl = in_ctx(d, 1);
  sl[0] = (uint32_t)d->speed << 20 | 1u << 27;
  sl[1] = (uint32_t)d->port << 16;
  uint32_t *ep0 = in_ctx(d, 2);
  ep0[1] = 3u << 1 | 4u << 3 | mp << 16; /* CErr 3, control */
  ep0[2] = (uint32_t)d->ep0.dma | 1;
  ep0[3] = (uint32_t)(d->ep0.dma >> 32);
  ep0[4] = 8;
  plat_io_barrier();
  if ((err = command(c, plat_dma_addr(d->in_ctx), T_TYPE(TRB_ADDRESS_DEVICE) | (uint32_t)slot << 24,
                     NULL)))
    return err;
  d->state = D_ADDRESSED;

  int got = get_descriptor(d, 0x80, USB_DT_DEVICE << 8, 0, 8);
  if (got < 0) return got;
  if ((err = usb_parse_device(d->buf, (size_t)got, &d->info))) return err;
  unsigned mp0 = d->info.max_packet0 ? d->info.max_packet0 : 512;
  if (mp0 != mp) { /* full speed: the real size of endpoint 0 */
    memset(d->in_ctx, 0, 33 * c->ctxsz);
    in_ctx(d, 0)[1] = 2;
    ep0 = in_ctx(d, 2);
    ep0[1] = 3u << 1 | 4u << 3 | mp0 << 16;
    ep0[2] = (uint32_t)d->ep0.dma | 1;
    ep0[3] = (uint32_t)(d->ep0.dma >> 32);
    ep0[4] = 8;
    if ((err = command(c, plat_dma_addr(d->in_ctx), T_TYPE(TRB_EVALUATE_CTX) | (uint32_t)slot << 24,
                       NULL)))
      return err;
  }
  got = get_descriptor(d, 0x80, USB_DT_DEVICE << 8, 0, 18);
  if (got < 0) return got;
  if ((err = usb_parse_device(d->buf, (size_t)got, &d->info))) return err;
  got = get_descriptor(d, 0x80, USB_DT_CONFIG << 8, 0, 9);
  if (got < 0) return got;
  if (got < 9) return MN_EPROTO;
  unsigned total = (unsigned)(d->buf[2] | d->buf[3] << 8);
  if (total < 9) return MN_EPROTO;
  got = get_descriptor(d, 0x80, USB_DT_CONFIG << 8, 0, (uint16_t)(total < BUF_SIZE ? total : BUF_SIZE));
  if (got < 0) return got;
  err = usb_find_hid(d->buf, (size_t)got, &d->hid);
  if (err == MN_ENOENT) {
    d->state = D_OTHER;
    return 0;
  }
  if (err) return err;
  err = setup_keyboard(d);
  if (err == MN_ENOENT) {
    d->state = D_OTHER;
    d->err = err;
    return 0;
  }
  if (err) return err;
  d->state = D_KEYBOARD;
  return 0;
}

static void publish(struct xhci *c, const struct key_event *ev, int n) {
  if (c->pub_state <= 0) { /* connect at the first key (the mux starts after us) */
    if (kbd_publisher_connect(&c->pub, MN_SEC(2))) {
      if (!c->pub_state) klog(LOG_WARN, "xhci%d: no keyboard mux: keys are dropped", c->index);
      c->pub_state = -1;
      return;
    }
    c->pub_state = 1;
  }
  for (int i = 0; i < n; i++) kbd_publish(&c->pub, &ev[i], MN_SEC(1));
}

static void detach(struct xhci *c, unsigned port) {
  struct usbdev *d = c->port_dev[port];
  if (!d) return;
  c->port_dev[port] = NULL;
  if (d->state == D_KEYBOARD) {
    struct key_event ev[HID_KEYS_MAX];
    publish(c, ev, hid_kbd_release_all(&d->kbd, ev, HID_KEYS_MAX));
  }
  if (d->slot) {
    command(c, 0, T_TYPE(TRB_DISABLE_SLOT) | (uint32_t)d->slot << 24, NULL);
    c->dcbaa[d->slot] = 0;
    c->slots[d->slot] = NULL;
  }
  klog(LOG_INFO, "xhci%d: port %u: device detached", c->index, port);
  dev_free(d);
}

static void attach(struct xhci *c, unsigned port) {
  uint32_t ps = rd32(c->op, OP_PORTSC(port));
  if (c->proto[port] < 3 && !(ps & PS_PED)) { /* USB 2: reset to enable */
    wr32(c->op, OP_PORTSC(port), (ps & PS_KEEP) | PS_PR);
  }
  uint64_t deadline = ktime_deadline(MN_MSEC(500));
  for (;;) { /* the reset (or USB 3 link training) ends with the port enabled */
    ps = rd32(c->op, OP_PORTSC(port));
    if (!(ps & PS_CCS)) return;
    if ((ps & PS_PED) && !(ps & PS_PR)) break;
    if (ktime_now() >= deadline) {
      klog(LOG_WARN, "xhci%d: port %u: not enabled after reset (portsc %#x)", c->index, port, ps);
      return;
    }
    task_sleep(MN_MSEC(1));
  }
  wr32(c->op, OP_PORTSC(port), (ps & PS_KEEP) | (ps & PS_CHANGES));
  struct usbdev *d = kzalloc(sizeof *d);
  if (!d) return;
  d->c = c;
  d->port = (uint8_t)port;
  d->speed = (ps >> 10) & 0xf;
  c->port_dev[port] = d;
  int err = enumerate(d);
  if (err) {
    d->err = err;
    d->state = D_FAILED;
    klog(LOG_WARN, "xhci%d: port %u: device not usable: %s", c->index, port, mn_strerror(err));
    return;
  }
  klog(LOG_INFO, "xhci%d: port %u: %s speed device %04x:%04x slot %u%s", c->index, port,
       speed_name(d->speed), d->info.vendor, d->info.product, d->slot,
       d->state == D_KEYBOARD ? (d->boot ? ", HID keyboard (boot protocol)"
                                         : ", HID keyboard (report protocol)")
                              : "");
}

static void port_change(struct xhci *c, unsigned port) {
  uint32_t ps = rd32(c->op, OP_PORTSC(port));
  if (ps == 0xffffffffu) return;
  wr32(c->op, OP_PORTSC(port), (ps & PS_KEEP) | (ps & PS_CHANGES)); /* acknowledge */
  int connected = (ps & PS_CCS) != 0;
  if (c->port_dev[port] && (!connected || (ps & PS_CSC))) detach(c, port);
  if (connected && !c->port_dev[port]) attach(c, port);
}

/* A finished interrupt transfer: the report, then the next transfer. */
static void intr_done(struct xhci *c, struct usbdev *d) {
  d->intr_done = 0;
  if (d->intr_code == CC_SUCCESS || d->intr_code == CC_SHORT) {
    uint32_t got = d->intr_residual > d->intr_len ? 0 : d->intr_len - d->intr_residual;
    struct key_event ev[2 * HID_KEYS_MAX];
    int n = hid_kbd_report(&d->kbd, d->rep, got, ktime_now(), ev, 2 * HID_KEYS_MAX);
    publish(c, ev, n);
    d->intr_errors = 0;
    queue_intr(d);
    return;
  }
  if (++d->intr_errors > 8) {
    klog(LOG_WARN, "xhci%d: slot %u: keyboard endpoint keeps failing (code %d): stopped",
         c->index, d->slot, d->intr_code);
    d->state = D_FAILED;
    d->err = MN_EIO;
    return;
  }
  if (!reset_endpoint(d, d->intr_dci, &d->intr)) queue_intr(d);
}

static int xhci_task(void *arg) {
  struct xhci *c = arg;
  for (;;) {
    uint32_t seq = waitq_seq(&c->irq);
    int busy = take_events(c) != 0;
    for (unsigned s = 1; s <= c->max_slots; s++) {
      struct usbdev *d = c->slots[s];
      if (d && d->intr_done && d->state == D_KEYBOARD) {
        intr_done(c, d);
        busy = 1;
      }
    }
    while (c->port_pending) {
      unsigned p = (unsigned)__builtin_ctzll(c->port_pending) + 1;
      c->port_pending &= ~(1ull << (p - 1));
      port_change(c, p);
      busy = 1;
    }
    uint64_t next = UINT64_MAX, now = ktime_now();
    for (unsigned s = 1; s <= c->max_slots; s++) {
      struct usbdev *d = c->slots[s];
      if (!d || d->state != D_KEYBOARD) continue;
      struct key_event ev;
      if (hid_kbd_repeat(&d->kbd, now, &ev)) publish(c, &ev, 1);
      uint64_t t = hid_kbd_next_repeat(&d->kbd);
      if (t < next) next = t;
    }
    if (busy || c->failed) {
      if (c->failed) return 0;
      continue;
    }
    if (waitq_wait_seq(&c->irq, seq, poll_deadline(c, next)) == MN_ECANCELED) return 0;
  }
}

/* ---- bring-up ------------------------------------------------------------- */

static int wait_reg(volatile uint8_t *b, unsigned off, uint32_t mask, uint32_t want,
                    uint64_t timeout_ns) {
  uint64_t deadline = ktime_deadline(timeout_ns);
  for (;;) {
    uint32_t v = rd32(b, off);
    if (v == 0xffffffffu) return MN_EIO;
    if ((v & mask) == want) return 0;
    if (ktime_now() >= deadline) return MN_ETIMEDOUT;
    task_sleep(MN_MSEC(1));
  }
}

/* The extended capabilities: BIOS hand-off, which ports speak which USB. */
static void ext_caps(struct xhci *c, size_t bar_size) {
  uint32_t off = (rd32(c->cap, CAP_HCCPARAMS1) >> 16) * 4;
  for (unsigned guard = 0; off && off + 16 <= bar_size && guard < 64; guard++) {
    uint32_t v = rd32(c->cap, off);
    unsigned id = v & 0xff;
    if (id == 1 && (v & (1u << 16))) { /* legacy support: the BIOS owns it */
      wr32(c->cap, off, v | 1u << 24);
      if (wait_reg(c->cap, off, 1u << 16, 0, MN_SEC(1)))
        klog(LOG_WARN, "xhci%d: the firmware did not hand the controller over", c->index);
      wr32(c->cap, off + 4, 0xe0000000u); /* SMIs off, their status cleared */
    } else if (id == 2) {
      unsigned major = v >> 24;
      uint32_t p = rd32(c->cap, off + 8);
      unsigned first = p & 0xff, count = (p >> 8) & 0xff;
      for (unsigned i = first; i < first + count && i <= MAX_PORTS; i++)
        if (i) c->proto[i] = (uint8_t)major;
    }
    unsigned next = (v >> 8) & 0xff;
    if (!next) break;
    off += next * 4;
  }
}

static int bring_up(struct xhci *c, struct pci_dev *d) {
  c->cap = pci_bar_map(d, 0);
  if (!c->cap || d->bar[0].size < 0x1000) return MN_ENOTSUP;
  uint32_t caplen = rd32(c->cap, 0);
  if (caplen == 0xffffffffu) return MN_EIO;
  c->version = (uint16_t)(caplen >> 16);
  uint32_t hcs1 = rd32(c->cap, CAP_HCSPARAMS1), hcs2 = rd32(c->cap, CAP_HCSPARAMS2);
  uint32_t hcc1 = rd32(c->cap, CAP_HCCPARAMS1);
  uint32_t dboff = rd32(c->cap, CAP_DBOFF) & ~3u, rtsoff = rd32(c->cap, CAP_RTSOFF) & ~31u;
  caplen &= 0xff;
  if (caplen < 0x20 || dboff + 4 * 256 > d->bar[0].size || rtsoff + 0x40 > d->bar[0].size)
    return MN_ENOTSUP;
  c->op = c->cap + caplen;
  c->rt = c->cap + rtsoff;
  c->db = (volatile uint32_t *)(c->cap + dboff);
  c->max_slots = hcs1 & 0xff;
  c->max_ports = (hcs1 >> 24) & 0xff;
  if (c->max_slots > MAX_SLOTS) c->max_slots = MAX_SLOTS;
  if (c->max_ports > MAX_PORTS) c->max_ports = MAX_PORTS;
  if (!c->max_slots || !c->max_ports || caplen + OP_PORTSC(c->max_ports) + 16 > d->bar[0].size)
    return MN_ENOTSUP;
  c->ctxsz = (hcc1 & 4) ? 64 : 32;
  ext_caps(c, d->bar[0].size);

  /* halt, reset */
  wr32(c->op, OP_USBCMD, rd32(c->op, OP_USBCMD) & ~(CMD_RS | CMD_INTE));
  int err = wait_reg(c->op, OP_USBSTS, STS_HCH, STS_HCH, MN_MSEC(100));
  if (err) return err;
  wr32(c->op, OP_USBCMD, CMD_HCRST);
  if ((err = wait_reg(c->op, OP_USBCMD, CMD_HCRST, 0, MN_SEC(1)))) return err;
  if ((err = wait_reg(c->op, OP_USBSTS, STS_CNR, 0, MN_SEC(1)))) return err;
  if (!(rd32(c->op, 0x08) & 1)) return MN_ENOTSUP; /* PAGESIZE: 4 KiB pages */

  c->dcbaa = dma_alloc((MAX_SLOTS + 1) * 8);
  c->evt = dma_alloc(EVT_RING * sizeof(struct trb));
  uint32_t *erst = dma_alloc(64);
  if (!c->dcbaa || !c->evt || !erst || ring_init(&c->cmd, CMD_RING)) return MN_ENOMEM;
  unsigned nsp = ((hcs2 >> 27) & 0x1f) | ((hcs2 >> 21) & 0x1f) << 5;
  if (nsp) {
    uint64_t *spa = dma_alloc(nsp * 8);
    if (!spa) return MN_ENOMEM;
    for (unsigned i = 0; i < nsp; i++) {
      void *pg = dma_alloc(4096);
      if (!pg) return MN_ENOMEM;
      spa[i] = plat_dma_addr(pg);
    }
    c->dcbaa[0] = plat_dma_addr(spa);
  }
  c->evt_dma = plat_dma_addr((const void *)c->evt);
  c->evt_cycle = 1;
  erst[0] = (uint32_t)c->evt_dma;
  erst[1] = (uint32_t)(c->evt_dma >> 32);
  erst[2] = EVT_RING;
  wr32(c->op, OP_CONFIG, c->max_slots);
  wr64(c->op, OP_DCBAAP, plat_dma_addr(c->dcbaa));
  wr64(c->op, OP_CRCR, c->cmd.dma | 1);

  int mode = pci_irq_setup(d, 1, irq_handler, c);
  if (mode < 0) {
    klog(LOG_WARN, "xhci%d: no interrupt (%s): polling the event ring every %d ms", c->index,
         mn_strerror(mode), (int)(POLL_NS / MN_MSEC(1)));
    mode = PCI_IRQ_NONE;
  }
  c->irq_mode = mode;
  wr32(c->rt, RT_ERSTSZ, 1);
  wr64(c->rt, RT_ERDP, c->evt_dma);
  plat_io_barrier();
  wr64(c->rt, RT_ERSTBA, plat_dma_addr(erst));
  wr32(c->rt, RT_IMOD, 0);
  wr32(c->rt, RT_IMAN, 3);
  wr32(c->op, OP_USBCMD, CMD_RS | CMD_INTE);
  if ((err = wait_reg(c->op, OP_USBSTS, STS_HCH, 0, MN_MSEC(100)))) return err;
  if (hcc1 & 8) /* port power control: power every port */
    for (unsigned p = 1; p <= c->max_ports; p++) {
      uint32_t ps = rd32(c->op, OP_PORTSC(p));
      if (!(ps & PS_PP)) wr32(c->op, OP_PORTSC(p), (ps & PS_KEEP) | PS_PP);
    }
  for (unsigned p = 1; p <= c->max_ports; p++) /* devices present at start */
    if (rd32(c->op, OP_PORTSC(p)) & PS_CCS) mark_port(c, p);
  return 0;
}

static int xhci_match(const struct pci_dev *d) {
  return d->class_code == 0x0c && d->subclass == 0x03 && d->prog_if == 0x30;
}

/* Intel's 7/8-series chipsets route their ports to the EHCI controllers
 * until told otherwise: switch every switchable port to xHCI (SuperSpeed
 * enables from USB3PRM, USB 2 routing from XUSB2PRM). */
static void intel_port_routing(const struct pci_dev *d) {
  if (d->vendor != 0x8086) return;
  uint32_t ss = pci_cfg_read32(d, 0xdc), hs = pci_cfg_read32(d, 0xd4);
  if (ss == 0xffffffffu || hs == 0xffffffffu) return;
  pci_cfg_write32(d, 0xd8, ss);
  pci_cfg_write32(d, 0xd0, hs);
}

static int xhci_probe(struct pci_dev *d) {
  if (nctrls == MAX_CTRLS) return MN_ENOSPC;
  struct xhci *c = kzalloc(sizeof *c);
  if (!c) return MN_ENOMEM;
  c->pci = d;
  c->index = nctrls;
  waitq_init(&c->irq);
  pci_enable(d);
  intel_port_routing(d);
  int err = bring_up(c, d);
  if (err) {
    /* stop the controller; c stays (its interrupt may still come) */
    if (c->op) wr32(c->op, OP_USBCMD, rd32(c->op, OP_USBCMD) & ~(CMD_RS | CMD_INTE));
    klog(LOG_ERROR, "xhci%d: %s", c->index, mn_strerror(err));
    return err;
  }
  char tn[TASK_NAME_MAX];
  ksnprintf(tn, sizeof tn, "xhci%d", c->index);
  if (task_spawn(tn, xhci_task, c, 0, NULL)) return MN_ENOMEM;
  d->drvdata = c;
  ctrls[nctrls++] = c;
  unsigned u2 = 0, u3 = 0;
  for (unsigned p = 1; p <= c->max_ports; p++) {
    if (c->proto[p] == 2) u2++;
    if (c->proto[p] >= 3) u3++;
  }
  klog(LOG_INFO, "xhci%d: xHCI %x.%02x, %u ports (%u USB 2, %u USB 3), %u slots, %s", c->index,
       c->version >> 8, c->version & 0xff, c->max_ports, u2, u3, c->max_slots,
       c->irq_mode == PCI_IRQ_MSIX ? "MSI-X" : c->irq_mode == PCI_IRQ_MSI ? "MSI"
       : c->irq_mode == PCI_IRQ_INTX ? "INTx" : "polled");
  return 0;
}

const struct pci_driver xhci_driver = {"xhci", xhci_match, xhci_probe};

/* ---- USB ---------------------------------------------------------------- */

int usb_print(void (*out)(void *arg, const char *s, size_t n), void *arg) {
  char line[160];
  for (int i = 0; i < nctrls; i++) {
    struct xhci *c = ctrls[i];
    const struct pci_dev *p = c->pci;
    int n = ksnprintf(line, sizeof line,
                      "xhci%d %02x:%02x.%x xHCI %x.%02x %s, %u ports, %lu events, %u irqs%s\n", i,
                      p->bus, p->dev, p->fn, c->version >> 8, c->version & 0xff,
                      c->irq_mode == PCI_IRQ_MSIX  ? "msix"
                      : c->irq_mode == PCI_IRQ_MSI ? "msi"
                      : c->irq_mode == PCI_IRQ_INTX ? "intx" : "polled",
                      c->max_ports, (unsigned long)c->events, (unsigned)c->irqs,
                      c->failed ? " FAILED" : "");
    out(arg, line, (size_t)n);
    for (unsigned port = 1; port <= c->max_ports; port++) {
      /* a copy: printing may wait, and the device may go meanwhile */
      struct usbdev d;
      if (!c->port_dev[port]) continue;
      d = *c->port_dev[port];
      static const char *const states[] = {"new", "addressed", "not a keyboard", "keyboard",
                                           "failed"};
      n = ksnprintf(line, sizeof line,
                    "  port %u usb%u %s speed slot %u %04x:%04x %s", port, c->proto[port] ? c->proto[port] : 2,
                    speed_name(d.speed), d.slot, d.info.vendor, d.info.product,
                    states[d.state < 5 ? d.state : 4]);
      out(arg, line, (size_t)n);
      if (d.state == D_KEYBOARD)
        n = ksnprintf(line, sizeof line, " (%s protocol), %lu reports\n", d.boot ? "boot" : "report",
                      (unsigned long)d.kbd.reports);
      else if (d.err)
        n = ksnprintf(line, sizeof line, ": %s\n", mn_strerror(d.err));
      else
        n = ksnprintf(line, sizeof line, "\n");
      out(arg, line, (size_t)n);
    }
  }
  if (!nctrls) out(arg, "no USB host controllers\n", 24);
  return nctrls;
}
