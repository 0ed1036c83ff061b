/*
 * A tiny TAP producer for the engine's C unit tests (after Tarantool's
 * test/unit/unit.h). Each check prints "ok N - description" or
 * "not ok N - description" followed by "#" lines saying what was got and
 * what was expected; done_testing() prints the "1..N" plan and returns the
 * program's exit status (non-zero when any check failed).
 *
 *   ok(cond, fmt, ...)            passes when cond is true
 *   is_int(got, want, fmt, ...)   integers (compared as long long)
 *   is_uint(got, want, fmt, ...)  unsigned integers (size_t, uint64_t)
 *   is_str(got, want, fmt, ...)   NUL-terminated strings (NULL allowed)
 *   is_dbl(got, want, eps, fmt, ...)  doubles within eps
 *   is_mem(got, glen, want, wlen, fmt, ...)  byte strings with lengths
 *   diag(fmt, ...)                a "# ..." comment line
 *   return done_testing();        at the end of main
 *
 * Every function is static inline so that a test using only some of them
 * builds without unused-function warnings. There are no globals outside
 * this header's one static counter pair, which each test program owns.
 */
#ifndef RM_TAP_H
#define RM_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__)
#define TAP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TAP_PRINTF(f, a)
#endif

static int tap_count;  /* checks run so far */
static int tap_failed; /* of those, how many failed */

/* Prints one result line and, on failure, where the check is. */
static inline int tap_vresult(int pass, const char *file, int line,
                              const char *fmt, va_list ap) {
  tap_count++;
  printf("%sok %d - ", pass ? "" : "not ", tap_count);
  vprintf(fmt, ap);
  putchar('\n');
  if (!pass) {
    tap_failed++;
    printf("#   Failed test at %s line %d.\n", file, line);
  }
  fflush(stdout);
  return pass;
}

static inline int tap_ok(int pass, const char *file, int line,
                         const char *fmt, ...) TAP_PRINTF(4, 5);
static inline int tap_ok(int pass, const char *file, int line,
                         const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pass = tap_vresult(pass, file, line, fmt, ap);
  va_end(ap);
  return pass;
}

static inline int tap_is_int(long long got, long long want, const char *file,
                             int line, const char *fmt, ...) TAP_PRINTF(5, 6);
static inline int tap_is_int(long long got, long long want, const char *file,
                             int line, const char *fmt, ...) {
  va_list ap;
  int pass;
  va_start(ap, fmt);
  pass = tap_vresult(got == want, file, line, fmt, ap);
  va_end(ap);
  if (!pass) printf("#          got: %lld\n#     expected: %lld\n", got, want);
  return pass;
}

static inline int tap_is_uint(unsigned long long got, unsigned long long want,
                              const char *file, int line, const char *fmt,
                              ...) TAP_PRINTF(5, 6);
static inline int tap_is_uint(unsigned long long got, unsigned long long want,
                              const char *file, int line, const char *fmt,
                              ...) {
  va_list ap;
  int pass;
  va_start(ap, fmt);
  pass = tap_vresult(got == want, file, line, fmt, ap);
  va_end(ap);
  if (!pass) printf("#          got: %llu\n#     expected: %llu\n", got, want);
  return pass;
}

static inline int tap_is_str(const char *got, const char *want,
                             const char *file, int line, const char *fmt, ...)
    TAP_PRINTF(5, 6);
static inline int tap_is_str(const char *got, const char *want,
                             const char *file, int line, const char *fmt,
                             ...) {
  va_list ap;
  int pass = (got == NULL || want == NULL) ? got == want
                                           : strcmp(got, want) == 0;
  va_start(ap, fmt);
  pass = tap_vresult(pass, file, line, fmt, ap);
  va_end(ap);
  if (!pass)
    printf("#          got: %s%s%s\n#     expected: %s%s%s\n",
           got ? "\"" : "", got ? got : "NULL", got ? "\"" : "",
           want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
  return pass;
}

static inline int tap_is_dbl(double got, double want, double eps,
                             const char *file, int line, const char *fmt, ...)
    TAP_PRINTF(6, 7);
static inline int tap_is_dbl(double got, double want, double eps,
                             const char *file, int line, const char *fmt,
                             ...) {
  va_list ap;
  double diff = got > want ? got - want : want - got;
  int pass;
  va_start(ap, fmt);
  /* NaN fails: every comparison with it is false. */
  pass = tap_vresult(diff <= eps, file, line, fmt, ap);
  va_end(ap);
  if (!pass)
    printf("#          got: %.17g\n#     expected: %.17g (within %g)\n", got,
           want, eps);
  return pass;
}

/* Prints a byte string for a diagnostic, escaping what is not printable. */
static inline void tap_print_bytes(const char *label, const void *p,
                                   size_t n) {
  const unsigned char *b = p;
  size_t i;
  printf("# %12s: ", label);
  if (p == NULL) {
    printf("NULL\n");
    return;
  }
  putchar('"');
  for (i = 0; i < n && i < 80; i++) {
    if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '"' && b[i] != '\\')
      putchar(b[i]);
    else
      printf("\\x%02x", b[i]);
  }
  printf("\"%s (%zu bytes)\n", n > 80 ? "..." : "", n);
}

static inline int tap_is_mem(const void *got, size_t glen, const void *want,
                             size_t wlen, const char *file, int line,
                             const char *fmt, ...) TAP_PRINTF(7, 8);
static inline int tap_is_mem(const void *got, size_t glen, const void *want,
                             size_t wlen, const char *file, int line,
                             const char *fmt, ...) {
  va_list ap;
  int pass = glen == wlen && (glen == 0 || (got != NULL && want != NULL &&
                                            memcmp(got, want, glen) == 0));
  va_start(ap, fmt);
  pass = tap_vresult(pass, file, line, fmt, ap);
  va_end(ap);
  if (!pass) {
    tap_print_bytes("got", got, glen);
    tap_print_bytes("expected", want, wlen);
  }
  return pass;
}

static inline void tap_diag(const char *fmt, ...) TAP_PRINTF(1, 2);
static inline void tap_diag(const char *fmt, ...) {
  va_list ap;
  printf("# ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}

/* Prints the plan; the result is main's exit status. */
static inline int done_testing(void) {
  printf("1..%d\n", tap_count);
  if (tap_failed)
    printf("# Looks like you failed %d test%s of %d.\n", tap_failed,
           tap_failed == 1 ? "" : "s", tap_count);
  fflush(stdout);
  return tap_failed ? 1 : 0;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
  tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, \
             __VA_ARGS__)
#define is_uint(got, want, ...)                                  \
  tap_is_uint((unsigned long long)(got), (unsigned long long)(want), \
              __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) \
  tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_dbl(got, want, eps, ...) \
  tap_is_dbl((got), (want), (eps), __FILE__, __LINE__, __VA_ARGS__)
#define is_mem(got, glen, want, wlen, ...) \
  tap_is_mem((got), (glen), (want), (wlen), __FILE__, __LINE__, __VA_ARGS__)
#define diag(...) tap_diag(__VA_ARGS__)

#endif
