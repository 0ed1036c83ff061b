/*
 * Fuzzes rm_cursor_decode: cursor text comes back from HTTP clients, and
 * a tampered, truncated or foreign one must be refused cleanly.
 *
 * The first input byte picks one of the fixture's queries (bits 0-1) and
 * a mode (bit 2). In text mode the rest is the cursor text as a client
 * sends it; almost all of it fails the checksum. In signed mode the rest
 * is the cursor's bytes before the checksum (version, fingerprint, start,
 * sequence, order values): the harness appends the checksum under the
 * store's secret and writes the text, as a client that knew the secret
 * would, so that the decoding behind the checksum is reached too. The
 * secret is the one thing read from the engine's inside (internal.h):
 * the public interface has, on purpose, no way to sign bytes.
 *
 * A cursor that decodes holds no NaN (rm_record_check refuses it) and is
 * then used as a client would: the query runs
 * after its position, and the position is written as a cursor again,
 * which must decode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "internal.h"

static rm_store *store;
static rm_table *table;

/* cursor.c's SipHash-2-4, which the harness must match to sign. */
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

static void sip_block(uint64_t v[4], uint64_t m) {
  v[3] ^= m;
  sip_round(v);
  sip_round(v);
  v[0] ^= m;
}

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

static size_t b64url(const unsigned char *in, size_t len, char *out) {
  static const char b64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
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

/* The text of bytes[0..len) with their checksum appended (malloc'ed). */
static char *sign(const unsigned char *bytes, size_t len, size_t *textlen) {
  unsigned char *raw = malloc(len + 8);
  char *text = malloc((len + 8 + 2) / 3 * 4);
  uint64_t mac = siphash(store->secret, bytes, len);
  int i;
  if (raw == NULL || text == NULL) abort();
  if (len) memcpy(raw, bytes, len);
  for (i = 0; i < 8; i++, mac >>= 8) raw[len + i] = (unsigned char)mac;
  *textlen = b64url(raw, len + 8, text);
  free(raw);
  return text;
}

/* Decodes text into pos (scratch holds its strings); 0 or -1. A refusal
 * must say why, as a validation error on "cursor". */
static int decode(const rm_query *q, const char *text, size_t len,
                  rm_position *pos, unsigned char **scratch) {
  rm_diag d;
  int rc, i;
  rm_diag_init(&d);
  *scratch = malloc(len ? len : 1);
  if (*scratch == NULL) abort();
  rc = rm_cursor_decode(table, q, text, len, pos, *scratch, &d);
  if (rc < 0 && (d.kind != RM_E_VALIDATION || d.nerrors != 1 ||
                 strcmp(d.errors[0].field, "cursor") != 0))
    abort();
  if (rc == 0 && pos->nterms != q->order.nterms) abort();
  /* A decoded value is one a record could hold: never NaN. */
  for (i = 0; rc == 0 && i < pos->nterms; i++)
    if (pos->vals[i].tag == RM_V_FLOAT && pos->vals[i].u.f != pos->vals[i].u.f)
      abort();
  return rc;
}

/* Runs q after pos, and checks that pos written again decodes again. */
static void use(rm_query *q, const rm_position *pos) {
  size_t cap, len;
  const rm_record **out;
  rm_position again;
  unsigned char *scratch;
  char *text;
  long n;
  rm_diag d;
  rm_diag_init(&d);
  q->after = pos;
  cap = rm_query_capacity(table, q);
  out = malloc((cap ? cap : 1) * sizeof *out);
  if (out == NULL) abort();
  n = rm_query_run(table, q, out, cap, &d);
  if (n < 0 || (size_t)n > rm_table_count(table) ||
      rm_query_count(table, q) != n)
    abort();
  free(out);
  /* rm_cursor_size is room enough: the text may be shorter. */
  cap = rm_cursor_size(pos);
  text = malloc(cap ? cap : 1);
  if (text == NULL) abort();
  len = rm_cursor_encode(table, q, pos, text);
  if (len == 0 || len > cap) abort();
  q->after = NULL;
  if (decode(q, text, len, &again, &scratch) != 0 || again.seq != pos->seq)
    abort();
  free(scratch);
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rm_query q;
  rm_position pos;
  unsigned char *scratch;
  char *text;
  size_t len;
  if (table == NULL) table = fz_table(&store);
  if (size == 0) return 0;
  fz_query(data[0] & 3, &q);
  if (data[0] & 4) {
    text = sign(data + 1, size - 1, &len);
  } else {
    len = size - 1;
    text = malloc(len ? len : 1);
    if (text == NULL) abort();
    if (len) memcpy(text, data + 1, len);
  }
  if (decode(&q, text, len, &pos, &scratch) == 0) use(&q, &pos);
  free(scratch);
  free(text);
  return 0;
}
