/*
 * xhci_test.c: the xHCI driver on the hosted kernel against a simulated
 * controller (a task of the test polling its registers and rings in
 * plain memory) with simulated devices on two root ports (1: USB 2,
 * 2: USB 3); key events read from the keyboard mux.
 *
 * Checked: bring-up (reset, rings, MSI-X) and the ports' protocols; a
 * boot keyboard enumerated (Enable Slot, Address Device, descriptors,
 * SET_CONFIGURATION, SET_PROTOCOL boot, Configure Endpoint), its reports
 * as presses and releases in the mux, a held key repeating, unplugged
 * (the held key released, Disable Slot) and plugged again; a keyboard
 * with only the report protocol (its report descriptor read and used); a
 * hostile device (a zero-length descriptor in its configuration) and a
 * device that never answers: each left failed with its error, listed by
 * usb_print, while the other port's keyboard goes on typing.
 */
#include <string.h>

#define CMD_TIMEOUT MN_MSEC(300)
#define XFER_TIMEOUT MN_MSEC(300)
#include "ktest.h"
#include "mneme/err.h"
#include "mneme/keyboard.h"
#include "mneme/task.h"
#include "../usb/xhci.c"

#include "pci_fake.h"

/* ---- the controller ----------------------------------------------------------- */

#define R_OP 0x20
#define R_RT 0x1000
#define R_DB 0x2000
#define R_XCAP 0x800
#define NPORTS 2


enum mode { GOOD, HOSTILE, SILENT };

struct sdev {
  int present, mode, boot, slot, addressed, configured, protocol_set, halted;
  uint8_t speed;
  uint64_t ep0, intr;          /* ring dequeue pointers */
  uint32_t ep0_cycle, intr_cycle;
  unsigned intr_dci;
  uint8_t setup[8];
  uint64_t data;
  uint32_t data_len;
  uint64_t data_trb;
  uint8_t reports[16][8];
  int nreports, rhead;
};

static struct {
  int stop, running, started;
  uint64_t cmd;
  uint32_t cmd_cycle;
  uint64_t evt;
  unsigned evt_idx, evt_size;
  uint32_t evt_cycle;
  uint32_t portsc[NPORTS + 1];
  struct sdev dev[NPORTS + 1];
  int slot_port[9];
  int disabled, enabled;
} hc;

static void event(uint64_t param, uint32_t status, uint32_t control) {
  struct trb *e = (struct trb *)(uintptr_t)hc.evt + hc.evt_idx;
  e->param = param;
  e->status = status;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  e->control = (control & ~1u) | hc.evt_cycle;
  if (++hc.evt_idx == hc.evt_size) hc.evt_idx = 0, hc.evt_cycle ^= 1;
  if (irq_fn) irq_fn(irq_arg);
}

/* The next TRB of a ring whose cycle matches (links followed), or NULL. */
static struct trb *ring_next(uint64_t *deq, uint32_t *cycle) {
  for (;;) {
    struct trb *t = (struct trb *)(uintptr_t)*deq;
    if ((t->control & 1) != *cycle) return NULL;
    if (((t->control >> 10) & 0x3f) == TRB_LINK) {
      if (t->control & T_TC) *cycle ^= 1;
      *deq = t->param;
      continue;
    }
    *deq += sizeof(struct trb);
    return t;
  }
}

static void port_event(int p) { event((uint64_t)p << 24, 1u << 24, T_TYPE(EV_PORT)); }

static void plug(int p, int mode, int boot) {
  memset(&hc.dev[p], 0, sizeof hc.dev[p]);
  hc.dev[p].present = 1;
  hc.dev[p].mode = mode;
  hc.dev[p].boot = boot;
  hc.dev[p].speed = p == 1 ? 3 : 4;
  hc.portsc[p] = PS_CCS | PS_PP | PS_CSC | (uint32_t)hc.dev[p].speed << 10 |
                 (p == 2 ? PS_PED : 0); /* USB 3 enables itself */
  set32(R_OP + OP_PORTSC(p), hc.portsc[p]);
  port_event(p);
}

static void unplug(int p) {
  hc.dev[p].present = 0;
  hc.portsc[p] = PS_PP | PS_CSC;
  set32(R_OP + OP_PORTSC(p), hc.portsc[p]);
  port_event(p);
}

