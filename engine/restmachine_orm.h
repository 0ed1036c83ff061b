/*
 * restmachine_orm engine: the public C interface.
 *
 * The engine stores records of declared models in memory, validates values
 * against field rules and evaluates queries. It knows nothing of Lua: a C
 * host and the Lua bindings use this same header.
 *
 * Conventions
 * - Functions that can fail return 0 on success and -1 on failure, and fill
 *   the rm_diag the caller passed (kind, message, and for validation errors
 *   one entry per broken rule). An operation that fails changes nothing.
 *   The rm_diag pointer must not be NULL.
 * - Misuse of this interface that the engine can see (a field index out of
 *   range, a malformed record, a changed finished schema, a bad query
 *   window, a record to remove that the table does not hold) fails with
 *   RM_E_CONFIG instead of crashing. Pointers to engine objects (schemas,
 *   stores, tables, records, nodes) must be ones the engine gave out and
 *   that are still alive; that is not checked (rm_table_remove checks
 *   whose record it is given, not whether it is alive).
 * - Values passed in (rm_value strings) are borrowed for the duration of the
 *   call; the engine copies what it keeps.
 * - Pointers returned by lookups (records, values decoded from a record)
 *   point into engine memory and stay valid until the next write to the same
 *   table (a put, remove, delete or clear; a remove frees only the record
 *   it removes); copy what must live longer.
 * - Names (schema, field, table) returned as strings are owned by their
 *   schema or table and live as long as it; the *_name functions of enums
 *   return static strings.
 */
#ifndef RESTMACHINE_ORM_H
#define RESTMACHINE_ORM_H

#include <stddef.h>
#include <stdint.h>

#define RM_MAX_FIELDS 128       /* fields per model */
#define RM_MAX_FIELD_ERRORS 32  /* rule violations reported per operation */
#define RM_MAX_ORDER 8          /* order_by terms per query */

/* ---------------------------------------------------------------- values */

/* Field types a model can declare. */
typedef enum rm_ftype {
  RM_T_STRING = 1, /* UTF-8 text */
  RM_T_BYTES,      /* any byte string */
  RM_T_INTEGER,    /* int64 */
  RM_T_NUMBER,     /* int64 or double, kept as given */
  RM_T_BOOLEAN,
  RM_T_DATETIME,   /* epoch seconds (double, UTC) */
  RM_T_JSON        /* a JSON value, stored encoded (see "json values") */
} rm_ftype;

/* What a value holds. RM_V_OTHER stands for a host value the engine cannot
 * store (a Lua table or function); it carries the host's type name so that
 * errors can say what was given. */
typedef enum rm_vtag {
  RM_V_NIL = 0,
  RM_V_FALSE = 1,
  RM_V_TRUE = 2,
  RM_V_INT = 3,
  RM_V_FLOAT = 4,
  RM_V_STR = 5,
  RM_V_OTHER = 6,
  RM_V_JSON = 7   /* an encoded json value: u.s holds its bytes */
} rm_vtag;

typedef struct rm_value {
  rm_vtag tag;
  union {
    int64_t i;
    double f;
    struct { const char *ptr; size_t len; } s; /* RM_V_STR, RM_V_JSON */
    const char *type_name; /* RM_V_OTHER */
  } u;
} rm_value;

rm_value rm_nil(void);
rm_value rm_bool(int b);
rm_value rm_int(int64_t i);
rm_value rm_float(double f);
rm_value rm_str(const char *ptr, size_t len);
/* An encoded json value (rm_json_*), borrowed like a string. */
rm_value rm_json(const unsigned char *ptr, size_t len);

/* The order queries use for two non-nil values of one field: numbers
 * numerically (integers and floats compared exactly), strings bytewise,
 * false < true. Returns <0, 0 or >0. */
int rm_value_compare(const rm_value *a, const rm_value *b);
/* Equality in that order; nil equals only nil. Two json values are equal
 * when they are deeply equal (rm_json_equal). */
