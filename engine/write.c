/*
 * Writes: putting records (create, upsert, update) one at a time or as an
 * all-or-nothing batch, and removing them. A write runs in phases:
 * allocate every new record and map entry, check keys and unique values
 * (within the batch too), link the new records into the maps, and only
 * then unlink and free the records they replace. Until the last phase
 * nothing is visible, so a failure at any point leaves the table as it
 * was; the last phase cannot fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static rm_mem *table_mem(rm_table *t) { return &t->store->mem; }

/* ----------------------------------------------------------- messages */

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

static int out_of_memory(rm_table *t, rm_diag *d) {
  rm_diag_set(d, RM_E_MEMORY, "%s: out of memory", t->schema->name);
  return -1;
}

static int duplicate(rm_table *t, int field, const unsigned char *data,
                     rm_diag *d) {
  const rm_schema *s = t->schema;
  char key[80];
  key_text(s, field, data, key, sizeof key);
  if (field == s->pk)
    rm_diag_set(d, RM_E_DUPLICATE, "%s: a record with %s %s already exists",
                s->name, s->fields[field].name, key);
  else
    rm_diag_set(d, RM_E_DUPLICATE,
                "%s.%s: value %s is already used by another record",
                s->name, s->fields[field].name, key);
  return -1;
}

static int not_found(rm_table *t, const unsigned char *data, rm_diag *d) {
  const rm_schema *s = t->schema;
  char key[80];
  key_text(s, s->pk, data, key, sizeof key);
  rm_diag_set(d, RM_E_NOT_FOUND,
              "%s: no record with %s %s (it was deleted since it was loaded)",
              s->name, s->fields[s->pk].name, key);
  return -1;
}

/* -------------------------------------------------------------- slots */

/* Renumbers live records into the front of the slot array: records and
 * index entries learn their new numbers first, then the array moves. */
static void compact_slots(rm_table *t) {
  size_t i, n = 0;
  for (i = 0; i < t->nslots; i++)
    if (t->slots[i] != NULL) t->slots[i]->slot = (uint32_t)n++;
  rm_index_renumber(t);
  for (i = 0, n = 0; i < t->nslots; i++)
    if (t->slots[i] != NULL) t->slots[n++] = t->slots[i];
  t->nslots = n;
}

/* A larger slot array made for a write, installed only when the write
 * commits, so that a failing write leaves even the capacity as it was. */
typedef struct slot_growth {
  rm_record **slots;
  size_t cap;
} slot_growth;

/* Makes room for `more` new slots: compacting when at least half the
 * slots are holes (no allocation), otherwise preparing an array half as
 * large again (or large enough). */
static int reserve_slots(rm_table *t, size_t more, slot_growth *g) {
  size_t cap;
  g->slots = NULL;
  g->cap = 0;
  if (t->nslots + more <= t->capslots) return 0;
  if (t->nslots > 0 && t->nslots - t->count >= t->nslots / 2) {
    compact_slots(t);
    if (t->nslots + more <= t->capslots) return 0;
  }
  cap = t->capslots < 16 ? 16 : t->capslots + t->capslots / 2;
  if (cap < t->nslots + more) cap = t->nslots + more;
  if (cap > UINT32_MAX) return -1;
  g->slots = rm_mem_alloc(table_mem(t), cap * sizeof *g->slots);
  g->cap = cap;
  return g->slots == NULL ? -1 : 0;
}

static void install_slots(rm_table *t, slot_growth *g) {
  if (g->slots == NULL) return;
  if (t->nslots) memcpy(g->slots, t->slots, t->nslots * sizeof *t->slots);
  rm_mem_free(table_mem(t), t->slots, t->capslots * sizeof *t->slots);
  t->slots = g->slots;
  t->capslots = g->cap;
}

static void drop_growth(rm_table *t, slot_growth *g) {
  rm_mem_free(table_mem(t), g->slots, g->cap * sizeof *g->slots);
}

/* Trims trailing holes so that deleting from the end keeps the array
 * short. */
static void trim_slots(rm_table *t) {
  while (t->nslots > 0 && t->slots[t->nslots - 1] == NULL) t->nslots--;
}

