/*
 * sermux_test.c: the serial mux, keyboard mux and tracing services, run
 * inside a kernel in this process over a fake serial port (two rings the
 * test plays the host on).
 *
 * Mux: the wire vector of mnemos-wire.md both ways, cutting into
 * max_frame/2 frames, random round trips through the loopback, every
 * malformed class (bad COBS, short, oversized, closed port) counted and
 * survived, back-pressure within the stall and counted loss beyond it,
 * RegisterPort errors. Keyboard: the byte decoder, in-order delivery to
 * every subscriber, counted loss. Tracing: records encoded by the kernel
 * decode in mnemeterm's decoder; SetMaxLevel from the host.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include "mneme/err.h"
#include "mneme/kernel.h"
#include "mneme/keyboard.h"
#include "mneme/ktime.h"
#include "mneme/postcard.h"
#include "mneme/serial.h"
#include "mneme/sermux.h"
#include "mneme/sermux_frame.h"
#include "mneme/task.h"
#include "mneme/trace.h"
#include "trace_decode.h"

/* ---- the fake serial port and the host side -------------------------------- */

static struct bbq line_rx, line_tx;   /* host -> kernel, kernel -> host */
static struct svc_server *serial_srv;
static struct smx_demux host;         /* the host's demux of line_tx */
static uint8_t host_buf[2048];
static void *heap_mem;

static int
fake_serial(void *arg)
{
  (void)arg;
  SVC_MSG_BUF(m, sizeof(struct serial_req));
  while (svc_recv(serial_srv, m, MN_FOREVER) == 0) {
    struct serial_resp r = { &line_rx, &line_tx };
    svc_reply_ok(serial_srv, &m->env, &r);
  }
  return 0;
}

/* The host sends raw bytes. */
static void
host_send(const void *p, size_t n)
{
  assert_int_equal(bbq_write_all(&line_rx, p, n, MN_SEC(2)), 0);
}

static void
host_send_frame(uint16_t port, const void *p, size_t n)
{
  uint8_t w[1200];
  size_t len;
  assert_int_equal(smx_encode(port, p, n, w, sizeof w, &len), 0);
  host_send(w, len);
}

/* The next frame the kernel sent (skipping none): port, payload, length.
 * Returns 0 or MN_ETIMEDOUT. Wire bytes are copied to raw if not NULL. */
static uint8_t last_frame[600];

static int
host_recv_frame(uint16_t *port, size_t *len, uint64_t timeout_ns)
{
  uint64_t deadline = ktime_deadline(timeout_ns);
  for (;;) {
    const uint8_t *p;
    size_t n;
    uint64_t now = ktime_now();
    int err = bbq_read_grant(&line_tx, deadline > now ? deadline - now : 0, &p, &n);
    if (err)
      return err;
    size_t used;
    struct smx_item it;
    int kind = smx_demux_feed(&host, p, n, &used, &it);
    bbq_release(&line_tx, used);
    if (kind == SMX_FRAME) {
      *port = it.port;
      *len = it.len;
      memcpy(last_frame, it.data, it.len);
      return 0;
    }
  }
}

/* Collects payload of `port` frames until want bytes came; other ports'
 * frames (tracing, hello) are skipped. */
static size_t
host_collect(uint16_t port, uint8_t *out, size_t want, uint64_t timeout_ns)
{
  size_t got = 0;
  uint16_t p;
  size_t n;
  while (got < want && host_recv_frame(&p, &n, timeout_ns) == 0) {
    if (p != port)
      continue;
    assert_true(got + n <= want);
    memcpy(out + got, last_frame, n);
    got += n;
  }
  return got;
}

