/*
 * Ordered indexes: a B+tree per indexed field, of (value, seq) -> slot,
 * kept exact through every write. Entries name the record by its slot in
 * the table's insertion-order array, which a replacing write keeps: an
 * update that leaves an indexed number or boolean unchanged does not touch
 * that tree at all. String values in entries point into the record, so
 * such an entry is repointed to the new record (rm_btree_replace); slots
 * renumbered by compaction are renumbered in the trees too.
 */
#include <string.h>

#include "btree.h"

static rm_mem *table_mem(rm_table *t) { return &t->store->mem; }

int rm_index_new(rm_table *t, const rm_schema *s, rm_btree **out) {
  int i, n = s->nindexed;
  *out = NULL;
  if (n == 0) return 0;
  *out = rm_mem_alloc(table_mem(t), (size_t)n * sizeof **out);
  if (*out == NULL) return -1;
  for (i = 0; i < n; i++) rm_btree_init(&(*out)[i], table_mem(t));
  return 0;
}

int rm_index_init(rm_table *t) { return rm_index_new(t, t->schema, &t->trees); }

void rm_index_replace(rm_table *t, rm_btree *trees) {
  rm_index_free(t);
  t->trees = trees;
}

void rm_index_clear(rm_table *t) {
  int i;
  for (i = 0; i < t->schema->nindexed; i++) rm_btree_clear(&t->trees[i]);
}

void rm_index_free(rm_table *t) {
  rm_index_clear(t);
  rm_mem_free(table_mem(t), t->trees,
              (size_t)t->schema->nindexed * sizeof *t->trees);
  t->trees = NULL;
}

/* Record r's value of the field index i orders by. */
static rm_value key_of(const rm_table *t, int i, const rm_record *r) {
  rm_value v;
  rm_record_get(t->schema, r->data, t->schema->indexed[i], &v);
  return v;
}

static void entry_of(const rm_table *t, int i, const rm_record *r,
                     rm_bt_entry *e) {
  rm_value v = key_of(t, i, r);
  rm_bt_entry_set(e, &v, r->seq, (const void *)(uintptr_t)r->slot);
}

const rm_record *rm_index_record(const rm_table *t, const rm_bt_entry *e) {
  return t->slots[(uintptr_t)e->rec];
}

/* After compaction gave records new slot numbers (r->slot) but before the
 * slot array itself moved: every entry follows its record. */
void rm_index_renumber(rm_table *t) {
  int i;
  for (i = 0; i < t->schema->nindexed; i++) {
    rm_bt_iter it;
    const rm_bt_entry *e;
    rm_btree_seek(&t->trees[i], 0, &it);
    while ((e = rm_btree_next(&it)) != NULL) {
      rm_bt_entry *w = (rm_bt_entry *)e; /* rec is not part of the order */
      w->rec = (const void *)(uintptr_t)t->slots[(uintptr_t)e->rec]->slot;
    }
  }
}

/* Whether index i keeps old's entry for r (same value and seq: the entry
 * is moved, not added). */
static int unchanged(const rm_table *t, int i, const rm_record *r,
                     const rm_record *old) {
  rm_value a, b;
  if (old == NULL) return 0;
  a = key_of(t, i, r);
  b = key_of(t, i, old);
  return rm_value_equal(&a, &b);
}

/* Whether index i's keys can point into records: strings and bytes. */
static int borrows_bytes(const rm_table *t, int i) {
  rm_ftype type = t->schema->fields[t->schema->indexed[i]].type;
  return type == RM_T_STRING || type == RM_T_BYTES;
}

/* Whether the write keeps index i's value (rm_index_same). */
static int is_same(const rm_index_same *same, int i) {
  return (int)((same->bits[i / 64] >> (i % 64)) & 1u);
}

/* Fills *same for a write of r over old (NULL for an insert: nothing is
 * the same). */
static void find_same(const rm_table *t, const rm_record *r,
                      const rm_record *old, rm_index_same *same) {
  int i;
  memset(same, 0, sizeof *same);
  for (i = 0; i < t->schema->nindexed; i++)
    if (unchanged(t, i, r, old)) same->bits[i / 64] |= (uint64_t)1 << (i % 64);
}

/* Undoes the inserts of rm_index_link for r into trees [0, n), last
 * first: rm_btree_unput also gives back the nodes an insert split off, so
 * that the store's bytes are as before the link. */
static void unput_range(rm_table *t, const rm_record *r,
                        const rm_index_same *same, int n) {
  while (n-- > 0) {
    rm_value v;
    if (is_same(same, n)) continue;
    v = key_of(t, n, r);
    rm_btree_unput(&t->trees[n], &v, r->seq);
  }
}

int rm_index_link(rm_table *t, const rm_record *r, const rm_record *old,
                  rm_index_same *same) {
  int i;
  find_same(t, r, old, same);
  for (i = 0; i < t->schema->nindexed; i++) {
    rm_bt_entry e;
    if (is_same(same, i)) continue;
    entry_of(t, i, r, &e);
    if (rm_btree_insert(&t->trees[i], &e) == 0) continue;
    unput_range(t, r, same, i);
    return -1;
  }
  return 0;
}

/* Only for undoing links, each tree's last insert first: records are
 * unlinked in the reverse order of their links, with no other change to
 * the trees in between (write.c, link_all). */
void rm_index_unlink(rm_table *t, const rm_record *r,
                     const rm_index_same *same) {
  unput_range(t, r, same, t->schema->nindexed);
}

void rm_index_commit(rm_table *t, const rm_record *r, const rm_record *old,
                     const rm_index_same *same) {
  int i;
  if (old == NULL) return;
  for (i = 0; i < t->schema->nindexed; i++) {
    rm_bt_entry e;
    rm_value v;
    if (is_same(same, i)) {
      /* Same slot: only string keys, which point into the record, move. */
      if (!borrows_bytes(t, i)) continue;
      entry_of(t, i, r, &e);
      if (e.key.tag == RM_V_STR) rm_btree_replace(&t->trees[i], &e);
    } else {
      v = key_of(t, i, old);
      rm_btree_delete(&t->trees[i], &v, old->seq);
    }
  }
}

void rm_index_remove(rm_table *t, const rm_record *r) {
  int i;
  for (i = 0; i < t->schema->nindexed; i++) {
    rm_value v = key_of(t, i, r);
    rm_btree_delete(&t->trees[i], &v, r->seq);
  }
}
