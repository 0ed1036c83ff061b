/*
 * Running queries over a table's records in C: gather candidates along
 * the plan's access path (plan.c), keep those matching the where clause
 * and following the keyset position, sort unless the path gave them in
 * order, then apply offset and limit. Records are ordered by the order
 * terms and then by insertion sequence, a total order, so sorting is
 * stable and pages never overlap.
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "btree.h"
#include "plan.h"

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

/* The end of the window [offset, offset + limit) of a checked query
 * (offset >= 0), or INT64_MAX. */
static int64_t saturating_end(int64_t offset, int64_t limit) {
  if (limit < 0 || limit > INT64_MAX - offset) return INT64_MAX;
  return offset + limit;
}

/* What in q the engine cannot run, or NULL: a negative offset, a limit
 * below -1 (the one "no limit"), order terms that are not fields of t.
 * Refused rather than clamped, so that run and count agree and a host's
 * arithmetic mistake shows. */
static const char *query_fault(const rm_table *t, const rm_query *q) {
  int i;
  if (q->offset < 0) return "a negative offset";
  if (q->limit < -1) return "a limit below -1";
  if (q->order.nterms < 0 || q->order.nterms > RM_MAX_ORDER)
    return "a number of order terms outside 0 to RM_MAX_ORDER";
  for (i = 0; i < q->order.nterms; i++)
    if (q->order.field[i] < 0 || q->order.field[i] >= t->schema->nfields)
      return "an order term on a field the model does not have";
  return NULL;
}

/* Conditions name fields by index: a tree built on another schema (of
 * another model, or a declaration of this one the table has since
 * replaced, rm_store_table) would read the wrong fields, or past the
 * record, with values coerced to other types. */
int rm_where_check(const rm_table *t, const rm_node *where, rm_diag *d) {
  const char *model;
  if (rm_node_fits(where, t->schema)) return 0;
  model = where->schema->name;
  if (strcmp(model, t->schema->name) != 0)
    rm_diag_set(d, RM_E_CONFIG, "%s: invalid query (its conditions were "
                "built for model %s)", t->name, model);
  else
    rm_diag_set(d, RM_E_CONFIG, "%s: invalid query (its conditions were "
                "built on another declaration of %s, with other fields than "
                "the table's)", t->name, model);
  return -1;
}

/* 0 when t can run q, else -1 with RM_E_CONFIG in d. */
static int check_query(const rm_table *t, const rm_query *q, rm_diag *d) {
  const char *fault = query_fault(t, q);
  if (fault == NULL) return rm_where_check(t, q->where, d);
  rm_diag_set(d, RM_E_CONFIG, "%s: invalid query (%s)", t->name, fault);
  return -1;
}

/* check_query for the callers without a diagnostic. */
static int runnable(const rm_table *t, const rm_query *q) {
  return query_fault(t, q) == NULL && rm_node_fits(q->where, t->schema);
}

/* Candidates that pass the where clause and the keyset position go to
 * out; gathering stops at `want`. With out NULL they are only counted. */
typedef struct gather {
  const rm_table *t;
  const rm_query *q;
  const rm_plan *plan;
  const rm_node *check;   /* the where clause, unless the plan decides it */
  int positioned;         /* only records after q->after */
  const rm_record **out;
  size_t cap, n, want;
} gather;

static void gather_init(gather *g, const rm_table *t, const rm_query *q,
                        const rm_plan *plan) {
  memset(g, 0, sizeof *g);
  g->t = t;
  g->q = q;
  g->plan = plan;
  g->check = plan->covers ? NULL : q->where;
  g->positioned = q->after != NULL && !q->after->start;
  g->cap = g->want = SIZE_MAX;
}

/* Returns 1 when gathering should stop. */
static int take(gather *g, const rm_record *r) {
  if (g->check != NULL && !rm_node_eval(g->check, g->t->schema, r->data))
    return 0;
  if (g->positioned && !after(g->t, g->q, r)) return 0;
  if (g->out != NULL) g->out[g->n] = r;
  g->n++;
  return g->n >= g->want || g->n >= g->cap;
}

/* How many slots ahead a scan asks the CPU to fetch records: records are
 * scattered once updated, and a scan is bound by memory latency, so
 * overlapping the fetches speeds it up severalfold. */
#define PREFETCH_AHEAD 16

static void prefetch(const rm_record *r) {
#if defined(__GNUC__)
  if (r != NULL) {
    __builtin_prefetch(r->data);
    __builtin_prefetch(r->data + 64);
  }
#else
  (void)r;
#endif
}

static void gather_scan(gather *g) {
  const rm_table *t = g->t;
  const rm_query *q = g->q;
  size_t pos = 0, n = t->nslots;
  /* In insertion order, a position is a sequence number: binary search. */
  if (q->after != NULL && !q->after->start && q->order.nterms == 0)
    pos = rm_table_slot_after(t, q->after->seq);
  for (; pos < n; pos++) {
    const rm_record *r = t->slots[pos];
    if (pos + PREFETCH_AHEAD < n) prefetch(t->slots[pos + PREFETCH_AHEAD]);
    if (r != NULL && take(g, r)) return;
  }
}

