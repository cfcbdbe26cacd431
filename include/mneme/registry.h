/*
 * registry.h: services keyed by UUID, reached by request/reply messages.
 *
 * A service is a UUID plus the identity of its message types: request,
 * response, error and hello. SVC_TYPE() makes that identity from the type
 * names and sizes, so a client built against other types is refused
 * (MN_EMISMATCH) instead of corrupting memory.
 *
 * Server side: svc_register() returns a server whose queue (a kchannel)
 * receives messages: HELLO when a client connects (answer with
 * svc_accept/svc_reject, or register with SVC_ACCEPT_ALL) and REQUEST.
 * Each message carries an envelope (service id, client id, request id) and
 * a reply address; svc_reply_ok/svc_reply_err route the answer there:
 *   - a kchannel of struct svc_reply + body (asynchronous clients),
 *   - a oneshot (svc_call: the client waits),
 *   - userspace: the reply is serialized (postcard) with the caller's
 *     UUID and nonce into the caller's byte ring.
 * A service is visible to userspace only if registered with a codec.
 *
 * Message formats on the userspace path are in docs/architecture.md and
 * kernel/userspace.c; they are mnemOS's, byte for byte.
 */
#ifndef MNEME_REGISTRY_H
#define MNEME_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include "mneme/kchannel.h"
#include "mneme/list.h"
#include "mneme/oneshot.h"
#include "mneme/uuid.h"

struct bbq;
struct pc_enc;

/* ---- type identity ------------------------------------------------------- */

struct svc_type {
  const char *names;       /* "req|resp|err|hello" */
  size_t req_size, resp_size, err_size, hello_size;
};

/* The identity of a service's four message types. Use a type `svc_none`
 * (an empty struct is not C11: it is `struct svc_none { char unused; }`)
 * for a hello the service does not need. */
#define SVC_TYPE(req_t, resp_t, err_t, hello_t)                              \
  ((struct svc_type){ #req_t "|" #resp_t "|" #err_t "|" #hello_t,           \
                      sizeof(req_t), sizeof(resp_t), sizeof(err_t),         \
                      sizeof(hello_t) })

struct svc_none {
  char unused;
};

/* 64-bit fingerprint (FNV-1a over names and sizes). */
uint64_t svc_fingerprint(const struct svc_type *t);

/* ---- userspace codec ----------------------------------------------------- */

/* How a userspace-visible service's types cross the byte boundary. */
struct svc_codec {
  /* Decodes request bytes into *req (req_size bytes). 0 or MN_EDECODE. */
  int (*decode_req)(const uint8_t *in, size_t len, void *req);
  /* Appends the postcard form of a response / an error. */
  void (*encode_resp)(struct pc_enc *e, const void *resp);
  void (*encode_err)(struct pc_enc *e, const void *err);
};

/* ---- envelopes ----------------------------------------------------------- */

enum svc_reply_kind { REPLY_NONE, REPLY_KCHANNEL, REPLY_ONESHOT, REPLY_USER };

struct svc_reply_to {
  enum svc_reply_kind kind;
  uint32_t ticket;             /* oneshot ticket */
  uint32_t nonce;              /* userspace nonce */
  union {
    struct kchannel *ch;
    struct oneshot *os;
    struct bbq *ring;
  } u;
};

struct svc_envelope {
  uint32_t service_id;
  uint32_t client_id;
  uint32_t request_id;
  uint8_t kind;                /* SVC_MSG_HELLO or SVC_MSG_REQUEST */
  struct svc_reply_to reply;
};

enum { SVC_MSG_HELLO = 1, SVC_MSG_REQUEST = 2 };

/* What a server receives: the envelope and the message body. */
struct svc_msg {
  struct svc_envelope env;
  _Alignas(16) uint8_t body[];  /* req_size or hello_size bytes */
};

/* Declares `struct svc_msg *name` over stack storage for a body of
 * body_size bytes (at least svc_msg_size() of such a service). */
#define SVC_MSG_BUF(name, body_size)                                        \
  _Alignas(16) uint8_t name##_storage[offsetof(struct svc_msg, body) +     \
                                      (((body_size) + 15) & ~(size_t)15)]; \
  struct svc_msg *name = (struct svc_msg *)(void *)name##_storage

/* What an asynchronous client receives on its reply kchannel. */
struct svc_reply {
  uint32_t service_id, client_id, request_id;
  int32_t status;              /* 0: body is a response; MN_ESERVICE: error;
                                  MN_ECLOSED: unregistered, never served */
  _Alignas(16) uint8_t body[];
};

/* ---- server side --------------------------------------------------------- */

struct svc_server;

enum {
  SVC_ACCEPT_ALL = 1 << 0,     /* connections need no hello answer */
};

/*
 * Registers a service. codec NULL: kernel-only. depth: queue length.
 * Returns 0 and the server, MN_EEXIST (UUID taken), MN_ENOMEM, MN_EINVAL.
 */
