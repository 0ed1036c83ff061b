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
 *
 * Every node carries the number of the insert that made it, so that
 * rm_btree_unput can tell which nodes the last insert took and give them
 * back (see "unput" below).
 */
#include <stddef.h>
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
typedef rm_bt_val bval;

/* Each node is one slab block (btree.h). */
typedef char leaf_fits_a_block[sizeof(leaf) <= RM_SLAB_MAX ? 1 : -1];
typedef char inner_fits_a_block[sizeof(inner) <= RM_SLAB_MAX ? 1 : -1];

/* Where a lookup goes: (key, seq), or just before (bias -1) or just after
 * (bias +1) every entry with that key. */
typedef struct probe {
  bval key;
  uint64_t seq;
  int bias;
} probe;

/* The way down to a leaf: the inner node and child index at each level
 * above it (level 0 is the root). */
typedef struct path {
  inner *node[RM_BT_MAX_DEPTH];
  unsigned idx[RM_BT_MAX_DEPTH];
} path;

/* --------------------------------------------------------------- keys */

static int is_bytes(uint32_t tag) { return tag == RM_V_STR || tag == RM_V_JSON; }

/* The first 8 bytes of s, big-endian, 0-padded: ordered as the strings'
 * first 8 bytes are (a shorter string's padding sorts before any byte but
 * 0, and a tie on the heads is settled by the whole strings). */
static uint64_t head_of(const char *s, size_t len) {
  uint64_t h = 0;
  size_t i;
  for (i = 0; i < 8; i++)
    h = (h << 8) | (i < len ? (unsigned char)s[i] : 0u);
  return h;
}

/* A string's length above 32 bits becomes UINT32_MAX: such a key cannot
 * be inserted, and as a probe it still sorts after every stored string it
 * starts with. */
static void val_of(bval *k, const rm_value *v) {
  k->tag = (uint32_t)v->tag;
  k->len = 0;
  k->head = 0;
  if (is_bytes(k->tag)) {
    k->u.s = v->u.s.ptr;
    k->len = v->u.s.len >= UINT32_MAX ? UINT32_MAX : (uint32_t)v->u.s.len;
    k->head = head_of(v->u.s.ptr, v->u.s.len);
  } else {
    memcpy(&k->u, &v->u, sizeof k->u);
  }
}

static rm_value value_of(const bval *k) {
  rm_value v;
  memset(&v, 0, sizeof v);
  v.tag = (rm_vtag)k->tag;
  if (is_bytes(k->tag)) {
    v.u.s.ptr = k->u.s;
    v.u.s.len = k->len;
  } else {
    memcpy(&v.u, &k->u, sizeof k->u);
  }
  return v;
}

void rm_bt_entry_set(rm_bt_entry *e, const rm_value *key, uint64_t seq,
                     const void *rec) {
  val_of(&e->key, key);
  e->seq = seq;
  e->rec = rec;
}

rm_value rm_bt_entry_key(const rm_bt_entry *e) { return value_of(&e->key); }

/* ----------------------------------------------------------- ordering */

/* Strings bytewise, a prefix first (rm_value_compare's order): the heads
 * first, the bytes after them only on a tie. */
static int str_cmp(const bval *a, const bval *b) {
  uint32_t n = a->len < b->len ? a->len : b->len;
  int c;
  if (a->head != b->head) return a->head < b->head ? -1 : 1;
  c = n > 8 ? memcmp(a->u.s + 8, b->u.s + 8, n - 8) : 0;
  if (c != 0) return c < 0 ? -1 : 1;
  return (a->len > b->len) - (a->len < b->len);
}

/* Key order: rm_value_compare, with nil after everything. Integers and
 * strings, the common cases, are compared here without the call. */
