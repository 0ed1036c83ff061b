/*
 * Checking every invariant of an order-statistic B+tree (btree.h), for
 * tests.
 */
#include "btree_impl.h"

/* --------------------------------------------------------------- checks */

#define CHECK(cond) do { if (!(cond)) return __LINE__; } while (0)

/* State of the in-order walk: the leaf and entry visited last. */
typedef struct walk {
  const leaf *last;
  const rm_bt_entry *prev;
} walk;

/* Whether a separator is a copy of the entry: the same bits, so that a
 * string separator points at the live record's bytes. */
static int entry_is(const rm_bt_entry *e, const rm_bt_key *k) {
  const bval *a = &e->key, *b = &k->key;
  if (e->seq != k->seq || a->tag != b->tag) return 0;
  switch (a->tag) {
    case RM_V_INT: return a->u.i == b->u.i;
    case RM_V_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case RM_V_STR:
      return a->u.s == b->u.s && a->len == b->len && a->head == b->head;
    default: return 1;
  }
}

static int entry_before(const rm_bt_entry *a, const rm_bt_entry *b) {
  probe p = at_entry(b);
  return probe_cmp(&a->key, a->seq, &p) < 0;
}

static int check_leaf(const leaf *l, walk *w, size_t *count,
                      const rm_bt_entry **first) {
  unsigned i;
  CHECK(l->n >= 1 && l->n <= LEAF_MAX);
  CHECK(l->prev == w->last);
  CHECK(w->last == NULL || w->last->next == l);
  for (i = 0; i < l->n; i++) {
    const bval *k = &l->e[i].key;
    CHECK(!is_bytes(k->tag) || k->head == head_of(k->u.s, k->len));
    CHECK(w->prev == NULL || entry_before(w->prev, &l->e[i]));
    w->prev = &l->e[i];
  }
  w->last = l;
  *count = l->n;
  *first = &l->e[0];
  return 0;
}

/* Checks the subtree `levels` above the leaves: sizes, counts, and every
 * separator equal to the first entry under its child. */
static int check_node(const void *node, unsigned levels, walk *w,
                      size_t *count, const rm_bt_entry **first) {
  const inner *n = node;
  unsigned i;
  int rc;
  if (levels == 0) return check_leaf(node, w, count, first);
  CHECK(n->n >= 1 && n->n <= INNER_MAX);
  *count = 0;
  for (i = 0; i < n->n; i++) {
    size_t c;
    const rm_bt_entry *f;
    if ((rc = check_node(n->child[i], levels - 1, w, &c, &f)) != 0) return rc;
    CHECK(c == n->cnt[i]);
    CHECK(i == 0 || entry_is(f, &n->sep[i]));
    if (i == 0) *first = f;
    *count += c;
  }
  return 0;
}

int rm_btree_check(const rm_btree *t) {
  walk w;
  size_t count = 0;
  const rm_bt_entry *first;
  int rc;
  w.last = NULL;
  w.prev = NULL;
  if (t->root == NULL) {
    CHECK(t->height == 0 && t->count == 0);
    return 0;
  }
  CHECK(t->height >= 1 && t->height <= RM_BT_MAX_DEPTH);
  rc = check_node(t->root, t->height - 1, &w, &count, &first);
  if (rc != 0) return rc;
  CHECK(count == t->count);
  CHECK(w.last->next == NULL);
  CHECK(t->height == 1 || ((const inner *)t->root)->n >= 2);
  return 0;
}