static void key_report(int p, uint8_t mods, uint8_t key) {
  struct sdev *d = &hc.dev[p];
  uint8_t *r = d->reports[(d->rhead + d->nreports++) % 16];
  memset(r, 0, 8);
  if (d->boot) {
    r[0] = mods, r[2] = key;
  } else { /* the report protocol: ID 2, modifiers, keys */
    r[0] = 2, r[1] = mods, r[2] = key;
  }
}

/* Report protocol only: a report ID and 6 keys. */
static const uint8_t id_report_desc[] = {
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x85, 0x02, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7,
    0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x06, 0x75, 0x08,
    0x15, 0x00, 0x25, 0x65, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0};

/* The answer to a control request: bytes into out, their count; -1: stall. */
static int answer(struct sdev *d, uint8_t *out) {
  uint8_t type = d->setup[0], req = d->setup[1];
  uint16_t value = (uint16_t)(d->setup[2] | d->setup[3] << 8);
  if (type == 0x80 && req == USB_REQ_GET_DESCRIPTOR && value >> 8 == USB_DT_DEVICE) {
    static const uint8_t dev2[18] = {18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x27, 0x06, 0x01, 0x00,
                                     0, 0, 1, 2, 3, 1};
    static const uint8_t dev3[18] = {18, 1, 0x00, 0x03, 0, 0, 0, 9, 0x27, 0x06, 0x02, 0x00,
                                     0, 0, 1, 2, 3, 1};
    memcpy(out, d->speed == 4 ? dev3 : dev2, 18);
    return 18;
  }
  if (type == 0x80 && req == USB_REQ_GET_DESCRIPTOR && value >> 8 == USB_DT_CONFIG) {
    uint8_t c[34] = {9, 2, 34, 0, 1, 1, 0, 0xa0, 50,
                     9, 4, 0, 0, 1, 3, 1, 1, 0,
                     9, 0x21, 0x11, 0x01, 0, 1, 0x22, 0, 0,
                     7, 5, 0x81, 3, 8, 0, 10};
    c[25] = d->boot ? 63 : sizeof id_report_desc; /* boot: never read */
    if (!d->boot) c[15] = c[16] = 0;
    if (d->mode == HOSTILE) c[18] = 0; /* a zero-length descriptor */
    memcpy(out, c, sizeof c);
    return sizeof c;
  }
  if (type == 0x81 && req == USB_REQ_GET_DESCRIPTOR && value >> 8 == USB_DT_REPORT) {
    if (d->boot) return -1;
    memcpy(out, id_report_desc, sizeof id_report_desc);
    return sizeof id_report_desc;
  }
  if (type == 0 && req == USB_REQ_SET_CONFIGURATION) return d->configured = value, 0;
  if (type == 0x21 && req == HID_REQ_SET_PROTOCOL) return d->protocol_set = 1, 0;
  if (type == 0x21 && req == HID_REQ_SET_IDLE) return -1; /* optional: stalls */
  return -1;
}

static void control_ring(struct sdev *d) {
  struct trb *t;
  while (!d->halted && (t = ring_next(&d->ep0, &d->ep0_cycle))) {
    uint64_t at = (uint64_t)(uintptr_t)t;
    unsigned type = (t->control >> 10) & 0x3f;
    if (type == TRB_SETUP) {
      memcpy(d->setup, &t->param, 8);
      d->data = 0, d->data_len = 0;
    } else if (type == TRB_DATA) {
      d->data = t->param, d->data_len = t->status & 0x1ffff, d->data_trb = at;
    } else if (type == TRB_STATUS) {
      uint32_t ctl = T_TYPE(EV_TRANSFER) | 1u << 16 | (uint32_t)d->slot << 24;
      if (d->mode == SILENT) continue;
      uint8_t buf[256];
      int n = answer(d, buf);
      if (n < 0) {
        event(d->data ? d->data_trb : at, (uint32_t)CC_STALL << 24, ctl);
        d->halted = 1;
        return;
      }
      if (d->data) {
        uint32_t got = (uint32_t)n < d->data_len ? (uint32_t)n : d->data_len;
        memcpy((void *)(uintptr_t)d->data, buf, got);
        if (got < d->data_len) event(d->data_trb, (uint32_t)CC_SHORT << 24 | (d->data_len - got), ctl);
      }
      event(at, (uint32_t)CC_SUCCESS << 24, ctl);
    }
  }
}

