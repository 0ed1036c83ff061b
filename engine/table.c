/*
 * Tables: the records of one model in one store. Records are found by
 * primary key through a uthash map, kept in insertion order in a slot array
 * (an overwrite takes the old record's slot), and unique fields have a map
 * of their own. Every write checks everything first and allocates
 * everything it needs before it changes anything, so a failing write leaves
 * the table as it was.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static rm_mem *table_mem(rm_table *t) { return &t->store->mem; }

const rm_schema *rm_table_schema(const rm_table *t) { return t->schema; }
size_t rm_table_count(const rm_table *t) { return t->count; }
const char *rm_table_name(const rm_table *t) { return t->name; }
uint64_t rm_table_version(const rm_table *t) { return t->version; }

/* Quotes key bytes for messages (strings as text, others as a number). */
static void key_text(const rm_schema *s, int field, const unsigned char *data,
                     char *buf, size_t cap) {
  rm_value v;
  rm_record_get(s, data, field, &v);
  if (v.tag == RM_V_STR) {
    int n = v.u.s.len > 60 ? 60 : (int)v.u.s.len;
    snprintf(buf, cap, "\"%.*s%s\"", n, v.u.s.ptr, v.u.s.len > 60 ? "..." : "");
  } else if (v.tag == RM_V_INT) {
    snprintf(buf, cap, "%lld", (long long)v.u.i);
  } else if (v.tag == RM_V_FLOAT) {
    snprintf(buf, cap, "%.17g", v.u.f);
  } else {
    snprintf(buf, cap, "%s", v.tag == RM_V_TRUE ? "true" : "false");
  }
}

/* Renumbers live records into the front of the slot array. */
static void compact_slots(rm_table *t) {
  size_t i, n = 0;
  for (i = 0; i < t->nslots; i++) {
    if (t->slots[i] == NULL) continue;
    t->slots[n] = t->slots[i];
    t->slots[n]->slot = (uint32_t)n;
    n++;
  }
  t->nslots = n;
}

/* Makes room for one more slot, compacting when at least half the slots
 * are holes, otherwise growing by half. */
static int reserve_slot(rm_table *t) {
  size_t cap;
  rm_record **grown;
  if (t->nslots < t->capslots) return 0;
  if (t->nslots - t->count >= t->nslots / 2 && t->nslots > 0) {
    compact_slots(t);
    if (t->nslots < t->capslots) return 0;
  }
  cap = t->capslots < 16 ? 16 : t->capslots + t->capslots / 2;
  if (cap > UINT32_MAX) return -1;
  grown = rm_mem_realloc(table_mem(t), t->slots, t->capslots * sizeof *grown,
                         cap * sizeof *grown);
  if (grown == NULL) return -1;
  t->slots = grown;
  t->capslots = cap;
  return 0;
}

static int number_field(const rm_table *t, int u) {
  return t->schema->fields[t->schema->unique[u]].type == RM_T_NUMBER;
}

static size_t entry_size(const rm_table *t, int u) {
  return sizeof(rm_unique_entry) + (number_field(t, u) ? RM_KEY_SCRATCH : 0);
}

/* The key of unique field u in data: bytes inside data, or for number
 * fields canonical bytes written to buf (RM_KEY_SCRATCH bytes). */
static rm_keybytes unique_key(const rm_table *t, int u,
                              const unsigned char *data, unsigned char *buf) {
  rm_keybytes k;
  rm_value v;
  if (!number_field(t, u)) return rm_record_key(t->schema, data, t->schema->unique[u]);
  rm_record_get(t->schema, data, t->schema->unique[u], &v);
  k.len = rm_number_key(&v, buf);
  k.ptr = buf;
  return k;
}

/* The unique-map entries that point at r (NULL where r's value is nil). */
static void own_entries(rm_table *t, const rm_record *r,
                        rm_unique_entry **out) {
  const rm_schema *s = t->schema;
  int u;
  for (u = 0; u < s->nunique; u++) {
    unsigned char buf[RM_KEY_SCRATCH];
    rm_value v;
    out[u] = NULL;
    if (r == NULL) continue;
    rm_record_get(s, r->data, s->unique[u], &v);
    if (v.tag != RM_V_NIL)
      out[u] = rm_umap_find(&t->unique[u], unique_key(t, u, r->data, buf));
  }
}

