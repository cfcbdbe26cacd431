/*
 * err.c: text of mneme's error codes.
 *
 * Interface: mn_strerror.
 */
#include "mneme/err.h"

const char *
mn_strerror(int err)
{
  switch (err) {
  case MN_OK: return "ok";
#define MN_ERR_CASE(name, value, text) case name: return text;
  MN_ERRORS(MN_ERR_CASE)
#undef MN_ERR_CASE
  }
  return "unknown error";
}
