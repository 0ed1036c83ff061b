/*
 * Queries: immutable, reference-counted condition trees, and their
 * evaluation over a table's records in C (filter, sort, offset, limit).
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef enum rm_nkind { N_TRUE, N_AND, N_OR, N_NOT, N_COND } rm_nkind;

struct rm_node {
  unsigned refs;
  rm_nkind kind;
  rm_node *a, *b;   /* children of AND, OR (a, b) and NOT (a) */
  int field;        /* N_COND */
  rm_op op;
  size_t nvals;
  rm_value vals[];  /* string bytes follow the array */
};

static const char *const op_names[] = {"eq", "ne", "gt", "gte", "lt", "lte",
                                       "in"};

int rm_op_parse(const char *name, size_t len) {
  int i;
  for (i = 0; i < (int)(sizeof op_names / sizeof *op_names); i++)
    if (strlen(op_names[i]) == len && memcmp(op_names[i], name, len) == 0)
      return i;
  return -1;
}

const char *rm_op_name(rm_op op) { return op_names[op]; }

static rm_node *alloc_node(rm_nkind kind, size_t extra, rm_diag *d) {
  rm_node *n = rm_xalloc(sizeof *n + extra);
  if (n == NULL) {
    rm_diag_set(d, RM_E_MEMORY, "out of memory building a query");
    return NULL;
  }
  memset(n, 0, sizeof *n);
  n->refs = 1;
  n->kind = kind;
  return n;
}

rm_node *rm_node_true(rm_diag *d) { return alloc_node(N_TRUE, 0, d); }

void rm_node_ref(rm_node *n) { n->refs++; }

void rm_node_unref(rm_node *n) {
  if (n == NULL || --n->refs > 0) return;
  rm_node_unref(n->a);
  rm_node_unref(n->b);
  rm_xfree(n);
}

static int check_op(const rm_schema *s, int field, rm_op op, rm_diag *d) {
  const rm_field *f = &s->fields[field];
  if (f->type != RM_T_BOOLEAN || op == RM_OP_EQ || op == RM_OP_NE ||
      op == RM_OP_IN)
    return 0;
  rm_diag_field_error(d, f->name, "lookup",
                      "%s.%s: lookup %s does not apply to a boolean field",
                      s->name, f->name, rm_op_name(op));
  return -1;
}

/* Coerces the condition's values to the field's type; a nil value is
 * refused (conditions on nil are spelled isnull). */
static int coerce_values(const rm_schema *s, int field, rm_value *vals,
                         size_t n, size_t *text, rm_diag *d) {
  size_t i;
  int rc = 0;
  *text = 0;
  for (i = 0; i < n; i++) {
    if (vals[i].tag == RM_V_NIL) {
      rm_diag_field_error(d, s->fields[field].name, "type",
                          "%s.%s: a query value cannot be nil", s->name,
                          s->fields[field].name);
      rc = -1;
    } else if (rm_field_coerce(s, field, &vals[i], d) < 0) {
      rc = -1;
    } else if (vals[i].tag == RM_V_STR) {
      *text += vals[i].u.s.len;
    }
  }
  return rc;
}

rm_node *rm_node_cond(const rm_schema *s, int field, rm_op op,
                      const rm_value *vals, size_t n, rm_diag *d) {
  rm_value local[64], *tmp = n <= 64 ? local : rm_xalloc(n * sizeof *tmp);
  rm_node *node = NULL;
  size_t text, i;
  char *p;
  if (tmp == NULL) {
    rm_diag_set(d, RM_E_MEMORY, "out of memory building a query");
    return NULL;
  }
  if (n) memcpy(tmp, vals, n * sizeof *tmp);
  if (check_op(s, field, op, d) == 0 &&
      coerce_values(s, field, tmp, n, &text, d) == 0)
    node = alloc_node(N_COND, n * sizeof *tmp + text, d);
  if (node != NULL) {
    node->field = field;
    node->op = op;
    node->nvals = n;
    p = (char *)&node->vals[n];
    for (i = 0; i < n; i++) {
      node->vals[i] = tmp[i];
      if (tmp[i].tag != RM_V_STR) continue;
      if (tmp[i].u.s.len) memcpy(p, tmp[i].u.s.ptr, tmp[i].u.s.len);
      node->vals[i].u.s.ptr = p;
      p += tmp[i].u.s.len;
    }
  }
  if (tmp != local) rm_xfree(tmp);
  return node;
}

static rm_node *combine(rm_nkind kind, rm_node *a, rm_node *b, rm_diag *d) {
  rm_node *n = alloc_node(kind, 0, d);
  if (n == NULL) return NULL;
  n->a = a;
  n->b = b;
  rm_node_ref(a);
  if (b) rm_node_ref(b);
  return n;
}

rm_node *rm_node_and(rm_node *a, rm_node *b, rm_diag *d) {
  return combine(N_AND, a, b, d);
}

rm_node *rm_node_or(rm_node *a, rm_node *b, rm_diag *d) {
  return combine(N_OR, a, b, d);
}

rm_node *rm_node_not(rm_node *a, rm_diag *d) {
  return combine(N_NOT, a, NULL, d);
}

/* A condition on one field value. Comparisons with nil are false, except
 * ne (nil differs from every value). */
static int cond_holds(const rm_node *n, const rm_value *v) {
  size_t i;
  int c;
  if (v->tag == RM_V_NIL) return n->op == RM_OP_NE;
  switch (n->op) {
    case RM_OP_EQ: return rm_value_equal(v, &n->vals[0]);
    case RM_OP_NE: return !rm_value_equal(v, &n->vals[0]);
    case RM_OP_IN:
      for (i = 0; i < n->nvals; i++)
        if (rm_value_equal(v, &n->vals[i])) return 1;
      return 0;
    default: break;
  }
  c = rm_value_compare(v, &n->vals[0]);
  switch (n->op) {
    case RM_OP_GT: return c > 0;
    case RM_OP_GTE: return c >= 0;
    case RM_OP_LT: return c < 0;
    case RM_OP_LTE: return c <= 0;
    default: return 0;
  }
}

int rm_node_matches(const rm_node *n, const rm_schema *s,
                    const unsigned char *data) {
  rm_value v;
  switch (n->kind) {
    case N_TRUE: return 1;
    case N_AND: return rm_node_matches(n->a, s, data) && rm_node_matches(n->b, s, data);
    case N_OR: return rm_node_matches(n->a, s, data) || rm_node_matches(n->b, s, data);
    case N_NOT: return !rm_node_matches(n->a, s, data);
    case N_COND:
      rm_record_get(s, data, n->field, &v);
      return cond_holds(n, &v);
  }
  return 0;
}

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
