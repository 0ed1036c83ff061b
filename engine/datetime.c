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

/* Fraction of a second after '.', rounded to microseconds. */
static int fraction(const char *s, size_t len, size_t *i, double *out) {
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
  *out = (double)(micros + round_up) / 1e6;
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

static int time_of_day(const char *s, size_t len, size_t *i, double *out) {
  int hh, mi, ss = 0;
  double frac = 0;
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
  *out = hh * 3600.0 + mi * 60.0 + ss + frac;
  return 0;
}

int rm_datetime_parse(const char *s, size_t len, double *out) {
  size_t i = 0;
  int y, m, d, offset = 0;
  double tod = 0;
  if (digits(s, len, &i, 4, &y) < 0 || expect(s, len, &i, '-') < 0 ||
      digits(s, len, &i, 2, &m) < 0 || expect(s, len, &i, '-') < 0 ||
      digits(s, len, &i, 2, &d) < 0)
    return -1;
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return -1;
  if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    i++;
    if (time_of_day(s, len, &i, &tod) < 0) return -1;
    if (utc_offset(s, len, &i, &offset) < 0) return -1;
  }
  if (i != len) return -1;
  *out = (double)days_from_civil(y, m, d) * 86400.0 + tod - offset;
  return 0;
}

size_t rm_datetime_format(double t, char *buf) {
  double whole = floor(t);
  int64_t secs = (int64_t)whole, days, rem, y;
  int64_t micros = (int64_t)llround((t - whole) * 1e6);
  int m, d, n;
  if (micros >= 1000000) { secs++; micros -= 1000000; }
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
  return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000) / 1e6;
}
