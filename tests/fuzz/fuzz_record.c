/*
 * Fuzzes rm_record_check, the gate for record bytes a C host hands to
 * rm_table_put: whatever it accepts, the rest of the engine walks
 * unchecked. So each accepted input is also decoded (every field at once
 * and one by one), stored, found again by its key, matched against
 * conditions on every field, given to a query, and its json written out
 * as text: any read past the input, leak or undefined behaviour there is
 * a hole in the check. A refused input must be refused by rm_table_put
 * too, leaving the table as it was; and the input cut in two is stored
 * as a batch (rm_table_put_many), all or nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static rm_store *store;
static rm_table *table;
static rm_node *conds[6];

static rm_node *cond(const rm_schema *s, int field, rm_op op, rm_value v) {
  rm_diag d;
  rm_node *n;
  rm_diag_init(&d);
  n = rm_node_cond(s, field, op, &v, 1, &d);
  fz_require(n != NULL, "rm_node_cond", &d);
  return n;
}

static void setup(void) {
  const rm_schema *s;
  table = fz_table(&store);
  s = rm_table_schema(table);
  conds[0] = cond(s, F_NAME, RM_OP_ISTARTSWITH, rm_str("N", 1));
  conds[1] = cond(s, F_TAG, RM_OP_CONTAINS, rm_str("e", 1));
  conds[2] = cond(s, F_SCORE, RM_OP_GTE, rm_float(2.5));
  conds[3] = cond(s, F_AT, RM_OP_LT, rm_str("2024-01-01", 10));
  conds[4] = cond(s, F_DOC, RM_OP_CONTAINS, rm_str("x", 1));
  conds[5] = cond(s, F_FLAG, RM_OP_ISNULL, rm_bool(1));
}

/* Everything a stored record goes through, on bytes the check passed. */
static void use(const unsigned char *data, size_t size) {
  const rm_schema *s = rm_table_schema(table);
  rm_value all[NFIELDS], one;
  const rm_record *r = NULL, *found = NULL;
  rm_query q;
  rm_diag d;
  int i;
  rm_record_get_all(s, data, all);
  for (i = 0; i < NFIELDS; i++) {
    rm_record_get(s, data, i, &one);
    if (one.tag != all[i].tag) abort();
  }
  if (all[F_DOC].tag == RM_V_JSON) {
    const unsigned char *doc = (const unsigned char *)all[F_DOC].u.s.ptr;
    size_t n = rm_json_text(doc, NULL);
    char *text = malloc(n ? n : 1);
    if (text == NULL || rm_json_text(doc, text) != n) abort();
    free(text);
  }
  for (i = 0; i < 6; i++) (void)rm_node_matches(conds[i], s, data);
  rm_diag_init(&d);
  /* name is unique: another record may hold the same one. */
  if (rm_table_put(table, data, size, RM_PUT_UPSERT, &r, &d) < 0) {
    if (d.kind != RM_E_DUPLICATE) abort();
    return;
  }
  if (rm_record_size(s, r) != size ||
      rm_table_get(table, all[F_ID], &found, &d) < 0 || found != r)
    abort();
  rm_query_init(&q);
  q.where = conds[(size_t)all[F_ID].u.i % 6];
  q.order.nterms = 2;
  q.order.field[0] = F_SCORE;
  q.order.field[1] = F_NAME;
  if (rm_query_count(table, &q) < 0) abort();
}

/* Bytes the check refused: put refuses them and changes nothing. */
static void refused(const unsigned char *data, size_t size) {
  uint64_t version = rm_table_version(table);
  size_t count = rm_table_count(table);
  rm_diag d;
  rm_diag_init(&d);
  if (rm_table_put(table, data, size, RM_PUT_UPSERT, NULL, &d) != -1 ||
      d.kind != RM_E_CONFIG || rm_table_version(table) != version ||
      rm_table_count(table) != count)
    abort();
}

/* data[0..cut) and data[cut..size) as a batch: stored only when both
 * halves are records (and their keys and names differ). */
static void batch(const unsigned char *data, size_t size, size_t cut) {
  const rm_schema *s = rm_table_schema(table);
  const unsigned char *recs[2];
  size_t sizes[2], count = rm_table_count(table);
  rm_diag d;
  int valid;
  recs[0] = data;
  sizes[0] = cut;
  recs[1] = data + cut;
  sizes[1] = size - cut;
  rm_diag_init(&d);
  valid = rm_record_check(s, recs[0], sizes[0], &d) == 0 &&
          rm_record_check(s, recs[1], sizes[1], &d) == 0;
  rm_diag_init(&d);
  if (rm_table_put_many(table, recs, sizes, 2, RM_PUT_UPSERT, &d) == 0) {
    if (!valid) abort();
  } else if (valid ? d.kind != RM_E_DUPLICATE : d.kind != RM_E_CONFIG) {
    abort();
  } else if (rm_table_count(table) != count) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rm_diag d;
  if (table == NULL) setup();
  rm_diag_init(&d);
  if (rm_record_check(rm_table_schema(table), data, size, &d) == 0) {
    use(data, size);
  } else if (d.kind != RM_E_CONFIG) {
    abort();
  } else {
    refused(data, size);
  }
  if (size >= 2) batch(data, size, data[size - 1] % size);
  /* The store stays small, and what clear frees is checked too. */
  if (rm_table_count(table) > 256) rm_table_clear(table);
  return 0;
}