/* Puts r in insertion order at the slot prepare() gave it: the slot of
 * the record it replaces, or the next one at the end (reserved). */
static void place_record(rm_table *t, rm_record *r, const rm_record *old) {
  if (old == NULL) {
    t->nslots = (size_t)r->slot + 1;
    t->count++;
  }
  t->slots[r->slot] = r;
}

/* ------------------------------------------------------ unique values */

static int number_field(const rm_table *t, int u) {
  return t->schema->fields[t->schema->unique[u]].type == RM_T_NUMBER;
}

static size_t entry_size(const rm_table *t, int u) {
  return sizeof(rm_unique_entry) + (number_field(t, u) ? RM_KEY_SCRATCH : 0);
}

/* The key of unique field u in data: bytes inside data, or for number
 * fields canonical bytes written to buf (RM_KEY_SCRATCH bytes). Sets
 * *nil when the value is nil (nil values are not counted). */
static rm_keybytes unique_key(const rm_table *t, int u,
                              const unsigned char *data, unsigned char *buf,
                              int *nil) {
  rm_keybytes k;
  rm_value v;
  rm_record_get(t->schema, data, t->schema->unique[u], &v);
  *nil = v.tag == RM_V_NIL;
  if (!number_field(t, u) || *nil)
    return rm_record_key(t->schema, data, t->schema->unique[u]);
  k.len = rm_number_key(&v, buf);
  k.ptr = buf;
  return k;
}

/* The unique-map entries that point at r (NULL where r's value is nil). */
static void own_entries(rm_table *t, const rm_record *r,
                        rm_unique_entry **out) {
  int u, nil;
  for (u = 0; u < t->schema->nunique; u++) {
    unsigned char buf[RM_KEY_SCRATCH];
    rm_keybytes k;
    out[u] = NULL;
    if (r == NULL) continue;
    k = unique_key(t, u, r->data, buf, &nil);
    if (!nil) out[u] = rm_umap_find(&t->unique[u], k);
  }
}

static void free_entries(rm_table *t, rm_unique_entry **entries) {
  int u;
  for (u = 0; u < t->schema->nunique; u++)
    rm_mem_free(table_mem(t), entries[u], entry_size(t, u));
}

/* ------------------------------------------------------------ batches */

/* One record of a write: the new record with its map entries, and the
 * record it replaces with that record's entries. */
typedef struct change {
  rm_record *rec;
  rm_record *old;
  rm_unique_entry **new_e, **old_e; /* nunique each */
  rm_index_same same;               /* set by rm_index_link */
} change;

/* A copy of data in a new record, with its unique-map entries; nothing
 * linked yet. */
static rm_record *new_record(rm_table *t, const unsigned char *data,
                             size_t size, rm_unique_entry **entries) {
  const rm_schema *s = t->schema;
  rm_record *r = rm_mem_alloc(table_mem(t), RM_RECORD_HEADER + size);
  int u, nil;
  if (r == NULL) return NULL;
  memcpy(r->data, data, size);
  for (u = 0; u < s->nunique; u++) entries[u] = NULL;
  for (u = 0; u < s->nunique; u++) {
    unsigned char buf[RM_KEY_SCRATCH];
    entries[u] = NULL;
    unique_key(t, u, r->data, buf, &nil);
    if (nil) continue;
    entries[u] = rm_mem_alloc(table_mem(t), entry_size(t, u));
    if (entries[u] == NULL) {
      free_entries(t, entries);
      rm_mem_free(table_mem(t), r, RM_RECORD_HEADER + size);
      return NULL;
    }
    entries[u]->rec = r;
  }
  return r;
}

static void free_new(rm_table *t, change *c, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    free_entries(t, c[i].new_e);
    rm_mem_free(table_mem(t), c[i].rec,
                RM_RECORD_HEADER + rm_record_data_size(t->schema, c[i].rec->data));
  }
}

/* Links a new record into the key map and unique maps. On failure undoes
 * what it linked and returns -1. */
