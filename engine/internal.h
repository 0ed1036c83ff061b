/*
 * Engine internals shared between engine files: the allocator, the layout
 * of schemas, records and tables. Nothing here is part of the public
 * interface (restmachine_orm.h).
 */
#ifndef RM_INTERNAL_H
#define RM_INTERNAL_H

#include "restmachine_orm.h"

/* uthash must report out of memory to its caller instead of exiting
 * (hashmap.c defines the hook). */
#define HASH_NONFATAL_OOM 1
#include "uthash.h"

/* ------------------------------------------------------------ allocator */

/* Small blocks (up to RM_SLAB_MAX bytes) come from per-size pages
 * (slab.c). */
#define RM_SLAB_PAGE 65536
#define RM_SLAB_MAX 1024
#define RM_SLAB_CLASSES (RM_SLAB_MAX / 8)

typedef struct rm_slab_page rm_slab_page;

typedef struct rm_slab {
  rm_slab_page *avail[RM_SLAB_CLASSES]; /* pages with free blocks, by size */
  size_t reserved;                      /* bytes of mapped pages */
} rm_slab;

void *rm_slab_alloc(rm_slab *s, size_t size);
void rm_slab_free(rm_slab *s, void *p);
void rm_slab_release(rm_slab *s);

/* Every byte a store holds is counted here, so stats() can report it and a
 * cap can make allocation fail on purpose in tests. Callers pass the size
 * of a block again when they free it. */
typedef struct rm_mem {
  size_t bytes;    /* in blocks handed out */
  size_t limit;    /* 0: none */
  size_t large;    /* of those, bytes in blocks from malloc */
  rm_slab slab;
} rm_mem;

/* Returns the slab's empty pages; call when nothing is allocated. */
void rm_mem_release(rm_mem *m);
/* Bytes taken from the system: slab pages and large blocks. */
size_t rm_mem_reserved(const rm_mem *m);

void *rm_mem_alloc(rm_mem *m, size_t size);
void rm_mem_free(rm_mem *m, void *p, size_t size);

/* Plain allocation for objects not owned by a store (schemas, queries). */
void *rm_xalloc(size_t size);
void rm_xfree(void *p);

/* -------------------------------------------------------------- schemas */

#define RM_BOUND_GT 0x1u
#define RM_BOUND_GE 0x2u
#define RM_BOUND_LT 0x4u
#define RM_BOUND_LE 0x8u

/* Compiled regular expressions (pattern.c, the one file that sees
 * PCRE2). */
typedef struct rm_pattern rm_pattern;

/* Compiles src (len bytes); NULL with PCRE2's message and the offset in
 * err when it is not a valid pattern. */
rm_pattern *rm_pattern_compile(const char *src, size_t len, char *err,
                               size_t cap);
void rm_pattern_free(rm_pattern *p);
/* 1 when the pattern matches somewhere in the valid UTF-8 text s, 0 when
 * not, -1 when PCRE2 gave up (err says why, e.g. a match limit). */
int rm_pattern_match(rm_pattern *p, const char *s, size_t len, char *err,
                     size_t cap);
/* The pattern's source text (NUL-terminated). */
const char *rm_pattern_source(const rm_pattern *p);

typedef struct rm_field {
  char *name;
  rm_ftype type;
  unsigned flags;
  unsigned bounds;           /* RM_BOUND_* set */
  rm_value gt, ge, lt, le;   /* numbers */
  int64_t min_len, max_len;  /* -1: none */
  rm_value *choices;         /* strings owned by the schema */
  size_t nchoices;
  rm_pattern *pattern;       /* string fields; owned by the schema */
} rm_field;

struct rm_schema {
  char *name;
  unsigned refs;
  int finished;
  int nfields;
  int pk;                    /* primary key field, -1 before finish */
  int nunique;               /* unique fields other than the key */
  int unique[RM_MAX_FIELDS];
  int nindexed;              /* fields declared index = true */
  int indexed[RM_MAX_FIELDS];
  int index_of[RM_MAX_FIELDS]; /* field -> position in indexed[], or -1 */
  int unique_of[RM_MAX_FIELDS]; /* field -> position in unique[], or -1 */
  rm_field fields[RM_MAX_FIELDS];
};

