/*
 * Query planning: which access path a query takes. The conditions ANDed
 * at the top of the where clause are looked at: equality or `in` on the
 * primary key or a unique field is a hash lookup; equality, `in`, ranges
 * and isnull on an indexed field are rank ranges of its B+tree, whose
 * sizes are known exactly in O(log n) from the tree's counts. The
 * cheapest path wins; the whole where clause is still checked on every
 * candidate. An order_by on one indexed field walks that tree in order,
 * which lets a limit stop the walk early (top-k without sorting).
 */
#include <string.h>

#include "btree.h"
#include "plan.h"

/* The conditions ANDed at the top of the tree; *pure tells whether the
 * tree is nothing else. */
static void conjuncts(const rm_node *n, const rm_node **out, int *count,
                      int *pure) {
  for (; n != NULL && n->kind == RM_N_AND; n = n->a)
    conjuncts(n->b, out, count, pure);
  if (n == NULL || n->kind == RM_N_TRUE) return;
  if (n->kind == RM_N_COND && *count < RM_PLAN_MAX_CONDS) out[(*count)++] = n;
  else *pure = 0;
}

static int is_range_op(rm_op op) {
  return op == RM_OP_EQ || op == RM_OP_GT || op == RM_OP_GTE ||
         op == RM_OP_LT || op == RM_OP_LTE || op == RM_OP_ISNULL;
}

/* Narrows [lo, hi) of tree `tr` by one condition. */
static void narrow(const rm_btree *tr, const rm_node *c, size_t *lo, size_t *hi) {
  const rm_value *v = &c->vals[0];
  rm_value nil = rm_nil();
  size_t nonnil = rm_btree_rank_lower(tr, &nil, 0), r;
  switch (c->op) {
    case RM_OP_EQ:
      r = rm_btree_rank_lower(tr, v, 0);
      if (r > *lo) *lo = r;
      r = rm_btree_rank_lower(tr, v, 1);
      if (r < *hi) *hi = r;
      return;
    case RM_OP_GT:
    case RM_OP_GTE:
      r = rm_btree_rank_lower(tr, v, c->op == RM_OP_GT);
      if (r > *lo) *lo = r;
      if (nonnil < *hi) *hi = nonnil;
      return;
    case RM_OP_LT:
    case RM_OP_LTE:
      r = rm_btree_rank_lower(tr, v, c->op == RM_OP_LTE);
      if (r < *hi) *hi = r;
      return;
    default: /* isnull: nil entries sort after all others */
      if (v->tag == RM_V_TRUE) {
        if (nonnil > *lo) *lo = nonnil;
      } else if (nonnil < *hi) {
        *hi = nonnil;
      }
      return;
  }
}

/* The rank range of indexed field f allowed by every range condition on
 * it; *covered counts those conditions. A range within one key (an
 * equality, or isnull = true) holds its entries in insertion order. */
static void field_range(const rm_table *t, int f, const rm_node **conds,
                        int n, rm_plan *p, int *covered) {
  const rm_btree *tr = &t->trees[t->schema->index_of[f]];
  int i;
  p->lo = 0;
  p->hi = rm_btree_count(tr);
  *covered = 0;
  for (i = 0; i < n; i++) {
    const rm_node *c = conds[i];
    if (c->field != f || !is_range_op(c->op)) continue;
    narrow(tr, c, &p->lo, &p->hi);
    if (c->op == RM_OP_EQ || (c->op == RM_OP_ISNULL && c->vals[0].tag == RM_V_TRUE)) {
      p->in_seq = 1;
      p->seq_key = c->op == RM_OP_EQ ? c->vals[0] : rm_nil();
    }
    (*covered)++;
  }
  if (p->hi < p->lo) p->hi = p->lo;
}

/* Sum of the rank ranges of an `in` condition on an indexed field. */
static size_t in_size(const rm_btree *tr, const rm_node *c) {
  size_t i, total = 0;
  for (i = 0; i < c->nvals; i++)
    total += rm_btree_rank_lower(tr, &c->vals[i], 1) -
             rm_btree_rank_lower(tr, &c->vals[i], 0);
  return total;
}

static void consider(rm_plan *best, const rm_plan *cand) {
  if (cand->estimate < best->estimate) *best = *cand;
}

/* The best path through one condition's field. */
static void plan_cond(const rm_table *t, const rm_node **conds, int n, int i,
                      int pure, rm_plan *best) {
  const rm_schema *s = t->schema;
  const rm_node *c = conds[i];
  int f = c->field, covered;
  rm_plan cand;
  memset(&cand, 0, sizeof cand);
  cand.field = f;
  cand.cond = c;
  if ((c->op == RM_OP_EQ || c->op == RM_OP_IN) && (f == s->pk || s->unique_of[f] >= 0)) {
    cand.kind = f == s->pk ? RM_PLAN_KEYS : RM_PLAN_UNIQUE;
    cand.estimate = c->nvals;
    cand.in_seq = c->nvals <= 1;
    consider(best, &cand);
  }
  if (s->index_of[f] < 0) return;
  if (c->op == RM_OP_IN) {
    cand.kind = RM_PLAN_IN_RANGES;
    cand.estimate = in_size(&t->trees[s->index_of[f]], c);
    cand.covers = pure && n == 1;
    cand.in_seq = c->nvals <= 1;
    consider(best, &cand);
  } else if (is_range_op(c->op)) {
    cand.in_seq = 0;
    cand.kind = RM_PLAN_RANGE;
    field_range(t, f, conds, n, &cand, &covered);
    cand.estimate = cand.hi - cand.lo;
    cand.covers = pure && covered == n;
    consider(best, &cand);
  }
}

/* An order_by on one indexed field: walk the tree in order, within the
 * chosen range if the plan already uses that field. */
static void plan_order(const rm_table *t, const rm_query *q, rm_plan *p) {
  const rm_schema *s = t->schema;
  int f;
  if (q->order.nterms != 1) return;
  f = q->order.field[0];
  /* Running refuses a missing field; explain plans it as unordered. */
  if (f < 0 || f >= s->nfields || s->index_of[f] < 0) return;
  if (p->kind == RM_PLAN_SCAN) {
    p->kind = RM_PLAN_RANGE;
    p->in_seq = 0;
    p->field = f;
    p->lo = 0;
    p->hi = rm_btree_count(&t->trees[s->index_of[f]]);
    p->covers = q->where == NULL || q->where->kind == RM_N_TRUE;
  }
  if (p->kind == RM_PLAN_RANGE && p->field == f) {
    p->ordered = 1;
    p->desc = q->order.desc[0];
  }
}

void rm_plan_query(const rm_table *t, const rm_query *q, rm_plan *p) {
  const rm_node *conds[RM_PLAN_MAX_CONDS];
  int n = 0, pure = 1, i;
  memset(p, 0, sizeof *p);
  p->kind = RM_PLAN_SCAN;
  p->field = -1;
  p->in_seq = 1; /* slots are in insertion order */
  p->estimate = t->count;
  p->covers = q->where == NULL || q->where->kind == RM_N_TRUE;
  conjuncts(q->where, conds, &n, &pure);
  for (i = 0; i < n; i++) plan_cond(t, conds, n, i, pure, p);
  plan_order(t, q, p);
}

const char *rm_plan_name(const rm_plan *p) {
  switch (p->kind) {
    case RM_PLAN_KEYS: return "primary key lookup";
    case RM_PLAN_UNIQUE: return "unique index lookup";
    case RM_PLAN_RANGE: return p->ordered ? "ordered index walk" : "index range";
    case RM_PLAN_IN_RANGES: return "index lookups";
    default: return "full scan";
  }
}