static int
setup(void **state)
{
  (void)state;
  static const struct svc_type type = SERIAL_TYPE;
  static struct mem_region region;
  static struct boot_info bi;
  heap_mem = aligned_alloc(4096, 4u << 20);
  region = (struct mem_region){ (uintptr_t)heap_mem, 4u << 20 };
  bi = (struct boot_info){ &region, 1, 0, 0, 0 };
  if (kernel_init(&bi))
    return -1;
  if (bbq_init(&line_rx, 4096) || bbq_init(&line_tx, 8192))
    return -1;
  if (svc_register(&(struct uuid)SERIAL_UUID, "serial", &type, 0, SVC_ACCEPT_ALL,
                   4, &serial_srv) ||
      task_spawn("fake-serial", fake_serial, 0, 0, 0))
    return -1;
  smx_demux_init(&host, host_buf, sizeof host_buf, 512);
  struct sermux_config cfg = { 16, 512, 0 };
  if (sermux_start(&cfg, MN_SEC(1)) || kbdmux_start() ||
      sermux_loopback_start(0))
    return -1;
  return 0;
}

static int
teardown(void **state)
{
  (void)state;
  /* The kernel's tasks stay parked. Their stacks' guard pages are opened
   * again so that the leak checker can scan the heap block. */
  mprotect(heap_mem, 4u << 20, PROT_READ | PROT_WRITE);
  return 0;
}

/* ---- mux ------------------------------------------------------------------- */

static void
test_wire_vector(void **state)
{
  (void)state;
  static const uint8_t wire[] = { 0x07, 0x69, 0x42, 0x01, 0x02, 0x03, 0x04, 0x00 };
  static const uint8_t payload[] = { 1, 2, 3, 4 };
  struct sermux_port *p;
  assert_int_equal(sermux_open(0x4269, 64, MN_SEC(1), &p), 0);
  /* kernel to host: exactly the vector's bytes */
  assert_int_equal(sermux_write(p, payload, 4, MN_SEC(1)), 0);
  const uint8_t *d;
  size_t n;
  assert_int_equal(bbq_read_grant(&line_tx, MN_SEC(2), &d, &n), 0);
  assert_int_equal(n, sizeof wire);
  assert_memory_equal(d, wire, sizeof wire);
  bbq_release(&line_tx, n);
  /* host to kernel */
  host_send(wire, sizeof wire);
  uint8_t buf[16];
  assert_int_equal(sermux_read(p, buf, sizeof buf, MN_SEC(2), &n), 0);
  assert_int_equal(n, 4);
  assert_memory_equal(buf, payload, 4);
  assert_int_equal(p->st.rx_frames, 1);
  assert_int_equal(p->st.tx_frames, 1);
}

static void
test_cut_into_half_frames(void **state)
{
  (void)state;
  static uint8_t data[1000], got[1000];
  struct sermux_port *p;
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)(i * 7);
  assert_int_equal(sermux_open(20, 2048, MN_SEC(1), &p), 0);
  assert_int_equal(sermux_write(p, data, sizeof data, MN_SEC(1)), 0);
  size_t total = 0, frames = 0;
  while (total < sizeof data) {
    uint16_t port;
    size_t n;
    assert_int_equal(host_recv_frame(&port, &n, MN_SEC(2)), 0);
    if (port != 20)
      continue;
    assert_true(n <= 256); /* max_frame / 2 */
    memcpy(got + total, last_frame, n);
    total += n;
    frames++;
  }
  assert_int_equal(frames, 4);
  assert_memory_equal(got, data, sizeof data);
}

static void
test_random_round_trips(void **state)
{
  (void)state;
  static uint8_t data[3000], got[3000];
  srand(1234);
  for (int round = 0; round < 40; round++) {
    size_t n = (size_t)rand() % 700 + 1;
    for (size_t i = 0; i < n; i++)
      data[i] = (uint8_t)(rand() % 4 ? rand() : 0); /* plenty of zeros */
    for (size_t off = 0; off < n;) {
      size_t k = (size_t)rand() % 256 + 1;
      if (k > n - off)
        k = n - off;
      host_send_frame(0, data + off, k);
      off += k;
    }
    assert_int_equal(host_collect(0, got, n, MN_SEC(2)), n);
    assert_memory_equal(got, data, n);
  }
}

