/*
 * Order-statistic B+trees for the ordered secondary indexes of a table.
 *
 * A tree holds entries (key, seq, rec) in the order of (key, seq): keys by
 * rm_value_compare, except that nil keys sort after every other key; equal
 * keys by seq, ascending. Besides insert and delete in O(log n), it answers
 * "how many entries come before this key" and "which entry has rank r" in
 * O(log n) without walking the entries in between: every inner node keeps
 * the number of entries under each child. Leaves are linked both ways, so
 * a cursor steps to the next or previous entry in O(1).
 *
 * A write that fails after some inserts undoes them with rm_btree_unput,
 * which also gives back every node those inserts took: each node is
 * stamped with the insert that made it.
 *
 * Ownership: the tree owns its nodes (allocated from the rm_mem given to
 * rm_btree_init, freed by delete and rm_btree_clear). It does not own what
 * entries point to: a string key's bytes and `rec` belong to the caller
 * (the record) and must stay valid, unchanged, for as long as the entry is
 * in the tree, because separators in inner nodes may point at those bytes
 * too. Remove an entry before freeing its record.
 */
#ifndef RM_BTREE_H
#define RM_BTREE_H

#include "internal.h"

/* Entries per leaf and children per inner node: each node is one slab
 * block of at most RM_SLAB_MAX bytes (992 and 1024 bytes on LP64). */
#define RM_BT_LEAF_MAX 24
#define RM_BT_INNER_MAX 21
/* Levels a tree may grow to; at the minimum fill that is far more entries
 * than memory holds. An insert that would go deeper fails as if out of
 * memory. */
#define RM_BT_MAX_DEPTH 40

/* A key as a tree keeps it: an rm_value's tag and payload, in the 24
 * bytes an rm_value takes, but with a string's length in 32 bits and, in
 * the room that leaves, the string's first 8 bytes. A string's bytes live
 * in its record, somewhere in memory: comparing those first bytes settles
 * most comparisons of a descent within the node, without reading the
 * record. Strings of 4 GiB or more cannot be keys. */
typedef struct rm_bt_val {
  uint32_t tag;       /* an rm_vtag */
  uint32_t len;       /* strings: the length */
  union {
    int64_t i;
    double f;
    const char *s;    /* strings: borrowed from the caller */
  } u;
  uint64_t head;      /* strings: the first 8 bytes, big-endian, 0-padded */
} rm_bt_val;

typedef struct rm_bt_entry {
  rm_bt_val key;     /* strings point into the caller's memory */
  uint64_t seq;      /* unique among live entries of one tree */
  const void *rec;   /* the caller's record; not used by the tree */
} rm_bt_entry;

/* A separator: the (key, seq) of the first entry under a child. */
typedef struct rm_bt_key {
  rm_bt_val key;
  uint64_t seq;
} rm_bt_key;

typedef struct rm_bt_leaf rm_bt_leaf;
struct rm_bt_leaf {
  rm_bt_leaf *prev, *next;            /* neighbours in key order */
  unsigned n;                         /* entries in e[]; never 0 */
  uint64_t gen;                       /* the insert that made it */
  rm_bt_entry e[RM_BT_LEAF_MAX];
};

/* Child i holds the entries from sep[i] (included) to sep[i + 1]
 * (excluded); sep[i] is exactly the first entry under child i. sep[0] is
 * not used: child 0's first entry is a separator further up, or the
 * tree's first entry. */
typedef struct rm_bt_inner {
  unsigned n;                         /* children, at least 1 */
  uint64_t gen;                       /* the insert that made it */
  size_t cnt[RM_BT_INNER_MAX];        /* entries under each child */
  void *child[RM_BT_INNER_MAX];       /* inner nodes or leaves */
  rm_bt_key sep[RM_BT_INNER_MAX];
} rm_bt_inner;

/* Embedded in its owner; rm_btree_init before use. (The typedef name
 * rm_btree comes from internal.h, which tables need without this file.) */
struct rm_btree {
  rm_mem *mem;
  void *root;         /* NULL when empty; a leaf when height is 1 */
  unsigned height;    /* levels, leaves included; 0 when empty */
  size_t count;
  uint64_t gen;       /* inserts done less those unput: the number of
                         the insert the next unput undoes, which stamped
                         the nodes it made with it */
};

/* A position between two entries (or before the first, after the last).
 * Valid until the next insert, delete, unput or clear on its tree
 * (rm_btree_replace moves nothing and keeps it valid). */
