/*
 * chat_session.h: the chat's portable core (chat/, docs/chat.md).
 *
 * Conversations (a list of turns each), kept in memory and saved through
 * chat_store (the files service when a disk is mounted, else the newest
 * ones that fit in the platform's variable store); a reply in progress,
 * streamed from the `llm` backend the settings name (provider "local" or
 * unset: llm-local; anything else: llm-remote); the status line's
 * figures. The line-mode word CHAT and the framebuffer screen are two
 * views over this.
 *
 * One task drives a session: chat_send starts a reply, chat_poll waits
 * for its next piece (text appended to the assistant's turn, or the end),
 * chat_cancel stops it. Tool calls (LLM_TOOLS) stay in the turn's text
 * between the LLM_MARK_* bytes; views show them apart.
 */
#ifndef MNEME_CHAT_SESSION_H
#define MNEME_CHAT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/bbq.h"
#include "mneme/kchannel.h"
#include "mneme/llm.h"
#include "mneme/registry.h"
#include "mneme/settings.h"

#define CHAT_MAX_CONVS 16
#define CHAT_TITLE_MAX 40
#define CHAT_TEXT_MAX (64u * 1024u)   /* bytes of one turn at most */

enum chat_turn_flags {
  CHAT_TURN_PARTIAL = 1,   /* the reply was cut (cancelled, dropped, length) */
  CHAT_TURN_ERROR = 2,     /* the reply failed: text is the error message */
};

struct chat_turn {
  uint8_t role;            /* enum llm_role */
  uint8_t flags;           /* chat_turn_flags */
  uint32_t len, cap;
  char *text;              /* UTF-8, len bytes (NUL after them) */
};

struct chat_conv {
  uint32_t id;             /* stable: 1, 2, ... */
  char title[CHAT_TITLE_MAX];
  struct chat_turn *turns;
  uint32_t n, cap;
  uint64_t stamp;          /* last change (the session's counter): newest first */
};

enum chat_state { CHAT_IDLE, CHAT_WAITING, CHAT_STREAMING };

struct chat_status {
  char backend[16];        /* "llm-local", "llm-remote" */
  char provider[16];
  char model[48];
  char store[48];          /* where conversations go: "disk /boot", ... */
  uint32_t tokens;         /* completion tokens of the last reply */
  uint32_t tok_per_s_x10;  /* tokens per second x 10 (0: unknown) */
  uint64_t ttft_ns;        /* time to first text of the last reply */
  uint32_t finish;         /* enum llm_finish of the last reply */
  int32_t error;           /* MN_E* of the last reply, 0 */
  char message[96];        /* the provider's message for it */
  uint32_t retry_after_s;  /* > 0: the provider asked to wait this long */
  uint64_t retry_until_ns; /* ktime when the wait is over */
};

enum chat_event_kind {
  CHAT_EV_NONE = 0,        /* nothing within the timeout */
  CHAT_EV_TEXT,            /* text (and markers) appended to the turn */
  CHAT_EV_DONE,            /* the reply ended: status.finish / error */
};

struct chat_event {
  int kind;
  const char *text;        /* CHAT_EV_TEXT: the new bytes (in the turn) */
  size_t len;
};

struct chat_session {
  struct mn_settings settings;
  struct chat_conv *convs[CHAT_MAX_CONVS];   /* in creation order */
  unsigned n, cur;
  uint32_t next_id;
  uint64_t clock;          /* change counter for stamps */
  struct chat_status status;
  /* the reply in progress */
  int state;
  struct svc_client client;
  int connected;
  struct bbq ring;
  struct kchannel ch;
  uint8_t *reply;
  struct llm_message *msgs;
  uint64_t t_send, t_first, t_last;
  uint8_t *pending;        /* an incomplete UTF-8 sequence between reads */
  int use_remote;
};

/* Loads the settings and saved conversations, chooses the backend (one
 * empty conversation when none was saved). 0 or MN_ENOMEM. */
int chat_session_init(struct chat_session *cs);
/* Cancels a reply, saves, frees everything. */
void chat_session_fini(struct chat_session *cs);