int rm_value_equal(const rm_value *a, const rm_value *b);

/* ----------------------------------------------------------- diagnostics */

typedef enum rm_errkind {
  RM_OK = 0,
  RM_E_VALIDATION,
  RM_E_DUPLICATE,
  RM_E_NOT_FOUND,
  RM_E_MULTIPLE,
  RM_E_CONFIG,
  RM_E_MEMORY,
  RM_E_BACKEND
} rm_errkind;

typedef struct rm_field_error {
  char field[64];    /* field (or condition key) the rule belongs to */
  char code[16];     /* "type", "required", "ge", ... */
  char message[192]; /* full sentence naming model and field */
} rm_field_error;

/* Filled by a failing call. Zero it (rm_diag_init) before use. */
typedef struct rm_diag {
  rm_errkind kind;
  char message[320];
  int nerrors;      /* entries in errors[] */
  int truncated;    /* more rules were broken than errors[] holds */
  rm_field_error errors[RM_MAX_FIELD_ERRORS];
} rm_diag;

void rm_diag_init(rm_diag *d);
/* Sets kind and a printf-style message. */
void rm_diag_set(rm_diag *d, rm_errkind kind, const char *fmt, ...);
/* The name of an error kind as API.md spells it ("ValidationError"), a
 * static string. */
const char *rm_errkind_name(rm_errkind kind);

/* ------------------------------------------------------------- schemas */

typedef struct rm_schema rm_schema;

/* Field flags. */
#define RM_F_PRIMARY_KEY 0x01u
#define RM_F_UNIQUE      0x02u
#define RM_F_INDEX       0x04u
#define RM_F_OPTIONAL    0x08u

/* Builds a schema for the model `name` (copied; NULL gives NULL). Returns
 * NULL when out of memory. The schema is reference counted; the creator
 * holds one reference.
 *
 * A schema is declared (fields, then their rules) and then finished
 * (rm_schema_finish); only a finished schema can have a table. The
 * declaring calls below refuse, with RM_E_CONFIG and no change, a field
 * index outside [0, nfields) and any call on a finished schema: its
 * tables hold it, and their records were checked against its rules. */
rm_schema *rm_schema_new(const char *name);
void rm_schema_ref(rm_schema *s);
void rm_schema_unref(rm_schema *s);

/* Appends a field; returns its index or -1 (diag says why). `name` is
 * copied and must not be NULL; `type` must be an rm_ftype. */
int rm_schema_add_field(rm_schema *s, const char *name, rm_ftype type,
                        unsigned flags, rm_diag *d);
/* Constraints on field `field` (any field added so far). `bound` is one
 * of "gt", "ge", "lt", "le"; the value must be a number. */
int rm_schema_set_bound(rm_schema *s, int field, const char *bound,
                        rm_value v, rm_diag *d);
/* -1 leaves that end as it is. The ends the field has afterwards, set by
 * this call or an earlier one, must keep min_length <= max_length. */
int rm_schema_set_length(rm_schema *s, int field, int64_t min_len,
                         int64_t max_len, rm_diag *d);
/* Adds one allowed value (copied) to the field's choices. */
int rm_schema_add_choice(rm_schema *s, int field, rm_value v, rm_diag *d);
/* A regular expression (PCRE2 syntax, UTF mode, Unicode classes: Python's
 * `re` on str) that string values of the field must match somewhere
 * (search, not full match: anchor with ^ and $). Compiled once here; a bad
 * pattern fails with RM_E_CONFIG giving PCRE2's message and offset. The
 * schema owns the compiled pattern. Only on string fields. */
int rm_schema_set_pattern(rm_schema *s, int field, const char *pattern,
                          size_t len, rm_diag *d);
/* json fields take no bounds, choices or pattern, and cannot be primary
 * key, unique or indexed (RM_E_CONFIG). min_length/max_length on a json
 * field count the elements of an array; a json value that is not an
 * array then breaks the field's "type" rule. */
