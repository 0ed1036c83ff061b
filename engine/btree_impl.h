/*
 * The inside of the order-statistic B+trees, shared by the files that
 * implement btree.h: btree.c (keys, descents, lookups, cursors),
 * btree_insert.c, btree_delete.c, btree_unput.c and btree_check.c. Not
 * for any other file: only btree.h is the trees' interface.
 *
 * The compares of a descent are inline here, because every operation
 * runs them a few dozen times.
 */
#ifndef RM_BTREE_IMPL_H
#define RM_BTREE_IMPL_H

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

static inline int is_bytes(uint32_t tag) {
  return tag == RM_V_STR || tag == RM_V_JSON;
}

/* The first 8 bytes of s, big-endian, 0-padded: ordered as the strings'
 * first 8 bytes are (a shorter string's padding sorts before any byte but
 * 0, and a tie on the heads is settled by the whole strings). */
static inline uint64_t head_of(const char *s, size_t len) {
  uint64_t h = 0;
  size_t i;
  for (i = 0; i < 8; i++)
    h = (h << 8) | (i < len ? (unsigned char)s[i] : 0u);
  return h;
}

/* A string's length above 32 bits becomes UINT32_MAX: such a key cannot
 * be inserted, and as a probe it still sorts after every stored string it
 * starts with. */
static inline void val_of(bval *k, const rm_value *v) {
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

static inline rm_value value_of(const bval *k) {
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

/* ----------------------------------------------------------- ordering */

/* Strings bytewise, a prefix first (rm_value_compare's order): the heads
 * first, the bytes after them only on a tie. */
static inline int str_cmp(const bval *a, const bval *b) {
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

static inline probe exact(const rm_value *key, uint64_t seq) {
  probe p;
  val_of(&p.key, key);
  p.seq = seq;
  p.bias = 0;
  return p;
}

/* The probe for an entry of the tree, or one to be put in. */
static inline probe at_entry(const rm_bt_entry *e) {
  probe p;
  p.key = e->key;
  p.seq = e->seq;
  p.bias = 0;
  return p;
}

/* The binary searches below count the items before a probe (or at it,
 * with `or_at`) among n items from `first` on, `stride` bytes apart, each
 * starting with its key and holding its seq at `seq_off` (separators and
 * leaf entries both do). Each step narrows the range without a branch:
 * in a binary search each compare's outcome is a coin toss, and a
 * mispredicted branch costs more than the compare. */

/* One step: the item in the middle of [*lo, *lo + *n) is before the probe
 * (b = 1) or not; keeps the half that holds the answer. */
static inline void halve(unsigned *lo, unsigned *n, int b) {
  unsigned half = *n / 2;
  unsigned mask = 0u - (unsigned)b; /* all ones when the item is before */
  *lo += (half + 1) & mask;
  *n = ((*n - half - 1) & mask) | (half & ~mask);
}

static inline uint64_t seq_at(const char *item, size_t seq_off) {
  uint64_t seq;
  memcpy(&seq, item + seq_off, sizeof seq);
  return seq;
}

/* Any probe. */
static inline unsigned count_before_any(const char *first, size_t stride,
                                        size_t seq_off, unsigned n,
                                        const probe *p, int or_at) {
  unsigned lo = 0;
  while (n > 0) {
    const char *item = first + (size_t)(lo + n / 2) * stride;
    const bval *key = (const bval *)(const void *)item;
    halve(&lo, &n, probe_cmp(key, seq_at(item, seq_off), p) < or_at);
  }
  return lo;
}

/* An exact probe with an integer key, the common case (deletes and
 * updates on an integer field): the probe is read once, and an integer
 * item is compared inline. Other items (nil, floats of a number field)
 * take the general compare. */
static inline unsigned count_before_int(const char *first, size_t stride,
                                        size_t seq_off, unsigned n,
                                        const probe *p, int or_at) {
  const int64_t pk = p->key.u.i;
  const uint64_t ps = p->seq;
  unsigned lo = 0;
  while (n > 0) {
    const char *item = first + (size_t)(lo + n / 2) * stride;
    const bval *key = (const bval *)(const void *)item;
    uint64_t seq = seq_at(item, seq_off);
    int64_t k = key->u.i;
    int b;
    if (key->tag == RM_V_INT)
      b = (k < pk) | ((k == pk) & ((seq < ps) | (or_at & (seq == ps))));
    else
      b = probe_cmp(key, seq, p) < or_at;
    halve(&lo, &n, b);
  }
  return lo;
}

static inline unsigned count_before(const void *first, size_t stride,
                                    size_t seq_off, unsigned n,
                                    const probe *p, int or_at) {
  if (p->key.tag == RM_V_INT && p->bias == 0)
    return count_before_int(first, stride, seq_off, n, p, or_at);
  return count_before_any(first, stride, seq_off, n, p, or_at);
}

/* The child of n whose range holds the probe: the number of separators
 * sep[1..n-1] at or before it. */
static inline unsigned inner_find(const inner *n, const probe *p) {
  return count_before(&n->sep[1], sizeof n->sep[0], offsetof(rm_bt_key, seq),
                      n->n - 1, p, 1);
}

/* The number of entries of l before the probe. */
static inline unsigned leaf_find(const leaf *l, const probe *p) {
  return count_before(l->e, sizeof l->e[0], offsetof(rm_bt_entry, seq), l->n,
                      p, 0);
}

static inline void set_sep(rm_bt_key *k, const rm_bt_entry *e) {
  k->key = e->key;
  k->seq = e->seq;
}

/* Descends to the leaf whose range holds the probe, filling the path
 * when one is given; `cold`: fetching each node whole on the way. */
leaf *rm_bt_descend(const rm_btree *t, const probe *p, path *pa, int cold);

/* Shared by delete and unput (btree_delete.c). */
void rm_bt_inner_remove(inner *n, unsigned i);
void rm_bt_leaf_unlink(leaf *l);
void rm_bt_shrink_root(rm_btree *t);
void rm_bt_replace_sep(const rm_btree *t, path *pa, const rm_bt_entry *first);
leaf *rm_bt_find_entry(const rm_btree *t, const rm_value *key, uint64_t seq,
                       path *pa, unsigned *pos);
void rm_bt_take_out(rm_btree *t, path *pa, leaf *l, unsigned pos);

#endif
