/*
 * Undoing the last insert into an order-statistic B+tree (btree.h).
 */
#include "btree_impl.h"

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
  if (!apart) rm_bt_inner_remove(p->pb, p->ib);
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
  rm_bt_leaf_unlink(b);
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
  rm_bt_shrink_root(t);
}

void rm_btree_unput(rm_btree *t, const rm_value *key, uint64_t seq) {
  pair pr[RM_BT_MAX_DEPTH];
  path pa;
  leaf *l;
  unsigned pos, d, npairs = 0;
  int split = 0;
  if ((l = rm_bt_find_entry(t, key, seq, &pa, &pos)) == NULL) return;
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
    rm_bt_take_out(t, &pa, l, pos);
    merge_pairs(t, pr, npairs);
    /* The old leaf's first entry may have changed (it was the entry, or
     * went to a neighbour, or the leaf emptied before the merge). Its
     * name above is the only separator that may be stale, and it sorts
     * before the new first entry, so a lookup still finds the leaf. */
    a = pr[0].a;
    {
      probe p = at_entry(&a->e[0]);
      path pa2;
      rm_bt_descend(t, &p, &pa2, 0);
      rm_bt_replace_sep(t, &pa2, &a->e[0]);
    }
  } else {
    inner *p = t->height > 1 ? pa.node[t->height - 2] : NULL;
    unsigned i = t->height > 1 ? pa.idx[t->height - 2] : 0;
    int j = 0;
    if (l->n == 1 && (p == NULL || (j = donor(p, i)) < 0)) goto not_last;
    rm_bt_take_out(t, &pa, l, pos);
    if (l->n == 0) refill(p, i, (unsigned)j);
    if (pos == 0) rm_bt_replace_sep(t, &pa, &l->e[0]);
  }
  if (t->gen > 0) t->gen--;
  return;
not_last:
  /* Not what the last insert left: the entry goes as by a delete. */
  rm_btree_delete(t, key, seq);
  if (t->gen > 0) t->gen--;
}