/* Checks the whole declaration (one primary key...) and fixes it: after
 * this the declaring calls above are refused. A failing finish changes
 * nothing (the declaration can be completed and finished again); on a
 * finished schema finish does nothing and returns 0. */
int rm_schema_finish(rm_schema *s, rm_diag *d);

/* The model's name, owned by the schema (valid while it is). */
const char *rm_schema_name(const rm_schema *s);
int rm_schema_nfields(const rm_schema *s);
/* The key's field index; -1 before rm_schema_finish. */
int rm_schema_primary_key(const rm_schema *s);
int rm_schema_find(const rm_schema *s, const char *name, size_t len);
/* A field's name (owned by the schema, valid while it is), type and
 * flags; NULL, 0 and 0 for an index outside [0, nfields). */
const char *rm_field_name(const rm_schema *s, int field);
rm_ftype rm_field_type(const rm_schema *s, int field);
unsigned rm_field_flags(const rm_schema *s, int field);
/* "string", "integer"...: a static string ("unknown" for a value that is
 * not an rm_ftype). */
const char *rm_ftype_name(rm_ftype t);
/* Same field names, types, order and key/unique flags. */
int rm_schema_compatible(const rm_schema *a, const rm_schema *b);

/* Converts `v` to the field's storage form (ISO-8601 text to epoch seconds
 * for datetimes, integral floats to integers for integer fields) and checks
 * its type only. Appends to `d` and returns -1 when the type is wrong. A
 * field index outside [0, nfields) fails with RM_E_CONFIG (here and in
 * rm_field_validate). */
int rm_field_coerce(const rm_schema *s, int field, rm_value *v, rm_diag *d);
/* rm_field_coerce, then every rule of the field (required, bounds,
 * lengths, UTF-8, choices). Collects all broken rules into `d`. */
int rm_field_validate(const rm_schema *s, int field, rm_value *v, rm_diag *d);

/* Adds a validation error to d (kind becomes RM_E_VALIDATION). */
void rm_diag_field_error(rm_diag *d, const char *field, const char *code,
                         const char *fmt, ...);

/* ------------------------------------------------------------- records */

/* An encoded record: one tag byte per field in schema order, each followed
 * by its payload. Records are immutable once stored. */
typedef struct rm_record rm_record;

/* Bytes needed to encode vals[0..nfields-1] (already validated). */
size_t rm_record_encoded_size(const rm_schema *s, const rm_value *vals);
void rm_record_encode(const rm_schema *s, const rm_value *vals,
                      unsigned char *out);
/* Decodes field `field` of an encoded record. String values point into
 * `data`. A field index outside [0, nfields) gives nil. */
void rm_record_get(const rm_schema *s, const unsigned char *data, int field,
                   rm_value *out);
/* Decodes every field into vals[0..nfields-1]. */
void rm_record_get_all(const rm_schema *s, const unsigned char *data,
                       rm_value *vals);

/* 0 when data[0..size-1] is exactly one well-formed record of schema s
 * (finished): a value for every field and no byte more, each a known tag
 * that fits the field's type (nil anywhere but in the primary key;
 * datetimes as floats, as rm_field_coerce leaves them), integers and
 * lengths as rm_record_encode writes them, no NaN, json values that pass
 * rm_json_check. Reads no byte past data + size. Otherwise -1 with
 * RM_E_CONFIG naming the field. The field rules (required, bounds,
 * lengths, UTF-8, choices, pattern) are rm_field_validate's, not checked
 * here. O(size). rm_record_get and rm_record_get_all trust their data:
 * give them records the engine stored or encoded, or checked bytes. */
int rm_record_check(const rm_schema *s, const unsigned char *data,
                    size_t size, rm_diag *d);

const unsigned char *rm_record_data(const rm_record *r);
size_t rm_record_size(const rm_schema *s, const rm_record *r);

