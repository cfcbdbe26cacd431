/*
 * keyboard.h: key events and the keyboard mux (mnemOS's two UUIDs).
 *
 * Any keyboard driver (the x86_64 PS/2 driver, the sermux pseudo-keyboard
 * on port 2) publishes key events to the keyboard mux (KBDMUX_UUID); every
 * subscriber (KEYBOARD_UUID) gets every event, in publication order, in
 * its own queue. A subscriber that does not keep up loses events, counted
 * in its `lost` counter and in kbdmux_stats(), never silently. Both
 * services are kernel-only (the subscription is a pointer).
 */
#ifndef MNEME_KEYBOARD_H
#define MNEME_KEYBOARD_H

#include <stdint.h>
#include "mneme/kchannel.h"
#include "mneme/registry.h"

/* ---- key events ------------------------------------------------------------ */

enum key_kind { KEY_PRESSED = 0, KEY_RELEASED = 1 };

/* Modifier bits held when the event happened. */
enum key_mod {
  KEYMOD_SHIFT = 1 << 0,
  KEYMOD_CTRL = 1 << 1,
  KEYMOD_ALT = 1 << 2,
  KEYMOD_META = 1 << 3,
  KEYMOD_CAPS_LOCK = 1 << 4,
  KEYMOD_NUM_LOCK = 1 << 5,
};

/* What key. KEY_CHAR carries the character (Unicode scalar) in ch, as it
 * reads with the modifiers applied ('A' with SHIFT, 'c' with CTRL for
 * Ctrl-C); KEY_F carries the function key number (1..24) in ch. */
enum key_code {
  KEY_CHAR = 0,
  KEY_ENTER, KEY_BACKSPACE, KEY_TAB, KEY_ESC, KEY_DELETE, KEY_INSERT,
  KEY_LEFT, KEY_RIGHT, KEY_UP, KEY_DOWN, KEY_HOME, KEY_END,
  KEY_PAGE_UP, KEY_PAGE_DOWN, KEY_F,
};

struct key_event {
  uint8_t kind;       /* enum key_kind */
  uint8_t mods;       /* enum key_mod bits */
  uint16_t code;      /* enum key_code */
  uint32_t ch;        /* KEY_CHAR: the character; KEY_F: the number */
};

/* ---- service definitions --------------------------------------------------- */

/* keyboard mux, publish side: 70861d1c-9f01-4e9b-89e6-ede77d8f26d8 */
#define KBDMUX_UUID UUID_INIT(0x70861d1c, 0x9f01, 0x4e9b, 0x89e6, 0xede77d8f26d8ull)
/* keyboard, subscribe side: 524d77b1-499c-440b-bd62-e63c0918efb5 */
#define KEYBOARD_UUID UUID_INIT(0x524d77b1, 0x499c, 0x440b, 0xbd62, 0xe63c0918efb5ull)

struct kbd_publish_req {
  struct key_event ev;
};

struct kbd_publish_resp {
  uint32_t subscribers;       /* how many queues got the event */
};

struct kbd_sub;

struct kbd_subscribe_req {
  uint32_t capacity;          /* events queued; 0: 32 */
};

struct kbd_subscribe_resp {
  struct kbd_sub *sub;
};

enum kbd_err_kind { KBD_NO_MEMORY = 0 };

struct kbd_err {
  uint8_t kind;
};

#define KBDMUX_TYPE SVC_TYPE(struct kbd_publish_req, struct kbd_publish_resp, \
                             struct kbd_err, struct svc_none)
#define KEYBOARD_TYPE SVC_TYPE(struct kbd_subscribe_req, struct kbd_subscribe_resp, \
                               struct kbd_err, struct svc_none)

/* A subscription: the subscriber reads ch (kbd_next); the mux writes. */
struct kbd_sub {
  struct kchannel ch;         /* struct key_event messages */
  uint64_t delivered, lost;
  struct kbd_sub *next;
};

struct kbdmux_stats {
  uint64_t published, delivered, lost;
  uint32_t subscribers;
};

/* Registers both services and starts their tasks. Returns 0 or an MN_E*. */
int kbdmux_start(void);
void kbdmux_stats(struct kbdmux_stats *out);

/* ---- client definitions ---------------------------------------------------- */

/* Publisher: connect once, publish many. Return svc_connect / svc_call
 * errors. */
int kbd_publisher_connect(struct svc_client *c, uint64_t timeout_ns);
int kbd_publish(struct svc_client *c, const struct key_event *ev,
                uint64_t timeout_ns);

/* Subscribes with a queue of capacity events. Returns 0, MN_ENOMEM, or
 * svc_connect / svc_call errors. */
int kbd_subscribe(uint32_t capacity, uint64_t timeout_ns, struct kbd_sub **out);

/* Next event for the subscriber. Returns 0, MN_ETIMEDOUT, MN_ECANCELED. */
int kbd_next(struct kbd_sub *s, struct key_event *ev, uint64_t timeout_ns);

/* ---- pseudo-keyboard ------------------------------------------------------- */

/*
 * Turns bytes into key events, a terminal's way: printable characters
 * (UTF-8 decoded) become KEY_CHAR, CR/LF KEY_ENTER, BS/DEL KEY_BACKSPACE,
 * TAB, Ctrl-letters KEY_CHAR with KEYMOD_CTRL, ESC [ A/B/C/D arrows,
 * ESC [ H/F home/end, ESC [ 2~/3~/5~/6~ insert/delete/page up/down. Each
 * key gives a KEY_PRESSED and a KEY_RELEASED event.
 */
struct kbd_decoder {
  uint8_t state;              /* escape sequence / UTF-8 progress */
  uint8_t need;               /* UTF-8 continuation bytes still due */
  uint8_t num;                /* ESC [ n ~ digit */
  uint32_t cp;                /* UTF-8 code point in progress */
};

/* Feeds one byte; stores up to 4 events in out (a lone ESC ended by the
 * byte, then the byte's key). Returns how many. */
int kbd_decode_byte(struct kbd_decoder *d, uint8_t b, struct key_event out[4]);

/*
 * The other way: the bytes a terminal sends for a key press (ASCII;
 * control codes for Ctrl+letter; ESC prefix for Alt; ANSI sequences for
 * arrows, Home/End, Insert/Delete, Page Up/Down, F1-F4). Returns the
 * count (0 for releases and keys without bytes). Consoles use it to turn
 * any keyboard's events into the bytes a shell reads.
 */
size_t kbd_to_bytes(const struct key_event *ev, char out[8]);

/* Reads sermux `port` and publishes its bytes as key events. */
int pseudo_keyboard_start(uint16_t port);

#endif
