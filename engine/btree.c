/*
 * Order-statistic B+trees (btree.h): the ordered secondary indexes.
 *
 * Entries live in leaves linked both ways; inner nodes hold, per child, the
 * number of entries under it and the child's first (key, seq) as
 * separator. Separators are kept exact (never a stale, deleted key): string
 * keys borrow the records' bytes, so a separator must always name a live
 * entry.
 *
 * Lookups descend from the root without recursion and remember the path
 * (node and child index per level), which is all insert and delete need:
 * nodes have no parent pointers. A full leaf first passes entries to a
 * neighbour with room; only when both are full does it split, and then the
 * insert counts the nodes the split chain will need and allocates them all
 * before it changes anything. A delete only frees.
 */
#include <string.h>

#include "btree.h"

#define LEAF_MAX RM_BT_LEAF_MAX
#define INNER_MAX RM_BT_INNER_MAX
/* Below this many entries or children a node borrows from or merges with
 * a sibling. A third, not a half, so that a merge followed by an insert
 * does not split again at once. */
#define LEAF_MIN (LEAF_MAX / 3)
#define INNER_MIN (INNER_MAX / 3)

typedef rm_bt_leaf leaf;
typedef rm_bt_inner inner;

/* Where a lookup goes: (key, seq), or just before (bias -1) or just after
 * (bias +1) every entry with that key. */
typedef struct probe {
  const rm_value *key;
  uint64_t seq;
  int bias;
} probe;

/* The way down to a leaf: the inner node and child index at each level
 * above it (level 0 is the root). */
typedef struct path {
  inner *node[RM_BT_MAX_DEPTH];
  unsigned idx[RM_BT_MAX_DEPTH];
} path;

/* ----------------------------------------------------------- ordering */

/* Key order: rm_value_compare, with nil after everything. Integers, the
 * common case, are compared here without the call. */
static int key_cmp(const rm_value *a, const rm_value *b) {
  if (a->tag == RM_V_INT && b->tag == RM_V_INT)
    return (a->u.i > b->u.i) - (a->u.i < b->u.i);
  if (a->tag == RM_V_NIL || b->tag == RM_V_NIL)
    return (a->tag == RM_V_NIL) - (b->tag == RM_V_NIL);
  return rm_value_compare(a, b);
}

/* <0, 0 or >0 as (key, seq) is before, at or after the probe. */
static int probe_cmp(const rm_value *key, uint64_t seq, const probe *p) {
  int c = key_cmp(key, p->key);
  if (c != 0) return c;
  if (p->bias != 0) return -p->bias;
  return (seq > p->seq) - (seq < p->seq);
}

static probe exact(const rm_value *key, uint64_t seq) {
  probe p;
  p.key = key;
  p.seq = seq;
  p.bias = 0;
  return p;
}

/* The child of n whose range holds the probe: the number of separators
 * sep[1..n-1] at or before it. */