typedef struct rm_bt_iter {
  const rm_bt_leaf *leaf; /* NULL on an empty tree */
  unsigned idx;           /* the gap before leaf->e[idx] */
} rm_bt_iter;

/* Fills *e with key (a string's bytes are borrowed, not copied), seq and
 * rec. */
void rm_bt_entry_set(rm_bt_entry *e, const rm_value *key, uint64_t seq,
                     const void *rec);
/* An entry's key as a value (a string borrows the same bytes). */
rm_value rm_bt_entry_key(const rm_bt_entry *e);

/* An empty tree whose nodes come from m. Allocates nothing. */
void rm_btree_init(rm_btree *t, rm_mem *m);
/* Frees every node; the tree is empty and usable again. */
void rm_btree_clear(rm_btree *t);
size_t rm_btree_count(const rm_btree *t);

/* Copies *e into the tree. (e->key, e->seq) must not be in the tree
 * already. Returns 0, or -1 with the tree unchanged when out of memory or
 * when the key is a string of 4 GiB or more. */
int rm_btree_insert(rm_btree *t, const rm_bt_entry *e);
/* Removes the entry (key, seq): 1 if it was there, 0 if not. Never
 * allocates, never fails. */
int rm_btree_delete(rm_btree *t, const rm_value *key, uint64_t seq);
/* Undoes the last insert into t, which put (key, seq) in: removes the entry
 * and gives back every node that insert took (a split leaf, the inner
 * nodes split above it, a new root), so that the tree holds the nodes and
 * the allocator the bytes they had before the insert. Entries an insert
 * passed to a neighbouring leaf are not passed back: the tree holds the
 * same entries in the same nodes, not necessarily spread the same way.
 * Inserts and unputs pair up like pushes and pops: each unput undoes the
 * latest insert not yet undone, which must be its entry, with no delete
 * or clear since (lookups, rm_btree_replace and failed inserts are fine).
 * Never allocates, never fails. Called otherwise, it still removes the
 * entry and leaves a sound tree, but the nodes kept or freed, and so the
 * bytes, are unspecified from then on; an entry not in the tree is
 * ignored. */
void rm_btree_unput(rm_btree *t, const rm_value *key, uint64_t seq);
/* Points the entry (e->key, e->seq) at new memory: its key and rec become
 * e's. For a record replaced by a copy with an equal key (in the order:
 * 1 and 1.0 are equal) and the same seq, so that no entry or separator
 * keeps pointing into the old record's bytes. Returns 1, or 0 when the
 * entry is not in the tree. Never allocates. */
int rm_btree_replace(rm_btree *t, const rm_bt_entry *e);
/* The entry (key, seq), or NULL. Points into the tree: valid until the
 * next insert, delete or clear. */
const rm_bt_entry *rm_btree_find(const rm_btree *t, const rm_value *key,
                                 uint64_t seq);

/* The number of entries whose key is < key (inclusive = 0) or <= key
 * (inclusive = 1). A nil key counts every non-nil entry (and with
 * inclusive = 1 the nil ones too). */
size_t rm_btree_rank_lower(const rm_btree *t, const rm_value *key,
                           int inclusive);
/* The number of entries ordered before (key, seq); that entry's rank when
 * it is in the tree. */
size_t rm_btree_rank_of(const rm_btree *t, const rm_value *key, uint64_t seq);
/* The entry of rank `rank` (0-based), or NULL when rank >= count. Valid
 * until the next insert, delete or clear. */
const rm_bt_entry *rm_btree_at(const rm_btree *t, size_t rank);

/* Puts the cursor in the gap before rank `rank` (clamped to the count):
 * rm_btree_next then returns the entry of that rank, rm_btree_prev the one
 * before it. */
void rm_btree_seek(const rm_btree *t, size_t rank, rm_bt_iter *it);
/* The entry after the cursor, moving past it; NULL at the end. */
const rm_bt_entry *rm_btree_next(rm_bt_iter *it);
/* The entry before the cursor, moving before it; NULL at the start. */
const rm_bt_entry *rm_btree_prev(rm_bt_iter *it);

/* Checks every invariant of the tree (order, separators, counts, leaf
 * links, fill). Returns 0, or the source line of the first violated check.
 * For tests; O(n). */
int rm_btree_check(const rm_btree *t);

#endif
