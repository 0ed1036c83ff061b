/*
 * Running queries over a table's records in C: filter with a condition
 * tree, sort, offset and limit.
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct sort_ctx {
  const rm_schema *s;
  const rm_order *order;
} sort_ctx;

/* nil sorts after every value ascending, so before them descending. */
static int compare_term(const rm_value *a, const rm_value *b) {
  if (a->tag == RM_V_NIL || b->tag == RM_V_NIL)
    return (a->tag == RM_V_NIL) - (b->tag == RM_V_NIL);
  return rm_value_compare(a, b);
}

/* Ties fall back to insertion order, which makes the sort stable. */
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
  return (a->seq > b->seq) - (a->seq < b->seq);
}

static int matches(const rm_table *t, const rm_node *where,
                   const rm_record *r) {
  return where == NULL || rm_node_matches(where, t->schema, r->data);
}

long rm_query_run(const rm_table *t, const rm_node *where,
                  const rm_order *order, int64_t offset, int64_t limit,
                  const rm_record **out, size_t cap, rm_diag *d) {
  int sorted = order != NULL && order->nterms > 0;
  size_t n = 0, pos = 0, first, want;
  const rm_record *r;
  (void)d;
  /* Unsorted queries can stop once offset + limit matches are in. */
  want = !sorted && limit >= 0 && limit <= INT64_MAX - offset
             ? (size_t)(offset + limit) : cap;
  while (n < cap && n < want && (r = rm_table_next(t, &pos)) != NULL)
    if (matches(t, where, r)) out[n++] = r;
  if (sorted) {
    sort_ctx ctx;
    ctx.s = t->schema;
    ctx.order = order;
    qsort_r((void *)out, n, sizeof *out, compare_records, &ctx);
  }
  first = (uint64_t)offset < n ? (size_t)offset : n;
  n -= first;
  if (limit >= 0 && (size_t)limit < n) n = (size_t)limit;
  if (first) memmove((void *)out, (const void *)(out + first), n * sizeof *out);
  return (long)n;
}

int64_t rm_query_count(const rm_table *t, const rm_node *where,
                       int64_t offset, int64_t limit) {
  size_t pos = 0;
  int64_t n = 0;
  int64_t enough = limit >= 0 && limit <= INT64_MAX - offset ? offset + limit
                                                             : INT64_MAX;
  const rm_record *r;
  while (n < enough && (r = rm_table_next(t, &pos)) != NULL)
    if (matches(t, where, r)) n++;
  n = n > offset ? n - offset : 0;
  return limit >= 0 && limit < n ? limit : n;
}
