/*
 * Writes the seed corpus of every fuzz target: a few valid inputs each,
 * made with the engine itself so that they follow its encodings as they
 * change. Built with the release engine objects (no fuzzer).
 *
 *   seeds DIR   writes DIR/<target>/<n> for cursor, record, json,
 *               datetime and text (the directories must exist)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static const char *dir;
static int count;

static void put(const char *target, const void *bytes, size_t len) {
  char path[1024];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s/%d", dir, target, count++);
  f = fopen(path, "wb");
  if (f == NULL || fwrite(bytes, 1, len, f) != len || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

static void put_text(const char *target, const char *text) {
  put(target, text, strlen(text));
}

/* base64url text back to bytes (text from rm_cursor_encode only). */
static size_t unbase64(const char *in, size_t len, unsigned char *out) {
  static const char b64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t i, n = 0;
  unsigned long w = 0;
  int bits = 0;
  for (i = 0; i < len; i++) {
    w = w << 6 | (unsigned long)(strchr(b64, in[i]) - b64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (unsigned char)(w >> bits);
    }
  }
  return n;
}

/* For each query, cursors at two records: as text (first byte the query),
 * and as the bytes before the checksum (first byte the query and 4, the
 * harness's signed mode). */
static void cursors(rm_table *t) {
  int k, i;
  for (k = 0; k < FZ_NQUERIES; k++) {
    rm_query q;
    size_t pos = 0;
    const rm_record *r;
    fz_query(k, &q);
    for (i = 0; (r = rm_table_next(t, &pos)) != NULL && i < 2; i++) {
      rm_position at;
      char text[512];
      unsigned char buf[512];
      size_t n;
      rm_query_position(t, &q, r, &at);
      if (rm_cursor_size(&at) >= sizeof text) abort();
      buf[0] = (unsigned char)k;
      n = rm_cursor_encode(t, &q, &at, text);
      memcpy(buf + 1, text, n);
      put("cursor", buf, n + 1);
      buf[0] = (unsigned char)(k | 4);
      n = unbase64(text, n, buf + 1);
      put("cursor", buf, n + 1 - 8);
    }
  }
}

/* The fixture's records, and their json values alone. */
static void records(const rm_table *t) {
  const rm_schema *s = rm_table_schema(t);
  size_t pos = 0;
  const rm_record *r;
  while ((r = rm_table_next(t, &pos)) != NULL) {
    rm_value doc;
    put("record", rm_record_data(r), rm_record_size(s, r));
    rm_record_get(s, rm_record_data(r), F_DOC, &doc);
    put("json", doc.u.s.ptr, doc.u.s.len);
  }
}

/* Appends an item (tag, count or length; i or f for numbers) to buf. */
static size_t item(unsigned char *out, rm_jtag tag, size_t n, double num) {
  rm_json_item it;
  memset(&it, 0, sizeof it);
  it.tag = tag;
  it.n = n;
  it.i = (int64_t)num;
  it.f = num;
  return rm_json_put(out, &it);
}

/* {"a": [1, 2.5, "é", null, true, false], "b": {}} */
static void json(void) {
  unsigned char buf[64];
  size_t n = 0;
  n += item(buf + n, RM_J_OBJECT, 2, 0);
  n += rm_json_put_key(buf + n, 1);
  buf[n++] = 'a';
  n += item(buf + n, RM_J_ARRAY, 6, 0);
  n += item(buf + n, RM_J_INT, 0, 1);
  n += item(buf + n, RM_J_FLOAT, 0, 2.5);
  n += item(buf + n, RM_J_STR, 2, 0);
  memcpy(buf + n, "\xc3\xa9", 2);
  n += 2;
  n += item(buf + n, RM_J_NULL, 0, 0);
  n += item(buf + n, RM_J_TRUE, 0, 0);
  n += item(buf + n, RM_J_FALSE, 0, 0);
  n += rm_json_put_key(buf + n, 1);
  buf[n++] = 'b';
  n += item(buf + n, RM_J_OBJECT, 0, 0);
  put("json", buf, n);
}

/* [{"a": 1, "b": [2]}, {"b": [2.0], "a": 1.0}, {"a": 1, "c": [2]}]: equal
 * objects with keys in two orders, and one that differs, for fuzz_json's
 * symmetry check. */
static void json_pairs(void) {
  static const char *const keys[3][2] = {{"a", "b"}, {"b", "a"}, {"a", "c"}};
  unsigned char buf[64];
  size_t n = 0, i, k;
  n += item(buf + n, RM_J_ARRAY, 3, 0);
  for (i = 0; i < 3; i++) {
    n += item(buf + n, RM_J_OBJECT, 2, 0);
    for (k = 0; k < 2; k++) {
      rm_jtag num = i == 1 ? RM_J_FLOAT : RM_J_INT;
      n += rm_json_put_key(buf + n, 1);
      buf[n++] = (unsigned char)keys[i][k][0];
      if (keys[i][k][0] == 'a') {
        n += item(buf + n, num, 0, 1);
      } else {
        n += item(buf + n, RM_J_ARRAY, 1, 0);
        n += item(buf + n, num, 0, 2);
      }
    }
  }
  put("json", buf, n);
}

int main(int argc, char **argv) {
  static const char *times[] = {
      "2025-01-15T10:30:00Z", "2025-01-15 10:30:00.123+02:00", "2025-01-15",
      "1969-12-31T23:59:59.250Z", "9999-12-31T23:59:59.9999996-00:00",
      "0001-01-01T00:30+0100", "2024-02-29t23:59:60,5z"};
  static const char *texts[] = {
      "t-1", "open", "\xc3\x89T\xc3\x89", "2025-01-15T10:30:00Z", "-7",
      "istartswith", "code", "\xf0\x9f\x98\x80", "\xed\xa0\x80"};
  rm_store *st;
  rm_table *t;
  size_t i;
  if (argc != 2) {
    fprintf(stderr, "usage: seeds DIR\n");
    return 2;
  }
  dir = argv[1];
  t = fz_table(&st);
  cursors(t);
  records(t);
  json();
  json_pairs();
  for (i = 0; i < sizeof times / sizeof times[0]; i++) put_text("datetime", times[i]);
  for (i = 0; i < sizeof texts / sizeof texts[0]; i++) put_text("text", texts[i]);
  rm_store_free(st);
  return 0;
}
