/*
 * usb.h: USB descriptors and HID keyboards, with no kernel (usb/usb_desc.c,
 * usb/hid.c; docs/usb.md). Everything here reads bytes a device sent and
 * so treats them as hostile: lengths are checked against the buffer and
 * against each other, and bad input gives MN_EPROTO (or MN_ENOENT for
 * well-formed data with nothing usable), never a read out of bounds.
 *
 * The xHCI driver (usb/xhci.c, include/mneme/xhci.h) uses these to
 * enumerate devices and to turn keyboard reports into key events for the
 * keyboard mux (include/mneme/keyboard.h).
 */
#ifndef MNEME_USB_H
#define MNEME_USB_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/keyboard.h"

/* ---- standard requests and descriptors ----------------------------------- */

#define USB_REQ_GET_DESCRIPTOR 6
#define USB_REQ_SET_CONFIGURATION 9
#define USB_DT_DEVICE 1
#define USB_DT_CONFIG 2
#define USB_DT_INTERFACE 4
#define USB_DT_ENDPOINT 5
#define USB_DT_HID 0x21
#define USB_DT_REPORT 0x22
#define USB_CLASS_HID 3

/* HID class requests (to the interface) */
#define HID_REQ_SET_IDLE 0x0a
#define HID_REQ_SET_PROTOCOL 0x0b

struct usb_device_info {
  uint16_t usb_version;        /* bcdUSB */
  uint8_t class_code, subclass, protocol;
  uint8_t max_packet0;         /* bMaxPacketSize0 as a byte count (USB 3: 2^n) */
  uint16_t vendor, product;
  uint8_t num_configs;
};

/* Parses a device descriptor (at least the first 8 bytes give max_packet0;
 * the full 18 bytes give the rest). Returns 0, MN_EPROTO. */
int usb_parse_device(const uint8_t *d, size_t len, struct usb_device_info *out);

/* What usb_find_hid found in a configuration. */
struct usb_hid_iface {
  uint8_t config_value;        /* bConfigurationValue, for SET_CONFIGURATION */
  uint8_t iface;               /* bInterfaceNumber */
  uint8_t alt;
  uint8_t subclass, protocol;  /* 1, 1: a boot keyboard */
  uint8_t ep_addr;             /* the interrupt IN endpoint's address (0x8n) */
  uint16_t ep_max_packet;      /* its wMaxPacketSize & 0x7ff */
  uint8_t ep_interval;         /* its bInterval */
  uint16_t report_len;         /* the report descriptor's length (HID descriptor) */
  uint8_t num_ifaces;          /* interfaces in the configuration */
};

/*
 * Walks a configuration descriptor and its interfaces, HID descriptors and
 * endpoints (len bytes, wTotalLength or less) for the first HID interface
 * (alternate setting 0) with an interrupt IN endpoint that is a keyboard:
 * a boot keyboard (subclass 1, protocol 1) first, else any other HID
 * interface (the caller reads its report descriptor to see). Returns 0,
 * MN_EPROTO (bad lengths or types), MN_ENOENT (no HID interface).
 */
int usb_find_hid(const uint8_t *d, size_t len, struct usb_hid_iface *out);

/* ---- HID keyboards --------------------------------------------------------- */

#define HID_KEYS_MAX 32   /* keys held at once that a keyboard reports */

/*
 * Where a keyboard's report keeps its keys. The boot protocol's report is
 * {modifiers, reserved, 6 key usages}; the report protocol's is whatever
 * the report descriptor says, of which hid_parse_keyboard understands the
 * common layouts: modifier bits (usages 0xE0-0xE7), an array of key usages
 * (8-bit or wider items) and/or a bitmap of key usages (n-key rollover),
 * with or without a report ID.
 */
struct hid_kbd_layout {
  uint8_t report_id;           /* 0: reports carry no ID byte */
  uint16_t report_bits;        /* the input report's size after the ID */
  int32_t mod_off;             /* bit offset of the 8 modifier bits, -1: none */
  int32_t arr_off;             /* bit offset of the key array, -1: none */
  uint8_t arr_count, arr_size; /* its items and their size in bits (<= 16) */
  uint16_t arr_min;            /* usage of array value 0 (logical min) */
  int32_t bmp_off;             /* bit offset of the key bitmap, -1: none */
  uint16_t bmp_min, bmp_count; /* its first usage and number of bits */
};

/* The boot protocol's layout. */
void hid_boot_layout(struct hid_kbd_layout *l);

/*
 * Parses a report descriptor for a keyboard input report (usage page 7).
 * Returns 0 with *l filled, MN_EPROTO (malformed: truncated items, long
 * items, unbalanced collections, absurd sizes), MN_ENOENT (no keyboard).
 */
int hid_parse_keyboard(const uint8_t *d, size_t len, struct hid_kbd_layout *l);

#define HID_REPEAT_DELAY_NS 500000000ull   /* key repeat starts after */
#define HID_REPEAT_RATE_NS 33333333ull     /* then 30 a second */

/* One keyboard's state: the keys held, the locks, the repeating key. */
struct hid_kbd {
  struct hid_kbd_layout layout;
  uint8_t mods;                /* modifier usages 0xE0-0xE7 as bits */
  uint8_t locks;               /* KEYMOD_CAPS_LOCK | KEYMOD_NUM_LOCK */
  uint8_t nheld;
  uint16_t held[HID_KEYS_MAX];
  uint16_t repeat;             /* the usage repeating, 0: none */
  uint64_t repeat_at;          /* when it repeats next (ns) */
  uint64_t reports, bad_reports;
};

void hid_kbd_init(struct hid_kbd *k, const struct hid_kbd_layout *l);

/*
 * Takes one input report (len bytes, with the ID byte if the layout has
 * IDs) received at time now (ns): key events for the keys released and
 * pressed since the last report, with the modifiers then held, into out
 * (max events; the rest are dropped). Reports of another ID, too short,
 * or saying "rollover error" change nothing. Returns the event count.
 */
int hid_kbd_report(struct hid_kbd *k, const uint8_t *r, size_t len, uint64_t now,
                   struct key_event *out, int max);

/* When the held key repeats next (ns), or UINT64_MAX (nothing repeats). */
uint64_t hid_kbd_next_repeat(const struct hid_kbd *k);

/* At time now: the repeat's key press into *ev if one is due (returns 1,
 * and schedules the next), else 0. */
int hid_kbd_repeat(struct hid_kbd *k, uint64_t now, struct key_event *ev);

/* Releases of every key still held (an unplugged keyboard); returns the
 * count. */
int hid_kbd_release_all(struct hid_kbd *k, struct key_event *out, int max);

/* The key event for a keyboard usage with modifiers mods (KEYMOD_* bits,
 * locks included), US layout. Returns 1, or 0 for usages mneme ignores. */
int hid_usage_key(uint16_t usage, uint8_t mods, struct key_event *ev);

#endif