static inline int key_cmp(const bval *a, const bval *b) {
  rm_value va, vb;
  if (a->tag == RM_V_INT && b->tag == RM_V_INT)
    return (a->u.i > b->u.i) - (a->u.i < b->u.i);
  if (a->tag == RM_V_STR && b->tag == RM_V_STR) return str_cmp(a, b);
  if (a->tag == RM_V_NIL || b->tag == RM_V_NIL)
    return (a->tag == RM_V_NIL) - (b->tag == RM_V_NIL);
  va = value_of(a);
  vb = value_of(b);
  return rm_value_compare(&va, &vb);
}

/* <0, 0 or >0 as (key, seq) is before, at or after the probe. */
static inline int probe_cmp(const bval *key, uint64_t seq, const probe *p) {
  int c = key_cmp(key, &p->key);
  if (c != 0) return c;
  if (p->bias != 0) return -p->bias;
  return (seq > p->seq) - (seq < p->seq);
}

static probe exact(const rm_value *key, uint64_t seq) {
  probe p;
  val_of(&p.key, key);
  p.seq = seq;
  p.bias = 0;
  return p;
}

/* The probe for an entry of the tree, or one to be put in. */
static probe at_entry(const rm_bt_entry *e) {
  probe p;
  p.key = e->key;
  p.seq = e->seq;
  p.bias = 0;
  return p;
}

/* Whether (key, seq) comes before the probe, or is at it when `or_at`.
 * Integer keys and an exact probe, the common case, are compared without
 * a branch: in a binary search each compare's outcome is a coin toss, and
 * a mispredicted branch costs more than the compare. */
static inline int before(const bval *key, uint64_t seq, const probe *p,
                         int or_at) {
  if (key->tag == RM_V_INT && p->key.tag == RM_V_INT && p->bias == 0) {
    int64_t k = key->u.i, pk = p->key.u.i;
    return (k < pk) | ((k == pk) & ((seq < p->seq) | (or_at & (seq == p->seq))));
  }
  return probe_cmp(key, seq, p) < or_at;
}

/* The number of the n (key, seq) items from `first` on, `stride` bytes
 * apart with their seq at `seq_off`, that come before the probe (or at
 * it, with or_at). Separators and leaf entries both start with key, seq. */
static inline unsigned count_before(const void *first, size_t stride,
                                    size_t seq_off, unsigned n,
                                    const probe *p, int or_at) {
  const char *base = first;
  unsigned lo = 0;
  while (n > 0) {
    unsigned half = n / 2;
    const char *item = base + (size_t)(lo + half) * stride;
    uint64_t seq;
    unsigned mask;
    int b;
    memcpy(&seq, item + seq_off, sizeof seq);
    b = before((const bval *)(const void *)item, seq, p, or_at);
    mask = 0u - (unsigned)b; /* all ones when the item is before */
    lo += (half + 1) & mask;
    n = ((n - half - 1) & mask) | (half & ~mask);
  }
  return lo;
}

/* The child of n whose range holds the probe: the number of separators
 * sep[1..n-1] at or before it. */
static unsigned inner_find(const inner *n, const probe *p) {
  return count_before(&n->sep[1], sizeof n->sep[0], offsetof(rm_bt_key, seq),
                      n->n - 1, p, 1);
}

/* The number of entries of l before the probe. */
static unsigned leaf_find(const leaf *l, const probe *p) {
  return count_before(l->e, sizeof l->e[0], offsetof(rm_bt_entry, seq), l->n,
                      p, 0);
}

/* Asks for every cache line of a node at once. A binary search touches
 * about five lines of a node, each only known after the previous compare:
 * fetched together they cost about one memory latency instead of five.
 * Worth it where nodes are rarely cached (a delete at a random place);
 * where they are (inserts of new records cluster at a few places), the
 * extra requests cost about a tenth of an insert. */
static void prefetch_node(const void *node, size_t size) {
#if defined(__GNUC__)
  const char *p = node;
  size_t off;
  for (off = 0; off < size; off += 64) __builtin_prefetch(p + off);
#else
  (void)node;
  (void)size;
#endif
}

/* Descends to the leaf whose range holds the probe, filling the path
 * when one is given; `cold`: fetching each node whole on the way. */
