/*
 * Datetimes: ISO-8601 parsing into epoch seconds (UTC), formatting back,
 * and the round trip between the two.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "restmachine_orm.h"
#include "tap.h"

/* Parses a NUL-terminated string; returns the parser's status. */
static int parse(const char *s, double *out) {
  *out = -12345.0; /* a value no test expects, to see it untouched */
  return rm_datetime_parse(s, strlen(s), out);
}

/* Checks that s parses to want exactly (whole seconds are exact). */
static void parses_to(const char *s, double want, double eps) {
  double t;
  int rc = parse(s, &t);
  is_int(rc, 0, "parse \"%s\" succeeds", s);
  is_dbl(t, want, eps, "parse \"%s\" == %.6f", s, want);
}

static void rejects(const char *s) {
  double t;
  is_int(parse(s, &t), -1, "parse rejects \"%s\"", s);
}

static void formats_to(double t, const char *want) {
  char buf[40];
  size_t n;
  memset(buf, 'x', sizeof buf);
  n = rm_datetime_format(t, buf);
  is_str(buf, want, "format %.7f", t);
  is_uint(n, strlen(want), "format %.7f returns the length %zu", t,
          strlen(want));
}

static void test_parse_forms(void) {
  parses_to("2025-01-15T10:30:00Z", 1736937000.0, 0);
  parses_to("2025-01-15T10:30:00.123+02:00", 1736929800.123, 1e-6);
  parses_to("2025-01-15", 1736899200.0, 0);
  parses_to("2025-01-15 10:30:00Z", 1736937000.0, 0);
  parses_to("2025-01-15T10:30:00z", 1736937000.0, 0);
  parses_to("2025-01-15T10:30:00", 1736937000.0, 0);
  parses_to("2025-01-15T10:30", 1736937000.0, 0);
  parses_to("2025-01-15T10:30:00+0530", 1736937000.0 - 19800, 0);
  parses_to("2025-01-15T10:30:00+05:30", 1736937000.0 - 19800, 0);
  parses_to("2025-01-15T10:30:00-0800", 1736937000.0 + 28800, 0);
  parses_to("2025-01-15T10:30:00-00:00", 1736937000.0, 0);
  parses_to("2025-01-15T10:30:00.5Z", 1736937000.5, 1e-6);
  parses_to("2025-01-15T10:30:00.123456Z", 1736937000.123456, 1e-6);
  /* Digits past the sixth round to the nearest microsecond. */
  parses_to("1970-01-01T00:00:00.1234565Z", 0.123457, 1e-9);
  parses_to("1970-01-01T00:00:00.1234564Z", 0.123456, 1e-9);
  parses_to("1970-01-01T00:00:00,25Z", 0.25, 1e-9);
  parses_to("2025-01-15T23:59:59.9999996Z", 1736985600.0, 1e-7);
}

static void test_parse_calendar(void) {
  double t;
  parses_to("2024-02-29", 1709164800.0, 0);
  parses_to("2000-02-29", 951782400.0, 0);
  rejects("2023-02-29");
  rejects("2100-02-29");
  parses_to("1970-01-01T00:00:00Z", 0.0, 0);
  parses_to("1969-12-31T23:59:59Z", -1.0, 0);
  parses_to("1969-12-31T23:59:59.250Z", -0.75, 1e-9);
  parses_to("1900-01-01T00:00:00Z", -2208988800.0, 0);
  parses_to("0001-01-01T00:00:00Z", -62135596800.0, 0);
  parses_to("9999-12-31T23:59:59Z", 253402300799.0, 0);
  /* A double's step there is about 30 us: the last microsecond of 9999
   * stays in 9999 (the nearest time below 10000-01-01), and formats and
   * parses back to the same time. */
  {
    char buf[40];
    double back = 0;
    size_t len;
    ok(parse("9999-12-31T23:59:59.999999Z", &t) == 0 && rm_datetime_valid(t) &&
       t < 253402300800.0 && t > 253402300799.9999,
       "9999-12-31T23:59:59.999999Z is the last representable time of 9999");
    len = rm_datetime_format(t, buf);
    ok(strncmp(buf, "9999-12-31T23:59:59.99", 22) == 0 &&
       rm_datetime_parse(buf, len, &back) == 0 && back == t,
       "... which formats in 9999 (%s) and parses back to itself", buf);
  }
  /* A positive offset moves a local midnight into the previous UTC day. */
  parses_to("1970-01-01T00:00:00+01:00", -3600.0, 0);
  ok(parse("2025-04-30", &t) == 0 && parse("2025-04-31", &t) < 0,
     "April has 30 days");
}