/* ------------------------------------------------------------ the store */

typedef struct rm_store rm_store;
typedef struct rm_table rm_table;

/* A new, empty store; NULL when out of memory. */
rm_store *rm_store_new(void);
void rm_store_free(rm_store *st);
/* Caps the bytes the store may hold (0: no cap). Allocations past the cap
 * fail as out of memory; used to test failure paths. */
void rm_store_set_limit(rm_store *st, size_t bytes);
/* Bytes in the blocks the store holds (records, maps, arrays). */
size_t rm_store_bytes(const rm_store *st);
/* Bytes the store took from the system for them (whole slab pages). */
size_t rm_store_reserved(const rm_store *st);
size_t rm_store_records(const rm_store *st);

/* The table of model `s` in this store, created on first use. `s` must
 * be finished (else RM_E_CONFIG). A store keeps one table per model name,
 * and the table holds a reference of its own to its schema (the caller
 * may unref s). Redeclaring a model (another schema of the same name): a
 * compatible one (rm_schema_compatible) gets the table as it is, which
 * keeps its schema; any other gets RM_E_CONFIG unless the table is empty,
 * and then the table takes the new schema (dropping its reference to the
 * old one). Query trees built on the old schema then no longer fit the
 * table: queries refuse them (see rm_query). Out of memory while taking
 * the new schema (RM_E_MEMORY) leaves the table as it was: schema,
 * indexes, version and the store's bytes. The table lives as long as the
 * store. */
rm_table *rm_store_table(rm_store *st, const rm_schema *s, rm_diag *d);
/* The table named `name`, or NULL if no model of that name was used. */
rm_table *rm_store_find(rm_store *st, const char *name);
/* Calls fn for each table (in creation order). */
void rm_store_each_table(rm_store *st, void (*fn)(rm_table *, void *),
                         void *ud);

const rm_schema *rm_table_schema(const rm_table *t);
/* The model's name, owned by the table (valid as long as the store). */
const char *rm_table_name(const rm_table *t);
size_t rm_table_count(const rm_table *t);
/* Increases on every write; iterators compare it to detect changes. */
uint64_t rm_table_version(const rm_table *t);

/* How rm_table_put treats an existing record with the same key. */
typedef enum rm_put_mode {
  RM_PUT_CREATE, /* fail with RM_E_DUPLICATE */
  RM_PUT_UPSERT, /* replace it, keeping its place in insertion order */
  RM_PUT_UPDATE  /* replace it; fail with RM_E_NOT_FOUND when absent */
} rm_put_mode;

/* Stores a copy of an encoded, validated record. Checks unique fields.
 * On success *out (if not NULL) is the stored record. `size` must be
 * exactly the record's encoded size: the engine frees a stored record by
 * the size its bytes give, so bytes that rm_record_check refuses (a size
 * too large or too small, malformed bytes) fail with RM_E_CONFIG and store
 * nothing. The check costs a walk over the record's bytes. */
int rm_table_put(rm_table *t, const unsigned char *data, size_t size,
                 rm_put_mode mode, const rm_record **out, rm_diag *d);
/* Stores n records at once, all or nothing (mode as for rm_table_put).
 * Keys and unique values must also differ within the batch. Every
 * data[i], size[i] is checked as rm_table_put checks its record; the
 * message of a refused one names its place in the batch ("record 2"). */
int rm_table_put_many(rm_table *t, const unsigned char *const *data,
                      const size_t *size, size_t n, rm_put_mode mode,
                      rm_diag *d);
/* Removes the record r of this table (found by a lookup or a query).
 * Checked, in O(1): r must not be NULL and must be the record this table
 * holds at r's place, else RM_E_CONFIG naming the table and nothing
 * changes. So a live record of another table or store, even one with
 * the same key, is refused, as is a copy of a record's bytes. Not
 * checkable, so the caller's duty: r must point to a record that is
 * still alive, in this table or another. A record removed, replaced (an
 * upsert or update of its key) or cleared since r was found has been
 * freed, and reading r is then undefined (and if the memory went to a
 * new record of this table, that record is the one removed). Removing a
 * record leaves the others in place, so every record of one query result
 * can be removed one after another. */
