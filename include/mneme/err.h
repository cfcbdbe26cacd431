/*
 * err.h: mneme's error codes.
 *
 * Every fallible function in mneme returns an int: 0 (MN_OK) on success or
 * a negative MN_E* code. Function comments list the codes they return.
 * The list is an X-macro so names and messages cannot drift apart.
 */
#ifndef MNEME_ERR_H
#define MNEME_ERR_H

#define MN_ERRORS(X) \
  X(MN_ENOMEM,    -1,  "out of memory") \
  X(MN_EINVAL,    -2,  "invalid argument") \
  X(MN_ETIMEDOUT, -3,  "timed out") \
  X(MN_ECLOSED,   -4,  "closed") \
  X(MN_EAGAIN,    -5,  "would wait (try again)") \
  X(MN_EEXIST,    -6,  "already exists") \
  X(MN_ENOENT,    -7,  "not found") \
  X(MN_EMISMATCH, -8,  "type fingerprint mismatch") \
  X(MN_EREJECTED, -9,  "rejected by the server") \
  X(MN_EDECODE,   -10, "malformed input") \
  X(MN_EOVERFLOW, -11, "value or buffer overflow") \
  X(MN_ETRUNC,    -12, "input ends too early") \
  X(MN_ENOSPC,    -13, "no room in buffer") \
  X(MN_EBUSY,     -14, "busy or already assigned") \
  X(MN_EIO,       -15, "i/o error") \
  X(MN_ENOTSUP,   -16, "not supported") \
  X(MN_ECANCELED, -17, "canceled") \
  X(MN_EACCESS,   -18, "not permitted") \
  X(MN_ESERVICE,  -19, "service returned an error") \
  X(MN_EFORMAT,   -20, "bad file format") \
  X(MN_ERANGE,    -21, "out of range") \
  X(MN_ENETDOWN,  -22, "network is down (no link or no address)") \
  X(MN_ENOROUTE,  -23, "no route to host") \
  X(MN_ECONNREFUSED, -24, "connection refused") \
  X(MN_ECONNRESET, -25, "connection reset by peer") \
  X(MN_ECONNABORTED, -26, "connection aborted") \
  X(MN_ENONAME,   -27, "name not found") \
  X(MN_EADDRINUSE, -28, "address in use") \
  X(MN_ETLS,      -29, "TLS failed (certificate or handshake)") \
  X(MN_EPROTO,    -30, "protocol error (malformed reply)") \
  X(MN_EHTTP,     -31, "HTTP error status")

enum mn_err {
  MN_OK = 0,
#define MN_ERR_ENUM(name, value, text) name = value,
  MN_ERRORS(MN_ERR_ENUM)
#undef MN_ERR_ENUM
};

/* Returns a constant description of an MN_* code ("unknown error" if none). */
const char *mn_strerror(int err);

#endif