/* A number of field f (a value or a bound) as text for messages:
 * datetimes as ISO-8601 (validate.c). */
void rm_number_text(const rm_field *f, const rm_value *v, char *buf,
                    size_t cap);


/* ----------------------------------------------------- records and keys */

/* A stored record: one allocation of RM_RECORD_HEADER + data bytes. Its
 * size is not kept (the encoding tells where it ends): at 68 bytes of
 * header, the benchmark's user record fits a 128-byte malloc chunk. */
struct rm_record {
  UT_hash_handle hh; /* in the table's primary key map */
  uint64_t seq;      /* insertion order; an overwrite keeps it */
  uint32_t slot;     /* index in the table's slot array */
  unsigned char data[];
};

#define RM_RECORD_HEADER offsetof(rm_record, data)

/* Writes an integer's canonical key bytes (its encoding in a record);
 * returns their count, at most RM_KEY_SCRATCH. */
size_t rm_int_key(int64_t i, unsigned char *out);

/* One value in record encoding (tag and payload). */
size_t rm_value_encoded_size(const rm_value *v);
size_t rm_value_encode(const rm_value *v, unsigned char *out);
/* Decodes one value from untrusted bytes [p, end): returns the position
 * after it, or NULL when the bytes are not a whole value that a record
 * field could hold (rm_record_check's rules: no NaN, canonical varints,
 * checked json). */
const unsigned char *rm_value_decode(const unsigned char *p,
                                     const unsigned char *end, rm_value *out);

/* rm_datetime_parse without its range check: ISO-8601 text whose time
 * falls outside the years 1 to 9999 still gives that time (0000-01-01 is
 * a day before year 1), so that validation can report it as out of range
 * rather than as not a datetime. */
int rm_datetime_parse_any(const char *s, size_t len, double *out);

/* A fresh random key for a store's cursor checksums. */
void rm_cursor_secret(uint64_t secret[2]);
/* The cursor text of the n bytes at raw: appends their checksum under st's
 * secret (raw has room for 8 bytes more) and writes it all in base64url
 * to out ((n + 10) / 3 * 4 bytes); returns the text's length. What
 * rm_cursor_encode ends with; the fuzzing harness signs its own bytes
 * with it, to reach the decoding behind the checksum. */
size_t rm_cursor_seal(const rm_store *st, unsigned char *raw, size_t n,
                      char *out);

/* Bytes of an encoded record (walks its fields). */
size_t rm_record_data_size(const rm_schema *s, const unsigned char *data);

/* The bytes a hash map keys a value by: the string bytes, the 8 bytes of
 * an integer or double, or the tag byte of a boolean. `scratch` holds the
 * bytes when they are not in the record. */
typedef struct rm_keybytes {
  const void *ptr;
  size_t len;
} rm_keybytes;

/* Key bytes of field `field` inside encoded data (pointing into data). */
rm_keybytes rm_record_key(const rm_schema *s, const unsigned char *data,
                          int field);
/* Key bytes of a free value; scratch must hold RM_KEY_SCRATCH bytes. */
#define RM_KEY_SCRATCH 12
rm_keybytes rm_value_key(const rm_value *v, unsigned char *scratch);


/* ---------------------------------------------------------- hash maps */

/* A number's key: equal numbers (1 and 1.0) get equal bytes, a tag byte
 * and the integer's encoding, or the double's bytes when it has a
 * fraction. Returns the length (at most RM_KEY_SCRATCH). */
size_t rm_number_key(const rm_value *v, unsigned char *out);

/* An entry of a unique-field index: the record holding the value. Entries
 * of number fields carry their canonical key bytes (rm_number_key); the
 * others key by bytes inside the record. */
typedef struct rm_btree rm_btree;

typedef struct rm_unique_entry {
  UT_hash_handle hh;
  const rm_record *rec;
  unsigned char key[];
} rm_unique_entry;

/* All HASH_* macros live in hashmap.c; these wrap them. Adds return -1 when
 * out of memory (nothing added). */
const rm_record *rm_map_find(rm_record *const *head, rm_keybytes k);
int rm_map_add(rm_mem *m, rm_record **head, rm_record *r, rm_keybytes k);
void rm_map_remove(rm_mem *m, rm_record **head, rm_record *r);
void rm_map_clear(rm_mem *m, rm_record **head);