static unsigned inner_find(const inner *n, const probe *p) {
  unsigned lo = 1, hi = n->n;
  while (lo < hi) {
    unsigned mid = lo + (hi - lo) / 2;
    if (probe_cmp(&n->sep[mid].key, n->sep[mid].seq, p) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/* The number of entries of l before the probe. */
static unsigned leaf_find(const leaf *l, const probe *p) {
  unsigned lo = 0, hi = l->n;
  while (lo < hi) {
    unsigned mid = lo + (hi - lo) / 2;
    if (probe_cmp(&l->e[mid].key, l->e[mid].seq, p) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Descends to the leaf whose range holds the probe, filling the path
 * when one is given. */
static leaf *descend(const rm_btree *t, const probe *p, path *pa) {
  void *cur = t->root;
  unsigned d;
  for (d = 0; d + 1 < t->height; d++) {
    inner *n = cur;
    unsigned i = inner_find(n, p);
    if (pa != NULL) {
      pa->node[d] = n;
      pa->idx[d] = i;
    }
    cur = n->child[i];
  }
  return cur;
}

static void set_sep(rm_bt_key *k, const rm_bt_entry *e) {
  k->key = e->key;
  k->seq = e->seq;
}

/* --------------------------------------------------------------- setup */

void rm_btree_init(rm_btree *t, rm_mem *m) {
  t->mem = m;
  t->root = NULL;
  t->height = 0;
  t->count = 0;
}

size_t rm_btree_count(const rm_btree *t) { return t->count; }

/* Frees the subtree under node, which sits `levels` levels above the
 * leaves (0: node is a leaf). Recursion depth is the tree's height. */
static void free_subtree(rm_mem *m, void *node, unsigned levels) {
  inner *n = node;
  unsigned i;
  if (levels == 0) {
    rm_mem_free(m, node, sizeof(leaf));
    return;
  }
  for (i = 0; i < n->n; i++) free_subtree(m, n->child[i], levels - 1);
  rm_mem_free(m, n, sizeof *n);
}

void rm_btree_clear(rm_btree *t) {
  if (t->root != NULL) free_subtree(t->mem, t->root, t->height - 1);
  rm_btree_init(t, t->mem);
}

/* -------------------------------------------------------------- lookups */

const rm_bt_entry *rm_btree_find(const rm_btree *t, const rm_value *key,
                                 uint64_t seq) {
  probe p = exact(key, seq);
  leaf *l;
  unsigned i;
  if (t->root == NULL) return NULL;
  l = descend(t, &p, NULL);
  i = leaf_find(l, &p);
  if (i < l->n && probe_cmp(&l->e[i].key, l->e[i].seq, &p) == 0)
    return &l->e[i];
  return NULL;
}

/* The number of entries before the probe: the counts of the children
 * left of the way down, plus the entries before it in the leaf. */
static size_t rank(const rm_btree *t, const probe *p) {
  const void *cur = t->root;
  size_t r = 0;
  unsigned d, i;
  if (cur == NULL) return 0;
  for (d = 0; d + 1 < t->height; d++) {
    const inner *n = cur;
    unsigned c = inner_find(n, p);
    for (i = 0; i < c; i++) r += n->cnt[i];
    cur = n->child[c];
  }
  return r + leaf_find(cur, p);
}

size_t rm_btree_rank_lower(const rm_btree *t, const rm_value *key,
                           int inclusive) {
  probe p;
  p.key = key;
  p.seq = 0;
  p.bias = inclusive ? 1 : -1;
  return rank(t, &p);
}

size_t rm_btree_rank_of(const rm_btree *t, const rm_value *key, uint64_t seq) {
  probe p = exact(key, seq);
  return rank(t, &p);
}

/* The leaf holding rank r (< count) and r's index in it. */
static const leaf *locate(const rm_btree *t, size_t r, unsigned *idx) {
  const void *cur = t->root;
  unsigned d;
  for (d = 0; d + 1 < t->height; d++) {
    const inner *n = cur;
    unsigned i = 0;
    while (r >= n->cnt[i]) r -= n->cnt[i++];
    cur = n->child[i];
  }
  *idx = (unsigned)r;
  return cur;
}

const rm_bt_entry *rm_btree_at(const rm_btree *t, size_t r) {
  unsigned i;
  const leaf *l;
  if (r >= t->count) return NULL;
  l = locate(t, r, &i);
  return &l->e[i];
}

/* ------------------------------------------------------------ cursors */

void rm_btree_seek(const rm_btree *t, size_t r, rm_bt_iter *it) {
  it->leaf = NULL;
  it->idx = 0;
  if (t->count == 0) return;
  if (r < t->count) {
    it->leaf = locate(t, r, &it->idx);
  } else {
    it->leaf = locate(t, t->count - 1, &it->idx);
    it->idx++;
  }
}

/* Leaves are never empty, so one step to a neighbour always lands on an
 * entry. */
const rm_bt_entry *rm_btree_next(rm_bt_iter *it) {
  if (it->leaf == NULL) return NULL;
  if (it->idx == it->leaf->n) {
    if (it->leaf->next == NULL) return NULL;
    it->leaf = it->leaf->next;
    it->idx = 0;
  }
  return &it->leaf->e[it->idx++];
}

const rm_bt_entry *rm_btree_prev(rm_bt_iter *it) {
  if (it->leaf == NULL) return NULL;
  if (it->idx == 0) {
    if (it->leaf->prev == NULL) return NULL;
    it->leaf = it->leaf->prev;
    it->idx = it->leaf->n;
  }
  return &it->leaf->e[--it->idx];
}

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

/* Allocates `need` nodes (the first a leaf); on failure frees them all. */
static int reserve_nodes(rm_mem *m, reserve *r, unsigned need) {
  r->n = r->used = 0;
  while (r->n < need) {
    void *p = rm_mem_alloc(m, r->n == 0 ? sizeof(leaf) : sizeof(inner));
    if (p == NULL) {
      release(m, r);
      return -1;
    }
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
  if (reserve_nodes(t->mem, &rs, need) < 0) return -1;
  leaf_split(l, take(&rs), pos, e, &pd);
  push_up(t, pa, &pd, &rs);
  t->count++;
  return 0;
}

int rm_btree_insert(rm_btree *t, const rm_bt_entry *e) {
  probe p = exact(&e->key, e->seq);
  path pa;
  leaf *l;
  unsigned pos;
  if (t->root == NULL) return first_leaf(t, e);
  l = descend(t, &p, &pa);
  pos = leaf_find(l, &p);
  if (l->n < LEAF_MAX) leaf_put(l, pos, e);
  else if (!leaf_shift(t, &pa, l, pos, e)) return split_insert(t, &pa, l, pos, e);
  push_up(t, &pa, NULL, NULL);
  t->count++;
  return 0;
}

/* -------------------------------------------------------------- delete */

/* Removes child i (and its separator) from n. When child 0 goes, the old
 * child 1 becomes child 0 and its separator is dropped: it is the node's
 * new first entry, which the caller has already written further up. */
static void inner_remove(inner *n, unsigned i) {
  unsigned s = i == 0 ? 1 : i;
  memmove(&n->child[i], &n->child[i + 1], (n->n - i - 1) * sizeof n->child[0]);
  memmove(&n->cnt[i], &n->cnt[i + 1], (n->n - i - 1) * sizeof n->cnt[0]);
  if (s + 1 < n->n)
    memmove(&n->sep[s], &n->sep[s + 1], (n->n - s - 1) * sizeof n->sep[0]);
  n->n--;
}

static void leaf_unlink(leaf *l) {
  if (l->prev != NULL) l->prev->next = l->next;
  if (l->next != NULL) l->next->prev = l->prev;
}

/* Merges leaf r (child j + 1 of p) into its left sibling l (child j). */
static void leaf_merge(rm_mem *m, inner *p, unsigned j, leaf *l, leaf *r) {
  memcpy(&l->e[l->n], r->e, r->n * sizeof r->e[0]);
  l->n += r->n;
  leaf_unlink(r);
  p->cnt[j] += p->cnt[j + 1];
  inner_remove(p, j + 1);
  rm_mem_free(m, r, sizeof *r);
}

/* Evens out leaves l and r (children j and j + 1 of p). */
static void leaf_share(inner *p, unsigned j, leaf *l, leaf *r) {
  unsigned want = (l->n + r->n) / 2;
  if (l->n < want) {
    unsigned k = want - l->n;
    memcpy(&l->e[l->n], r->e, k * sizeof r->e[0]);
    memmove(r->e, &r->e[k], (r->n - k) * sizeof r->e[0]);
    l->n += k;
    r->n -= k;
  } else {
    unsigned k = l->n - want;
    memmove(&r->e[k], r->e, r->n * sizeof r->e[0]);
    memcpy(r->e, &l->e[want], k * sizeof r->e[0]);
    l->n -= k;
    r->n += k;
  }
  p->cnt[j] = l->n;
  p->cnt[j + 1] = r->n;
  set_sep(&p->sep[j + 1], &r->e[0]);
}

/* Merges inner node r (child j + 1 of p) into l (child j): p's separator
 * comes down as the first entry under r's first child. */
static void inner_merge(rm_mem *m, inner *p, unsigned j, inner *l, inner *r) {
  l->sep[l->n] = p->sep[j + 1];
  memcpy(&l->child[l->n], r->child, r->n * sizeof r->child[0]);
  memcpy(&l->cnt[l->n], r->cnt, r->n * sizeof r->cnt[0]);
  memcpy(&l->sep[l->n + 1], &r->sep[1], (r->n - 1) * sizeof r->sep[0]);
  l->n += r->n;
  p->cnt[j] += p->cnt[j + 1];
  inner_remove(p, j + 1);
  rm_mem_free(m, r, sizeof *r);
}

/* Moves r's first child to the end of l (children j, j + 1 of p). */
static void rotate_left(inner *p, unsigned j, inner *l, inner *r) {
  size_t c = r->cnt[0];
  l->sep[l->n] = p->sep[j + 1];
  l->child[l->n] = r->child[0];
  l->cnt[l->n] = c;
  l->n++;
  p->sep[j + 1] = r->sep[1];
  inner_remove(r, 0);
  p->cnt[j] += c;
  p->cnt[j + 1] -= c;
}

/* Moves l's last child to the front of r (children j, j + 1 of p). */
static void rotate_right(inner *p, unsigned j, inner *l, inner *r) {
  unsigned last = l->n - 1;
  size_t c = l->cnt[last];
  memmove(&r->child[1], r->child, r->n * sizeof r->child[0]);
  memmove(&r->cnt[1], r->cnt, r->n * sizeof r->cnt[0]);
  memmove(&r->sep[2], &r->sep[1], (r->n - 1) * sizeof r->sep[0]);
  r->sep[1] = p->sep[j + 1];
  r->child[0] = l->child[last];
  r->cnt[0] = c;
  r->n++;
  p->sep[j + 1] = l->sep[last];
  l->n--;
  p->cnt[j] -= c;
  p->cnt[j + 1] += c;
}

static void inner_share(inner *p, unsigned j, inner *l, inner *r) {
  while (l->n + 1 < r->n) rotate_left(p, j, l, r);
  while (r->n + 1 < l->n) rotate_right(p, j, l, r);
}

/* Fixes the underfull child i of p (a leaf when `leaves`) with a
 * neighbour: merges the two when they fit in one node, else evens them
 * out. Returns 1 when p lost a child. */
static int fix_child(rm_mem *m, inner *p, unsigned i, int leaves) {
  unsigned j = i > 0 ? i - 1 : i; /* the pair is children j, j + 1 */
  void *l = p->child[j], *r = p->child[j + 1];
  if (leaves) {
    if (((leaf *)l)->n + ((leaf *)r)->n <= LEAF_MAX) {
      leaf_merge(m, p, j, l, r);
      return 1;
    }
    leaf_share(p, j, l, r);
    return 0;
  }
  if (((inner *)l)->n + ((inner *)r)->n <= INNER_MAX) {
    inner_merge(m, p, j, l, r);
    return 1;
  }
  inner_share(p, j, l, r);
  return 0;
}

/* Shrinks the root while it is an inner node with one child (or none). */
static void shrink_root(rm_btree *t) {
  while (t->height > 1 && ((inner *)t->root)->n <= 1) {
    inner *old = t->root;
    t->root = old->n == 1 ? old->child[0] : NULL;
    t->height = old->n == 1 ? t->height - 1 : 0;
    rm_mem_free(t->mem, old, sizeof *old);
  }
  if (t->height == 1 && ((leaf *)t->root)->n == 0) {
    rm_mem_free(t->mem, t->root, sizeof(leaf));
    t->root = NULL;
    t->height = 0;
  }
}

/* Restores the fill rules from the leaf up after a removal: an empty node
 * leaves its parent, an underfull one merges with or borrows from a
 * sibling, and either may leave the parent underfull in turn. An only
 * child is left as it is; its parent, underfull, is fixed a level up. */
static void rebalance(rm_btree *t, path *pa, void *node) {
  unsigned d = t->height - 1;
  while (d > 0) {
    inner *p = pa->node[d - 1];
    unsigned i = pa->idx[d - 1];
    int leaves = d == t->height - 1;
    unsigned n = leaves ? ((leaf *)node)->n : ((inner *)node)->n;
    if (n == 0) {
      if (leaves) leaf_unlink(node);
      rm_mem_free(t->mem, node, leaves ? sizeof(leaf) : sizeof(inner));
      inner_remove(p, i);
    } else if (n >= (leaves ? LEAF_MIN : INNER_MIN)) {
      return;
    } else if (p->n > 1) {
      if (!fix_child(t->mem, p, i, leaves)) return;
    }
    node = p;
    d--;
  }
  shrink_root(t);
}

/* Writes `first`, the new first entry of the path's leaf, into the
 * separator that names the leaf's first entry: at the deepest level where
 * the way down did not take child 0 (there is none for the tree's first
 * leaf). After a delete that emptied the leaf, `first` is the next leaf's
 * first entry, or NULL when nothing follows: then that separator's
 * subtree is empty and goes away with it. */
static void replace_sep(const rm_btree *t, path *pa, const rm_bt_entry *first) {
  unsigned d = t->height - 1;
  while (d-- > 0) {
    if (pa->idx[d] == 0) continue;
    if (first != NULL) set_sep(&pa->node[d]->sep[pa->idx[d]], first);
    return;
  }
}

int rm_btree_replace(rm_btree *t, const rm_bt_entry *e) {
  probe p = exact(&e->key, e->seq);
  path pa;
  leaf *l;
  unsigned pos;
  if (t->root == NULL) return 0;
  l = descend(t, &p, &pa);
  pos = leaf_find(l, &p);
  if (pos == l->n || probe_cmp(&l->e[pos].key, l->e[pos].seq, &p) != 0)
    return 0;
  l->e[pos] = *e;
  if (pos == 0) replace_sep(t, &pa, &l->e[0]);
  return 1;
}

int rm_btree_delete(rm_btree *t, const rm_value *key, uint64_t seq) {
  probe p = exact(key, seq);
  path pa;
  leaf *l;
  unsigned pos, d;
  if (t->root == NULL) return 0;
  l = descend(t, &p, &pa);
  pos = leaf_find(l, &p);
  if (pos == l->n || probe_cmp(&l->e[pos].key, l->e[pos].seq, &p) != 0)
    return 0;
  l->n--;
  memmove(&l->e[pos], &l->e[pos + 1], (l->n - pos) * sizeof l->e[0]);
  t->count--;
  for (d = 0; d + 1 < t->height; d++) pa.node[d]->cnt[pa.idx[d]]--;
  if (pos == 0)
    replace_sep(t, &pa, l->n > 0 ? &l->e[0] : l->next ? &l->next->e[0] : NULL);
  rebalance(t, &pa, l);
  return 1;
}

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
  const rm_value *a = &e->key, *b = &k->key;
  if (e->seq != k->seq || a->tag != b->tag) return 0;
  switch (a->tag) {
    case RM_V_INT: return a->u.i == b->u.i;
    case RM_V_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case RM_V_STR: return a->u.s.ptr == b->u.s.ptr && a->u.s.len == b->u.s.len;
    default: return 1;
  }
}

static int entry_before(const rm_bt_entry *a, const rm_bt_entry *b) {
  probe p = exact(&b->key, b->seq);
  return probe_cmp(&a->key, a->seq, &p) < 0;
}

static int check_leaf(const leaf *l, walk *w, size_t *count,
                      const rm_bt_entry **first) {
  unsigned i;
  CHECK(l->n >= 1 && l->n <= LEAF_MAX);
  CHECK(l->prev == w->last);
  CHECK(w->last == NULL || w->last->next == l);
  for (i = 0; i < l->n; i++) {
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