int rm_table_remove(rm_table *t, const rm_record *r, rm_diag *d);
/* The record whose primary key equals `key` (coerced to the key's type),
 * or NULL. Returns -1 only when the key has the wrong type. */
int rm_table_get(const rm_table *t, rm_value key, const rm_record **out,
                 rm_diag *d);
/* Removes the record with this key; returns 1 if one was removed, 0 if
 * none, -1 on a key of the wrong type. */
int rm_table_delete(rm_table *t, rm_value key, rm_diag *d);
/* Removes every record. A write like the others: the table's version
 * increases and record pointers taken from it are invalid. */
void rm_table_clear(rm_table *t);

/* Iteration in insertion order: pos starts at 0; returns NULL at the end.
 * Valid until the next write to the table. */
const rm_record *rm_table_next(const rm_table *t, size_t *pos);
/* The record's place in insertion order (kept by an overwriting upsert). */
uint64_t rm_record_seq(const rm_record *r);

/* ---------------------------------------------------------------- queries */

typedef struct rm_node rm_node;

/* Lookups. The text lookups apply to string and bytes fields (the i-forms
 * fold ASCII case); isnull takes a boolean. */
typedef enum rm_op {
  RM_OP_EQ, RM_OP_NE, RM_OP_GT, RM_OP_GTE, RM_OP_LT, RM_OP_LTE, RM_OP_IN,
  RM_OP_CONTAINS, RM_OP_STARTSWITH, RM_OP_ENDSWITH, RM_OP_ICONTAINS,
  RM_OP_ISTARTSWITH, RM_OP_IENDSWITH, RM_OP_IEXACT, RM_OP_ISNULL
} rm_op;

/* Parses a lookup suffix ("gte", "in"); returns -1 if unknown. */
int rm_op_parse(const char *name, size_t len);
/* The lookup's suffix ("gte"), a static string; "?" for a value that is
 * not an rm_op. */
const char *rm_op_name(rm_op op);

/* Query trees are immutable and reference counted. Constructors return a
 * new reference (NULL with diag filled on failure); combinators take new
 * references to their children. A tree belongs to the schema its
 * conditions were built on (a condition holds a reference to it, so the
 * schema lives as long as the tree); a tree of TRUE alone belongs to
 * none and fits every table. */
rm_node *rm_node_true(rm_diag *d);
/* field `op` value; for RM_OP_IN, vals[0..n-1]. Values are coerced to the
 * field's type (errors name the field) and copied. Every lookup but
 * RM_OP_IN takes exactly one value (n == 1, vals not NULL); RM_OP_IN takes
 * n >= 0 values (vals may be NULL when n is 0; an empty list matches
 * nothing). A field outside [0, nfields), an op that is not an rm_op or
 * another n fails with RM_E_CONFIG. */
rm_node *rm_node_cond(const rm_schema *s, int field, rm_op op,
                      const rm_value *vals, size_t n, rm_diag *d);
/* A NULL child (say a failed constructor's result passed on), or two
 * children built on schemas that are not compatible (rm_schema_compatible:
 * other models, or declarations of one model with other fields), fail
 * with RM_E_CONFIG; no reference is then taken to the other child. */
rm_node *rm_node_and(rm_node *a, rm_node *b, rm_diag *d);
rm_node *rm_node_or(rm_node *a, rm_node *b, rm_diag *d);
rm_node *rm_node_not(rm_node *a, rm_diag *d);
void rm_node_ref(rm_node *n);
void rm_node_unref(rm_node *n);

/* 1 when the record `data` of schema s matches n, 0 when not; -1, reading
 * nothing, when n was built on a schema that is neither s nor compatible
 * with it. */
