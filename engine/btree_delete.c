/*
 * Deleting from an order-statistic B+tree, and repointing an entry
 * (btree.h).
 */
#include "btree_impl.h"

/* -------------------------------------------------------------- delete */

/* Removes child i (and its separator) from n. When child 0 goes, the old
 * child 1 becomes child 0 and its separator is dropped: it is the node's
 * new first entry, which the caller has already written further up. */
void rm_bt_inner_remove(inner *n, unsigned i) {
  unsigned s = i == 0 ? 1 : i;
  memmove(&n->child[i], &n->child[i + 1], (n->n - i - 1) * sizeof n->child[0]);
  memmove(&n->cnt[i], &n->cnt[i + 1], (n->n - i - 1) * sizeof n->cnt[0]);
  if (s + 1 < n->n)
    memmove(&n->sep[s], &n->sep[s + 1], (n->n - s - 1) * sizeof n->sep[0]);
  n->n--;
}

void rm_bt_leaf_unlink(leaf *l) {
  if (l->prev != NULL) l->prev->next = l->next;
  if (l->next != NULL) l->next->prev = l->prev;
}

/* Merges leaf r (child j + 1 of p) into its left sibling l (child j). */
static void leaf_merge(rm_mem *m, inner *p, unsigned j, leaf *l, leaf *r) {
  memcpy(&l->e[l->n], r->e, r->n * sizeof r->e[0]);
  l->n += r->n;
  rm_bt_leaf_unlink(r);
  p->cnt[j] += p->cnt[j + 1];
  rm_bt_inner_remove(p, j + 1);
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
  rm_bt_inner_remove(p, j + 1);
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
  rm_bt_inner_remove(r, 0);
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
void rm_bt_shrink_root(rm_btree *t) {
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
      if (leaves) rm_bt_leaf_unlink(node);
      rm_mem_free(t->mem, node, leaves ? sizeof(leaf) : sizeof(inner));
      rm_bt_inner_remove(p, i);
    } else if (n >= (leaves ? LEAF_MIN : INNER_MIN)) {
      return;
    } else if (p->n > 1) {
      if (!fix_child(t->mem, p, i, leaves)) return;
    }
    node = p;
    d--;
  }
  rm_bt_shrink_root(t);
}

/* Writes `first`, the new first entry of the path's leaf, into the
 * separator that names the leaf's first entry: at the deepest level where
 * the way down did not take child 0 (there is none for the tree's first
 * leaf). After a delete that emptied the leaf, `first` is the next leaf's
 * first entry, or NULL when nothing follows: then that separator's
 * subtree is empty and goes away with it. */
void rm_bt_replace_sep(const rm_btree *t, path *pa, const rm_bt_entry *first) {
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
  l = rm_bt_descend(t, &p, &pa, 1);
  pos = leaf_find(l, &p);
  if (pos == l->n || probe_cmp(&l->e[pos].key, l->e[pos].seq, &p) != 0)
    return 0;
  l->e[pos] = *e;
  if (pos == 0) rm_bt_replace_sep(t, &pa, &l->e[0]);
  return 1;
}

/* The leaf holding (key, seq) and its place there, with the way down;
 * NULL when the entry is not in the tree. */
leaf *rm_bt_find_entry(const rm_btree *t, const rm_value *key, uint64_t seq,
                        path *pa, unsigned *pos) {
  probe p = exact(key, seq);
  leaf *l;
  if (t->root == NULL) return NULL;
  l = rm_bt_descend(t, &p, pa, 1);
  *pos = leaf_find(l, &p);
  if (*pos == l->n || probe_cmp(&l->e[*pos].key, l->e[*pos].seq, &p) != 0)
    return NULL;
  return l;
}

/* Takes entry pos out of the path's leaf l and out of the counts above;
 * separators and fill are the caller's. */
void rm_bt_take_out(rm_btree *t, path *pa, leaf *l, unsigned pos) {
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
  if ((l = rm_bt_find_entry(t, key, seq, &pa, &pos)) == NULL) return 0;
  rm_bt_take_out(t, &pa, l, pos);
  if (pos == 0)
    rm_bt_replace_sep(t, &pa,
                      l->n > 0 ? &l->e[0] : l->next ? &l->next->e[0] : NULL);
  rebalance(t, &pa, l);
  return 1;
}