struct chat_conv *chat_current(struct chat_session *cs);
/* New empty conversation, made current. Returns its index or MN_ENOSPC
 * (CHAT_MAX_CONVS) / MN_ENOMEM. */
int chat_conv_new(struct chat_session *cs);
/* By index in cs->convs. 0 or MN_ERANGE; MN_EBUSY while a reply runs. */
int chat_conv_switch(struct chat_session *cs, unsigned idx);
int chat_conv_rename(struct chat_session *cs, unsigned idx, const char *title, size_t len);
int chat_conv_delete(struct chat_session *cs, unsigned idx);

/* Sends the user's message: appends it and an empty assistant turn and
 * starts the reply. 0, MN_EBUSY (a reply runs), MN_EINVAL (empty), or
 * the error that kept it from starting (also in status, and the
 * assistant turn holds the message, flagged CHAT_TURN_ERROR). */
int chat_send(struct chat_session *cs, const char *text, size_t len);
/* Waits up to timeout_ns for the reply's next piece. 0 (ev filled). */
int chat_poll(struct chat_session *cs, uint64_t timeout_ns, struct chat_event *ev);
/* Stops the reply (the backend replies LLM_FINISH_CANCELLED); the text
 * so far is kept, flagged partial. chat_poll then reports CHAT_EV_DONE. */
void chat_cancel(struct chat_session *cs);

/* Saves the conversations (chat_store). 0 or MN_E*. */
int chat_save(struct chat_session *cs);

/* Seconds left of the provider's retry-after (0: none). */
uint32_t chat_retry_left(const struct chat_session *cs);

/* ---- the stored form (chat/chat_store.c) -------------------------------- */

/* Serializes conversations, newest first, as many as fit in cap bytes
 * (a conversation that does not fit is skipped). Returns the length and
 * how many were written in *written. */
size_t chat_store_encode(struct chat_conv *const *convs, unsigned n, char *out, size_t cap,
                         unsigned *written);
/* Parses what chat_store_encode wrote into new conversations (kmalloc'd,
 * at most max). Returns how many, or MN_EFORMAT (none kept) /
 * MN_ENOMEM. */
int chat_store_decode(const char *in, size_t len, struct chat_conv **convs, unsigned max);
void chat_conv_free(struct chat_conv *c);
/* Appends bytes to a turn (grows it). 0, MN_ENOMEM, MN_ENOSPC (CHAT_TEXT_MAX). */
int chat_turn_append(struct chat_turn *t, const char *s, size_t n);
/* Appends an empty turn to c. Returns it, or NULL (no memory). */
struct chat_turn *chat_conv_add_turn(struct chat_conv *c, int role);

/* Platform hooks for the conversations when there is no disk: one blob
 * (x86_64: a UEFI variable; hosted: FILE.chats beside --settings).
 * get returns its length or MN_ENOENT/MN_ENOTSUP; put 0 or MN_E*;
 * cap_hint is the most the store takes (0: unknown). */
int plat_chats_get(void *buf, size_t cap);
int plat_chats_put(const void *buf, size_t len);
size_t plat_chats_cap(void);
/* What the blob is, for the status line ("UEFI variable"). */
const char *plat_chats_where(void);

/* The model's forth tool: what it may use, in words ("forth tool: on;
 * network not allowed, files allowed" / "forth tool: off ..."). */
void chat_tool_describe(const struct mn_settings *s, char *out, size_t cap);
/* /tool ARG: "off", "on", "sandbox" (neither network nor files),
 * "network", "files" (each adds one), "all"; saves the settings and
 * updates cs's. 0, MN_EINVAL (another word), or settings_save's error. */
int chat_tool_set(struct chat_session *cs, const char *arg);

/* Starts (or reconfigures) llm-remote with s's provider, key, URL and
 * model (the chat's backend; the setup wizard's test). 0, MN_ENOTSUP when
 * llm-remote is not part of the build, or its MN_E*. */
int chat_remote_start(const struct mn_settings *s);

#endif