static leaf *descend(const rm_btree *t, const probe *p, path *pa, int cold) {
  void *cur = t->root;
  unsigned d;
  for (d = 0; d + 1 < t->height; d++) {
    inner *n = cur;
    unsigned i;
    if (cold) prefetch_node(n, sizeof *n);
    i = inner_find(n, p);
    if (pa != NULL) {
      pa->node[d] = n;
      pa->idx[d] = i;
    }
    cur = n->child[i];
  }
  if (cold) prefetch_node(cur, sizeof(leaf));
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
  t->gen = 0;
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
  l = descend(t, &p, NULL, 1);
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
  val_of(&p.key, key);
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
  l = descend(t, &p, &pa, 0);
  pos = leaf_find(l, &p);
  if (l->n < LEAF_MAX) leaf_put(l, pos, e);
  else if (!leaf_shift(t, &pa, l, pos, e)) return split_insert(t, &pa, l, pos, e);
  push_up(t, &pa, NULL, NULL);
  t->count++;
  t->gen++;
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
  probe p = at_entry(e);
  path pa;
  leaf *l;
  unsigned pos;
  if (t->root == NULL) return 0;
  l = descend(t, &p, &pa, 1);
  pos = leaf_find(l, &p);
  if (pos == l->n || probe_cmp(&l->e[pos].key, l->e[pos].seq, &p) != 0)
    return 0;
  l->e[pos] = *e;
  if (pos == 0) replace_sep(t, &pa, &l->e[0]);
  return 1;
}

/* The leaf holding (key, seq) and its place there, with the way down;
 * NULL when the entry is not in the tree. */
static leaf *find_entry(const rm_btree *t, const rm_value *key, uint64_t seq,
                        path *pa, unsigned *pos) {
  probe p = exact(key, seq);
  leaf *l;
  if (t->root == NULL) return NULL;
  l = descend(t, &p, pa, 1);
  *pos = leaf_find(l, &p);
  if (*pos == l->n || probe_cmp(&l->e[*pos].key, l->e[*pos].seq, &p) != 0)
    return NULL;
  return l;
}

/* Takes entry pos out of the path's leaf l and out of the counts above;
 * separators and fill are the caller's. */
static void take_out(rm_btree *t, path *pa, leaf *l, unsigned pos) {
  unsigned d;
  l->n--;
  memmove(&l->e[pos], &l->e[pos + 1], (l->n - pos) * sizeof l->e[0]);
  t->count--;
  for (d = 0; d + 1 < t->height; d++) pa->node[d]->cnt[pa->idx[d]]--;
}

int rm_btree_delete(rm_btree *t, const rm_value *key, uint64_t seq) {
  path pa;
  leaf *l;
  unsigned pos;
  if ((l = find_entry(t, key, seq, &pa, &pos)) == NULL) return 0;
  take_out(t, &pa, l, pos);
  if (pos == 0)
    replace_sep(t, &pa, l->n > 0 ? &l->e[0] : l->next ? &l->next->e[0] : NULL);
  rebalance(t, &pa, l);
  return 1;
}

/* --------------------------------------------------------------- unput */

/* Undoing the last insert. It either put the entry into a leaf (perhaps
 * first passing entries to a neighbour under the same parent), or split a
 * full leaf and, level by level, the full inner nodes above it, perhaps up
 * to a new root. The nodes a split made carry the insert's number (gen)
 * and each sits just right of the node it was split from: at every level
 * the split reached there is a pair (a, b), old node and new, and the
 * children of a and b together are the old node's children plus, next to
 * the child it came from, the new node of the level below. Above the
 * pairs, one node holds the top pair side by side (or the new root holds
 * just that pair). Undoing takes the entry out, then merges each pair back
 * into its old node from the leaves up, taking b out of its parent, and
 * drops a new root left with one child: every node the insert took goes
 * back, and each old node again holds what it held before.
 *
 * Entries passed between leaves are not passed back. So after several
 * inserts are undone, the leaves under one parent may hold their entries
 * spread otherwise than after the insert being undone; but under each
 * parent they hold the same entries, which before that insert's split fit
 * in one leaf fewer. A leaf pair too full to merge passes its surplus on
 * to the leaves beside it under the same parent(s), and a leaf the entry
 * leaves empty takes one from a neighbour (only an insert into an empty
 * tree left it with just that entry; the entries of its parent were once
 * spread over its leaves with none empty). */