int rm_node_matches(const rm_node *n, const rm_schema *s,
                    const unsigned char *data);
/* A hash of the tree's conditions and values (for query fingerprints),
 * continuing from h. ANDed terms hash alike in any order and nesting
 * (a AND (b AND c) as (c AND a) AND b), ORed terms too; TRUE ANDed with
 * a tree hashes as the tree; NULL (no conditions) hashes as TRUE. O(1):
 * worked out when the tree is built. */
uint64_t rm_node_hash(const rm_node *n, uint64_t h);

typedef struct rm_order {
  int nterms;
  int field[RM_MAX_ORDER];
  int desc[RM_MAX_ORDER];
} rm_order;

/* A place in a query's order (keyset pagination): the order values and
 * insertion sequence of the last record of a page. String values point
 * into memory the caller keeps (the decoded cursor). `start` set means
 * "before the first record". */
typedef struct rm_position {
  int start;
  uint64_t seq;
  int nterms;
  rm_value vals[RM_MAX_ORDER];
} rm_position;

/* What to run: records matching `where` (NULL: all), in `order` (no
 * terms: insertion order), only those after `after` (NULL: from the
 * start), skipping `offset`, at most `limit` (-1: no limit). `where` must
 * be built on the table's schema or a compatible one (rm_schema_compatible;
 * a pointer compare when it is the table's own). A `where` built on
 * another schema (another model's, or a declaration of this model that
 * the table has since replaced, see rm_store_table), a negative offset, a
 * limit below -1, or order terms outside 0 to RM_MAX_ORDER or on fields
 * the model does not have make the query invalid: run and run_within
 * refuse it (RM_E_CONFIG naming the table), count gives -1, capacity 0,
 * and nothing is read. `identity` is only hashed (fingerprints), not
 * checked. */
typedef struct rm_query {
  const rm_node *where;
  /* What cursors identify the query by, when set: `where` without the
   * conditions that change from run to run (a clock-based filter). */
  int identity_set;
  const rm_node *identity;
  rm_order order;
  const rm_position *after;
  int64_t offset;
  int64_t limit;
} rm_query;

void rm_query_init(rm_query *q);

/* How many record pointers rm_query_run may need for q: the size of the
 * `out` array to give it (0 for an invalid query). */
size_t rm_query_capacity(const rm_table *t, const rm_query *q);
/* Runs q over t, writing up to `cap` record pointers to out (cap >=
 * rm_query_capacity(t, q) is always enough; out may be NULL when cap is
 * 0). Returns how many, or -1 with RM_E_CONFIG in d when q is invalid
 * (see rm_query). It allocates nothing, so it does not fail for want of
 * memory. The pointers are valid until the next write to t. */
long rm_query_run(const rm_table *t, const rm_query *q,
                  const rm_record **out, size_t cap, rm_diag *d);
/* rm_query_run with the capacity worked out from the same plan: runs q
 * when rm_query_capacity(t, q) <= cap, else runs nothing, sets *need to
 * that capacity and returns -2. Saves planning q twice (a plan may look
 * up a key or a range) when a small buffer is likely to do. -1 (and
 * *need 0) for an invalid q, as rm_query_run. */
long rm_query_run_within(const rm_table *t, const rm_query *q,
                         const rm_record **out, size_t cap, size_t *need,
                         rm_diag *d);
/* The number of records rm_query_run would return; -1 for an invalid
 * q. */
int64_t rm_query_count(const rm_table *t, const rm_query *q);

/* How a query runs (q:explain()). */
typedef struct rm_explain {
  const char *index;   /* the indexed field used, or NULL for a full scan;
                          the field's name, owned by the table's schema */
  int scan;            /* 1 for a full scan */
  const char *plan;    /* "full scan", "index range", ...: static */
  size_t estimate;     /* records the access path visits */
  int sorted;          /* results are sorted after gathering */
} rm_explain;

