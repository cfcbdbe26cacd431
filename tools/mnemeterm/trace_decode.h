/*
 * trace_decode.h: mnemeterm's decoder for mneme's tracing stream.
 *
 * Takes the payload bytes of the tracing port (COBS-framed postcard
 * records, include/mneme/trace.h) in any pieces, keeps the Meta records
 * (callsites) it has seen, and prints every other record as one text line,
 * coloured by level when asked. Bad records are counted and skipped.
 */
#ifndef MNEMETERM_TRACE_DECODE_H
#define MNEMETERM_TRACE_DECODE_H

#include <stdint.h>
#include <stdio.h>
#include "mneme/cobs.h"

struct trace_meta {
  int known;
  uint8_t kind, level;
  char target[48], name[96], file[64];
  uint32_t line;
};

struct trace_decoder {
  struct cobs_stream cs;
  uint8_t frame[1024];
  struct trace_meta *meta;     /* indexed by callsite id */
  uint32_t nmeta;
  int color, want_level;
  uint64_t records, bad, heartbeats, discarded;
  int last_level;              /* from the last heartbeat, -1 before */
  const char *targets;         /* "a,b,c": only these targets; NULL: all */
  FILE *sink;                  /* where filtered-out records are decoded */
};

enum { TRACE_FEED_OK = 0, TRACE_FEED_LEVEL_MISMATCH = 1 };

void trace_decoder_init(struct trace_decoder *d, int color, int want_level);

/* Feeds port payload; prints records to out. Returns TRACE_FEED_OK or
 * TRACE_FEED_LEVEL_MISMATCH when the target should hear SetMaxLevel again
 * (the caller sends it, at most once a second): at the first heartbeat,
 * when a heartbeat shows a level other than want_level, and when an event
 * names a callsite whose Meta we never got. */
int trace_feed(struct trace_decoder *d, const uint8_t *p, size_t n, FILE *out);

/* Decodes and prints one record (postcard bytes). Returns 0 or an MN_E*
 * code for a malformed record; sets *mismatch as trace_feed does. */
int trace_record(struct trace_decoder *d, const uint8_t *r, size_t n, FILE *out,
                 int *mismatch);

void trace_decoder_free(struct trace_decoder *d);

#endif
