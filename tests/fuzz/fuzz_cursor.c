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
 * signing (rm_cursor_seal) is the one thing taken from the engine's
 * inside (internal.h): the public interface has, on purpose, no way to
 * sign bytes.
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

/* The text of bytes[0..len) with their checksum appended (malloc'ed),
 * written by the engine's own rm_cursor_seal. */
static char *sign(const unsigned char *bytes, size_t len, size_t *textlen) {
  unsigned char *raw = malloc(len + 8);
  char *text = malloc((len + 8 + 2) / 3 * 4);
  if (raw == NULL || text == NULL) abort();
  if (len) memcpy(raw, bytes, len);
  *textlen = rm_cursor_seal(store, raw, len, text);
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