/* Fails with RM_E_DUPLICATE when a record other than `self` holds one of
 * the unique values in data. */
static int check_unique(rm_table *t, const unsigned char *data,
                        const rm_record *self, rm_diag *d) {
  const rm_schema *s = t->schema;
  int u;
  for (u = 0; u < s->nunique; u++) {
    int field = s->unique[u];
    unsigned char buf[RM_KEY_SCRATCH];
    rm_unique_entry *e;
    rm_value v;
    char key[80];
    rm_record_get(s, data, field, &v);
    if (v.tag == RM_V_NIL) continue;
    e = rm_umap_find(&t->unique[u], unique_key(t, u, data, buf));
    if (e == NULL || e->rec == self) continue;
    key_text(s, field, data, key, sizeof key);
    rm_diag_set(d, RM_E_DUPLICATE,
                "%s.%s: value %s is already used by another record",
                s->name, s->fields[field].name, key);
    return -1;
  }
  return 0;
}

static void free_entries(rm_table *t, rm_unique_entry **entries) {
  int u;
  for (u = 0; u < t->schema->nunique; u++)
    rm_mem_free(table_mem(t), entries[u], entry_size(t, u));
}

/* Allocates the unique-map entries of a new record (NULL for nil
 * values). */
static int alloc_entries(rm_table *t, rm_record *r, rm_unique_entry **out) {
  const rm_schema *s = t->schema;
  int u;
  for (u = 0; u < s->nunique; u++) {
    rm_value v;
    out[u] = NULL;
    rm_record_get(s, r->data, s->unique[u], &v);
    if (v.tag == RM_V_NIL) continue;
    out[u] = rm_mem_alloc(table_mem(t), entry_size(t, u));
    if (out[u] == NULL) {
      free_entries(t, out);
      return -1;
    }
    out[u]->rec = r;
  }
  return 0;
}

/* Links a new record into the key map and unique maps. On failure undoes
 * what it linked and returns -1. */
static int link_record(rm_table *t, rm_record *r, rm_unique_entry **entries) {
  const rm_schema *s = t->schema;
  int u;
  if (rm_map_add(table_mem(t), &t->by_key, r, rm_record_key(s, r->data, s->pk)) < 0)
    return -1;
  for (u = 0; u < s->nunique; u++) {
    rm_keybytes k;
    if (entries[u] == NULL) continue;
    k = unique_key(t, u, r->data, entries[u]->key);
    if (rm_umap_add(table_mem(t), &t->unique[u], entries[u], k) == 0) continue;
    while (--u >= 0)
      if (entries[u] != NULL) rm_umap_remove(table_mem(t), &t->unique[u], entries[u]);
    rm_map_remove(table_mem(t), &t->by_key, r);
    return -1;
  }
  return 0;
}

/* Unlinks and frees a record that another one (or nothing) replaces. */
static void drop_record(rm_table *t, rm_record *r, rm_unique_entry **entries) {
  int u;
  for (u = 0; u < t->schema->nunique; u++) {
    if (entries[u] == NULL) continue;
    rm_umap_remove(table_mem(t), &t->unique[u], entries[u]);
    rm_mem_free(table_mem(t), entries[u], entry_size(t, u));
  }
  rm_map_remove(table_mem(t), &t->by_key, r);
  rm_mem_free(table_mem(t), r, RM_RECORD_HEADER + rm_record_data_size(t->schema, r->data));
}

/* Puts r in insertion order: the slot of the record it replaces, or a new
 * one at the end. */
static void place_record(rm_table *t, rm_record *r, const rm_record *old) {
  if (old != NULL) {
    r->seq = old->seq;
    r->slot = old->slot;
  } else {
    r->seq = t->next_seq++;
    r->slot = (uint32_t)t->nslots++;
    t->count++;
  }
  t->slots[r->slot] = r;
}