/* A level of the split: the old node a and the new node b right of it,
 * with their parents and places there. */
typedef struct pair {
  void *a, *b;
  inner *pa, *pb;
  unsigned ia, ib;
} pair;

static uint64_t gen_of(const void *node, int is_leaf) {
  return is_leaf ? ((const leaf *)node)->gen : ((const inner *)node)->gen;
}

/* The first entry under node, `levels` levels above the leaves. */
static const rm_bt_entry *first_under(const void *node, unsigned levels) {
  while (levels-- > 0) node = ((const inner *)node)->child[0];
  return &((const leaf *)node)->e[0];
}

/* Entries the leaf children [from, to) of p can still take. */
static unsigned leaf_room(const inner *p, unsigned from, unsigned to) {
  unsigned room = 0;
  for (; from < to; from++) room += LEAF_MAX - ((const leaf *)p->child[from])->n;
  return room;
}

/* Child j of p names its first entry again after entries moved (child
 * 0's name is further up). */
static void resep(inner *p, unsigned j) {
  const leaf *l = p->child[j];
  if (j > 0 && l->n > 0) set_sep(&p->sep[j], &l->e[0]);
}

/* Moves the first k entries of leaf child j + 1 of p to the end of child j. */
static void pass_left(inner *p, unsigned j, unsigned k) {
  leaf *a = p->child[j], *b = p->child[j + 1];
  memcpy(&a->e[a->n], b->e, k * sizeof b->e[0]);
  memmove(b->e, &b->e[k], (b->n - k) * sizeof b->e[0]);
  a->n += k;
  b->n -= k;
  p->cnt[j] += k;
  p->cnt[j + 1] -= k;
  resep(p, j);
  resep(p, j + 1);
}

/* Moves the last k entries of leaf child j of p to the front of child
 * j + 1. */
static void pass_right(inner *p, unsigned j, unsigned k) {
  leaf *a = p->child[j], *b = p->child[j + 1];
  memmove(&b->e[k], b->e, b->n * sizeof b->e[0]);
  memcpy(b->e, &a->e[a->n - k], k * sizeof a->e[0]);
  a->n -= k;
  b->n += k;
  p->cnt[j] -= k;
  p->cnt[j + 1] += k;
  resep(p, j + 1);
}

/* Passes the first q entries of leaf child i of p (q at most its entries
 * and at most a leaf) to the leaves before it, which have room for them:
 * the farthest leaf needed takes what the nearer ones cannot, then each
 * leaf from there on passes its first entries back and fills up from the
 * next. Each leaf gives before it takes, so none overflows. */
static void spread_left(inner *p, unsigned i, unsigned q) {
  unsigned f = i, room = 0, k;
  if (q == 0) return;
  do {
    f--;
    k = LEAF_MAX - ((leaf *)p->child[f])->n;
    room += k;
  } while (room < q);
  k -= room - q;
  for (; f < i; f++) {
    pass_left(p, f, k);
    k = LEAF_MAX - ((leaf *)p->child[f + 1])->n;
  }
}

/* The same with the last q entries, to the leaves after child i. */
static void spread_right(inner *p, unsigned i, unsigned q) {
  unsigned f = i, room = 0, k;
  if (q == 0) return;
  do {
    f++;
    k = LEAF_MAX - ((leaf *)p->child[f])->n;
    room += k;
  } while (room < q);
  k -= room - q;
  for (; f > i; f--) {
    pass_right(p, f - 1, k);
    k = LEAF_MAX - ((leaf *)p->child[f - 1])->n;
  }
}