static void intr_ring(struct sdev *d) {
  if (!d->intr || !d->nreports) return;
  uint64_t save = d->intr;
  uint32_t cyc = d->intr_cycle;
  struct trb *t = ring_next(&d->intr, &d->intr_cycle);
  if (!t) return;
  if (((t->control >> 10) & 0x3f) != TRB_NORMAL) {
    d->intr = save, d->intr_cycle = cyc;
    return;
  }
  uint32_t len = t->status & 0x1ffff, n = d->boot ? 8 : 8;
  memcpy((void *)(uintptr_t)t->param, d->reports[d->rhead], n < len ? n : len);
  d->rhead = (d->rhead + 1) % 16;
  d->nreports--;
  event((uint64_t)(uintptr_t)t, (uint32_t)CC_SHORT << 24 | (len - n),
        T_TYPE(EV_TRANSFER) | d->intr_dci << 16 | (uint32_t)d->slot << 24);
}

static struct sdev *slot_dev(unsigned slot) {
  return slot < 9 && hc.slot_port[slot] > 0 ? &hc.dev[hc.slot_port[slot]] : NULL;
}

static void command_ring(void) {
  struct trb *t;
  while ((t = ring_next(&hc.cmd, &hc.cmd_cycle))) {
    uint64_t at = (uint64_t)(uintptr_t)t;
    unsigned type = (t->control >> 10) & 0x3f, slot = t->control >> 24;
    uint32_t code = CC_SUCCESS;
    struct sdev *d = slot_dev(slot);
    uint32_t *in = (uint32_t *)(uintptr_t)t->param;
    if (type == TRB_ENABLE_SLOT) {
      slot = 0;
      for (unsigned s = 1; s < 9 && !slot; s++)
        if (!hc.slot_port[s]) slot = s;
      hc.slot_port[slot] = -1; /* the port is known at Address Device */
      hc.enabled++;
    } else if (type == TRB_ADDRESS_DEVICE) {
      unsigned port = (in[8 + 1] >> 16) & 0xff;
      assert_true(port >= 1 && port <= NPORTS);
      assert_int_equal(in[1], 3);
      assert_int_equal((in[8] >> 20) & 0xf, hc.dev[port].speed);
      hc.slot_port[slot] = (int)port;
      d = &hc.dev[port];
      d->slot = (int)slot;
      d->ep0 = (uint64_t)in[16 + 2] | (uint64_t)in[16 + 3] << 32;
      d->ep0_cycle = d->ep0 & 1;
      d->ep0 &= ~15ull;
      d->addressed = 1;
    } else if (type == TRB_CONFIGURE_EP && d) {
      unsigned dci = 31 - (unsigned)__builtin_clz(in[1] & ~1u);
      uint32_t *ep = in + 8 * (1 + dci);
      assert_int_equal((ep[1] >> 3) & 7, 7); /* interrupt IN */
      d->intr_dci = dci;
      d->intr = (uint64_t)ep[2] | (uint64_t)ep[3] << 32;
      d->intr_cycle = d->intr & 1;
      d->intr &= ~15ull;
    } else if (type == TRB_DISABLE_SLOT) {
      if (slot < 9) hc.slot_port[slot] = 0;
      hc.disabled++;
    } else if (type == TRB_RESET_EP && d) {
      d->halted = 0;
    } else if (type == TRB_SET_DEQUEUE && d) {
      unsigned dci = (t->control >> 16) & 0x1f;
      if (dci == 1) d->ep0 = t->param & ~15ull, d->ep0_cycle = t->param & 1;
      else d->intr = t->param & ~15ull, d->intr_cycle = t->param & 1;
    } else if (type == TRB_EVALUATE_CTX) {
    } else {
      code = 5; /* TRB error */
    }
    event(at, code << 24, T_TYPE(EV_COMMAND) | slot << 24);
  }
}

