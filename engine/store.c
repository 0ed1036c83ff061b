/*
 * Stores: one per backend, holding a table per model name and the
 * allocator that counts the store's bytes.
 */
#include <string.h>

#include "internal.h"

rm_store *rm_store_new(void) {
  rm_store *st = rm_xalloc(sizeof *st);
  if (st == NULL) return NULL;
  memset(st, 0, sizeof *st);
  rm_cursor_secret(st->secret);
  return st;
}

void rm_store_free(rm_store *st) {
  rm_table *t, *next;
  if (st == NULL) return;
  rm_tables_clear(&st->mem, &st->tables);
  for (t = st->first; t != NULL; t = next) {
    next = t->next_created;
    rm_table_free(t);
  }
  rm_mem_release(&st->mem);
  rm_xfree(st);
}

void rm_store_set_limit(rm_store *st, size_t bytes) { st->mem.limit = bytes; }
size_t rm_store_bytes(const rm_store *st) { return st->mem.bytes; }
size_t rm_store_reserved(const rm_store *st) { return rm_mem_reserved(&st->mem); }

size_t rm_store_records(const rm_store *st) {
  const rm_table *t;
  size_t n = 0;
  for (t = st->first; t != NULL; t = t->next_created) n += t->count;
  return n;
}

void rm_store_each_table(rm_store *st, void (*fn)(rm_table *, void *),
                         void *ud) {
  rm_table *t;
  for (t = st->first; t != NULL; t = t->next_created) fn(t, ud);
}

rm_table *rm_store_find(rm_store *st, const char *name) {
  return rm_tables_find(&st->tables, name);
}

static rm_table *create_table(rm_store *st, const rm_schema *s, rm_diag *d) {
  size_t len = strlen(s->name);
  rm_table *t = rm_mem_alloc(&st->mem, sizeof *t);
  if (t == NULL) goto oom;
  memset(t, 0, sizeof *t);
  t->name = rm_mem_alloc(&st->mem, len + 1);
  if (t->name == NULL) goto oom;
  memcpy(t->name, s->name, len + 1);
  t->store = st;
  t->schema = (rm_schema *)s;
  if (rm_index_init(t) < 0) goto oom;
  if (rm_tables_add(&st->mem, &st->tables, t) < 0) {
    rm_index_free(t);
    goto oom;
  }
  rm_schema_ref(t->schema);
  if (st->last) st->last->next_created = t;
  else st->first = t;
  st->last = t;
  return t;
oom:
  if (t) rm_mem_free(&st->mem, t->name, len + 1);
  rm_mem_free(&st->mem, t, sizeof *t);
  rm_diag_set(d, RM_E_MEMORY, "%s: out of memory", s->name);
  return NULL;
}

/* An empty table takes the newer declaration (fixtures redeclare models
 * freely); its maps are empty, so nothing is keyed by the old layout, and
 * unique maps are made by their first add. The indexes are remade for the
 * new fields: allocated first, so that running out of memory leaves the
 * table as it was; what follows only frees. Trees built on the old schema
 * no longer fit the table and queries refuse them (rm_where_check). */
static rm_table *swap_schema(rm_table *t, const rm_schema *s, rm_diag *d) {
  rm_btree *trees;
  if (rm_index_new(t, s, &trees) < 0) {
    rm_diag_set(d, RM_E_MEMORY, "%s: out of memory", s->name);
    return NULL;
  }
  rm_table_clear(t);          /* the old schema's slots, maps and trees */
  rm_index_replace(t, trees); /* reads the old schema's index count */
  rm_schema_ref((rm_schema *)s);
  rm_schema_unref(t->schema);
  t->schema = (rm_schema *)s;
  return t;
}

rm_table *rm_store_table(rm_store *st, const rm_schema *s, rm_diag *d) {
  rm_table *t;
  /* Before finish the key and index positions are not known yet. */
  if (!s->finished) {
    rm_diag_set(d, RM_E_CONFIG, "%s: the model is not finished "
                "(rm_schema_finish) and cannot have a table yet", s->name);
    return NULL;
  }
  t = rm_tables_find(&st->tables, s->name);
  if (t == NULL) return create_table(st, s, d);
  if (rm_schema_compatible(t->schema, s)) return t;
  if (t->count == 0) return swap_schema(t, s, d);
  rm_diag_set(d, RM_E_CONFIG,
              "%s: this backend holds %zu %s records declared with other "
              "fields; clear them (backend:clear(%s)) or use another backend",
              s->name, t->count, s->name, s->name);
  return NULL;
}
