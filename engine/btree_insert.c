/*
 * Inserting into an order-statistic B+tree (btree.h).
 */
#include "btree_impl.h"

/* -------------------------------------------------------------- insert */

/* What a split hands to the level above: the new right node, its first
 * (key, seq) and its entry count. */
typedef struct pending {
  void *node;
  rm_bt_key sep;
  size_t cnt;
} pending;

/* Nodes allocated before an insert changes anything: a leaf first, then
 * inner nodes, in the order the split chain takes them. */
typedef struct reserve {
  void *node[RM_BT_MAX_DEPTH + 1];
  unsigned n, used;
} reserve;

/* How many new nodes a split of the (full) leaf needs: one for it, one
 * per full inner node above it, and a new root when the root splits too. */
static unsigned nodes_needed(const rm_btree *t, const path *pa) {
  unsigned need = 1, d;
  for (d = t->height - 1; d-- > 0;) {
    if (pa->node[d]->n < INNER_MAX) return need;
    need++;
  }
  return need + 1;
}

static void release(rm_mem *m, reserve *r) {
  unsigned i;
  for (i = 0; i < r->n; i++)
    rm_mem_free(m, r->node[i], i == 0 ? sizeof(leaf) : sizeof(inner));
}

/* Allocates `need` nodes (the first a leaf), stamped with the insert's
 * number; on failure frees them all. */
static int reserve_nodes(rm_mem *m, reserve *r, unsigned need, uint64_t gen) {
  r->n = r->used = 0;
  while (r->n < need) {
    void *p = rm_mem_alloc(m, r->n == 0 ? sizeof(leaf) : sizeof(inner));
    if (p == NULL) {
      release(m, r);
      return -1;
    }
    if (r->n == 0) ((leaf *)p)->gen = gen;
    else ((inner *)p)->gen = gen;
    r->node[r->n++] = p;
  }
  return 0;
}

static void *take(reserve *r) { return r->node[r->used++]; }

static void leaf_put(leaf *l, unsigned pos, const rm_bt_entry *e) {
  memmove(&l->e[pos + 1], &l->e[pos], (l->n - pos) * sizeof *e);
  l->e[pos] = *e;
  l->n++;
}

/* How many of the LEAF_MAX + 1 entries stay in the left leaf when a full
 * leaf takes e at pos. Half, except for the patterns that would leave
 * half-empty leaves behind for good: ascending keys appended at the end of
 * the last leaf, descending keys at the front of the first, and a run of
 * one key growing at its end (rising seqs under a low-cardinality key):
 * there the split leaves the run's leaf full. */
static unsigned leaf_split_point(const leaf *l, unsigned pos,
                                 const rm_bt_entry *e) {
  if (pos == LEAF_MAX &&
      (l->next == NULL || key_cmp(&e->key, &l->e[LEAF_MAX - 1].key) == 0))
    return LEAF_MAX;
  if (pos >= LEAF_MAX / 2 && key_cmp(&e->key, &l->e[0].key) == 0)
    return pos + 1;
  if (pos == 0 && l->prev == NULL) return 1;
  return (LEAF_MAX + 1) / 2;
}

/* Splits the full leaf l around the new entry into l and the reserved
 * leaf r, linked after l. */
static void leaf_split(leaf *l, leaf *r, unsigned pos, const rm_bt_entry *e,
                       pending *out) {
  unsigned s = leaf_split_point(l, pos, e);
  unsigned keep = pos < s ? s - 1 : s; /* old entries staying left */
  r->n = LEAF_MAX - keep;
  memcpy(r->e, &l->e[keep], r->n * sizeof *e);
  l->n = keep;
  if (pos < s) leaf_put(l, pos, e);
  else leaf_put(r, pos - keep, e);
  r->prev = l;
  r->next = l->next;
  if (r->next != NULL) r->next->prev = r;
  l->next = r;
  out->node = r;
  set_sep(&out->sep, &r->e[0]);
  out->cnt = r->n;
}

/* Puts a child with its separator and count at pos (>= 1) of n, which has
 * room. */
static void inner_put(inner *n, unsigned pos, const pending *c) {
  unsigned k = n->n - pos;
  memmove(&n->child[pos + 1], &n->child[pos], k * sizeof n->child[0]);
  memmove(&n->cnt[pos + 1], &n->cnt[pos], k * sizeof n->cnt[0]);
  memmove(&n->sep[pos + 1], &n->sep[pos], k * sizeof n->sep[0]);
  n->child[pos] = c->node;
  n->cnt[pos] = c->cnt;
  n->sep[pos] = c->sep;
  n->n++;
}