static int controller_task(void *arg) {
  hc.running = 1;
  while (!hc.stop) {
    uint32_t cmd = reg32(R_OP + OP_USBCMD);
    if (cmd & CMD_HCRST) {
      set32(R_OP + OP_USBCMD, cmd & ~CMD_HCRST);
      set32(R_OP + OP_USBSTS, STS_HCH);
      hc.started = 0;
    } else if ((cmd & CMD_RS) && !hc.started) {
      hc.started = 1;
      hc.cmd = reg64(R_OP + OP_CRCR) & ~63ull;
      hc.cmd_cycle = reg32(R_OP + OP_CRCR) & 1;
      uint32_t *erst = (uint32_t *)(uintptr_t)reg64(R_RT + RT_ERSTBA);
      hc.evt = (uint64_t)erst[0] | (uint64_t)erst[1] << 32;
      hc.evt_size = erst[2];
      hc.evt_idx = 0;
      hc.evt_cycle = 1;
      assert_int_equal(reg32(R_RT + RT_ERSTSZ), 1);
      set32(R_OP + OP_USBSTS, 0);
      for (int p = 1; p <= NPORTS; p++) set32(R_OP + OP_PORTSC(p), hc.portsc[p]);
    }
    if (hc.started) {
      for (int p = 1; p <= NPORTS; p++) { /* the driver's writes: RW1C, PR */
        uint32_t v = reg32(R_OP + OP_PORTSC(p));
        if (v != hc.portsc[p]) {
          hc.portsc[p] &= ~(v & PS_CHANGES);
          if ((v & PS_PR) && hc.dev[p].present) {
            hc.portsc[p] |= PS_PED | (1u << 21); /* PRC */
            port_event(p);
          }
          set32(R_OP + OP_PORTSC(p), hc.portsc[p]);
        }
      }
      command_ring();
      for (int p = 1; p <= NPORTS; p++) {
        struct sdev *d = &hc.dev[p];
        if (!d->present || !d->addressed || hc.slot_port[d->slot] != p) continue;
        control_ring(d);
        intr_ring(d);
      }
    }
    task_sleep(MN_MSEC(1));
  }
  hc.running = 0;
  return 0;
}

static void make_ctrl(void) {
  memset(&hc, 0, sizeof hc);
  fake_function(0x1b36, 0x000d, 0x0c, 3, 0x30, 0, 0);
  fake_msix(0, 1, 0, 0x3000);
  set32(0, 0x20 | 0x0100u << 16);
  set32(CAP_HCSPARAMS1, 8 | 1u << 8 | (uint32_t)NPORTS << 24);
  set32(CAP_HCCPARAMS1, (R_XCAP / 4) << 16);
  set32(CAP_DBOFF, R_DB);
  set32(CAP_RTSOFF, R_RT);
  set32(R_OP + OP_USBSTS, STS_HCH);
  set32(R_OP + 0x08, 1);
  set32(R_XCAP, 2 | 4u << 8 | 2u << 24); /* USB 2: port 1 */
  set32(R_XCAP + 8, 1 | 1u << 8);
  set32(R_XCAP + 16, 2 | 0u << 8 | 3u << 24); /* USB 3: port 2 */
  set32(R_XCAP + 24, 2 | 1u << 8);
  for (int p = 1; p <= NPORTS; p++) hc.portsc[p] = PS_PP, set32(R_OP + OP_PORTSC(p), PS_PP);
  nctrls = 0;
}

static void stop(void) {
  hc.stop = 1;
  for (int i = 0; i < 1000 && hc.running; i++) task_sleep(MN_MSEC(1));
}

/* Waits up to timeout for cond(). */
#define WAIT_FOR(cond, ms)                                                   \
  do {                                                                       \
    for (int w_ = 0; w_ < (ms) && !(cond); w_++) task_sleep(MN_MSEC(1));    \
  } while (0)

static struct xhci *ctrl(void) { return pdev.drvdata; }

static int next_key(struct kbd_sub *sub, struct key_event *ev) {
  return kbd_next(sub, ev, MN_SEC(2));
}

struct text {
  char s[1024];
  size_t n;
};
static void to_text(void *arg, const char *s, size_t n) {
  struct text *t = arg;
  if (t->n + n < sizeof t->s) memcpy(t->s + t->n, s, n), t->n += n;
  t->s[t->n] = 0;
}

