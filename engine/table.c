/*
 * Tables: the records of one model in one store. Records are found by
 * primary key through a uthash map and kept in insertion order in a slot
 * array (an overwrite takes the old record's slot); unique fields have a
 * map of their own. This file reads and clears tables; writes are in
 * write.c.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static rm_mem *table_mem(rm_table *t) { return &t->store->mem; }

const rm_schema *rm_table_schema(const rm_table *t) { return t->schema; }
size_t rm_table_count(const rm_table *t) { return t->count; }
const char *rm_table_name(const rm_table *t) { return t->name; }
uint64_t rm_table_version(const rm_table *t) { return t->version; }

/* Converts a key value to the key field's type and finds its record. */
int rm_table_find_key(const rm_table *t, rm_value key, rm_record **out,
                      rm_diag *d) {
  unsigned char scratch[RM_KEY_SCRATCH];
  *out = NULL;
  if (rm_field_coerce(t->schema, t->schema->pk, &key, d) < 0) return -1;
  if (key.tag == RM_V_NIL) return 0;
  *out = (rm_record *)rm_map_find(&t->by_key, rm_value_key(&key, scratch));
  return 0;
}

int rm_table_get(const rm_table *t, rm_value key, const rm_record **out,
                 rm_diag *d) {
  rm_record *r;
  int rc = rm_table_find_key(t, key, &r, d);
  *out = r;
  return rc;
}

void rm_table_clear(rm_table *t) {
  rm_mem *m = table_mem(t);
  size_t i;
  rm_table_clear_uniques(t);
  rm_index_clear(t);
  rm_map_clear(m, &t->by_key);
  for (i = 0; i < t->nslots; i++)
    if (t->slots[i])
      rm_mem_free(m, t->slots[i],
                  RM_RECORD_HEADER + rm_record_data_size(t->schema, t->slots[i]->data));
  rm_mem_free(m, t->slots, t->capslots * sizeof *t->slots);
  t->slots = NULL;
  t->nslots = t->capslots = t->count = 0;
  t->version++;
}

/* Slots hold records in sequence order with NULL holes; a probe that
 * lands on a hole looks at the next live slot. */
size_t rm_table_slot_after(const rm_table *t, uint64_t seq) {
  size_t lo = 0, hi = t->nslots;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2, live = mid;
    while (live < hi && t->slots[live] == NULL) live++;
    if (live == hi) hi = mid;
    else if (t->slots[live]->seq <= seq) lo = live + 1;
    else hi = mid;
  }
  return lo;
}

const rm_record *rm_table_next(const rm_table *t, size_t *pos) {
  while (*pos < t->nslots) {
    const rm_record *r = t->slots[(*pos)++];
    if (r != NULL) return r;
  }
  return NULL;
}

void rm_table_free(rm_table *t) {
  rm_mem *m = table_mem(t);
  rm_table_clear(t);
  rm_index_free(t);
  rm_schema_unref(t->schema);
  rm_mem_free(m, t->name, strlen(t->name) + 1);
  rm_mem_free(m, t, sizeof *t);
}