/* Sends a good frame to the loopback and waits for its echo, so that
 * everything sent before has been through the mux. */
static void
sync_loopback(void)
{
  uint8_t got[5];
  host_send_frame(0, "sync!", 5);
  assert_int_equal(host_collect(0, got, 5, MN_SEC(2)), 5);
  assert_memory_equal(got, "sync!", 5);
}

static void
test_malformed_classes(void **state)
{
  (void)state;
  struct sermux_stats a, b;
  sync_loopback();
  sermux_stats(&a);
  static const uint8_t bad_cobs[] = { 0x05, 0x01, 0x02, 0x00 };   /* runs past */
  static const uint8_t zero_code[] = { 0x03, 0x11, 0x00 };        /* block runs past */
  static const uint8_t one_byte[] = { 0x02, 0x04, 0x00 };         /* 1 decoded byte */
  static const uint8_t port_only[] = { 0x03, 0x04, 0x01, 0x00 };  /* port, no payload */
  host_send(bad_cobs, sizeof bad_cobs);
  host_send(zero_code, sizeof zero_code);
  host_send(one_byte, sizeof one_byte);
  host_send(port_only, sizeof port_only);
  static uint8_t big[700];
  memset(big, 0x5a, sizeof big);
  host_send_frame(0, big, sizeof big);                            /* oversized */
  host_send_frame(7, "closed", 6);                                /* not open */
  sync_loopback();
  sermux_stats(&b);
  assert_int_equal(b.malformed - a.malformed, 2);
  assert_int_equal(b.short_frames - a.short_frames, 2);
  assert_int_equal(b.oversized - a.oversized, 1);
  assert_int_equal(b.closed_port_frames - a.closed_port_frames, 1);
  assert_int_equal(b.closed_port_bytes - a.closed_port_bytes, 6);
  assert_int_equal(b.frames_rx - a.frames_rx, 2); /* the two syncs' frames */
}

struct slow_reader {
  struct sermux_port *p;
  size_t want, got;
  uint64_t pause_ns;
};

static int
slow_reader_task(void *arg)
{
  struct slow_reader *r = arg;
  uint8_t buf[16];
  while (r->got < r->want) {
    size_t n;
    if (sermux_read(r->p, buf, sizeof buf, MN_SEC(5), &n))
      break;
    r->got += n;
    task_sleep(r->pause_ns);
  }
  return 0;
}

static void
test_back_pressure_and_counted_loss(void **state)
{
  (void)state;
  struct sermux_port *p;
  static uint8_t data[200];
  memset(data, 'x', sizeof data);
  assert_int_equal(sermux_open(30, 64, MN_SEC(1), &p), 0);
  /* A reader that keeps up (slowly, well within the stall): nothing lost. */
  struct slow_reader r = { p, 200, 0, MN_MSEC(2) };
  struct task *t;
  assert_int_equal(task_spawn("slow-reader", slow_reader_task, &r, 0, &t), 0);
  host_send_frame(30, data, sizeof data);
  sync_loopback();
  assert_int_equal(task_join(t, MN_SEC(5), 0), 0);
  assert_int_equal(r.got, 200);
  assert_int_equal(p->st.rx_lost_bytes, 0);
  assert_int_equal(p->st.rx_bytes, 200);
  /* Nobody reads: the ring (64 bytes, 63 usable at once) fills, the mux
   * waits out the stall, then counts the rest as lost. */
  host_send_frame(30, data, sizeof data);
  sync_loopback();
  assert_int_equal(p->st.rx_lost_frames, 1);
  assert_int_equal(p->st.rx_bytes - 200 + p->st.rx_lost_bytes, 200);
  assert_true(p->st.rx_lost_bytes > 0);
  assert_int_equal(bbq_used(&p->rx), p->st.rx_bytes - 200);
  /* Still stuck: more frames are counted as lost, no new stall. */
  uint64_t lost = p->st.rx_lost_bytes;
  host_send_frame(30, data, 10);
  host_send_frame(30, data, 10);
  sync_loopback();
  assert_int_equal(p->st.rx_lost_frames, 3);
  assert_int_equal(p->st.rx_lost_bytes, lost + 20);
  /* The reader drains the ring: frames are delivered again. */
  uint8_t buf[64];
  size_t n;
  while (bbq_used(&p->rx))
    assert_int_equal(sermux_read(p, buf, sizeof buf, MN_SEC(1), &n), 0);
  uint64_t delivered = p->st.rx_frames;
  host_send_frame(30, data, 10);
  assert_int_equal(sermux_read(p, buf, sizeof buf, MN_SEC(2), &n), 0);
  assert_int_equal(n, 10);
  assert_int_equal(p->st.rx_frames, delivered + 1);
  assert_int_equal(p->st.rx_lost_frames, 3);
}