static void test_parse_rejects(void) {
  double t;
  const char *bad[] = {
      "2025-13-01", "2025-00-10", "2025-01-00", "2025-01-32",
      "2025-01-15T25:00", "2025-01-15T24:00:00", "2025-01-15T10:60",
      "2025-01-15T10:30:61", "abc", "", "2025", "2025-01", "2025-1-15",
      "25-01-15", "2025/01/15", "2025-01-15T", "2025-01-15T10",
      "2025-01-15T10:30:00.", "2025-01-15T10:30:00Zjunk",
      "2025-01-15T10:30:00Z ", "2025-01-15 ", "2025-01-15x",
      "2025-01-15T10:30:00+5", "2025-01-15T10:30:00+24:00",
      "2025-01-15T10:30:00+05:60", "2025-01-15T10:30:00+05:3",
      "2025-01-15T10:30:00+05:", "2025-01-15T10:30:00 Z",
      " 2025-01-15", "2025-01-15T1:30:00", "+2025-01-15"};
  size_t i;
  for (i = 0; i < sizeof bad / sizeof *bad; i++) rejects(bad[i]);
  /* A NUL byte inside the given length is junk, not an end. */
  is_int(rm_datetime_parse("2025-01-15\0Z", 12, &t), -1,
         "parse rejects an embedded NUL byte");
}

/* The parser reads exactly len bytes: hosts pass strings that are not
 * NUL-terminated (or are followed by other data). */
static void test_parse_length(void) {
  const char *s = "2025-01-15T10:30:00Zjunk";
  double t = 0;
  is_int(rm_datetime_parse(s, 20, &t), 0, "parse stops at the given length");
  is_dbl(t, 1736937000.0, 0, "... and reads the value within it");
  is_int(rm_datetime_parse(s, 10, &t), 0, "a prefix that is a date parses");
  is_dbl(t, 1736899200.0, 0, "... as that date's midnight");
  is_int(rm_datetime_parse(s, 13, &t), -1,
         "a prefix cut inside the hour is rejected");
}

static void test_format(void) {
  formats_to(1736937000.0, "2025-01-15T10:30:00Z");
  formats_to(1736937000.123456, "2025-01-15T10:30:00.123456Z");
  formats_to(1736937000.5, "2025-01-15T10:30:00.500000Z");
  formats_to(0.0, "1970-01-01T00:00:00Z");
  formats_to(-1.0, "1969-12-31T23:59:59Z");
  formats_to(-0.5, "1969-12-31T23:59:59.500000Z");
  formats_to(-86400.0, "1969-12-31T00:00:00Z");
  formats_to(-86401.0, "1969-12-30T23:59:59Z");
  formats_to(-2208988800.0, "1900-01-01T00:00:00Z");
  formats_to(1709164800.0 + 86399, "2024-02-29T23:59:59Z");
  formats_to(253402300799.0, "9999-12-31T23:59:59Z");
  /* Microseconds that round to a whole second carry into the seconds. */
  formats_to(1736937000.9999996, "2025-01-15T10:30:01Z");
  formats_to(1736985599.9999996, "2025-01-16T00:00:00Z");
  formats_to(-0.0000001, "1970-01-01T00:00:00Z");
  formats_to(0.0000004, "1970-01-01T00:00:00Z");
  formats_to(0.0000006, "1970-01-01T00:00:00.000001Z");
}

/* format(parse(s)) gives s back for canonical text, and parse(format(t))
 * gives t back to the microsecond. */
static void test_round_trip(void) {
  const char *canon[] = {"2025-01-15T10:30:00Z", "2025-01-15T10:30:00.123456Z",
                         "1969-12-31T23:59:59.250000Z", "2024-02-29T12:00:00Z",
                         "0001-01-01T00:00:00Z", "1960-06-30T01:02:03.000004Z"};
  double times[] = {1736937000.25, -1.5, -123456789.654321, 1e9, 86399.999999,
                    -62135596800.0};
  size_t i;
  for (i = 0; i < sizeof canon / sizeof *canon; i++) {
    double t;
    char buf[40] = "";
    if (parse(canon[i], &t) == 0) rm_datetime_format(t, buf);
    is_str(buf, canon[i], "format(parse(\"%s\")) round trips", canon[i]);
  }
  for (i = 0; i < sizeof times / sizeof *times; i++) {
    double t = 0;
    char buf[40];
    size_t n = rm_datetime_format(times[i], buf);
    int rc = rm_datetime_parse(buf, n, &t);
    ok(rc == 0 && t - times[i] < 1e-6 && times[i] - t < 1e-6,
       "parse(format(%.6f)) round trips (via %s)", times[i], buf);
  }
}

/* rm_datetime_round gives the times that format and parse keep exactly
 * (what datetime fields store, so that JSON text round trips): it is
 * idempotent, and parse(format(round(t))) == round(t) bit for bit, over
 * the whole valid range, with and without fractions, before and after
 * 1970. */
