/*
 * Datetimes: epoch seconds in UTC as doubles, ISO-8601 parsing and
 * formatting with microsecond precision. Calendar arithmetic is done here
 * (proleptic Gregorian), not with timegm(), so that results do not depend
 * on the host's time zone settings.
 */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "internal.h"

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  int64_t era, doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m) {
  static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 ? 28 + leap : dm[m - 1];
}

/* Reads exactly n digits at s[*i]. */
static int digits(const char *s, size_t len, size_t *i, int n, int *out) {
  int v = 0, k;
  for (k = 0; k < n; k++) {
    char c = *i < len ? s[*i] : '\0';
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
    (*i)++;
  }
  *out = v;
  return 0;
}

static int expect(const char *s, size_t len, size_t *i, char c) {
  if (*i >= len || s[*i] != c) return -1;
  (*i)++;
  return 0;
}

/* Fraction of a second after '.', rounded to microseconds (0 to
 * 1000000). */
static int fraction(const char *s, size_t len, size_t *i, int64_t *out) {
  int64_t micros = 0;
  int n = 0, round_up = 0;
  while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
    if (n < 6) micros = micros * 10 + (s[*i] - '0');
    else if (n == 6) round_up = s[*i] >= '5';
    n++;
    (*i)++;
  }
  if (n == 0) return -1;
  while (n < 6) { micros *= 10; n++; }
  *out = micros + round_up;
  return 0;
}

/* "Z", "+HH:MM", "+HHMM", "+HH", or nothing (UTC). */
static int utc_offset(const char *s, size_t len, size_t *i, int *secs) {
  int sign, hh, mm = 0;
  *secs = 0;
  if (*i == len) return 0;
  if (s[*i] == 'Z' || s[*i] == 'z') { (*i)++; return 0; }
  if (s[*i] != '+' && s[*i] != '-') return -1;
  sign = s[*i] == '-' ? -1 : 1;
  (*i)++;
  if (digits(s, len, i, 2, &hh) < 0) return -1;
  if (*i < len && s[*i] == ':') {
    (*i)++;
    if (digits(s, len, i, 2, &mm) < 0) return -1; /* "+05:" is cut short */
  } else if (*i < len && digits(s, len, i, 2, &mm) < 0) {
    return -1;
  }
  if (hh > 23 || mm > 59) return -1;
  *secs = sign * (hh * 3600 + mm * 60);
  return 0;
}

/* Seconds of the day and microseconds. */
static int time_of_day(const char *s, size_t len, size_t *i, int *secs,
                       int64_t *micros) {
  int hh, mi, ss = 0;
  int64_t frac = 0;
  if (digits(s, len, i, 2, &hh) < 0 || expect(s, len, i, ':') < 0 ||
      digits(s, len, i, 2, &mi) < 0)
    return -1;
  if (*i < len && s[*i] == ':') {
    (*i)++;
    if (digits(s, len, i, 2, &ss) < 0) return -1;
    if (*i < len && (s[*i] == '.' || s[*i] == ',')) {
      (*i)++;
      if (fraction(s, len, i, &frac) < 0) return -1;
    }
  }
  if (hh > 23 || mi > 59 || ss > 60) return -1;
  *secs = hh * 3600 + mi * 60 + ss;
  *micros = frac;
  return 0;
}

/* whole + frac (0 < frac < 1) as a double. Far from 1970 a double's step
 * is coarser than a microsecond (about 30 us in the year 9999): the sum
 * may round up to the next whole second, so it is kept just below it
 * (23:59:59.999999 on the last day of 9999 stays in that year). */
static double within_second(double whole, double frac) {
  double t = whole + frac;
  return t < whole + 1.0 ? t : nextafter(whole + 1.0, 0.0);
}

/* Whole seconds and microseconds as epoch seconds. Every time is built
 * this way (parsed, rounded, and by rm_datetime_now), and taken apart the
 * same way by rm_datetime_format, so that formatting and parsing again
 * gives back the very same double. Times before 1970 are built as the
 * mirror image of times after it, so that -0.3 stays -0.3. */
static double compose(int64_t secs, int64_t micros) {
  if (micros >= 1000000) { /* a fraction rounded up to a whole second */
    secs += micros / 1000000;
    micros %= 1000000;
  }
  if (micros == 0) return (double)secs;
  if (secs >= 0) return within_second((double)secs, (double)micros / 1e6);
  return -within_second((double)(-(secs + 1)), (double)(1000000 - micros) / 1e6);
}

/* Epoch seconds taken apart into whole seconds and microseconds (rounded
 * to the nearest). */
static void decompose(double t, int64_t *secs, int64_t *micros) {
  double whole = floor(t);
  *secs = (int64_t)whole;
  *micros = (int64_t)llround((t - whole) * 1e6);
  if (*micros >= 1000000) {
    (*secs)++;
    *micros -= 1000000;
  }
}

/* decompose converts to int64_t, which NaN, infinities and times far out
 * of range cannot become: such times are returned as they are. */
double rm_datetime_round(double t) {
  int64_t secs, micros;
  if (!rm_datetime_valid(t)) return t;
  decompose(t, &secs, &micros);
  return compose(secs, micros);
}

int rm_datetime_parse_any(const char *s, size_t len, double *out) {
  size_t i = 0;
  int y, m, d, offset = 0, tod = 0;
  int64_t micros = 0;
  if (digits(s, len, &i, 4, &y) < 0 || expect(s, len, &i, '-') < 0 ||
      digits(s, len, &i, 2, &m) < 0 || expect(s, len, &i, '-') < 0 ||
      digits(s, len, &i, 2, &d) < 0)
    return -1;
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return -1;
  if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    i++;
    if (time_of_day(s, len, &i, &tod, &micros) < 0) return -1;
    if (utc_offset(s, len, &i, &offset) < 0) return -1;
  }
  if (i != len) return -1;
  *out = compose(days_from_civil(y, m, d) * 86400 + tod - offset, micros);
  return 0;
}

/* Only times rm_datetime_valid accepts are parsed: the fields of the text
 * are in range, but its offset (or a fraction rounded up) can move it
 * out of the years 1 to 9999. */
int rm_datetime_parse(const char *s, size_t len, double *out) {
  double t;
  if (rm_datetime_parse_any(s, len, &t) < 0 || !rm_datetime_valid(t)) return -1;
  *out = t;
  return 0;
}

/* Times outside the years 1 to 9999 (NaN and infinities too) have no
 * text here: an empty string, length 0. */
size_t rm_datetime_format(double t, char *buf) {
  int64_t secs, micros, days, rem, y;
  int m, d, n;
  buf[0] = '\0';
  if (!rm_datetime_valid(t)) return 0;
  decompose(t, &secs, &micros);
  days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  rem = secs - days * 86400;
  civil_from_days(days, &y, &m, &d);
  n = snprintf(buf, 40, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m,
               d, (int)(rem / 3600), (int)(rem % 3600 / 60), (int)(rem % 60));
  if (micros != 0) n += snprintf(buf + n, 40 - (size_t)n, ".%06lld",
                                 (long long)micros);
  n += snprintf(buf + n, 40 - (size_t)n, "Z");
  return (size_t)n;
}

int rm_datetime_valid(double t) {
  /* 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z */
  return t >= -62135596800.0 && t < 253402300800.0;
}

double rm_datetime_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return compose((int64_t)ts.tv_sec, (int64_t)(ts.tv_nsec / 1000));
}
