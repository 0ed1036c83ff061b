/*
 * Patterns: the regular expressions of string fields' `pattern` option,
 * compiled once at declaration with PCRE2 (UTF mode, Unicode character
 * classes, so \d and \w mean what they mean in Python's `re` on str) and
 * matched against values by search, as re.search and JSON Schema do.
 * Only this file includes pcre2.h.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* A compiled pattern with the match data its matches reuse, and its
 * source text for messages. Owned by one schema field. Matching writes to
 * md, so one pattern is used by one thread at a time, as is the whole
 * engine. */
struct rm_pattern {
  pcre2_code *code;
  pcre2_match_data *md;
  size_t len;
  char source[];
};

rm_pattern *rm_pattern_compile(const char *src, size_t len, char *err,
                               size_t cap) {
  int code;
  PCRE2_SIZE offset;
  PCRE2_UCHAR msg[160];
  rm_pattern *p = rm_xalloc(sizeof *p + len + 1);
  if (p == NULL) {
    snprintf(err, cap, "out of memory");
    return NULL;
  }
  memcpy(p->source, src, len);
  p->source[len] = '\0';
  p->len = len;
  p->md = NULL;
  p->code = pcre2_compile((PCRE2_SPTR)src, len, PCRE2_UTF | PCRE2_UCP,
                          &code, &offset, NULL);
  if (p->code == NULL) {
    pcre2_get_error_message(code, msg, sizeof msg);
    snprintf(err, cap, "%s at offset %lu", (const char *)msg,
             (unsigned long)offset);
    rm_xfree(p);
    return NULL;
  }
  /* JIT is an optimisation: where it is unavailable pcre2_match
   * interprets the pattern instead. */
  (void)pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE);
  p->md = pcre2_match_data_create_from_pattern(p->code, NULL);
  if (p->md == NULL) {
    snprintf(err, cap, "out of memory");
    rm_pattern_free(p);
    return NULL;
  }
  return p;
}

void rm_pattern_free(rm_pattern *p) {
  if (p == NULL) return;
  pcre2_match_data_free(p->md);
  pcre2_code_free(p->code);
  rm_xfree(p);
}

/* The subject is valid UTF-8 already (string fields are checked first),
 * so PCRE2 need not check it again. */
int rm_pattern_match(rm_pattern *p, const char *s, size_t len, char *err,
                     size_t cap) {
  PCRE2_UCHAR msg[120];
  int rc = pcre2_match(p->code, (PCRE2_SPTR)s, len, 0, PCRE2_NO_UTF_CHECK,
                       p->md, NULL);
  if (rc >= 0) return 1;
  if (rc == PCRE2_ERROR_NOMATCH) return 0;
  pcre2_get_error_message(rc, msg, sizeof msg);
  snprintf(err, cap, "%s", (const char *)msg);
  return -1;
}

const char *rm_pattern_source(const rm_pattern *p) { return p->source; }