static int link_record(rm_table *t, rm_record *r, rm_unique_entry **entries) {
  const rm_schema *s = t->schema;
  int u, nil;
  if (rm_map_add(table_mem(t), &t->by_key, r, rm_record_key(s, r->data, s->pk)) < 0)
    return -1;
  for (u = 0; u < s->nunique; u++) {
    rm_keybytes k;
    if (entries[u] == NULL) continue;
    k = unique_key(t, u, r->data, entries[u]->key, &nil);
    if (rm_umap_add(table_mem(t), &t->unique[u], entries[u], k) == 0) continue;
    while (--u >= 0)
      if (entries[u] != NULL) rm_umap_remove(table_mem(t), &t->unique[u], entries[u]);
    rm_map_remove(table_mem(t), &t->by_key, r);
    return -1;
  }
  return 0;
}

static void unlink_record(rm_table *t, rm_record *r, rm_unique_entry **entries) {
  int u;
  for (u = 0; u < t->schema->nunique; u++)
    if (entries[u] != NULL) rm_umap_remove(table_mem(t), &t->unique[u], entries[u]);
  rm_map_remove(table_mem(t), &t->by_key, r);
}

/* Unlinks and frees a record that another one (or nothing) replaces. */
static void drop_record(rm_table *t, rm_record *r, rm_unique_entry **entries) {
  unlink_record(t, r, entries);
  free_entries(t, entries);
  rm_mem_free(table_mem(t), r,
              RM_RECORD_HEADER + rm_record_data_size(t->schema, r->data));
}

/* The record a change replaces, by key; checks the mode. */
static int find_old(rm_table *t, change *c, rm_put_mode mode, rm_diag *d) {
  const rm_schema *s = t->schema;
  c->old = (rm_record *)rm_map_find(&t->by_key, rm_record_key(s, c->rec->data, s->pk));
  if (mode == RM_PUT_CREATE && c->old != NULL)
    return duplicate(t, s->pk, c->rec->data, d);
  if (mode == RM_PUT_UPDATE && c->old == NULL) return not_found(t, c->rec->data, d);
  return 0;
}

/* True when r is the record replaced by one of the changes. */
static int replaced_in(const change *c, size_t n, const rm_record *r) {
  size_t i;
  for (i = 0; i < n; i++)
    if (c[i].old == r) return 1;
  return 0;
}

typedef struct keyed {
  rm_keybytes k;
  size_t i;
} keyed;

static int compare_keyed(const void *x, const void *y) {
  const keyed *a = x, *b = y;
  int c;
  if (a->k.len != b->k.len) return a->k.len < b->k.len ? -1 : 1;
  c = a->k.len ? memcmp(a->k.ptr, b->k.ptr, a->k.len) : 0;
  return c;
}

/* Two changes of a batch with the same key or unique value: found by
 * sorting the batch's keys. `keys` has room for n entries, `bufs` for n
 * RM_KEY_SCRATCH-byte buffers. field -1 is the primary key. */
static int batch_repeats(rm_table *t, change *c, size_t n, int u, keyed *keys,
                         unsigned char *bufs, rm_diag *d) {
  const rm_schema *s = t->schema;
  size_t i, m = 0;
  int nil = 0;
  for (i = 0; i < n; i++) {
    rm_keybytes k = u < 0 ? rm_record_key(s, c[i].rec->data, s->pk)
                          : unique_key(t, u, c[i].rec->data,
                                       bufs + i * RM_KEY_SCRATCH, &nil);
    if (nil) continue;
    keys[m].k = k;
    keys[m++].i = i;
  }
  qsort(keys, m, sizeof *keys, compare_keyed);
  for (i = 1; i < m; i++)
    if (compare_keyed(&keys[i - 1], &keys[i]) == 0)
      return duplicate(t, u < 0 ? s->pk : s->unique[u], c[keys[i].i].rec->data, d);
  return 0;
}

/* Unique values held by a record outside the batch (records the batch
 * replaces give theirs up). */
