/*
 * userspace.c: the serialized message path between userspace and services.
 *
 * Interface: svc_user_request, svc_user_reply, svc_user_unserved,
 * SVC_REGISTRY_UUID.
 *
 * A request (mnemOS's format, postcard):
 *     uuid (10 + 16 bytes) | nonce (varint u32) | request (varint len + bytes)
 * is decoded, its service found, the request bytes decoded by the
 * service's codec into the service's request type, and queued to the
 * server with a REPLY_USER address (the caller's ring and nonce). When
 * the server replies, the response is serialized into the ring:
 *     uuid | nonce | 00 + response      or      uuid | nonce | 01 + error
 * Each reply in the ring is one record: a varint length, then those bytes.
 *
 * Requests the kernel cannot deliver (unknown UUID, a kernel-only service,
 * bytes that do not decode, a full queue) are answered at once with the
 * caller's nonce, Err, and a svc_user_error variant, under the registry's
 * own UUID SVC_REGISTRY_UUID, so a client can tell them from service errors.
 */
#include <string.h>
#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/postcard.h"
#include "registry_impl.h"

/* d87d6ec1-2f8f-460b-8335-3aa3add16c11 (version 4, random) */
const struct uuid SVC_REGISTRY_UUID = UUID_INIT(0xd87d6ec1, 0x2f8f, 0x460b, 0x8335,
                                                0x3aa3add16c11ull);

#define LEN_PREFIX_MAX PC_VARINT_MAX_U32

/*
 * Encodes one record into the room g[0..room): the reply after room for
 * the length prefix, then moved up behind the actual prefix. Returns its
 * length, or 0 if it does not fit.
 */
static size_t
encode_record(uint8_t *g, size_t room, const struct uuid *id, uint32_t nonce,
              int status, void (*enc_fn)(struct pc_enc *, const void *),
              const void *val, int kernel_err)
{
  if (room <= LEN_PREFIX_MAX)
    return 0;
  struct pc_enc e;
  pc_enc_init(&e, g + LEN_PREFIX_MAX, room - LEN_PREFIX_MAX);
  pc_enc_uuid(&e, id->b);
  pc_enc_u32(&e, nonce);
  pc_enc_u8(&e, status ? 1 : 0);
  if (kernel_err >= 0)
    pc_enc_variant(&e, (uint32_t)kernel_err);
  else if (enc_fn)
    enc_fn(&e, val);
  if (pc_enc_error(&e))
    return 0;
  size_t n = pc_enc_len(&e);
  struct pc_enc p;
  pc_enc_init(&p, g, LEN_PREFIX_MAX);
  pc_enc_u32(&p, (uint32_t)n);
  size_t plen = pc_enc_len(&p);
  memmove(g + plen, g + LEN_PREFIX_MAX, n);
  return plen + n;
}

/*
 * Writes one record into ring: grants all contiguous room and encodes
 * into it; if that was only the end of the ring and too short, tries the
 * start. Never waits. Returns 0, MN_ENOSPC (ring full; nothing written),
 * MN_ECLOSED.
 */
static int
write_record(struct bbq *ring, const struct uuid *id, uint32_t nonce,
             int status, void (*enc_fn)(struct pc_enc *, const void *),
             const void *val, int kernel_err)
{
  uint8_t *g;
  size_t room;
  int err = bbq_grant_max(ring, ring->cap, &g, &room);
  if (err)
    return err == MN_EAGAIN ? MN_ENOSPC : err;
  size_t n = encode_record(g, room, id, nonce, status, enc_fn, val, kernel_err);
  if (!n) {
    bbq_commit(ring, 0);
    if (bbq_grant_range(ring, room + 1, ring->cap, &g, &room) != 0)
      return MN_ENOSPC;
    n = encode_record(g, room, id, nonce, status, enc_fn, val, kernel_err);
  }
  bbq_commit(ring, n);
  return n ? 0 : MN_ENOSPC;
}

static int
kernel_error_reply(struct bbq *ring, uint32_t nonce, enum svc_user_error why)
{
  return write_record(ring, &SVC_REGISTRY_UUID, nonce, 1, 0, 0, (int)why);
}

int
svc_user_reply(struct svc_server *s, const struct svc_envelope *env,
               int status, const void *body)
{
  const struct svc_codec *c = s->codec;
  return write_record(env->reply.u.ring, &s->id, env->reply.nonce, status,
                      status ? c->encode_err : c->encode_resp, body, -1);
}

void
svc_user_unserved(const struct svc_envelope *env)
{
  kernel_error_reply(env->reply.u.ring, env->reply.nonce, SVC_UERR_UNKNOWN_SERVICE);
}

int
svc_user_request(const uint8_t *msg, size_t len, struct bbq *ring)
{
  struct pc_dec d;
  struct uuid id;
  uint32_t nonce = 0;
  const uint8_t *req;
  size_t req_len;
  pc_dec_init(&d, msg, len);
  pc_dec_uuid(&d, id.b);
  pc_dec_u32(&d, &nonce);
  pc_dec_bytes(&d, &req, &req_len);
  if (pc_dec_finish(&d) != 0)
    return kernel_error_reply(ring, nonce, SVC_UERR_MALFORMED);
  struct svc_server *s = svc_find(&id);
  if (!s)
    return kernel_error_reply(ring, nonce, SVC_UERR_UNKNOWN_SERVICE);
  if (!s->codec)
    return kernel_error_reply(ring, nonce, SVC_UERR_NOT_USER_VISIBLE);
  memset(s->scratch, 0, s->type.req_size);
  if (s->codec->decode_req(req, req_len, s->scratch) != 0)
    return kernel_error_reply(ring, nonce, SVC_UERR_DECODE);
  struct svc_envelope env = { s->service_id, 0, nonce, SVC_MSG_REQUEST,
                              { REPLY_USER, 0, nonce, { .ring = ring } } };
  int err = kchannel_try_send_parts(&s->queue, &env, sizeof env,
                                    offsetof(struct svc_msg, body),
                                    s->scratch, s->type.req_size);
  if (err)
    return kernel_error_reply(ring, nonce, SVC_UERR_BUSY);
  s->requests++;
  return 0;
}