static int check_mode(rm_table *t, const unsigned char *data,
                      const rm_record *old, rm_put_mode mode, rm_diag *d) {
  const rm_schema *s = t->schema;
  char key[80];
  if (mode == RM_PUT_CREATE && old != NULL) {
    key_text(s, s->pk, data, key, sizeof key);
    rm_diag_set(d, RM_E_DUPLICATE, "%s: a record with %s %s already exists",
                s->name, s->fields[s->pk].name, key);
    return -1;
  }
  if (mode == RM_PUT_UPDATE && old == NULL) {
    key_text(s, s->pk, data, key, sizeof key);
    rm_diag_set(d, RM_E_NOT_FOUND,
                "%s: no record with %s %s (it was deleted since it was loaded)",
                s->name, s->fields[s->pk].name, key);
    return -1;
  }
  return 0;
}

static int out_of_memory(rm_table *t, rm_diag *d) {
  rm_diag_set(d, RM_E_MEMORY, "%s: out of memory", t->schema->name);
  return -1;
}

/* A copy of data in a new record, with its unique-map entries; nothing
 * linked yet. */
static rm_record *new_record(rm_table *t, const unsigned char *data,
                             size_t size, rm_unique_entry **entries) {
  rm_record *r = rm_mem_alloc(table_mem(t), RM_RECORD_HEADER + size);
  if (r == NULL) return NULL;
  memcpy(r->data, data, size);
  if (alloc_entries(t, r, entries) == 0) return r;
  rm_mem_free(table_mem(t), r, RM_RECORD_HEADER + size);
  return NULL;
}

int rm_table_put(rm_table *t, const unsigned char *data, size_t size,
                 rm_put_mode mode, const rm_record **out, rm_diag *d) {
  const rm_schema *s = t->schema;
  rm_unique_entry *old_entries[RM_MAX_FIELDS], *new_entries[RM_MAX_FIELDS];
  rm_record *old, *r;
  old = (rm_record *)rm_map_find(&t->by_key, rm_record_key(s, data, s->pk));
  if (check_mode(t, data, old, mode, d) < 0) return -1;
  if (check_unique(t, data, old, d) < 0) return -1;
  /* Found before the new entries go in: the maps then hold both. */
  own_entries(t, old, old_entries);
  if (old == NULL && reserve_slot(t) < 0) return out_of_memory(t, d);
  r = new_record(t, data, size, new_entries);
  if (r == NULL) return out_of_memory(t, d);
  if (link_record(t, r, new_entries) < 0) {
    free_entries(t, new_entries);
    rm_mem_free(table_mem(t), r, RM_RECORD_HEADER + size);
    return out_of_memory(t, d);
  }
  place_record(t, r, old);
  if (old != NULL) drop_record(t, old, old_entries);
  t->version++;
  if (out) *out = r;
  return 0;
}

/* Converts a key value to the key field's type and finds its record. */
static int find_by_key(const rm_table *t, rm_value key, rm_record **out,
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
  int rc = find_by_key(t, key, &r, d);
  *out = r;
  return rc;
}

/* Trims trailing holes so that deleting from the end keeps the array
 * short. */
static void trim_slots(rm_table *t) {
  while (t->nslots > 0 && t->slots[t->nslots - 1] == NULL) t->nslots--;
}

int rm_table_delete(rm_table *t, rm_value key, rm_diag *d) {
  rm_unique_entry *entries[RM_MAX_FIELDS];
  rm_record *r;
  if (find_by_key(t, key, &r, d) < 0) return -1;
  if (r == NULL) return 0;
  own_entries(t, r, entries);
  t->slots[r->slot] = NULL;
  t->count--;
  drop_record(t, r, entries);
  trim_slots(t);
  t->version++;
  return 1;
}

void rm_table_clear(rm_table *t) {
  rm_mem *m = table_mem(t);
  size_t i;
  int u;
  for (u = 0; u < t->schema->nunique; u++)
    rm_umap_clear(m, &t->unique[u], entry_size(t, u));
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
  rm_schema_unref(t->schema);
  rm_mem_free(m, t->name, strlen(t->name) + 1);
  rm_mem_free(m, t, sizeof *t);
}