static void
test_register_errors(void **state)
{
  (void)state;
  struct sermux_port *p;
  assert_int_equal(sermux_open(0, 0, MN_SEC(1), &p), MN_EEXIST);
  assert_int_equal(sermux_open(40, SERMUX_CAPACITY_MAX + 1, MN_SEC(1), &p), MN_EINVAL);
  struct sermux_stats st;
  sermux_stats(&st);
  uint16_t port = 100;
  for (uint32_t i = st.ports_open; i < st.max_ports; i++)
    assert_int_equal(sermux_open(port++, 16, MN_SEC(1), &p), 0);
  assert_int_equal(sermux_open(port, 16, MN_SEC(1), &p), MN_ENOSPC);
  struct sermux_port_stats ps;
  assert_int_equal(sermux_port_stats(st.max_ports - 1, &ps), 0);
  assert_int_equal(sermux_port_stats(st.max_ports, &ps), MN_ENOENT);
}

/* ---- keyboard -------------------------------------------------------------- */

static void
test_key_decoder(void **state)
{
  (void)state;
  struct { const char *in; uint16_t code; uint32_t ch; uint8_t mods; } cases[] = {
    { "a", KEY_CHAR, 'a', 0 }, { "Z", KEY_CHAR, 'Z', KEYMOD_SHIFT },
    { "\r", KEY_ENTER, 0, 0 }, { "\x7f", KEY_BACKSPACE, 0, 0 },
    { "\t", KEY_TAB, 0, 0 }, { "\x03", KEY_CHAR, 'c', KEYMOD_CTRL },
    { "\x1b[A", KEY_UP, 0, 0 }, { "\x1b[D", KEY_LEFT, 0, 0 },
    { "\x1b[3~", KEY_DELETE, 0, 0 }, { "\x1b[6~", KEY_PAGE_DOWN, 0, 0 },
    { "\xc3\xa9", KEY_CHAR, 0xe9, 0 }, { "\xe2\x82\xac", KEY_CHAR, 0x20ac, 0 },
    { "\xf0\x9f\x98\x80", KEY_CHAR, 0x1f600, 0 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct kbd_decoder d = { 0 };
    struct key_event ev[4];
    int n = 0;
    for (const char *s = cases[i].in; *s; s++)
      n += kbd_decode_byte(&d, (uint8_t)*s, ev + n);
    assert_int_equal(n, 2);
    assert_int_equal(ev[0].kind, KEY_PRESSED);
    assert_int_equal(ev[1].kind, KEY_RELEASED);
    assert_int_equal(ev[0].code, cases[i].code);
    assert_int_equal(ev[0].ch, cases[i].ch);
    assert_int_equal(ev[0].mods, cases[i].mods);
  }
  /* ESC then a letter: an Esc key, then the letter; junk is ignored. */
  struct kbd_decoder d = { 0 };
  struct key_event ev[4];
  assert_int_equal(kbd_decode_byte(&d, 0x1b, ev), 0);
  assert_int_equal(kbd_decode_byte(&d, 'x', ev), 4);
  assert_int_equal(ev[0].code, KEY_ESC);
  assert_int_equal(ev[2].ch, 'x');
  assert_int_equal(kbd_decode_byte(&d, 0x80, ev), 0); /* stray continuation */
  assert_int_equal(kbd_decode_byte(&d, 0xff, ev), 0); /* never valid */
  assert_int_equal(kbd_decode_byte(&d, 0xc3, ev), 0);
  assert_int_equal(kbd_decode_byte(&d, 'q', ev), 2);  /* cut sequence */
  assert_int_equal(ev[0].ch, 'q');
}

static void
test_keyboard_mux_order_and_loss(void **state)
{
  (void)state;
  struct kbd_sub *a, *b, *small;
  assert_int_equal(kbd_subscribe(64, MN_SEC(1), &a), 0);
  assert_int_equal(kbd_subscribe(64, MN_SEC(1), &b), 0);
  assert_int_equal(kbd_subscribe(2, MN_SEC(1), &small), 0);
  struct svc_client c;
  assert_int_equal(kbd_publisher_connect(&c, MN_SEC(1)), 0);
  for (uint32_t i = 0; i < 10; i++) {
    struct key_event ev = { KEY_PRESSED, 0, KEY_CHAR, 'a' + i };
    assert_int_equal(kbd_publish(&c, &ev, MN_SEC(1)), 0);
  }
  svc_disconnect(&c);
  for (uint32_t i = 0; i < 10; i++) {
    struct key_event ea, eb;
    assert_int_equal(kbd_next(a, &ea, MN_SEC(1)), 0);
    assert_int_equal(kbd_next(b, &eb, MN_SEC(1)), 0);
    assert_int_equal(ea.ch, 'a' + i);
    assert_int_equal(eb.ch, 'a' + i);
  }
  assert_int_equal(small->delivered, 2);
  assert_int_equal(small->lost, 8);
  struct kbdmux_stats st;
  kbdmux_stats(&st);
  assert_true(st.lost >= 8);
}

static void
test_pseudo_keyboard_port(void **state)
{
  (void)state;
  struct kbd_sub *s;
  assert_int_equal(kbd_subscribe(64, MN_SEC(1), &s), 0);
  assert_int_equal(pseudo_keyboard_start(2), 0);
  host_send_frame(2, "hi\r", 3);
  static const uint32_t want[] = { 'h', 'h', 'i', 'i', 0, 0 };
  for (size_t i = 0; i < 6; i++) {
    struct key_event ev;
    assert_int_equal(kbd_next(s, &ev, MN_SEC(2)), 0);
    assert_int_equal(ev.kind, i % 2 ? KEY_RELEASED : KEY_PRESSED);
    assert_int_equal(ev.ch, want[i]);
    assert_int_equal(ev.code, i < 4 ? KEY_CHAR : KEY_ENTER);
  }
}

/* ---- tracing --------------------------------------------------------------- */

/* Decodes the tracing port's frames with mnemeterm's decoder until the
 * printed text contains needle. Returns 1 if it did. */
static int
host_trace_until(struct trace_decoder *td, const char *needle, char **text)
{
  size_t tlen;
  FILE *out = open_memstream(text, &tlen);
  int found = 0;
  uint16_t port;
  size_t n;
  while (!found && host_recv_frame(&port, &n, MN_SEC(3)) == 0) {
    if (port != SERMUX_PORT_TRACE)
      continue;
    trace_feed(td, last_frame, n, out);
    fflush(out);
    found = strstr(*text, needle) != 0;
  }
  fclose(out);
  return found;
}

static void
test_tracing_records_decode(void **state)
{
  (void)state;
  struct trace_decoder td;
  char *text = 0;
  trace_decoder_init(&td, 0, LOG_DEBUG);
  assert_int_equal(trace_start(SERMUX_PORT_TRACE, LOG_INFO, 1000), 0);
  TRACE_DEBUG("test", "below the level", TF_U("n", 1));
  TRACE_INFO("test", "hello", TF_U("n", 5), TF_I("d", -3), TF_B("ok", 1),
             TF_S("who", "mux"));
  assert_true(host_trace_until(&td, "test: hello n=5 d=-3 ok=true who=mux", &text));
  assert_null(strstr(text, "below the level"));
  free(text);
  /* The host asks for debug: a heartbeat confirms it, debug events flow. */
  uint8_t msg[2] = { TRACE_HOST_SET_MAX_LEVEL, LOG_DEBUG }, enc[8];
  size_t elen;
  assert_int_equal(cobs_encode(msg, 2, enc, sizeof enc, &elen), 0);
  enc[elen++] = 0;
  host_send_frame(SERMUX_PORT_TRACE, enc, elen);
  struct trace_stats ts;
  for (int i = 0; i < 100; i++) {
    trace_stats(&ts);
    if (ts.host_msgs)
      break;
    task_sleep(MN_MSEC(10));
  }
  assert_int_equal(ts.min_level, LOG_DEBUG);
  uint64_t sp = TRACE_SPAN_ENTER(LOG_DEBUG, "test", "work", TF_U("items", 3));
  assert_true(sp != 0);
  TRACE_SPAN_EXIT(sp);
  text = 0;
  char want[64];
  snprintf(want, sizeof want, "span: <- #%llu", (unsigned long long)sp);
  assert_true(host_trace_until(&td, want, &text));
  assert_non_null(strstr(text, "test: -> work{items=3}"));
  assert_int_equal(td.last_level, LOG_DEBUG);
  assert_int_equal(td.bad, 0);
  free(text);
  /* A bad host message is counted, not obeyed. */
  uint8_t badmsg[] = { 0x02, 0x09, 0x00 }; /* COBS of {09}: no such message */
  host_send_frame(SERMUX_PORT_TRACE, badmsg, sizeof badmsg);
  sync_loopback();
  for (int i = 0; i < 100 && !ts.bad_host_msgs; i++) {
    task_sleep(MN_MSEC(10));
    trace_stats(&ts);
  }
  assert_int_equal(ts.bad_host_msgs, 1);
  assert_int_equal(ts.min_level, LOG_DEBUG);
  trace_decoder_free(&td);
}

/* Runs after test_tracing_records_decode (tracing is up). */
static void
test_tracing_counts_discarded_records(void **state)
{
  (void)state;
  struct trace_decoder td;
  struct trace_stats before, after;
  trace_decoder_init(&td, 0, LOG_DEBUG);
  trace_stats(&before);
  /* The host reads nothing: the line, then the port's ring, fill up. */
  for (int i = 0; i < 2000; i++) {
    TRACE_INFO("test", "flood", TF_U("i", i));
    if (i % 50 == 0)
      task_sleep(MN_MSEC(1)); /* let the pump fill the line */
  }
  trace_stats(&after);
  assert_true(after.discarded > before.discarded);
  /* every record made is either sent or counted (+1: the site's Meta) */
  assert_true(after.records - before.records + after.discarded - before.discarded >= 2001);
  /* Now the host reads: a heartbeat reports every loss. */
  char *text = 0;
  assert_true(host_trace_until(&td, "records discarded", &text));
  trace_stats(&after);
  uint64_t reported = 0;
  for (const char *p = text; (p = strstr(p, "tracing: ")) != 0; p++) {
    unsigned long long n;
    if (sscanf(p, "tracing: %llu records discarded", &n) == 1)
      reported += n;
  }
  assert_int_equal(reported, after.discarded - before.discarded);
  free(text);
  trace_decoder_free(&td);
}

static void
test_trace_decoder_rejects_garbage(void **state)
{
  (void)state;
  struct trace_decoder td;
  trace_decoder_init(&td, 1, LOG_INFO);
  FILE *out = fopen("/dev/null", "w");
  int mismatch = 0;
  static const uint8_t recs[][8] = {
    { 9 }, { 2, 0x80 }, { 1, 1, 0, 9 }, { 6, 7, 0, 1, 'x' }, { 0, 5, 4, 1 },
  };
  static const size_t lens[] = { 1, 2, 4, 5, 4 };
  for (size_t i = 0; i < 5; i++)
    assert_true(trace_record(&td, recs[i], lens[i], out, &mismatch) < 0);
  uint8_t buf[TRACE_RECORD_MAX];
  struct trace_field f[] = { TF_U("x", 1) };
  size_t n = trace_encode_event(buf, sizeof buf, TRACE_REC_EVENT, 77, 0, 5, "t", f, 1);
  assert_true(n > 0);
  assert_int_equal(trace_record(&td, buf, n, out, &mismatch), 0); /* unknown site */
  for (size_t cut = 0; cut < n; cut++)
    assert_true(trace_record(&td, buf, cut, out, &mismatch) < 0);
  fclose(out);
  trace_decoder_free(&td);
}

/* Meta for a callsite, as the kernel would send it. */
static size_t
meta_record(uint8_t *buf, uint32_t id, const char *target, const char *name)
{
  struct pc_enc e;
  pc_enc_init(&e, buf, 128);
  pc_enc_variant(&e, TRACE_REC_META);
  pc_enc_u32(&e, id);
  pc_enc_u8(&e, TRACE_KIND_EVENT);
  pc_enc_u8(&e, LOG_INFO);
  pc_enc_str(&e, target, strlen(target));
  pc_enc_str(&e, name, strlen(name));
  pc_enc_str(&e, "f.c", 3);
  pc_enc_u32(&e, 1);
  return pc_enc_len(&e);
}

static void
test_trace_decoder_target_filter(void **state)
{
  (void)state;
  struct trace_decoder td;
  trace_decoder_init(&td, 0, LOG_INFO);
  td.targets = "net,disk";
  char *text = 0;
  size_t tlen;
  FILE *out = open_memstream(&text, &tlen);
  int mismatch = 0;
  static const char *targets[] = { "net", "sermux", "disk", "ne" };
  for (uint32_t i = 0; i < 4; i++) {
    uint8_t buf[128];
    size_t n = meta_record(buf, i + 1, targets[i], "ev");
    assert_int_equal(trace_record(&td, buf, n, out, &mismatch), 0);
    n = trace_encode_event(buf, sizeof buf, TRACE_REC_EVENT, i + 1, 0, 0, "t", 0, 0);
    assert_int_equal(trace_record(&td, buf, n, out, &mismatch), 0);
  }
  fclose(out);
  assert_non_null(strstr(text, "net: ev"));
  assert_non_null(strstr(text, "disk: ev"));
  assert_null(strstr(text, "sermux: ev"));
  assert_null(strstr(text, "ne: ev"));
  free(text);
  trace_decoder_free(&td);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_wire_vector),
    cmocka_unit_test(test_cut_into_half_frames),
    cmocka_unit_test(test_random_round_trips),
    cmocka_unit_test(test_malformed_classes),
    cmocka_unit_test(test_back_pressure_and_counted_loss),
    cmocka_unit_test(test_key_decoder),
    cmocka_unit_test(test_keyboard_mux_order_and_loss),
    cmocka_unit_test(test_pseudo_keyboard_port),
    cmocka_unit_test(test_tracing_records_decode),
    cmocka_unit_test(test_tracing_counts_discarded_records),
    cmocka_unit_test(test_trace_decoder_rejects_garbage),
    cmocka_unit_test(test_trace_decoder_target_filter),
    cmocka_unit_test(test_register_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