/* Children the left node keeps when a full inner node takes a child at
 * pos: all of them when the rightmost node at its level grows at its end,
 * two when the leftmost grows at its front (ascending and descending
 * keys), otherwise half. */
static unsigned inner_split_point(unsigned pos, int rightmost, int leftmost) {
  if (rightmost && pos == INNER_MAX) return INNER_MAX;
  if (leftmost && pos == 1) return 2;
  return (INNER_MAX + 1) / 2;
}

/* Splits the full node n, taking child c at pos, into n and the reserved
 * node r. Done in a scratch node of one slot more, for clarity: splits
 * happen once per several hundred inserts. */
static void inner_split(inner *n, inner *r, unsigned pos, const pending *c,
                        int rightmost, int leftmost, pending *out) {
  struct {
    unsigned n;
    size_t cnt[INNER_MAX + 1];
    void *child[INNER_MAX + 1];
    rm_bt_key sep[INNER_MAX + 1];
  } all;
  unsigned s = inner_split_point(pos, rightmost, leftmost), i;
  all.n = INNER_MAX + 1;
  memcpy(all.cnt, n->cnt, pos * sizeof all.cnt[0]);
  memcpy(all.child, n->child, pos * sizeof all.child[0]);
  memcpy(all.sep, n->sep, pos * sizeof all.sep[0]);
  all.cnt[pos] = c->cnt;
  all.child[pos] = c->node;
  all.sep[pos] = c->sep;
  memcpy(&all.cnt[pos + 1], &n->cnt[pos], (INNER_MAX - pos) * sizeof all.cnt[0]);
  memcpy(&all.child[pos + 1], &n->child[pos], (INNER_MAX - pos) * sizeof all.child[0]);
  memcpy(&all.sep[pos + 1], &n->sep[pos], (INNER_MAX - pos) * sizeof all.sep[0]);
  n->n = s;
  memcpy(n->cnt, all.cnt, s * sizeof all.cnt[0]);
  memcpy(n->child, all.child, s * sizeof all.child[0]);
  memcpy(n->sep, all.sep, s * sizeof all.sep[0]);
  r->n = all.n - s;
  memcpy(r->cnt, &all.cnt[s], r->n * sizeof all.cnt[0]);
  memcpy(r->child, &all.child[s], r->n * sizeof all.child[0]);
  memcpy(r->sep, &all.sep[s], r->n * sizeof all.sep[0]);
  out->node = r;
  out->sep = all.sep[s];
  out->cnt = 0;
  for (i = 0; i < r->n; i++) out->cnt += r->cnt[i];
}

/* Whether the path's node at level d is the last (or first) of its
 * level. */
static int edge_node(const path *pa, unsigned d, int last) {
  while (d-- > 0)
    if (pa->idx[d] != (last ? pa->node[d]->n - 1 : 0)) return 0;
  return 1;
}

/* Hands a split up the path (pd, NULL when the leaf did not split): each
 * inner node counts the new entry and takes the split-off child, splitting
 * in turn when full; a split root gets a new root above it. */
static void push_up(rm_btree *t, path *pa, pending *pd, reserve *rs) {
  unsigned d;
  for (d = t->height - 1; d-- > 0;) {
    inner *n = pa->node[d];
    unsigned i = pa->idx[d];
    n->cnt[i]++;
    if (pd == NULL) continue;
    n->cnt[i] -= pd->cnt;
    if (n->n < INNER_MAX) {
      inner_put(n, i + 1, pd);
      pd = NULL;
    } else {
      inner_split(n, take(rs), i + 1, pd, edge_node(pa, d, 1),
                  edge_node(pa, d, 0), pd);
    }
  }
  if (pd != NULL) {
    inner *root = take(rs);
    root->n = 2;
    root->child[0] = t->root;
    root->cnt[0] = t->count + 1 - pd->cnt;
    root->child[1] = pd->node;
    root->cnt[1] = pd->cnt;
    root->sep[1] = pd->sep;
    t->root = root;
    t->height++;
  }
}

/* The first entry of an empty tree, in a new leaf. */
static int first_leaf(rm_btree *t, const rm_bt_entry *e) {
  leaf *l = rm_mem_alloc(t->mem, sizeof *l);
  if (l == NULL) return -1;
  l->prev = l->next = NULL;
  l->n = 1;
  l->gen = ++t->gen;
  l->e[0] = *e;
  t->root = l;
  t->height = 1;
  t->count = 1;
  return 0;
}

