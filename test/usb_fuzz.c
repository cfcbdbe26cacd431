/*
 * usb_fuzz.c: libFuzzer over usb/usb_desc.c and usb/hid.c with a hostile
 * device. The input's first byte picks a split; the first part is given
 * as a device descriptor, a configuration descriptor and a report
 * descriptor; the rest is a stream of input reports (a length byte, then
 * the bytes) for the layout the report descriptor gave (else the boot
 * layout), with repeat timing between them. Checked: parsed offsets stay
 * inside the report size the descriptor declared, no more keys are held
 * than HID_KEYS_MAX, event counts stay within the room given, repeats
 * are presses scheduled in the future, unplugging releases everything.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mneme/err.h"
#include "mneme/usb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t split = data[0] * size / 256;
  const uint8_t *d = data + 1;
  size_t dlen = split < size - 1 ? split : size - 1;
  struct usb_device_info di;
  struct usb_hid_iface h;
  struct hid_kbd_layout l;
  int err = usb_parse_device(d, dlen, &di);
  if (err && err != MN_EPROTO) abort();
  err = usb_find_hid(d, dlen, &h);
  if (err && err != MN_EPROTO && err != MN_ENOENT) abort();
  if (!err && !(h.ep_addr & 0x80)) abort();
  err = hid_parse_keyboard(d, dlen, &l);
  if (err == 0) {
    uint32_t end = 0;
    if (l.mod_off >= 0) end = (uint32_t)l.mod_off + 8;
    if (l.arr_off >= 0) {
      if (!l.arr_size || l.arr_size > 16 || l.arr_count > HID_KEYS_MAX) abort();
      if ((uint32_t)l.arr_off + (uint32_t)l.arr_count * l.arr_size > end)
        end = (uint32_t)l.arr_off + (uint32_t)l.arr_count * l.arr_size;
    }
    if (l.bmp_off >= 0 && (uint32_t)l.bmp_off + l.bmp_count > end)
      end = (uint32_t)l.bmp_off + l.bmp_count;
    if (end > l.report_bits) abort();
  } else if (err != MN_EPROTO && err != MN_ENOENT) {
    abort();
  } else {
    hid_boot_layout(&l);
  }
  struct hid_kbd k;
  hid_kbd_init(&k, &l);
  uint64_t now = 0;
  const uint8_t *p = d + dlen, *e = data + size;
  while (p < e) {
    size_t n = *p++;
    if (n > (size_t)(e - p)) n = (size_t)(e - p);
    struct key_event ev[8];
    int got = hid_kbd_report(&k, p, n, now, ev, 8);
    if (got < 0 || got > 8 || k.nheld > HID_KEYS_MAX) abort();
    p += n;
    now += (uint64_t)n * 50000000u;
    struct key_event r;
    while (hid_kbd_repeat(&k, now, &r))
      if (r.kind != KEY_PRESSED) abort();
    if (hid_kbd_next_repeat(&k) != UINT64_MAX && hid_kbd_next_repeat(&k) <= now) abort();
  }
  struct key_event ev[HID_KEYS_MAX];
  if (hid_kbd_release_all(&k, ev, HID_KEYS_MAX) > HID_KEYS_MAX || k.nheld) abort();
  return 0;
}
