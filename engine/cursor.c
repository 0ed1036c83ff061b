/*
 * Keyset cursors: a query position written as opaque text. The bytes are
 * a version, the query's fingerprint, the position (start flag, sequence,
 * order values) and a SipHash-2-4 checksum keyed with the store's secret;
 * the text is their base64url form. A cursor that was altered, cut short,
 * or made by another query, model or backend fails its checks.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "plan.h"

#define CURSOR_VERSION 1
#define HEADER_BYTES (1 + 8 + 1 + 8 + 1)
#define MAC_BYTES 8

/* ------------------------------------------------------------ SipHash */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4]) {
  v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
  v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
  v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
  v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

static uint64_t read_le64(const unsigned char *p) {
  uint64_t x = 0;
  int i;
  for (i = 7; i >= 0; i--) x = (x << 8) | p[i];
  return x;
}

static void write_le64(unsigned char *p, uint64_t x) {
  int i;
  for (i = 0; i < 8; i++, x >>= 8) p[i] = (unsigned char)x;
}

static void sip_block(uint64_t v[4], uint64_t m) {
  v[3] ^= m;
  sip_round(v);
  sip_round(v);
  v[0] ^= m;
}

/* SipHash-2-4 (Aumasson and Bernstein) of data under a 128-bit key. */
static uint64_t siphash(const uint64_t key[2], const unsigned char *data,
                        size_t len) {
  uint64_t v[4];
  unsigned char last[8];
  size_t i, full = len - len % 8;
  v[0] = key[0] ^ 0x736f6d6570736575ULL;
  v[1] = key[1] ^ 0x646f72616e646f6dULL;
  v[2] = key[0] ^ 0x6c7967656e657261ULL;
  v[3] = key[1] ^ 0x7465646279746573ULL;
  for (i = 0; i < full; i += 8) sip_block(v, read_le64(data + i));
  memset(last, 0, sizeof last);
  memcpy(last, data + full, len - full);
  last[7] = (unsigned char)len;
  sip_block(v, read_le64(last));
  v[2] ^= 0xff;
  for (i = 0; i < 4; i++) sip_round(v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* A random key for a new store: /dev/urandom, or failing that the clock
 * and an address, which still tells one store's cursors from another's. */
void rm_cursor_secret(uint64_t secret[2]) {
  FILE *f = fopen("/dev/urandom", "rb");
  struct timespec ts;
  if (f != NULL) {
    size_t got = fread(secret, sizeof(uint64_t), 2, f);
    fclose(f);
    if (got == 2) return;
  }
  clock_gettime(CLOCK_REALTIME, &ts);
  secret[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)ts.tv_sec;
  secret[1] = (uint64_t)(uintptr_t)secret * 0xbf58476d1ce4e5b9ULL;
}

/* ------------------------------------------------------------- base64url */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64_encode(const unsigned char *in, size_t len, char *out) {
  size_t i, n = 0;
  for (i = 0; i < len; i += 3) {
    uint32_t w = (uint32_t)in[i] << 16;
    size_t k = len - i < 3 ? len - i : 3;
    if (k > 1) w |= (uint32_t)in[i + 1] << 8;
    if (k > 2) w |= in[i + 2];
    out[n++] = b64[w >> 18 & 63];
    out[n++] = b64[w >> 12 & 63];
    if (k > 1) out[n++] = b64[w >> 6 & 63];
    if (k > 2) out[n++] = b64[w & 63];
  }
  return n;
}

static int b64_value(char c) {
  const char *p = c ? strchr(b64, c) : NULL;
  return p ? (int)(p - b64) : -1;
}

/* Returns the byte count, or -1 on a character outside the alphabet, an
 * impossible length, or unused low bits set in the last character (so
 * that each byte string has exactly one text). */
static long b64_decode(const char *in, size_t len, unsigned char *out) {
  size_t i, n = 0;
  if (len % 4 == 1) return -1;
  for (i = 0; i < len; i += 4) {
    size_t k = len - i < 4 ? len - i : 4, j;
    uint32_t w = 0;
    for (j = 0; j < 4; j++) {
      int v = j < k ? b64_value(in[i + j]) : 0;
      if (v < 0) return -1;
      w = w << 6 | (uint32_t)v;
    }
    if ((k == 2 && (w & 0xFFFF)) || (k == 3 && (w & 0xFF))) return -1;
    out[n++] = (unsigned char)(w >> 16);
    if (k > 2) out[n++] = (unsigned char)(w >> 8);
    if (k > 3) out[n++] = (unsigned char)w;
  }
  return (long)n;
}

/* --------------------------------------------------------------- cursors */

/* Bytes of the cursor before base64. */
static size_t raw_size(const rm_position *pos) {
  size_t n = HEADER_BYTES + MAC_BYTES;
  int i;
  for (i = 0; i < pos->nterms; i++) n += rm_value_encoded_size(&pos->vals[i]);
  return n;
}

size_t rm_cursor_size(const rm_position *pos) {
  return (raw_size(pos) + 2) / 3 * 4;
}

size_t rm_cursor_encode(const rm_table *t, const rm_query *q,
                        const rm_position *pos, char *out) {
  size_t n = 0, len;
  unsigned char *buf = rm_xalloc(raw_size(pos));
  int i;
  if (buf == NULL) return 0;
  buf[n++] = CURSOR_VERSION;
  write_le64(buf + n, rm_query_fingerprint(t, q));
  n += 8;
  buf[n++] = (unsigned char)(pos->start != 0);
  write_le64(buf + n, pos->seq);
  n += 8;
  buf[n++] = (unsigned char)pos->nterms;
  for (i = 0; i < pos->nterms; i++) n += rm_value_encode(&pos->vals[i], buf + n);
  len = rm_cursor_seal(t->store, buf, n, out);
  rm_xfree(buf);
  return len;
}

size_t rm_cursor_seal(const rm_store *st, unsigned char *raw, size_t n,
                      char *out) {
  write_le64(raw + n, siphash(st->secret, raw, n));
  return b64_encode(raw, n + MAC_BYTES, out);
}

static int bad_cursor(rm_diag *d, const rm_table *t, const char *why) {
  rm_diag_field_error(d, "cursor", "cursor", "%s: invalid cursor (%s)",
                      t->schema->name, why);
  return -1;
}

/* Reads the order values after the header; checks every length. */
static int read_values(const unsigned char *p, const unsigned char *end,
                       rm_position *pos) {
  int i;
  for (i = 0; i < pos->nterms; i++) {
    p = rm_value_decode(p, end, &pos->vals[i]);
    if (p == NULL) return -1;
  }
  return p == end ? 0 : -1;
}

int rm_cursor_decode(const rm_table *t, const rm_query *q, const char *text,
                     size_t len, rm_position *pos, unsigned char *scratch,
                     rm_diag *d) {
  long n;
  if (rm_where_check(t, q->where, d) < 0) return -1;
  n = b64_decode(text, len, scratch);
  if (n < HEADER_BYTES + MAC_BYTES) return bad_cursor(d, t, "malformed");
  if (siphash(t->store->secret, scratch, (size_t)n - 8) !=
      read_le64(scratch + n - 8))
    return bad_cursor(d, t, "altered, truncated, or from another backend");
  if (scratch[0] != CURSOR_VERSION) return bad_cursor(d, t, "unknown version");
  if (read_le64(scratch + 1) != rm_query_fingerprint(t, q))
    return bad_cursor(d, t, "it belongs to another query");
  pos->start = scratch[9];
  pos->seq = read_le64(scratch + 10);
  pos->nterms = scratch[18];
  if (pos->nterms != q->order.nterms ||
      read_values(scratch + 19, scratch + n - 8, pos) < 0)
    return bad_cursor(d, t, "malformed");
  return 0;
}