/* The LEAF_MAX + 1 entries of the full leaf l with e put in at pos. */
static void gather(rm_bt_entry *all, const leaf *l, unsigned pos,
                   const rm_bt_entry *e) {
  memcpy(all, l->e, pos * sizeof *all);
  all[pos] = *e;
  memcpy(&all[pos + 1], &l->e[pos], (LEAF_MAX - pos) * sizeof *all);
}

/* Evens out the full leaf l (child i of p, taking a new entry: `all`)
 * with its left neighbour, which has room. */
static void give_left(inner *p, unsigned i, const rm_bt_entry *all,
                      leaf *left, leaf *l) {
  unsigned k = (left->n + LEAF_MAX + 1) / 2 - left->n;
  memcpy(&left->e[left->n], all, k * sizeof *all);
  left->n += k;
  l->n = LEAF_MAX + 1 - k;
  memcpy(l->e, &all[k], l->n * sizeof *all);
  p->cnt[i - 1] += k;
  p->cnt[i] -= k;
  set_sep(&p->sep[i], &l->e[0]);
}

/* The same with the right neighbour. */
static void give_right(inner *p, unsigned i, const rm_bt_entry *all,
                       leaf *l, leaf *right) {
  unsigned k = (right->n + LEAF_MAX + 1) / 2 - right->n;
  memmove(&right->e[k], right->e, right->n * sizeof *all);
  memcpy(right->e, &all[LEAF_MAX + 1 - k], k * sizeof *all);
  right->n += k;
  l->n = LEAF_MAX + 1 - k;
  memcpy(l->e, all, l->n * sizeof *all);
  p->cnt[i + 1] += k;
  p->cnt[i] -= k;
  set_sep(&p->sep[i + 1], &right->e[0]);
}

/* Puts e into the full leaf l by moving entries to a neighbour under the
 * same parent that has room (the emptier one), as a B*-tree does: splits
 * become rarer and leaves fuller (about 80% instead of 69% under random
 * inserts), and nothing is allocated. Returns 0 when both neighbours are
 * full or missing; the parent's count for l is left to push_up. */
static int leaf_shift(const rm_btree *t, const path *pa, leaf *l,
                      unsigned pos, const rm_bt_entry *e) {
  rm_bt_entry all[LEAF_MAX + 1];
  inner *p;
  leaf *left, *right;
  unsigned i;
  if (t->height < 2) return 0;
  p = pa->node[t->height - 2];
  i = pa->idx[t->height - 2];
  left = i > 0 ? p->child[i - 1] : NULL;
  right = i + 1 < p->n ? p->child[i + 1] : NULL;
  if (left != NULL && left->n == LEAF_MAX) left = NULL;
  if (right != NULL && right->n == LEAF_MAX) right = NULL;
  if (left == NULL && right == NULL) return 0;
  gather(all, l, pos, e);
  if (left != NULL && (right == NULL || left->n <= right->n))
    give_left(p, i, all, left, l);
  else
    give_right(p, i, all, l, right);
  return 1;
}

/* Splits the full leaf l (and as many levels above as the split reaches)
 * to take e: every node the chain needs is allocated first. */
static int split_insert(rm_btree *t, path *pa, leaf *l, unsigned pos,
                        const rm_bt_entry *e) {
  reserve rs;
  pending pd;
  unsigned need = nodes_needed(t, pa);
  /* need == height + 1: every level splits and a new root goes on top. */
  if (need == t->height + 1 && t->height == RM_BT_MAX_DEPTH) return -1;
  if (reserve_nodes(t->mem, &rs, need, t->gen + 1) < 0) return -1;
  leaf_split(l, take(&rs), pos, e, &pd);
  push_up(t, pa, &pd, &rs);
  t->count++;
  t->gen++;
  return 0;
}

int rm_btree_insert(rm_btree *t, const rm_bt_entry *e) {
  probe p = at_entry(e);
  path pa;
  leaf *l;
  unsigned pos;
  if (is_bytes(e->key.tag) && e->key.len == UINT32_MAX) return -1;
  if (t->root == NULL) return first_leaf(t, e);
  l = rm_bt_descend(t, &p, &pa, 0);
  pos = leaf_find(l, &p);
  if (l->n < LEAF_MAX) leaf_put(l, pos, e);
  else if (!leaf_shift(t, &pa, l, pos, e)) return split_insert(t, &pa, l, pos, e);
  push_up(t, &pa, NULL, NULL);
  t->count++;
  t->gen++;
  return 0;
}
