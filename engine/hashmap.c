/*
 * The one file that expands uthash macros. uthash allocates through the
 * engine allocator of the store at hand (the `hash_mem_` variable each
 * function below declares), and runs with HASH_NONFATAL_OOM so that out of
 * memory is reported, never an exit(): an add that could not allocate sets
 * `hash_oom_` and leaves the map without the item.
 */
#include "internal.h"

#undef uthash_malloc
#undef uthash_free
#undef uthash_nonfatal_oom
#define uthash_malloc(sz) rm_mem_alloc(hash_mem_, (sz))
#define uthash_free(ptr, sz) rm_mem_free(hash_mem_, (ptr), (sz))
#define uthash_nonfatal_oom(obj) (hash_oom_ = 1)

const rm_record *rm_map_find(rm_record *const *head, rm_keybytes k) {
  rm_record *found = NULL;
  HASH_FIND(hh, *head, k.ptr, (unsigned)k.len, found);
  return found;
}

int rm_map_add(rm_mem *m, rm_record **head, rm_record *r, rm_keybytes k) {
  rm_mem *hash_mem_ = m;
  int hash_oom_ = 0;
  HASH_ADD_KEYPTR(hh, *head, k.ptr, (unsigned)k.len, r);
  return hash_oom_ ? -1 : 0;
}

void rm_map_remove(rm_mem *m, rm_record **head, rm_record *r) {
  rm_mem *hash_mem_ = m;
  HASH_DELETE(hh, *head, r);
}

/* Frees the map's buckets only; the records are freed by their table. */
void rm_map_clear(rm_mem *m, rm_record **head) {
  rm_mem *hash_mem_ = m;
  HASH_CLEAR(hh, *head);
}

rm_unique_entry *rm_umap_find(rm_unique_entry *const *head, rm_keybytes k) {
  rm_unique_entry *found = NULL;
  HASH_FIND(hh, *head, k.ptr, (unsigned)k.len, found);
  return found;
}

int rm_umap_add(rm_mem *m, rm_unique_entry **head, rm_unique_entry *e,
                rm_keybytes k) {
  rm_mem *hash_mem_ = m;
  int hash_oom_ = 0;
  HASH_ADD_KEYPTR(hh, *head, k.ptr, (unsigned)k.len, e);
  return hash_oom_ ? -1 : 0;
}

void rm_umap_remove(rm_mem *m, rm_unique_entry **head, rm_unique_entry *e) {
  rm_mem *hash_mem_ = m;
  HASH_DELETE(hh, *head, e);
}

void rm_umap_clear(rm_mem *m, rm_unique_entry **head, size_t entry_size) {
  rm_mem *hash_mem_ = m;
  rm_unique_entry *e, *tmp;
  HASH_ITER(hh, *head, e, tmp) {
    HASH_DELETE(hh, *head, e);
    rm_mem_free(m, e, entry_size);
  }
}

rm_table *rm_tables_find(rm_table *const *head, const char *name) {
  rm_table *found = NULL;
  HASH_FIND_STR(*head, name, found);
  return found;
}

int rm_tables_add(rm_mem *m, rm_table **head, rm_table *t) {
  rm_mem *hash_mem_ = m;
  int hash_oom_ = 0;
  HASH_ADD_KEYPTR(hh, *head, t->name, (unsigned)strlen(t->name), t);
  return hash_oom_ ? -1 : 0;
}

/* Forgets every table (freeing them is the store's job). */
void rm_tables_clear(rm_mem *m, rm_table **head) {
  rm_mem *hash_mem_ = m;
  HASH_CLEAR(hh, *head);
}