/* Fills out and returns 0; -1 with RM_E_CONFIG (out untouched) when q's
 * `where` does not fit t, as rm_query_run refuses it. Other faults of q
 * are planned as they are (an order term on a missing field as no
 * order). */
int rm_query_explain(const rm_table *t, const rm_query *q, rm_explain *out,
                     rm_diag *d);

/* The position of record r in q's order (strings point into r). q must
 * be a query rm_query_run accepts (its order terms are not checked
 * here). */
void rm_query_position(const rm_table *t, const rm_query *q,
                       const rm_record *r, rm_position *out);
/* A number identifying q's conditions (rm_node_hash) and order on t's
 * model: cursors carry it, so that one made by another query is refused.
 * Offset, limit and select do not count. Reads no field, so a `where` of
 * another schema is hashed as it is (running q refuses it). */
uint64_t rm_query_fingerprint(const rm_table *t, const rm_query *q);

/* --------------------------------------------------------------- cursors */

/* Cursors are opaque text: a position with the query's fingerprint and a
 * keyed checksum (SipHash with the store's secret), so that a tampered,
 * truncated or foreign cursor is refused. */

/* The length of the cursor text for pos (made by rm_query_position or
 * rm_cursor_decode: nterms within 0 to RM_MAX_ORDER, not checked). */
size_t rm_cursor_size(const rm_position *pos);
/* Writes the cursor text for pos into out (rm_cursor_size(pos) bytes, no
 * NUL added: use the length returned); returns its length, or 0 when out
 * of memory. */
size_t rm_cursor_encode(const rm_table *t, const rm_query *q,
                        const rm_position *pos, char *out);
/* Reads cursor text back into pos. `scratch` (len bytes) holds the
 * decoded bytes that string values point into. Fails with
 * RM_E_VALIDATION naming what is wrong, or RM_E_CONFIG when q's `where`
 * does not fit t (as rm_query_run). */
int rm_cursor_decode(const rm_table *t, const rm_query *q, const char *text,
                     size_t len, rm_position *pos, unsigned char *scratch,
                     rm_diag *d);

/* ------------------------------------------------------------- datetimes */

/* Parses ISO-8601 ("2025-01-15T10:30:00Z", "2025-01-15 10:30:00.123+02:00",
 * "2025-01-15") into epoch seconds. Text without offset is UTC. Returns 0,
 * or -1 (and *out untouched) for text that is not such a time or whose
 * time rm_datetime_valid refuses ("0000-01-01", "9999-12-31T23:59-01:00"). */
int rm_datetime_parse(const char *s, size_t len, double *out);
/* Formats epoch seconds as "2025-01-15T10:30:00Z", with ".ffffff" when the
 * value has a fraction, NUL-terminated. buf must hold 40 bytes. Returns
 * the length. For a t that rm_datetime_valid refuses (NaN, infinities,
 * outside years 1 to 9999) it writes an empty string and returns 0. */
size_t rm_datetime_format(double t, char *buf);
/* 1 when t is a time rm_datetime_format can write: finite, in years 1 to
 * 9999. */
int rm_datetime_valid(double t);
/* t rounded to the microsecond, as datetime fields store it: the double
 * that formatting t and parsing the text gives back. A t that
 * rm_datetime_valid refuses is returned as it is. */
double rm_datetime_round(double t);
/* Current time, epoch seconds with sub-second precision. */
double rm_datetime_now(void);

/* Returns 1 when the bytes are valid UTF-8; *chars gets the character
 * count. */
int rm_utf8_check(const char *s, size_t len, size_t *chars);

/* ------------------------------------------------------------ json values */

