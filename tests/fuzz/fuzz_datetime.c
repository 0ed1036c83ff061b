/*
 * Fuzzes rm_datetime_parse, which reads ISO-8601 text from clients (query
 * values and datetime fields given as text). A time it accepts must be
 * one rm_datetime_valid accepts, already rounded to the microsecond, and
 * must survive formatting and parsing again unchanged, as the header
 * promises. The first eight bytes are also taken as any double (NaN,
 * infinities, far years) for rm_datetime_format and rm_datetime_round.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restmachine_orm.h"

/* Formats t and parses the text back: the same double, or nothing at all
 * for a time the engine cannot write. */
static void round_trip(double t) {
  char buf[40];
  double back = 0;
  size_t n = rm_datetime_format(t, buf);
  if (n != strlen(buf)) abort();
  if (!rm_datetime_valid(t)) {
    if (n != 0) abort();
    return;
  }
  if (rm_datetime_parse(buf, n, &back) != 0 || back != rm_datetime_round(t))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  double t = -1.5;
  if (rm_datetime_parse((const char *)data, size, &t) == 0) {
    if (!rm_datetime_valid(t) || rm_datetime_round(t) != t) abort();
    round_trip(t);
  } else if (t != -1.5) {
    abort(); /* *out untouched on failure */
  }
  if (size >= 8) {
    memcpy(&t, data, 8);
    round_trip(t);
    (void)rm_datetime_round(t);
  }
  return 0;
}
