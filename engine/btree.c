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
 * back (btree_unput.c).
 *
 * This file: keys, descents, lookups and cursors. Inserts, deletes,
 * unputs and the invariant checks each have a file of their own.
 */
#include "btree_impl.h"

/* --------------------------------------------------------------- keys */

void rm_bt_entry_set(rm_bt_entry *e, const rm_value *key, uint64_t seq,
                     const void *rec) {
  val_of(&e->key, key);
  e->seq = seq;
  e->rec = rec;
}

rm_value rm_bt_entry_key(const rm_bt_entry *e) { return value_of(&e->key); }

/* ------------------------------------------------------------ descents */

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
leaf *rm_bt_descend(const rm_btree *t, const probe *p, path *pa, int cold) {
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
  l = rm_bt_descend(t, &p, NULL, 1);
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