int svc_register(const struct uuid *id, const char *name,
                 const struct svc_type *type, const struct svc_codec *codec,
                 unsigned flags, size_t depth, struct svc_server **out);

/*
 * Removes the service; clients' later calls get MN_ECLOSED, and so do
 * calls still queued (an asynchronous caller gets a reply with status
 * MN_ECLOSED, a userspace caller an UNKNOWN_SERVICE error). Called by the
 * server's own task (which owns s) when it stops serving, so no task is
 * waiting in svc_recv(s); s is freed once its last client disconnects.
 */
void svc_unregister(struct svc_server *s);

/*
 * Receives the next message into *msg (svc_msg_size(s) bytes). Returns 0,
 * MN_ETIMEDOUT, MN_ECANCELED, MN_ECLOSED.
 */
int svc_recv(struct svc_server *s, struct svc_msg *msg, uint64_t timeout_ns);
size_t svc_msg_size(const struct svc_server *s);

/* Answers a REQUEST. Returns 0, MN_ECANCELED (the client gave up: stale),
 * MN_EAGAIN/MN_ENOSPC (the reply queue or ring is full; reply lost and
 * counted), MN_EINVAL. */
int svc_reply_ok(struct svc_server *s, const struct svc_envelope *env,
                 const void *resp);
int svc_reply_err(struct svc_server *s, const struct svc_envelope *env,
                  const void *err);

/* Answers a HELLO. */
int svc_accept(struct svc_server *s, const struct svc_envelope *env);
int svc_reject(struct svc_server *s, const struct svc_envelope *env,
               const void *err);

/* ---- client side --------------------------------------------------------- */

struct svc_client {
  struct svc_server *server;
  uint32_t service_id, client_id, next_request;
  struct oneshot reply;        /* status byte + max(resp, err) */
  struct svc_type type;
  struct list node;            /* in the server's clients while connected */
};

/*
 * Connects to the service with UUID id and message types type, sending
 * hello (may be NULL if the service takes none). Waits up to timeout_ns
 * for the service to be registered (0: fail at once). Returns 0,
 * MN_ENOENT / MN_ETIMEDOUT (no such service), MN_EMISMATCH (other
 * types), MN_EREJECTED (err filled if not NULL), MN_ENOMEM, MN_ECANCELED
 * (the calling task is being killed), MN_ECLOSED (the service was
 * unregistered before it answered the hello).
 */
int svc_connect(const struct uuid *id, const struct svc_type *type,
                const void *hello, void *err, uint64_t timeout_ns,
                struct svc_client *c);
/* Ends the connection; replies still on their way to c are dropped
 * (the server's svc_reply_* gets MN_ECANCELED), so c may be reused. */
void svc_disconnect(struct svc_client *c);

/*
 * Sends req and waits for the answer. Returns 0 (resp filled),
 * MN_ESERVICE (err filled), MN_ETIMEDOUT, MN_ECLOSED, MN_ECANCELED.
 */
int svc_call(struct svc_client *c, const void *req, void *resp, void *err,
             uint64_t timeout_ns);

/* Sends req with the reply going to ch (messages of svc_reply_size()). */
int svc_send(struct svc_client *c, const void *req, struct kchannel *ch,
             uint32_t *request_id, uint64_t timeout_ns);
size_t svc_reply_size(const struct svc_type *type);

/* ---- userspace path ------------------------------------------------------ */

/*
 * The UUID in error replies made by the kernel itself (unknown service,
 * kernel-only service, undecodable request) instead of by a service.
 */
extern const struct uuid SVC_REGISTRY_UUID;

/* Kernel errors on the userspace path (postcard enum index). */
enum svc_user_error {
  SVC_UERR_UNKNOWN_SERVICE = 0,
  SVC_UERR_NOT_USER_VISIBLE = 1,
  SVC_UERR_DECODE = 2,
  SVC_UERR_BUSY = 3,
  SVC_UERR_MALFORMED = 4,
};

/*
 * Takes one serialized userspace request (mnemOS format: uuid, nonce,
 * request bytes) and dispatches it; the reply (or an error reply with the
 * same nonce) is written to ring as one record: varint length, then the
 * serialized response. Returns 0 when the request was queued or an error
 * reply written; MN_ENOSPC if even the error reply could not be written.
 */
int svc_user_request(const uint8_t *msg, size_t len, struct bbq *ring);

/* ---- status -------------------------------------------------------------- */

struct svc_info {
  struct uuid id;
  char name[24];
  int user_visible;
  uint32_t clients;
  uint64_t requests, replies_lost;
  size_t queued;
};

/* Fills up to max entries; returns the number of services. */
size_t svc_list(struct svc_info *info, size_t max);

/* Resets the registry (kernel init). */
void svc_registry_init(void);

#endif
