/*
 * usb_desc.c: device and configuration descriptors (include/mneme/usb.h).
 * Every length a device gives is checked before it is used.
 *
 * Interface: usb_parse_device, usb_find_hid.
 */
#include <string.h>

#include "mneme/err.h"
#include "mneme/usb.h"

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

int usb_parse_device(const uint8_t *d, size_t len, struct usb_device_info *out) {
  memset(out, 0, sizeof *out);
  if (!d || len < 8 || d[0] < 8 || d[1] != USB_DT_DEVICE) return MN_EPROTO;
  out->usb_version = le16(d + 2);
  out->class_code = d[4];
  out->subclass = d[5];
  out->protocol = d[6];
  uint8_t mp = d[7];
  if (out->usb_version >= 0x0300) {
    if (mp != 9) return MN_EPROTO;   /* USB 3: 2^9 = 512 */
    out->max_packet0 = 0;            /* 512 does not fit: 0 means 512 */
  } else {
    if (mp != 8 && mp != 16 && mp != 32 && mp != 64) return MN_EPROTO;
    out->max_packet0 = mp;
  }
  if (len >= 18) {
    if (d[0] < 18) return MN_EPROTO;
    out->vendor = le16(d + 8);
    out->product = le16(d + 10);
    out->num_configs = d[17];
  }
  return 0;
}

int usb_find_hid(const uint8_t *d, size_t len, struct usb_hid_iface *out) {
  memset(out, 0, sizeof *out);
  if (!d || len < 9 || d[0] < 9 || d[1] != USB_DT_CONFIG) return MN_EPROTO;
  size_t total = le16(d + 2);
  if (total < 9) return MN_EPROTO;
  if (total < len) len = total;
  uint8_t config_value = d[5], num_ifaces = d[4];
  struct usb_hid_iface cur, best;
  int have_cur = 0, have_best = 0;
  memset(&cur, 0, sizeof cur);
  memset(&best, 0, sizeof best);
  for (size_t off = d[0]; off < len;) {
    if (len - off < 2) return MN_EPROTO;
    uint8_t bl = d[off], type = d[off + 1];
    if (bl < 2 || bl > len - off) return MN_EPROTO;
    const uint8_t *p = d + off;
    if (type == USB_DT_INTERFACE) {
      if (bl < 9) return MN_EPROTO;
      have_cur = p[5] == USB_CLASS_HID && p[3] == 0;
      memset(&cur, 0, sizeof cur);
      cur.iface = p[2];
      cur.alt = p[3];
      cur.subclass = p[6];
      cur.protocol = p[7];
    } else if (type == USB_DT_HID && have_cur) {
      if (bl < 9) return MN_EPROTO;
      /* the class descriptors that follow: the first of type report */
      uint8_t n = p[5];
      if (bl < 6 + 3u * n) return MN_EPROTO;
      for (unsigned i = 0; i < n; i++)
        if (p[6 + 3 * i] == USB_DT_REPORT && !cur.report_len) cur.report_len = le16(p + 7 + 3 * i);
    } else if (type == USB_DT_ENDPOINT && have_cur) {
      if (bl < 7) return MN_EPROTO;
      uint8_t addr = p[2], attr = p[3];
      if ((addr & 0x80) && (attr & 3) == 3 && !cur.ep_addr) {
        cur.ep_addr = addr;
        cur.ep_max_packet = le16(p + 4) & 0x7ff;
        cur.ep_interval = p[6];
        if (!cur.ep_max_packet) return MN_EPROTO;
        int boot = cur.subclass == 1 && cur.protocol == 1;
        if (!have_best || (boot && !(best.subclass == 1 && best.protocol == 1))) {
          best = cur;
          have_best = 1;
        }
      }
    }
    off += bl;
  }
  if (!have_best) return MN_ENOENT;
  best.config_value = config_value;
  best.num_ifaces = num_ifaces;
  *out = best;
  return 0;
}
