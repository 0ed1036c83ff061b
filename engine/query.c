/*
 * Running queries over a table's records in C: filter with a condition
 * tree, keep only records after a keyset position, sort, offset, limit.
 * Records are ordered by the order terms and then by insertion sequence,
 * a total order, so that sorting is stable and pages never overlap.
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void rm_query_init(rm_query *q) {
  memset(q, 0, sizeof *q);
  q->limit = -1;
}

/* nil sorts after every value ascending, so before them descending. */
static int compare_term(const rm_value *a, const rm_value *b) {
  if (a->tag == RM_V_NIL || b->tag == RM_V_NIL)
    return (a->tag == RM_V_NIL) - (b->tag == RM_V_NIL);
  return rm_value_compare(a, b);
}

static int compare_seq(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

typedef struct sort_ctx {
  const rm_schema *s;
  const rm_order *order;
} sort_ctx;

static int compare_records(const void *x, const void *y, void *ud) {
  const sort_ctx *ctx = ud;
  const rm_record *a = *(const rm_record *const *)x;
  const rm_record *b = *(const rm_record *const *)y;
  int i;
  for (i = 0; i < ctx->order->nterms; i++) {
    rm_value va, vb;
    int c;
    rm_record_get(ctx->s, a->data, ctx->order->field[i], &va);
    rm_record_get(ctx->s, b->data, ctx->order->field[i], &vb);
    c = compare_term(&va, &vb);
    if (c != 0) return ctx->order->desc[i] ? -c : c;
  }
  return compare_seq(a->seq, b->seq);
}

/* True when r comes after pos in the query's order. */
static int after(const rm_table *t, const rm_query *q, const rm_record *r) {
  const rm_position *pos = q->after;
  int i;
  if (pos == NULL || pos->start) return 1;
  for (i = 0; i < q->order.nterms; i++) {
    rm_value v;
    int c;
    rm_record_get(t->schema, r->data, q->order.field[i], &v);
    c = compare_term(&v, &pos->vals[i]);
    if (c != 0) return (q->order.desc[i] ? -c : c) > 0;
  }
  return r->seq > pos->seq;
}

static int matches(const rm_table *t, const rm_query *q, const rm_record *r) {
  return (q->where == NULL || rm_node_matches(q->where, t->schema, r->data)) &&
         after(t, q, r);
}

/* Where a scan in insertion order starts: past every record at or before
 * the position, found by binary search (slots are in sequence order). */
static size_t first_slot(const rm_table *t, const rm_query *q) {
  if (q->after == NULL || q->after->start || q->order.nterms > 0) return 0;
  return rm_table_slot_after(t, q->after->seq);
}

static int64_t saturating_end(int64_t offset, int64_t limit) {
  if (limit < 0 || limit > INT64_MAX - offset) return INT64_MAX;
  return offset + limit;
}

long rm_query_run(const rm_table *t, const rm_query *q,
                  const rm_record **out, size_t cap, rm_diag *d) {
  int sorted = q->order.nterms > 0;
  size_t n = 0, pos = first_slot(t, q), first;
  /* Unsorted queries can stop once offset + limit matches are in. */
  int64_t want = sorted ? INT64_MAX : saturating_end(q->offset, q->limit);
  const rm_record *r;
  (void)d;
  while (n < cap && (int64_t)n < want && (r = rm_table_next(t, &pos)) != NULL)
    if (matches(t, q, r)) out[n++] = r;
  if (sorted) {
    sort_ctx ctx;
    ctx.s = t->schema;
    ctx.order = &q->order;
    qsort_r((void *)out, n, sizeof *out, compare_records, &ctx);
  }
  first = (uint64_t)q->offset < n ? (size_t)q->offset : n;
  n -= first;
  if (q->limit >= 0 && (uint64_t)q->limit < n) n = (size_t)q->limit;
  if (first) memmove((void *)out, (const void *)(out + first), n * sizeof *out);
  return (long)n;
}

int64_t rm_query_count(const rm_table *t, const rm_query *q) {
  size_t pos = first_slot(t, q);
  int64_t n = 0, enough = saturating_end(q->offset, q->limit);
  const rm_record *r;
  while (n < enough && (r = rm_table_next(t, &pos)) != NULL)
    if (matches(t, q, r)) n++;
  n = n > q->offset ? n - q->offset : 0;
  return q->limit >= 0 && q->limit < n ? q->limit : n;
}

void rm_query_position(const rm_table *t, const rm_query *q,
                       const rm_record *r, rm_position *out) {
  int i;
  out->start = 0;
  out->seq = r->seq;
  out->nterms = q->order.nterms;
  for (i = 0; i < q->order.nterms; i++)
    rm_record_get(t->schema, r->data, q->order.field[i], &out->vals[i]);
}

/* FNV-1a over the model name, the condition tree and the order terms. */
uint64_t rm_query_fingerprint(const rm_table *t, const rm_query *q) {
  uint64_t h = rm_hash_bytes(t->schema->name, strlen(t->schema->name),
                             14695981039346656037ULL);
  int i;
  if (q->where != NULL) h = rm_node_hash(q->where, h);
  for (i = 0; i < q->order.nterms; i++) {
    int term[2];
    term[0] = q->order.field[i];
    term[1] = q->order.desc[i];
    h = rm_hash_bytes(term, sizeof term, h);
  }
  return h;
}