static int unique_taken(rm_table *t, change *c, size_t n, rm_diag *d) {
  const rm_schema *s = t->schema;
  size_t i;
  int u, nil;
  for (i = 0; i < n; i++) {
    for (u = 0; u < s->nunique; u++) {
      unsigned char buf[RM_KEY_SCRATCH];
      rm_keybytes k = unique_key(t, u, c[i].rec->data, buf, &nil);
      rm_unique_entry *e;
      if (nil) continue;
      e = rm_umap_find(&t->unique[u], k);
      if (e != NULL && e->rec != c[i].old && !replaced_in(c, n, e->rec))
        return duplicate(t, s->unique[u], c[i].rec->data, d);
    }
  }
  return 0;
}

/* Keys and unique values must be distinct within a batch of several. */
static int batch_distinct(rm_table *t, change *c, size_t n, rm_diag *d) {
  keyed *keys;
  unsigned char *bufs;
  int u, rc = 0;
  if (n < 2) return 0;
  keys = rm_xalloc(n * sizeof *keys);
  bufs = rm_xalloc(n * RM_KEY_SCRATCH);
  if (keys == NULL || bufs == NULL) rc = out_of_memory(t, d);
  for (u = -1; rc == 0 && u < t->schema->nunique; u++)
    rc = batch_repeats(t, c, n, u, keys, bufs, d);
  rm_xfree(keys);
  rm_xfree(bufs);
  return rc;
}

/* Allocates the batch's records and checks them; nothing linked. */
static int prepare(rm_table *t, change *c, size_t n,
                   const unsigned char *const *data, const size_t *size,
                   rm_put_mode mode, slot_growth *g, rm_diag *d) {
  size_t i, inserts = 0;
  for (i = 0; i < n; i++) {
    c[i].rec = new_record(t, data[i], size[i], c[i].new_e);
    if (c[i].rec == NULL) {
      free_new(t, c, i);
      return out_of_memory(t, d);
    }
  }
  for (i = 0; i < n; i++) {
    if (find_old(t, &c[i], mode, d) < 0) goto fail;
    /* An overwrite keeps its place; new records take the next numbers,
     * which become theirs only if the write succeeds. */
    c[i].rec->seq = c[i].old ? c[i].old->seq : t->next_seq + inserts++;
  }
  if (batch_distinct(t, c, n, d) < 0 || unique_taken(t, c, n, d) < 0) goto fail;
  if (reserve_slots(t, inserts, g) < 0) {
    out_of_memory(t, d);
    goto fail;
  }
  /* Slots after any compaction: index entries name records by slot. */
  for (i = 0, inserts = 0; i < n; i++)
    c[i].rec->slot = c[i].old ? c[i].old->slot : (uint32_t)(t->nslots + inserts++);
  return 0;
fail:
  free_new(t, c, n);
  return -1;
}

/* Links one new record into the maps and ordered indexes, or nothing. */
static int link_change(rm_table *t, change *c) {
  if (link_record(t, c->rec, c->new_e) < 0) return -1;
  if (rm_index_link(t, c->rec, c->old, &c->same) == 0) return 0;
  unlink_record(t, c->rec, c->new_e);
  return -1;
}

/* Links every new record, or none. */
static int link_all(rm_table *t, change *c, size_t n, rm_diag *d) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (link_change(t, &c[i]) == 0) continue;
    while (i-- > 0) {
      rm_index_unlink(t, c[i].rec, &c[i].same);
      unlink_record(t, c[i].rec, c[i].new_e);
    }
    return out_of_memory(t, d);
  }
  return 0;
}

/* Every record of a batch must be well-formed at its given size before
 * anything is allocated: stored records are walked unchecked from then
 * on, and freed by the size their bytes give. */
static int check_batch(rm_table *t, const unsigned char *const *data,
                       const size_t *size, size_t n, rm_diag *d) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (rm_record_check(t->schema, data[i], size[i], d) == 0) continue;
    if (n > 1) {
      char why[sizeof d->message];
      memcpy(why, d->message, sizeof why);
      rm_diag_set(d, RM_E_CONFIG, "record %zu of the batch: %s", i + 1, why);
    }
    return -1;
  }
  return 0;
}