/* The leaf under p nearest to child i with two entries or more, or -1. */
static int donor(const inner *p, unsigned i) {
  unsigned d;
  for (d = 1; d < p->n; d++) {
    if (i + d < p->n && ((const leaf *)p->child[i + d])->n >= 2) return (int)(i + d);
    if (d <= i && ((const leaf *)p->child[i - d])->n >= 2) return (int)(i - d);
  }
  return -1;
}

/* Gives the empty leaf child i of p an entry from child j (which has two
 * or more), passed on by the one-entry leaves in between. */
static void refill(inner *p, unsigned i, unsigned j) {
  unsigned k;
  if (j > i)
    for (k = i; k < j; k++) pass_left(p, k, 1);
  else
    for (k = i; k-- > j;) pass_right(p, k, 1);
}

/* The pairs of the split to undo, found from the top one (children j and
 * j + 1 of c, at height `top` above the leaves) down: below a pair, the
 * child of a or b stamped with the insert's number is the lower b, and
 * the child before it the lower a. Returns how many there are, or 0 when
 * the tree does not look like a split the last insert made. */
static unsigned find_pairs(const rm_btree *t, inner *c, unsigned j,
                           unsigned top, pair *pr) {
  unsigned k, i;
  pr[top].a = c->child[j];
  pr[top].b = c->child[j + 1];
  pr[top].pa = pr[top].pb = c;
  pr[top].ia = j;
  pr[top].ib = j + 1;
  for (k = top; k > 0; k--) {
    inner *a = pr[k].a, *b = pr[k].b;
    pair *lo = &pr[k - 1];
    int found = 0;
    /* Less the lower b, the children must fit in a. */
    if (a->n + b->n - 1 > INNER_MAX) return 0;
    for (i = 0; i < a->n + b->n; i++) {
      inner *par = i < a->n ? a : b;
      unsigned at = i < a->n ? i : i - a->n;
      if (gen_of(par->child[at], k == 1) != t->gen) continue;
      if (found++ || i == 0) return 0;
      lo->b = par->child[at];
      lo->pb = par;
      lo->ib = at;
      lo->pa = at > 0 ? par : a;
      lo->ia = at > 0 ? at - 1 : a->n - 1;
      lo->a = lo->pa->child[lo->ia];
    }
    if (!found) return 0;
  }
  return top + 1;
}

/* Whether the leaf pair holds the entry (in leaf l) and, without it, fits
 * in one leaf or has room for the surplus beside it. */
static int leaves_fit(const pair *p, const leaf *l) {
  const leaf *a = p->a, *b = p->b;
  unsigned total = a->n + b->n - 1;
  if (l != a && l != b) return 0;
  if (total <= LEAF_MAX) return 1;
  return leaf_room(p->pa, 0, p->ia) + leaf_room(p->pb, p->ib + 1, p->pb->n) >=
         total - LEAF_MAX;
}

/* Adds b's entries to a's count, frees b and takes it out of its parent
 * when that is a's too. Otherwise b is the first child of the next pair's
 * b, and that pair's merge skips it: returns 1. */
static unsigned drop_b(rm_btree *t, pair *p, size_t size) {
  unsigned apart = p->pa != p->pb;
  p->pa->cnt[p->ia] += p->pb->cnt[p->ib];
  p->pb->cnt[p->ib] = 0;
  if (!apart) inner_remove(p->pb, p->ib);
  rm_mem_free(t->mem, p->b, size);
  return apart;
}