rm_unique_entry *rm_umap_find(rm_unique_entry *const *head, rm_keybytes k);
int rm_umap_add(rm_mem *m, rm_unique_entry **head, rm_unique_entry *e,
                rm_keybytes k);
void rm_umap_remove(rm_mem *m, rm_unique_entry **head, rm_unique_entry *e);
/* Removes every entry, freeing each (all entry_size bytes). */
void rm_umap_clear(rm_mem *m, rm_unique_entry **head, size_t entry_size);

/* ---------------------------------------------------------------- tables */

struct rm_table {
  UT_hash_handle hh;        /* in the store's map of tables by name */
  char *name;
  rm_store *store;
  rm_schema *schema;
  rm_record *by_key;        /* uthash head */
  rm_record **slots;        /* insertion order; NULL where deleted */
  size_t nslots, capslots;
  size_t count;
  uint64_t next_seq;
  uint64_t version;
  rm_unique_entry *unique[RM_MAX_FIELDS]; /* by schema->unique[] position */
  rm_btree *trees;          /* ordered indexes, by schema->indexed[] */
  rm_table *next_created;   /* creation order, for stats */
};

struct rm_store {
  rm_mem mem;
  uint64_t secret[2];       /* keys cursor checksums (cursor.c) */
  rm_table *tables;         /* uthash head, by name */
  rm_table *first, *last;   /* creation order */
};

/* Ordered indexes (index.c). Every indexed field of a table has a B+tree
 * of (value, seq) -> record. A write links the new record's entries
 * before anything is visible (rm_index_link may fail, and then leaves
 * nothing behind), and commits once it cannot fail any more: entries of
 * unchanged values move to the new record, the others of the old record
 * go. */
int rm_index_init(rm_table *t);
/* The empty indexes schema s declares, allocated from t's store but not
 * installed (*out NULL when s declares none); -1 when out of memory. */
int rm_index_new(rm_table *t, const rm_schema *s, rm_btree **out);
/* Frees t's indexes (those of t->schema) and installs trees, made by
 * rm_index_new for the schema t is about to take. Cannot fail. */
void rm_index_replace(rm_table *t, rm_btree *trees);
void rm_index_free(rm_table *t);
void rm_index_clear(rm_table *t);
/* Which indexed fields a write leaves at the same value (bit i: the
 * field of tree i). rm_index_link finds it, once per write, and unlink
 * and commit read it: decoding a field walks the record from its start. */
typedef struct rm_index_same {
  uint64_t bits[(RM_MAX_FIELDS + 63) / 64];
} rm_index_same;
int rm_index_link(rm_table *t, const rm_record *r, const rm_record *old,
                  rm_index_same *same);
void rm_index_unlink(rm_table *t, const rm_record *r,
                     const rm_index_same *same);
void rm_index_commit(rm_table *t, const rm_record *r, const rm_record *old,
                     const rm_index_same *same);
void rm_index_remove(rm_table *t, const rm_record *r);
/* Compaction: records have new slot numbers, the array is not moved yet. */
void rm_index_renumber(rm_table *t);
struct rm_bt_entry;
/* The record an index entry names. */
const rm_record *rm_index_record(const rm_table *t, const struct rm_bt_entry *e);

/* The record with this key (coerced to the key's type), or NULL; -1 when
 * the key has the wrong type. */
int rm_table_find_key(const rm_table *t, rm_value key, rm_record **out,
                      rm_diag *d);
/* Empties the unique-value maps, freeing their entries (write.c). */
void rm_table_clear_uniques(rm_table *t);

/* The slot of the first record inserted after sequence number seq. */
size_t rm_table_slot_after(const rm_table *t, uint64_t seq);

/* FNV-1a, continuing from h. */
uint64_t rm_hash_bytes(const void *p, size_t len, uint64_t h);

/* Adds/removes tables in the store's name map (hashmap.c). */
rm_table *rm_tables_find(rm_table *const *head, const char *name);
int rm_tables_add(rm_mem *m, rm_table **head, rm_table *t);
void rm_tables_clear(rm_mem *m, rm_table **head);

void rm_table_free(rm_table *t);

#endif