/* A json field stores a deep copy of its value in this encoding (json.c),
 * and records hold it like a string (tag, varint length, the bytes). A
 * value is a tag byte (rm_jtag) and its payload:
 *
 *   RM_J_NULL, RM_J_FALSE, RM_J_TRUE   nothing
 *   RM_J_INT     an int64 as a zigzag varint (LEB128, 1 to 10 bytes)
 *   RM_J_FLOAT   a finite double, 8 bytes in native order
 *   RM_J_STR     varint byte length, then the UTF-8 bytes
 *   RM_J_ARRAY   varint element count, then the elements
 *   RM_J_OBJECT  varint pair count, then per pair: varint key length, the
 *                key's UTF-8 bytes, the value. Keys are distinct; their
 *                order is kept (equality ignores it).
 *
 * At most RM_JSON_MAX_DEPTH arrays and objects nest. Integers and floats
 * stay apart (1 and 1.0 are encoded differently) but compare equal. The
 * functions below other than rm_json_check expect a checked encoding, as
 * rm_field_coerce makes sure every stored one is. */
#define RM_JSON_MAX_DEPTH 64
/* The most bytes rm_json_put and rm_json_put_key write. */
#define RM_JSON_HEAD_MAX 11

typedef enum rm_jtag {
  RM_J_NULL = 0, RM_J_FALSE, RM_J_TRUE, RM_J_INT, RM_J_FLOAT, RM_J_STR,
  RM_J_ARRAY, RM_J_OBJECT
} rm_jtag;

/* One value's head, as written and read. */
typedef struct rm_json_item {
  rm_jtag tag;
  int64_t i;      /* RM_J_INT */
  double f;       /* RM_J_FLOAT */
  const char *s;  /* RM_J_STR (read): the bytes, inside the encoding */
  size_t n;       /* RM_J_STR: byte length; RM_J_ARRAY: elements;
                     RM_J_OBJECT: pairs */
} rm_json_item;

/* Writes an item: a scalar whole, a string's tag and length (the caller
 * copies the n bytes after them), an array's or object's tag and count
 * (the elements or pairs follow). Returns the bytes written. */
size_t rm_json_put(unsigned char *out, const rm_json_item *it);
/* Writes an object key's length; its bytes follow. */
size_t rm_json_put_key(unsigned char *out, size_t len);

/* Reads the item at p. Returns where the next thing starts: after a
 * scalar or a string's bytes, or the first element (first key) of an
 * array (object). */
const unsigned char *rm_json_get(const unsigned char *p, rm_json_item *it);
/* Reads an object key at p; returns where its value starts. */
const unsigned char *rm_json_get_key(const unsigned char *p, const char **key,
                                     size_t *len);
/* The position after the whole value at p. */
const unsigned char *rm_json_skip(const unsigned char *p);

/* 0 when [p, p + len) is exactly one well-formed value: known tags, whole
 * lengths, finite floats, valid UTF-8 strings and keys, no key twice in an
 * object, nesting within RM_JSON_MAX_DEPTH. Otherwise -1, with a reason
 * written to why (cap bytes, may be NULL). O(len log len); objects with
 * many keys take temporary memory, and when there is none the bytes are
 * refused ("out of memory"). */
int rm_json_check(const unsigned char *p, size_t len, char *why, size_t cap);
/* Deep equality: numbers by value (1 == 1.0), objects whatever their key
 * order. */
int rm_json_equal(const unsigned char *a, const unsigned char *b);
/* True when the value is an array with an element equal to the scalar v
 * (a string, a number or a boolean; 1 matches 1.0). */
int rm_json_contains(const unsigned char *p, const rm_value *v);
/* The element count of an array, or -1 when the value is not an array. */
int64_t rm_json_array_length(const unsigned char *p);
/* Writes the value as compact JSON text (floats in the fewest digits that
 * read back exactly) to out, or only measures it when out is NULL.
 * Returns the length; no NUL is added. */
size_t rm_json_text(const unsigned char *p, char *out);
/* The fewest significant digits (15, 16 or 17) with which "%.*g" writes f
 * so that it reads back exactly. */
int rm_float_digits(double f);

#endif