/* Merges every pair back, the entry already out, and drops a new root. */
static void merge_pairs(rm_btree *t, pair *pr, unsigned npairs) {
  leaf *a = pr[0].a, *b = pr[0].b;
  unsigned k, skip, total = a->n + b->n;
  if (total > LEAF_MAX) {
    unsigned left = leaf_room(pr[0].pa, 0, pr[0].ia);
    if (left > total - LEAF_MAX) left = total - LEAF_MAX;
    spread_left(pr[0].pa, pr[0].ia, left);
    spread_right(pr[0].pb, pr[0].ib, total - LEAF_MAX - left);
  }
  memcpy(&a->e[a->n], b->e, b->n * sizeof b->e[0]);
  a->n += b->n;
  leaf_unlink(b);
  skip = drop_b(t, &pr[0], sizeof(leaf));
  for (k = 1; k < npairs; k++) {
    inner *ai = pr[k].a, *bi = pr[k].b;
    unsigned n = bi->n - skip;
    if (n > 0) {
      /* The first child taken needs its separator: b's own first entry
       * is named further up, or was the child skipped. */
      if (skip) {
        ai->sep[ai->n] = bi->sep[1];
      } else {
        const rm_bt_entry *f = first_under(bi->child[0], k - 1);
        ai->sep[ai->n].key = f->key;
        ai->sep[ai->n].seq = f->seq;
      }
      memcpy(&ai->child[ai->n], &bi->child[skip], n * sizeof bi->child[0]);
      memcpy(&ai->cnt[ai->n], &bi->cnt[skip], n * sizeof bi->cnt[0]);
      memcpy(&ai->sep[ai->n + 1], &bi->sep[skip + 1], (n - 1) * sizeof bi->sep[0]);
      ai->n += n;
    }
    skip = drop_b(t, &pr[k], sizeof(inner));
  }
  shrink_root(t);
}

void rm_btree_unput(rm_btree *t, const rm_value *key, uint64_t seq) {
  pair pr[RM_BT_MAX_DEPTH];
  path pa;
  leaf *l;
  unsigned pos, d, npairs = 0;
  int split = 0;
  if ((l = find_entry(t, key, seq, &pa, &pos)) == NULL) return;
  if (t->count == 1) { /* the insert made the tree's first leaf */
    rm_mem_free(t->mem, l, sizeof *l);
    t->root = NULL;
    t->height = 0;
    t->count = 0;
    if (t->gen > 0) t->gen--;
    return;
  }
  /* The top of a split: the first node on the way down with a child
   * stamped with the insert's number, next to the child taken. */
  for (d = 0; d + 1 < t->height && !split; d++) {
    inner *c = pa.node[d];
    unsigned i = pa.idx[d], j = i;
    int leaves = d + 2 == t->height;
    if (i > 0 && gen_of(c->child[i], leaves) == t->gen) j = i - 1;
    else if (!(i + 1 < c->n && gen_of(c->child[i + 1], leaves) == t->gen)) continue;
    split = 1;
    npairs = find_pairs(t, c, j, t->height - 2 - d, pr);
  }
  if (split) {
    leaf *a;
    if (npairs == 0 || !leaves_fit(&pr[0], l)) goto not_last;
    take_out(t, &pa, l, pos);
    merge_pairs(t, pr, npairs);
    /* The old leaf's first entry may have changed (it was the entry, or
     * went to a neighbour, or the leaf emptied before the merge). Its
     * name above is the only separator that may be stale, and it sorts
     * before the new first entry, so a lookup still finds the leaf. */
    a = pr[0].a;
    {
      probe p = at_entry(&a->e[0]);
      path pa2;
      descend(t, &p, &pa2, 0);
      replace_sep(t, &pa2, &a->e[0]);
    }
  } else {
    inner *p = t->height > 1 ? pa.node[t->height - 2] : NULL;
    unsigned i = t->height > 1 ? pa.idx[t->height - 2] : 0;
    int j = 0;
    if (l->n == 1 && (p == NULL || (j = donor(p, i)) < 0)) goto not_last;
    take_out(t, &pa, l, pos);
    if (l->n == 0) refill(p, i, (unsigned)j);
    if (pos == 0) replace_sep(t, &pa, &l->e[0]);
  }
  if (t->gen > 0) t->gen--;
  return;
not_last:
  /* Not what the last insert left: the entry goes as by a delete. */
  rm_btree_delete(t, key, seq);
  if (t->gen > 0) t->gen--;
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