static void keyboard_hotplug_and_hostile(void **state) {
  make_ctrl();
  assert_int_equal(kbdmux_start(), 0);
  struct kbd_sub *sub;
  assert_int_equal(kbd_subscribe(256, MN_SEC(1), &sub), 0);
  assert_int_equal(task_spawn("fake-xhci", controller_task, NULL, 0, NULL), 0);
  assert_true(xhci_match(&pdev));
  assert_int_equal(xhci_driver.probe(&pdev), 0);
  struct xhci *c = ctrl();
  assert_non_null(c);
  assert_int_equal(c->irq_mode, PCI_IRQ_MSIX);
  assert_int_equal(c->proto[1], 2);
  assert_int_equal(c->proto[2], 3);

  /* a boot keyboard on the USB 2 port */
  plug(1, GOOD, 1);
  WAIT_FOR(c->port_dev[1] && c->port_dev[1]->state == D_KEYBOARD, 2000);
  assert_non_null(c->port_dev[1]);
  assert_int_equal(c->port_dev[1]->state, D_KEYBOARD);
  assert_true(c->port_dev[1]->boot);
  assert_int_equal(hc.dev[1].configured, 1);
  assert_true(hc.dev[1].protocol_set);
  assert_int_equal(hc.dev[1].intr_dci, 3);
  key_report(1, 0x02, 0x04); /* Shift+a */
  key_report(1, 0, 0);
  struct key_event ev;
  assert_int_equal(next_key(sub, &ev), 0);
  assert_int_equal(ev.kind, KEY_PRESSED);
  assert_int_equal(ev.ch, 'A');
  assert_int_equal(next_key(sub, &ev), 0);
  assert_int_equal(ev.kind, KEY_RELEASED);

  /* held: repeats from the task's timer */
  key_report(1, 0, 0x05);
  assert_int_equal(next_key(sub, &ev), 0);
  assert_int_equal(ev.ch, 'b');
  int repeats = 0;
  while (repeats < 3 && next_key(sub, &ev) == 0 && ev.kind == KEY_PRESSED && ev.ch == 'b')
    repeats++;
  assert_int_equal(repeats, 3);

  /* a hostile device and a silent one on the USB 3 port, one after the other */
  plug(2, HOSTILE, 1);
  WAIT_FOR(c->port_dev[2] && c->port_dev[2]->state == D_FAILED, 2000);
  assert_non_null(c->port_dev[2]);
  assert_int_equal(c->port_dev[2]->state, D_FAILED);
  assert_int_equal(c->port_dev[2]->err, MN_EPROTO);
  assert_int_equal(c->port_dev[2]->speed, 4);
  unplug(2);
  WAIT_FOR(!c->port_dev[2], 2000);
  assert_null(c->port_dev[2]);
  plug(2, SILENT, 1);
  WAIT_FOR(c->port_dev[2] && c->port_dev[2]->state == D_FAILED, 3000);
  assert_non_null(c->port_dev[2]);
  assert_int_equal(c->port_dev[2]->err, MN_ETIMEDOUT);
  struct text t = {{0}, 0};
  assert_int_equal(usb_print(to_text, &t), 1);
  assert_non_null(strstr(t.s, "port 1 usb2 high speed"));
  assert_non_null(strstr(t.s, "keyboard (boot protocol)"));
  assert_non_null(strstr(t.s, "port 2 usb3 super speed"));
  assert_non_null(strstr(t.s, "failed: timed out"));

  /* unplugged while b is held: released, the slot disabled */
  int disabled = hc.disabled;
  unplug(1);
  while (next_key(sub, &ev) == 0 && ev.kind == KEY_PRESSED) {}
  assert_int_equal(ev.kind, KEY_RELEASED);
  assert_int_equal(ev.ch, 'b');
  WAIT_FOR(!c->port_dev[1] && hc.disabled > disabled, 2000);
  assert_null(c->port_dev[1]);
  assert_true(hc.disabled > disabled);

  /* plugged again: a keyboard with only the report protocol */
  plug(1, GOOD, 0);
  WAIT_FOR(c->port_dev[1] && c->port_dev[1]->state == D_KEYBOARD, 2000);
  assert_non_null(c->port_dev[1]);
  assert_int_equal(c->port_dev[1]->state, D_KEYBOARD);
  assert_false(c->port_dev[1]->boot);
  assert_false(hc.dev[1].protocol_set);
  key_report(1, 0, 0x28); /* Enter */
  key_report(1, 0, 0);
  assert_int_equal(next_key(sub, &ev), 0);
  assert_int_equal(ev.kind, KEY_PRESSED);
  assert_int_equal(ev.code, KEY_ENTER);
  assert_int_equal(next_key(sub, &ev), 0);
  assert_int_equal(ev.kind, KEY_RELEASED);
  assert_int_equal(c->failed, 0);
  stop();
}

static int boot(void **state) {
  ktest_boot(8u << 20);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(keyboard_hotplug_and_hostile, boot),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