static void test_exact_round_trip(void) {
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  int i, exact = 0, idempotent = 0, near = 0;
  const int n = 200000;
  for (i = 0; i < n; i++) {
    double t, r, back = 0;
    char buf[40];
    size_t len;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    /* Seconds over years 1..9999, with a random fraction of a second
     * finer than a microsecond (every other time), or a whole number of
     * microseconds. */
    t = -62135596800.0 + (double)(x % 315537897600ULL);
    t += (i & 1) ? (double)(x >> 40) / (double)(1ULL << 24)
                 : (double)((x >> 20) % 1000000) / 1e6;
    if (!rm_datetime_valid(t)) t = 0;
    r = rm_datetime_round(t);
    idempotent += rm_datetime_round(r) == r;
    near += fabs(r - t) <= 0.5e-6 + fabs(t) * 4e-16;
    len = rm_datetime_format(r, buf);
    exact += rm_datetime_parse(buf, len, &back) == 0 && back == r;
  }
  is_int(idempotent, n, "rounding is idempotent for %d random times", n);
  is_int(near, n, "rounding moves a time by at most half a microsecond");
  is_int(exact, n, "parse(format(t)) == t exactly for rounded times");
  ok(rm_datetime_round(-0.3) == -0.3, "-0.3 stays -0.3 (times before 1970 mirror those after)");
  ok(rm_datetime_round(1736937000.123) == 1736937000.123, "a time in milliseconds is kept");
  ok(rm_datetime_round(1736937000.1234567) == 1736937000.123457, "sub-microseconds are rounded");
  {
    double t = rm_datetime_now();
    ok(rm_datetime_round(t) == t, "rm_datetime_now gives rounded times");
  }
}

/* rm_datetime_valid: the times format can write, years 1 to 9999. */
static void test_valid_range(void) {
  ok(rm_datetime_valid(-62135596800.0), "0001-01-01T00:00:00Z is valid");
  ok(!rm_datetime_valid(-62135596800.5), "half a second before it is not");
  ok(rm_datetime_valid(253402300799.5), "9999-12-31T23:59:59.5Z is valid");
  ok(!rm_datetime_valid(253402300800.0), "10000-01-01T00:00:00Z is not");
  ok(rm_datetime_valid(0.0) && rm_datetime_valid(-1.0), "0 and -1 are valid");
  ok(!rm_datetime_valid(NAN), "NaN is not valid");
  ok(!rm_datetime_valid(HUGE_VAL) && !rm_datetime_valid(-HUGE_VAL),
     "infinities are not valid");
}

/* Parsing gives only times format can write: the text's calendar fields
 * may be fine while its offset moves it out of years 1 to 9999. */
static void test_parse_range(void) {
  double t = 0;
  rejects("9999-12-31T23:59:59-23:59");
  rejects("0000-01-01");
  rejects("0000-12-31T23:59:59Z");
  rejects("0001-01-01T00:00:00+00:01");
  rejects("9999-12-31T23:59:59.9999996Z");
  parses_to("0000-12-31T23:00:00-01:00", -62135596800.0, 0);
  parses_to("0001-01-01T00:00:00Z", -62135596800.0, 0);
  parses_to("9999-12-31T23:59:59+00:00", 253402300799.0, 0);
  ok(rm_datetime_parse("0000-01-01", 10, &t) == -1 && t == 0,
     "a refused parse leaves *out alone");
}

/* format writes an empty string for what rm_datetime_valid refuses (it
 * converted NaN and 1e300 to int64_t); round returns such times as
 * they are. */
static void test_format_invalid(void) {
  static const double bad[] = {NAN, HUGE_VAL, -HUGE_VAL, 1e300, -1e300,
                               253402300800.0, -62135596801.0};
  size_t i;
  for (i = 0; i < sizeof bad / sizeof *bad; i++) {
    char buf[40];
    memset(buf, 'x', sizeof buf);
    ok(rm_datetime_format(bad[i], buf) == 0 && buf[0] == '\0',
       "format %g writes an empty string and returns 0", bad[i]);
  }
  ok(isnan(rm_datetime_round(NAN)), "round(NaN) is NaN");
  ok(rm_datetime_round(1e300) == 1e300 && rm_datetime_round(-HUGE_VAL) == -HUGE_VAL,
     "round(1e300) and round(-inf) are returned as they are");
}

static void test_now(void) {
  double before = (double)time(NULL);
  double now = rm_datetime_now();
  double after = (double)time(NULL);
  ok(now >= before - 1 && now <= after + 2,
     "now (%.6f) is the current time (%.0f..%.0f)", now, before, after);
}

int main(void) {
  test_parse_forms();
  test_parse_calendar();
  test_parse_rejects();
  test_parse_length();
  test_format();
  test_round_trip();
  test_exact_round_trip();
  test_valid_range();
  test_parse_range();
  test_format_invalid();
  test_now();
  return done_testing();
}