static void gather_keys(gather *g) {
  const rm_node *c = g->plan->cond;
  size_t i;
  for (i = 0; i < c->nvals; i++) {
    unsigned char buf[RM_KEY_SCRATCH];
    const rm_record *r = rm_map_find(&g->t->by_key, rm_value_key(&c->vals[i], buf));
    if (r != NULL && take(g, r)) return;
  }
}

static void gather_unique(gather *g) {
  const rm_schema *s = g->t->schema;
  const rm_node *c = g->plan->cond;
  int u = s->unique_of[c->field];
  size_t i;
  for (i = 0; i < c->nvals; i++) {
    unsigned char buf[RM_KEY_SCRATCH];
    rm_keybytes k;
    rm_unique_entry *e;
    if (s->fields[c->field].type == RM_T_NUMBER) {
      k.len = rm_number_key(&c->vals[i], buf);
      k.ptr = buf;
    } else {
      k = rm_value_key(&c->vals[i], buf);
    }
    e = rm_umap_find(&g->t->unique[u], k);
    if (e != NULL && take(g, e->rec)) return;
  }
}

/* Ranks [lo, hi) of a tree in ascending order; 1 when gathering stopped. */
static int walk_up(gather *g, const rm_btree *tr, size_t lo, size_t hi) {
  rm_bt_iter it;
  const rm_bt_entry *e;
  rm_btree_seek(tr, lo, &it);
  for (; lo < hi && (e = rm_btree_next(&it)) != NULL; lo++)
    if (take(g, rm_index_record(g->t, e))) return 1;
  return 0;
}

/* Descending order keeps ties in insertion order: the range is walked
 * from the top one run of equal values at a time, each run upwards. */
static void walk_down(gather *g, const rm_btree *tr, size_t lo, size_t hi) {
  while (hi > lo) {
    rm_value last = rm_bt_entry_key(rm_btree_at(tr, hi - 1));
    size_t run = rm_btree_rank_lower(tr, &last, 0);
    if (run < lo) run = lo;
    if (walk_up(g, tr, run, hi)) return;
    hi = run;
  }
}

/* The first rank a keyset position lets an ordered walk start from. */
static void skip_to_position(const rm_btree *tr, const rm_query *q,
                             size_t *lo, size_t *hi, int desc) {
  const rm_position *pos = q->after;
  size_t r;
  if (pos == NULL || pos->start) return;
  if (!desc) {
    r = rm_btree_rank_of(tr, &pos->vals[0], pos->seq);
    if (r > *lo) *lo = r;
  } else {
    r = rm_btree_rank_lower(tr, &pos->vals[0], 1);
    if (r < *hi) *hi = r;
  }
}

static void gather_range(gather *g) {
  const rm_plan *p = g->plan;
  const rm_btree *tr = &g->t->trees[g->t->schema->index_of[p->field]];
  size_t lo = p->lo, hi = p->hi;
  if (p->ordered) {
    skip_to_position(tr, g->q, &lo, &hi, p->desc);
  } else if (p->in_seq && g->positioned && g->q->order.nterms == 0) {
    /* One key, by seq: a page in insertion order starts after the
     * cursor's record without walking the key's earlier entries. */
    size_t r = rm_btree_rank_of(tr, &p->seq_key, g->q->after->seq);
    if (r > lo) lo = r;
  }
  if (p->ordered && p->desc) walk_down(g, tr, lo, hi);
  else walk_up(g, tr, lo, hi);
}

static void gather_in_ranges(gather *g) {
  const rm_node *c = g->plan->cond;
  const rm_btree *tr = &g->t->trees[g->t->schema->index_of[c->field]];
  size_t i;
  for (i = 0; i < c->nvals; i++)
    if (walk_up(g, tr, rm_btree_rank_lower(tr, &c->vals[i], 0),
                rm_btree_rank_lower(tr, &c->vals[i], 1)))
      return;
}

static void run_plan(gather *g) {
  switch (g->plan->kind) {
    case RM_PLAN_KEYS: gather_keys(g); break;
    case RM_PLAN_UNIQUE: gather_unique(g); break;
    case RM_PLAN_RANGE: gather_range(g); break;
    case RM_PLAN_IN_RANGES: gather_in_ranges(g); break;
    default: gather_scan(g); break;
  }
}

/* Whether candidates arrive in the result's order: order_by's, or
 * insertion order when there is no order_by. */
static int in_final_order(const rm_query *q, const rm_plan *p) {
  return p->ordered || (q->order.nterms == 0 && p->in_seq);
}

/* Gathering can stop early when candidates arrive in the final order. */
static size_t stop_after(const rm_query *q, const rm_plan *p) {
  int64_t end = saturating_end(q->offset, q->limit);
  return in_final_order(q, p) && end != INT64_MAX ? (size_t)end : SIZE_MAX;
}