/* Runs a batch: c has n changes with entry arrays in place. */
static int write_batch(rm_table *t, change *c, size_t n,
                       const unsigned char *const *data, const size_t *size,
                       rm_put_mode mode, rm_diag *d) {
  slot_growth g;
  size_t i;
  if (check_batch(t, data, size, n, d) < 0) return -1;
  if (prepare(t, c, n, data, size, mode, &g, d) < 0) return -1;
  /* Found before the new entries go in: the maps then hold both. */
  for (i = 0; i < n; i++) own_entries(t, c[i].old, c[i].old_e);
  if (link_all(t, c, n, d) < 0) {
    drop_growth(t, &g);
    free_new(t, c, n);
    return -1;
  }
  install_slots(t, &g);
  for (i = 0; i < n; i++) {
    place_record(t, c[i].rec, c[i].old);
    rm_index_commit(t, c[i].rec, c[i].old, &c[i].same);
    if (c[i].old != NULL) drop_record(t, c[i].old, c[i].old_e);
    else t->next_seq++;
  }
  t->version++;
  return 0;
}

int rm_table_put(rm_table *t, const unsigned char *data, size_t size,
                 rm_put_mode mode, const rm_record **out, rm_diag *d) {
  rm_unique_entry *new_e[RM_MAX_FIELDS], *old_e[RM_MAX_FIELDS];
  change c;
  c.new_e = new_e;
  c.old_e = old_e;
  if (write_batch(t, &c, 1, &data, &size, mode, d) < 0) return -1;
  if (out) *out = c.rec;
  return 0;
}

int rm_table_put_many(rm_table *t, const unsigned char *const *data,
                      const size_t *size, size_t n, rm_put_mode mode,
                      rm_diag *d) {
  size_t i, nu = (size_t)t->schema->nunique;
  change *c = rm_xalloc(n * sizeof *c + 2 * n * nu * sizeof(rm_unique_entry *) + 1);
  rm_unique_entry **entries;
  int rc;
  if (c == NULL) return out_of_memory(t, d);
  entries = (rm_unique_entry **)(c + n);
  for (i = 0; i < n; i++) {
    c[i].new_e = entries + 2 * i * nu;
    c[i].old_e = entries + (2 * i + 1) * nu;
  }
  rc = write_batch(t, c, n, data, size, mode, d);
  rm_xfree(c);
  return rc;
}

/* ----------------------------------------------------------- removing */

/* Unlinks and frees r, a live record of t. Leaves every other record
 * where it is (no slot moves), so that the records of one query result
 * can be removed one after another. */
static void remove_record(rm_table *t, rm_record *r) {
  rm_unique_entry *entries[RM_MAX_FIELDS];
  own_entries(t, r, entries);
  t->slots[r->slot] = NULL;
  t->count--;
  rm_index_remove(t, r);
  drop_record(t, r, entries);
  trim_slots(t);
  t->version++;
}

/* True when r is the record t holds at r's slot. Reads only r's slot
 * number, not its bytes: a record of another model would be decoded
 * with the wrong schema, so its key cannot be looked up safely. */
static int live_in(const rm_table *t, const rm_record *r) {
  return r != NULL && r->slot < t->nslots && t->slots[r->slot] == r;
}

int rm_table_remove(rm_table *t, const rm_record *rec, rm_diag *d) {
  if (!live_in(t, rec)) {
    rm_diag_set(d, RM_E_CONFIG, "%s: cannot remove %s", t->name,
                rec == NULL ? "a NULL record"
                            : "a record that is not stored in this table");
    return -1;
  }
  remove_record(t, (rm_record *)rec);
  return 0;
}

int rm_table_delete(rm_table *t, rm_value key, rm_diag *d) {
  rm_record *r;
  if (rm_table_find_key(t, key, &r, d) < 0) return -1;
  if (r == NULL) return 0;
  remove_record(t, r);
  return 1;
}

void rm_table_clear_uniques(rm_table *t) {
  int u;
  for (u = 0; u < t->schema->nunique; u++)
    rm_umap_clear(table_mem(t), &t->unique[u], entry_size(t, u));
}
