/*
 * UTF-8 validation (RFC 3629) and character counting: string fields hold
 * valid UTF-8 and measure min_length/max_length in characters.
 */
#include <string.h>

#include "restmachine_orm.h"
#include "tap.h"

/* s (len bytes) is valid and holds `want` characters. */
static void accepts(const char *what, const char *s, size_t len, size_t want) {
  size_t chars = 999;
  int rc = rm_utf8_check(s, len, &chars);
  is_int(rc, 1, "accepts %s", what);
  is_uint(chars, want, "%s counts %zu characters", what, want);
}

static void rejects(const char *what, const char *s, size_t len) {
  is_int(rm_utf8_check(s, len, NULL), 0, "rejects %s", what);
}

static void test_valid(void) {
  accepts("the empty string", "", 0, 0);
  accepts("ASCII", "hello, world", 12, 12);
  accepts("a NUL byte (ASCII)", "a\0b", 3, 3);
  accepts("DEL (U+007F)", "\x7f", 1, 1);
  accepts("2-byte U+0080", "\xc2\x80", 2, 1);
  accepts("2-byte \"h\xc3\xa9llo\"", "h\xc3\xa9llo", 6, 5);
  accepts("2-byte U+07FF", "\xdf\xbf", 2, 1);
  accepts("3-byte U+0800", "\xe0\xa0\x80", 3, 1);
  accepts("3-byte euro sign", "\xe2\x82\xac", 3, 1);
  accepts("3-byte U+D7FF (below the surrogates)", "\xed\x9f\xbf", 3, 1);
  accepts("3-byte U+E000 (above the surrogates)", "\xee\x80\x80", 3, 1);
  accepts("3-byte U+FFFF", "\xef\xbf\xbf", 3, 1);
  accepts("4-byte U+10000", "\xf0\x90\x80\x80", 4, 1);
  accepts("4-byte emoji", "\xf0\x9f\x98\x80", 4, 1);
  accepts("4-byte U+10FFFF", "\xf4\x8f\xbf\xbf", 4, 1);
  accepts("a mix of 1, 2, 3 and 4-byte characters",
          "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 11, 5);
}

static void test_invalid(void) {
  rejects("\\xff", "\xff", 1);
  rejects("\\xfe", "\xfe", 1);
  rejects("a lone continuation byte", "\x80", 1);
  rejects("a continuation byte after ASCII", "ab\xbf", 3);
  rejects("overlong \\xc0\\xaf", "\xc0\xaf", 2);
  rejects("overlong \\xc1\\xbf", "\xc1\xbf", 2);
  rejects("overlong 3-byte \\xe0\\x80\\xaf", "\xe0\x80\xaf", 3);
  rejects("overlong 3-byte \\xe0\\x9f\\xbf", "\xe0\x9f\xbf", 3);
  rejects("overlong 4-byte \\xf0\\x80\\x80\\xaf", "\xf0\x80\x80\xaf", 4);
  rejects("overlong 4-byte \\xf0\\x8f\\xbf\\xbf", "\xf0\x8f\xbf\xbf", 4);
  rejects("surrogate \\xed\\xa0\\x80 (U+D800)", "\xed\xa0\x80", 3);
  rejects("surrogate \\xed\\xbf\\xbf (U+DFFF)", "\xed\xbf\xbf", 3);
  rejects("U+110000 \\xf4\\x90\\x80\\x80", "\xf4\x90\x80\x80", 4);
  rejects("lead byte \\xf5", "\xf5\x80\x80\x80", 4);
  rejects("a 2-byte sequence cut short", "\xc3", 1);
  rejects("a 3-byte sequence cut short", "\xe2\x82", 2);
  rejects("a 4-byte sequence cut short", "\xf0\x9f\x98", 3);
  rejects("a sequence cut short before ASCII", "\xe2\x82z", 3);
  rejects("a 2-byte sequence with a bad continuation", "\xc3\x28", 2);
  rejects("a 4-byte sequence with a bad last byte", "\xf0\x9f\x98\xc0", 4);
  rejects("invalid bytes after valid text", "h\xc3\xa9llo\xff", 7);
}

/* The check reads exactly len bytes: a valid prefix of an invalid string
 * is valid, and a sequence cut by len is truncated even if the bytes after
 * it would complete it. */
static void test_length(void) {
  const char *s = "ab\xe2\x82\xac\xff";
  size_t chars = 0;
  is_int(rm_utf8_check(s, 5, &chars), 1, "a valid prefix is accepted");
  is_uint(chars, 3, "... and counted");
  is_int(rm_utf8_check(s, 4, &chars), 0, "len cutting a sequence rejects it");
  is_int(rm_utf8_check(s, 6, &chars), 0, "the whole string is rejected");
}

int main(void) {
  test_valid();
  test_invalid();
  test_length();
  return done_testing();
}