static void sort_candidates(const rm_table *t, const rm_query *q,
                            const rm_plan *p, const rm_record **out, size_t n) {
  sort_ctx ctx;
  /* n < 2: nothing to sort, and out may be NULL (qsort_r wants an array). */
  if (n < 2 || in_final_order(q, p)) return;
  ctx.s = t->schema;
  ctx.order = &q->order;
  qsort_r((void *)out, n, sizeof *out, compare_records, &ctx);
}

static size_t capacity(const rm_table *t, const rm_query *q,
                       const rm_plan *plan) {
  size_t n = plan->estimate < t->count ? plan->estimate : t->count;
  return n < stop_after(q, plan) ? n : stop_after(q, plan);
}

size_t rm_query_capacity(const rm_table *t, const rm_query *q) {
  rm_plan plan;
  if (!runnable(t, q)) return 0; /* run refuses it */
  rm_plan_query(t, q, &plan);
  return capacity(t, q, &plan);
}

/* Runs q by the plan made for it into out (at most cap records). */
static long run_planned(const rm_table *t, const rm_query *q,
                        const rm_plan *plan, const rm_record **out,
                        size_t cap) {
  gather g;
  size_t n, first;
  gather_init(&g, t, q, plan);
  g.out = out;
  g.cap = cap;
  g.want = stop_after(q, plan);
  if (cap > 0) run_plan(&g);
  n = g.n;
  sort_candidates(t, q, plan, out, n);
  first = (uint64_t)q->offset < n ? (size_t)q->offset : n;
  n -= first;
  if (q->limit >= 0 && (uint64_t)q->limit < n) n = (size_t)q->limit;
  if (first) memmove((void *)out, (const void *)(out + first), n * sizeof *out);
  return (long)n;
}

long rm_query_run(const rm_table *t, const rm_query *q,
                  const rm_record **out, size_t cap, rm_diag *d) {
  rm_plan plan;
  if (check_query(t, q, d) < 0) return -1;
  rm_plan_query(t, q, &plan);
  return run_planned(t, q, &plan, out, cap);
}

long rm_query_run_within(const rm_table *t, const rm_query *q,
                         const rm_record **out, size_t cap, size_t *need,
                         rm_diag *d) {
  rm_plan plan;
  *need = 0;
  if (check_query(t, q, d) < 0) return -1;
  rm_plan_query(t, q, &plan);
  *need = capacity(t, q, &plan);
  if (*need > cap) return -2;
  return run_planned(t, q, &plan, out, *need);
}

static int64_t window(const rm_query *q, int64_t n) {
  n = n > q->offset ? n - q->offset : 0;
  return q->limit >= 0 && q->limit < n ? q->limit : n;
}

/* Counts without building anything: a range that decides the whole where
 * clause is counted from the tree's ranks in O(log n); other paths walk
 * their candidates (`in` lists hold distinct values, so none is met
 * twice). */
int64_t rm_query_count(const rm_table *t, const rm_query *q) {
  rm_plan plan;
  gather g;
  if (!runnable(t, q)) return -1;
  rm_plan_query(t, q, &plan);
  if (plan.kind == RM_PLAN_RANGE && plan.covers &&
      (q->after == NULL || q->after->start))
    return window(q, (int64_t)(plan.hi - plan.lo));
  gather_init(&g, t, q, &plan);
  g.want = (size_t)saturating_end(q->offset, q->limit);
  run_plan(&g);
  return window(q, (int64_t)g.n);
}

/* Plans read the where tree's fields too; the rest of q is planned as it
 * is (an order term on a missing field as no order). */
int rm_query_explain(const rm_table *t, const rm_query *q, rm_explain *out,
                     rm_diag *d) {
  rm_plan plan;
  if (rm_where_check(t, q->where, d) < 0) return -1;
  rm_plan_query(t, q, &plan);
  out->scan = plan.kind == RM_PLAN_SCAN;
  out->index = out->scan ? NULL : t->schema->fields[plan.field].name;
  out->plan = rm_plan_name(&plan);
  out->estimate = plan.estimate;
  out->sorted = !plan.ordered && q->order.nterms > 0;
  return 0;
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

/* FNV-1a over the model name, the condition tree's hash (which ignores
 * the order and nesting of ANDed or ORed terms; no conditions count as
 * TRUE) and the order terms, whose order does count. Offset, limit and
 * select are left out: pages of one walk may differ in them. */
uint64_t rm_query_fingerprint(const rm_table *t, const rm_query *q) {
  uint64_t h = rm_hash_bytes(t->schema->name, strlen(t->schema->name),
                             14695981039346656037ULL);
  int i;
  h = rm_node_hash(q->identity_set ? q->identity : q->where, h);
  for (i = 0; i < q->order.nterms; i++) {
    int term[2];
    term[0] = q->order.field[i];
    term[1] = q->order.desc[i] != 0;
    h = rm_hash_bytes(term, sizeof term, h);
  }
  return h;
}
