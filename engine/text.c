/*
 * Text helpers: UTF-8 validation and character counting (string fields
 * hold valid UTF-8 and count lengths in characters).
 */
#include "internal.h"

/* Length of the sequence starting with byte c, or 0 if c cannot start
 * one. */
static size_t seq_len(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

/* Checks continuation bytes and rejects overlong forms, surrogates and
 * code points above U+10FFFF (RFC 3629). */
static int valid_seq(const unsigned char *p, size_t n) {
  size_t i;
  for (i = 1; i < n; i++)
    if ((p[i] & 0xC0) != 0x80) return 0;
  if (n == 3) {
    if (p[0] == 0xE0 && p[1] < 0xA0) return 0;
    if (p[0] == 0xED && p[1] > 0x9F) return 0;
  } else if (n == 4) {
    if (p[0] == 0xF0 && p[1] < 0x90) return 0;
    if (p[0] == 0xF4 && p[1] > 0x8F) return 0;
  }
  return 1;
}

int rm_utf8_check(const char *s, size_t len, size_t *chars) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, count = 0;
  while (i < len) {
    size_t n = seq_len(p[i]);
    if (n == 0 || i + n > len || !valid_seq(p + i, n)) return 0;
    i += n;
    count++;
  }
  if (chars) *chars = count;
  return 1;
}
