/*
 * The C interface under hostile use: what a C host can get wrong (sizes
 * that do not match a record's encoding, malformed bytes, out-of-range
 * field indexes, unfinished or finished schemas, bad condition arguments,
 * negative offsets, a record to remove that the table does not hold) is
 * refused with a diagnostic and changes nothing, instead of crashing or
 * reading past a buffer. Best run under ASan and UBSan, which turn the old
 * failures into reports.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restmachine_orm.h"
#include "tap.h"

#define S(lit) rm_str(lit, sizeof lit - 1)

enum { F_ID, F_NAME, F_SCORE, F_AT, F_DOC, NFIELDS };

/* Item: id integer key, name a unique optional string, score a number,
 * at a datetime and doc a json value (all optional). */
static rm_schema *item_schema(void) {
  rm_schema *s = rm_schema_new("Item");
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(s, "name", RM_T_STRING, RM_F_UNIQUE | RM_F_OPTIONAL, &d);
  rm_schema_add_field(s, "score", RM_T_NUMBER, RM_F_OPTIONAL, &d);
  rm_schema_add_field(s, "at", RM_T_DATETIME, RM_F_OPTIONAL, &d);
  rm_schema_add_field(s, "doc", RM_T_JSON, RM_F_OPTIONAL, &d);
  if (rm_schema_finish(s, &d) < 0) diag("schema refused: %s", d.message);
  return s;
}

/* The encoding of an Item, written into buf (at least 64 bytes); returns
 * its size. */
static size_t encode_item(const rm_schema *s, int64_t id, const char *name,
                          unsigned char *buf) {
  static const unsigned char doc[] = {RM_J_ARRAY, 1, RM_J_TRUE};
  rm_value v[NFIELDS];
  v[F_ID] = rm_int(id);
  v[F_NAME] = name ? rm_str(name, strlen(name)) : rm_nil();
  v[F_SCORE] = rm_float(1.5);
  v[F_AT] = rm_float(1e9);
  v[F_DOC] = rm_json(doc, sizeof doc);
  rm_record_encode(s, v, buf);
  return rm_record_encoded_size(s, v);
}

/* ------------------------------------------------- records put by size */

/* A put of these bytes is refused as a configuration error and leaves
 * the table (its records, the store's bytes) as it was. */
static void put_refused(rm_table *t, const unsigned char *data, size_t size,
                        const char *what) {
  size_t count = rm_table_count(t);
  uint64_t version = rm_table_version(t);
  const rm_record *out = NULL;
  rm_diag d;
  int rc;
  rm_diag_init(&d);
  rc = rm_table_put(t, data, size, RM_PUT_UPSERT, &out, &d);
  ok(rc == -1 && d.kind == RM_E_CONFIG && out == NULL &&
         rm_table_count(t) == count && rm_table_version(t) == version,
     "put refuses %s (%s)", what, d.message);
}

static void test_put_sizes(void) {
  rm_schema *s = item_schema();
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  unsigned char good[64], big[4096];
  const unsigned char *batch[2];
  size_t n, sizes[2], bytes;
  const rm_record *r = NULL;
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  n = encode_item(s, 1, "one", good);
  ok(rm_table_put(t, good, n, RM_PUT_CREATE, NULL, &d) == 0,
     "a record of its exact size is stored");
  bytes = rm_store_bytes(st);

  n = encode_item(s, 2, "two", big);
  memset(big + n, 0, sizeof big - n);
  put_refused(t, big, n + 1, "a size one byte past the encoding");
  put_refused(t, big, sizeof big, "a size far past the encoding (a large block)");
  put_refused(t, big, n - 1, "a size one byte short of the encoding");
  put_refused(t, big, 1, "a size that ends inside the key");
  put_refused(t, big, 0, "a size of 0");
  is_uint(rm_store_bytes(st), bytes, "the refused puts left the store's bytes");

  /* Malformed bytes of the exact size. */
  {
    static const unsigned char other[] = {RM_V_OTHER, 0, 0, 0, 0};
    static const unsigned char unknown[] = {9, 0, 0, 0, 0};
    static const unsigned char str_key[] = {RM_V_STR, 1, 'x', 0, 0, 0, 0};
    static const unsigned char nil_key[] = {RM_V_NIL, 0, 0, 0, 0};
    static const unsigned char long_varint[] = {RM_V_INT, 0x80, 0x00, 0, 0, 0, 0};
    static const unsigned char overlong[] = {
        RM_V_INT, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03,
        0, 0, 0, 0};
    static const unsigned char cut_string[] = {RM_V_INT, 2, RM_V_STR, 9, 'a'};
    static const unsigned char cut_varint[] = {RM_V_INT, 0x82};
    static const unsigned char json_in_string[] = {
        RM_V_INT, 2, RM_V_JSON, 1, RM_J_TRUE, 0, 0, 0};
    static const unsigned char bad_json[] = {
        RM_V_INT, 2, 0, 0, 0, RM_V_JSON, 2, RM_J_ARRAY, 5};
    static const unsigned char dt_int[] = {RM_V_INT, 2, 0, 0, RM_V_INT, 2, 0};
    unsigned char nan_score[16] = {RM_V_INT, 2, 0, RM_V_FLOAT};
    double nan = NAN;
    memcpy(nan_score + 4, &nan, 8);
    nan_score[12] = 0;
    nan_score[13] = 0;
    put_refused(t, other, sizeof other, "a host-value tag");
    put_refused(t, unknown, sizeof unknown, "an unknown tag");
    put_refused(t, str_key, sizeof str_key, "a string in the integer key");
    put_refused(t, nil_key, sizeof nil_key, "a nil primary key");
    put_refused(t, long_varint, sizeof long_varint, "an integer in two bytes where one does");
    put_refused(t, overlong, sizeof overlong, "an integer of more than 64 bits");
    put_refused(t, cut_string, sizeof cut_string, "a string longer than the record");
    put_refused(t, cut_varint, sizeof cut_varint, "a record ending inside a varint");
    put_refused(t, json_in_string, sizeof json_in_string, "a json value in a string field");
    put_refused(t, bad_json, sizeof bad_json, "a malformed json value");
    put_refused(t, dt_int, sizeof dt_int, "an integer in a datetime field");
    put_refused(t, nan_score, 14, "a NaN number");
  }

  /* A batch with one bad size stores nothing. */
  batch[0] = good;
  batch[1] = big;
  sizes[0] = encode_item(s, 10, "ten", good);
  sizes[1] = encode_item(s, 11, "eleven", big) + 100;
  rm_diag_init(&d);
  ok(rm_table_put_many(t, batch, sizes, 2, RM_PUT_CREATE, &d) == -1 &&
         d.kind == RM_E_CONFIG && strstr(d.message, "record 2") != NULL,
     "put_many refuses a batch with one bad size, naming it (%s)", d.message);
  is_uint(rm_table_count(t), 1, "... and stores none of the batch");
  is_uint(rm_store_bytes(st), bytes, "... nor keeps any of its bytes");
  sizes[1] -= 100;
  rm_diag_init(&d);
  ok(rm_table_put_many(t, batch, sizes, 2, RM_PUT_CREATE, &d) == 0,
     "the batch with the right sizes is stored (%s)", d.message);
  rm_table_get(t, rm_int(11), &r, &d);
  ok(r != NULL && rm_record_size(s, r) == sizes[1], "... whole");

  rm_table_clear(t);
  rm_store_free(st);
  rm_schema_unref(s);
}

/* ------------------------------------------------ condition arguments */

/* rm_node_cond with these arguments is refused as a configuration error.
 * A node built anyway is matched against rec, which reads what the node
 * holds (past it when it holds no value). */
static void cond_refused(const rm_schema *s, int field, rm_op op,
                         const rm_value *vals, size_t n,
                         const unsigned char *rec, const char *what) {
  rm_diag d;
  rm_node *node;
  rm_diag_init(&d);
  node = rm_node_cond(s, field, op, vals, n, &d);
  ok(node == NULL && d.kind == RM_E_CONFIG, "rm_node_cond refuses %s (%s)",
     what, d.message);
  if (node != NULL) rm_node_matches(node, s, rec);
  rm_node_unref(node);
}

static void test_cond_args(void) {
  rm_schema *s = item_schema();
  unsigned char rec[64];
  rm_value two[2];
  rm_diag d;
  rm_node *node;
  encode_item(s, 1, "one", rec);
  two[0] = rm_int(1);
  two[1] = rm_int(2);
  cond_refused(s, F_ID, RM_OP_EQ, two, 0, rec, "eq with no value");
  cond_refused(s, F_ID, RM_OP_EQ, two, 2, rec, "eq with two values");
  cond_refused(s, F_ID, RM_OP_GT, NULL, 1, rec, "gt with a NULL value array");
  cond_refused(s, F_NAME, RM_OP_STARTSWITH, NULL, 0, rec, "startswith with no value");
  cond_refused(s, F_NAME, RM_OP_ISNULL, NULL, 0, rec, "isnull with no value");
  cond_refused(s, F_ID, RM_OP_IN, NULL, 2, rec, "in with a NULL value array");
  cond_refused(s, -1, RM_OP_EQ, two, 1, rec, "field -1");
  cond_refused(s, NFIELDS, RM_OP_EQ, two, 1, rec, "a field past the last");
  cond_refused(s, 200, RM_OP_EQ, two, 1, rec, "field 200");
  cond_refused(s, F_ID, (rm_op)99, two, 1, rec, "an unknown lookup");
  cond_refused(s, F_ID, (rm_op)-1, two, 1, rec, "a negative lookup");
  rm_diag_init(&d);
  node = rm_node_cond(s, F_ID, RM_OP_IN, NULL, 0, &d);
  ok(node != NULL && !rm_node_matches(node, s, rec),
     "in with an empty list is accepted and matches nothing (%s)", d.message);
  rm_node_unref(node);
  is_str(rm_op_name((rm_op)99), "?", "rm_op_name of an unknown lookup is \"?\"");
  is_str(rm_op_name((rm_op)-1), "?", "... and of a negative one");
  is_str(rm_op_name(RM_OP_ISNULL), "isnull", "... while known ones keep their names");
  rm_schema_unref(s);
}

/* rm_node_and, _or and _not refuse a NULL child and take no reference to
 * the other one (LeakSanitizer would report a reference taken). */
static void test_null_children(void) {
  rm_diag d;
  rm_node *a, *n;
  rm_diag_init(&d);
  a = rm_node_true(&d);
  n = rm_node_and(a, NULL, &d);
  ok(n == NULL && d.kind == RM_E_CONFIG, "and(a, NULL) is refused (%s)", d.message);
  rm_diag_init(&d);
  n = rm_node_and(NULL, a, &d);
  ok(n == NULL && d.kind == RM_E_CONFIG, "and(NULL, a) is refused (%s)", d.message);
  rm_diag_init(&d);
  n = rm_node_or(a, NULL, &d);
  ok(n == NULL && d.kind == RM_E_CONFIG, "or(a, NULL) is refused (%s)", d.message);
  rm_diag_init(&d);
  n = rm_node_or(NULL, NULL, &d);
  ok(n == NULL && d.kind == RM_E_CONFIG, "or(NULL, NULL) is refused (%s)", d.message);
  rm_diag_init(&d);
  n = rm_node_not(NULL, &d);
  ok(n == NULL && d.kind == RM_E_CONFIG, "not(NULL) is refused (%s)", d.message);
  rm_node_unref(a);
}

/* ------------------------------------------------------------ schemas */

static void config_refused(int rc, const rm_diag *d, const char *what) {
  ok(rc == -1 && d->kind == RM_E_CONFIG, "%s is refused (%s)", what, d->message);
}

/* Setters check the field index: a schema holds RM_MAX_FIELDS fields, and
 * index 200 wrote past it. */
static void test_setter_indexes(void) {
  rm_schema *s = rm_schema_new("Open");
  rm_diag d;
  static const int bad[] = {-1, 2, 200};
  size_t i;
  rm_diag_init(&d);
  rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(s, "name", RM_T_STRING, 0, &d);
  for (i = 0; i < sizeof bad / sizeof *bad; i++) {
    int f = bad[i];
    rm_diag_init(&d);
    config_refused(rm_schema_set_length(s, f, 1, 5, &d), &d, "set_length on a missing field");
    rm_diag_init(&d);
    config_refused(rm_schema_set_bound(s, f, "ge", rm_int(0), &d), &d,
                   "set_bound on a missing field");
    rm_diag_init(&d);
    config_refused(rm_schema_add_choice(s, f, rm_int(0), &d), &d,
                   "add_choice on a missing field");
    rm_diag_init(&d);
    config_refused(rm_schema_set_pattern(s, f, "^a", 2, &d), &d,
                   "set_pattern on a missing field");
    diag("field index %d", f);
  }
  {
    rm_schema *item = item_schema();
    unsigned char rec[64];
    rm_value v = rm_int(7);
    encode_item(item, 1, "one", rec);
    rm_record_get(item, rec, NFIELDS, &v);
    ok(v.tag == RM_V_NIL, "rm_record_get of a field past the last is nil");
    v = rm_int(7);
    rm_record_get(item, rec, -1, &v);
    ok(v.tag == RM_V_NIL, "... and of field -1");
    rm_schema_unref(item);
  }
  ok(rm_field_name(s, 200) == NULL && rm_field_name(s, -1) == NULL,
     "rm_field_name of a missing field is NULL");
  ok(rm_field_type(s, 200) == 0 && rm_field_flags(s, 200) == 0,
     "rm_field_type and rm_field_flags of a missing field are 0");
  {
    rm_value v = rm_int(1);
    rm_diag_init(&d);
    config_refused(rm_field_validate(s, 200, &v, &d), &d, "validating a missing field");
  }
  rm_diag_init(&d);
  config_refused(rm_schema_add_field(s, NULL, RM_T_STRING, 0, &d), &d,
                 "a field without a name");
  rm_diag_init(&d);
  config_refused(rm_schema_add_field(s, "t", (rm_ftype)99, 0, &d), &d,
                 "a field of an unknown type");
  rm_diag_init(&d);
  config_refused(rm_schema_set_pattern(s, 1, NULL, 0, &d), &d, "a NULL pattern");
  rm_diag_init(&d);
  config_refused(rm_schema_set_bound(s, 0, NULL, rm_int(0), &d), &d, "a NULL bound name");
  ok(rm_schema_new(NULL) == NULL, "rm_schema_new(NULL) is NULL");
  is_int(rm_schema_nfields(s), 2, "the refused calls added no field");
  rm_schema_unref(s);
}

/* After rm_schema_finish nothing changes a schema: tables hold it, and
 * their records were checked against its rules. */
static void test_finished_is_fixed(void) {
  rm_schema *s = rm_schema_new("Fixed");
  rm_value v;
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(s, "name", RM_T_STRING, RM_F_OPTIONAL, &d);
  rm_schema_add_field(s, "n", RM_T_INTEGER, RM_F_OPTIONAL, &d);
  ok(rm_schema_finish(s, &d) == 0, "the schema is finished");
  rm_diag_init(&d);
  config_refused(rm_schema_set_bound(s, 2, "ge", rm_int(10), &d), &d,
                 "set_bound after finish");
  rm_diag_init(&d);
  config_refused(rm_schema_set_pattern(s, 1, "^x$", 3, &d), &d,
                 "set_pattern after finish");
  rm_diag_init(&d);
  config_refused(rm_schema_set_length(s, 1, 3, 3, &d), &d, "set_length after finish");
  rm_diag_init(&d);
  config_refused(rm_schema_add_choice(s, 2, rm_int(1), &d), &d, "add_choice after finish");
  rm_diag_init(&d);
  config_refused(rm_schema_add_field(s, "more", RM_T_STRING, 0, &d), &d,
                 "add_field after finish");
  ok(strstr(d.message, "finished") != NULL, "... saying the model is finished");
  v = rm_int(5);
  rm_diag_init(&d);
  ok(rm_field_validate(s, 2, &v, &d) == 0, "n = 5 is still valid (%s)", d.message);
  v = S("abc");
  rm_diag_init(&d);
  ok(rm_field_validate(s, 1, &v, &d) == 0, "name = \"abc\" is still valid (%s)",
     d.message);
  rm_diag_init(&d);
  ok(rm_schema_finish(s, &d) == 0, "finishing again is a no-op that succeeds");
  rm_schema_unref(s);
}

/* A second finish appended the unique fields again: with 127 of them
 * before the key, unique[] overflowed. */
static void test_finish_twice(void) {
  rm_schema *s = rm_schema_new("Wide");
  rm_store *st = rm_store_new();
  rm_table *t;
  rm_diag d;
  rm_value v[RM_MAX_FIELDS];
  unsigned char buf[RM_MAX_FIELDS * 4];
  int i;
  rm_diag_init(&d);
  for (i = 0; i < RM_MAX_FIELDS - 1; i++) {
    char name[16];
    snprintf(name, sizeof name, "u%d", i);
    rm_schema_add_field(s, name, RM_T_INTEGER, RM_F_UNIQUE, &d);
  }
  rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  ok(rm_schema_finish(s, &d) == 0, "a model with 127 unique fields is finished (%s)",
     d.message);
  ok(rm_schema_finish(s, &d) == 0, "a second finish succeeds");
  t = rm_store_table(st, s, &d);
  for (i = 0; i < RM_MAX_FIELDS; i++) v[i] = rm_int(i);
  rm_record_encode(s, v, buf);
  rm_diag_init(&d);
  ok(t != NULL && rm_table_put(t, buf, rm_record_encoded_size(s, v), RM_PUT_CREATE,
                               NULL, &d) == 0,
     "its table stores a record (%s)", d.message);
  v[RM_MAX_FIELDS - 1] = rm_int(1000);
  rm_record_encode(s, v, buf);
  rm_diag_init(&d);
  ok(rm_table_put(t, buf, rm_record_encoded_size(s, v), RM_PUT_CREATE, NULL, &d) == -1 &&
         d.kind == RM_E_DUPLICATE,
     "... and still refuses a repeated unique value (%s)", d.message);
  rm_store_free(st);
  rm_schema_unref(s);
}

/* A failing finish leaves the schema as it was, so that the declaration
 * can be completed and finished again. */
static void test_failed_finish_changes_nothing(void) {
  rm_schema *s = rm_schema_new("Pair");
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(s, "a", RM_T_INTEGER, RM_F_PRIMARY_KEY | RM_F_OPTIONAL, &d);
  rm_schema_add_field(s, "b", RM_T_STRING, RM_F_PRIMARY_KEY, &d);
  ok(rm_schema_finish(s, &d) == -1, "two primary keys: finish fails");
  is_int(rm_schema_primary_key(s), -1, "... and the schema has no primary key");
  ok(rm_field_flags(s, 0) & RM_F_OPTIONAL, "... nor lost a field's flags");
  rm_schema_unref(s);

  s = rm_schema_new("Late");
  rm_diag_init(&d);
  rm_schema_add_field(s, "email", RM_T_STRING, RM_F_UNIQUE, &d);
  ok(rm_schema_finish(s, &d) == -1, "no primary key: finish fails");
  rm_diag_init(&d);
  ok(rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d) == 1,
     "... the schema still takes fields");
  ok(rm_schema_finish(s, &d) == 0 && rm_schema_primary_key(s) == 1,
     "... and finishes once it has a key (%s)", d.message);
  rm_schema_unref(s);
}

/* set_length twice: each call is checked against the end already set. */
static void test_length_twice(void) {
  rm_schema *s = rm_schema_new("Len");
  rm_diag d;
  rm_value v = S("abcdefgh");
  rm_diag_init(&d);
  rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(s, "name", RM_T_STRING, 0, &d);
  ok(rm_schema_set_length(s, 1, 1, 5, &d) == 0, "length 1 to 5 is set");
  rm_diag_init(&d);
  config_refused(rm_schema_set_length(s, 1, 10, -1, &d), &d,
                 "a min_length of 10 above the max_length of 5 set before");
  rm_diag_init(&d);
  config_refused(rm_schema_set_length(s, 1, -1, 0, &d), &d,
                 "a max_length of 0 below the min_length of 1 set before");
  ok(rm_schema_set_length(s, 1, 2, -1, &d) == 0, "a min_length of 2 is fine");
  rm_schema_finish(s, &d);
  rm_diag_init(&d);
  ok(rm_field_validate(s, 1, &v, &d) == -1 && d.nerrors == 1 &&
         strcmp(d.errors[0].code, "max_length") == 0,
     "8 characters break max_length 5 only (%s)", d.message);
  rm_schema_unref(s);
}

/* A table needs a finished schema: before finish the key is -1. */
static void test_unfinished_table(void) {
  rm_schema *s = rm_schema_new("Draft");
  rm_store *st = rm_store_new();
  const rm_record *r = NULL;
  rm_table *t;
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  is_int(rm_schema_primary_key(s), -1, "before finish the primary key is -1");
  t = rm_store_table(st, s, &d);
  ok(t == NULL && d.kind == RM_E_CONFIG && rm_store_find(st, "Draft") == NULL,
     "rm_store_table refuses an unfinished schema (%s)", d.message);
  if (t != NULL) rm_table_get(t, rm_int(1), &r, &d);
  rm_store_free(st);
  rm_schema_unref(s);
}

/* ------------------------------------------------------------ queries */

/* An Item table with ids 1..n. */
static rm_table *items(rm_store *st, const rm_schema *s, int n) {
  rm_diag d;
  rm_table *t;
  unsigned char buf[64];
  int i;
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  for (i = 1; i <= n; i++)
    rm_table_put(t, buf, encode_item(s, i, NULL, buf), RM_PUT_CREATE, NULL, &d);
  return t;
}

/* run and count agree that q is refused: -1 from both, a configuration
 * error from run. */
static void query_refused(const rm_table *t, const rm_query *q, const char *what) {
  const rm_record *out[16];
  size_t need = 99;
  rm_diag d;
  long n;
  rm_diag_init(&d);
  n = rm_query_run(t, q, out, 16, &d);
  ok(n == -1 && d.kind == RM_E_CONFIG, "run refuses %s (%ld: %s)", what, n, d.message);
  rm_diag_init(&d);
  n = rm_query_run_within(t, q, out, 16, &need, &d);
  ok(n == -1 && d.kind == RM_E_CONFIG, "... run_within too (%ld)", n);
  is_int(rm_query_count(t, q), -1, "... and count is -1");
  is_uint(rm_query_capacity(t, q), 0, "... and capacity 0");
}

static void test_offset_limit(void) {
  rm_schema *s = item_schema();
  rm_store *st = rm_store_new();
  rm_table *t = items(st, s, 5);
  const rm_record *out[16];
  rm_explain ex;
  rm_query q;
  rm_diag d;
  rm_query_init(&q);
  q.offset = -3;
  query_refused(t, &q, "offset -3");
  q.offset = INT64_MIN;
  q.limit = 5;
  query_refused(t, &q, "offset INT64_MIN with a limit");
  q.offset = 0;
  q.limit = -2;
  query_refused(t, &q, "limit -2");
  q.limit = INT64_MIN;
  query_refused(t, &q, "limit INT64_MIN");
  q.limit = -1;
  q.order.nterms = RM_MAX_ORDER + 1;
  query_refused(t, &q, "more order terms than RM_MAX_ORDER");
  q.order.nterms = -1;
  query_refused(t, &q, "a negative number of order terms");
  q.order.nterms = 1;
  q.order.field[0] = 99;
  query_refused(t, &q, "an order term on a missing field");
  rm_diag_init(&d);
  ok(rm_query_explain(t, &q, &ex, &d) == 0 && ex.scan,
     "explain of that query is a full scan, reading no missing field");
  q.order.field[0] = -1;
  query_refused(t, &q, "an order term on field -1");

  rm_query_init(&q);
  q.offset = INT64_MAX;
  q.limit = INT64_MAX;
  rm_diag_init(&d);
  ok(rm_query_run(t, &q, out, 16, &d) == 0 && rm_query_count(t, &q) == 0,
     "offset and limit INT64_MAX run and count nothing");
  q.offset = 3;
  q.limit = -1;
  ok(rm_query_run(t, &q, out, 16, &d) == 2 && rm_query_count(t, &q) == 2,
     "offset 3 of 5 runs and counts 2");
  rm_store_free(st);
  rm_schema_unref(s);
}

/* ----------------------------------------- trees of another schema */

/* Every entry point taking q refuses its where tree, built on another
 * schema, with a configuration error naming the table, and writes
 * nothing: run, run_within, count, capacity, explain, cursor decode. */
static void where_refused(const rm_table *t, const rm_query *q, const char *what) {
  uint64_t version = rm_table_version(t);
  size_t count = rm_table_count(t);
  rm_explain ex;
  rm_position pos;
  unsigned char scratch[8];
  rm_diag d;
  int rc;
  query_refused(t, q, what);
  rm_diag_init(&d);
  rm_query_run(t, q, NULL, 0, &d);
  ok(strstr(d.message, rm_table_name(t)) != NULL,
     "... the message names the table (%s)", d.message);
  memset(&ex, 0x5a, sizeof ex);
  rm_diag_init(&d);
  rc = rm_query_explain(t, q, &ex, &d);
  ok(rc == -1 && d.kind == RM_E_CONFIG && ex.estimate == (size_t)0x5a5a5a5a5a5a5a5aULL,
     "... explain refuses it and writes nothing (%s)", d.message);
  rm_diag_init(&d);
  rc = rm_cursor_decode(t, q, "AAAA", 4, &pos, scratch, &d);
  ok(rc == -1 && d.kind == RM_E_CONFIG, "... cursor decode too (%s)", d.message);
  ok(rm_table_version(t) == version && rm_table_count(t) == count,
     "... and the table is as it was");
}

/* Other: a model whose field 6 Item does not have, and whose field 1 is
 * an integer where Item's is a string. */
static rm_schema *other_schema(void) {
  static const char *const names[] = {"id", "n", "a", "b", "c", "d", "e"};
  rm_schema *s = rm_schema_new("Other");
  rm_diag d;
  int i;
  rm_diag_init(&d);
  rm_schema_add_field(s, names[0], RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  for (i = 1; i < 7; i++)
    rm_schema_add_field(s, names[i], RM_T_INTEGER, RM_F_OPTIONAL, &d);
  if (rm_schema_finish(s, &d) < 0) diag("schema refused: %s", d.message);
  return s;
}

static rm_node *cond1(const rm_schema *s, int field, rm_op op, rm_value v) {
  rm_diag d;
  rm_diag_init(&d);
  return rm_node_cond(s, field, op, &v, 1, &d);
}

/* Trees of another model: refused by every query entry point and by
 * rm_node_matches, alone or under a combinator, and not combined with
 * trees of this model. A tree of a compatible schema (the model declared
 * again alike) runs; so does TRUE alone. */
static void test_foreign_where(void) {
  rm_schema *s = item_schema(), *o = other_schema(), *twin = item_schema();
  rm_store *st = rm_store_new();
  rm_table *t = items(st, s, 5);
  rm_node *far = cond1(o, 6, RM_OP_EQ, rm_int(1));
  rm_node *typed = cond1(o, F_NAME, RM_OP_GT, rm_int(0));
  rm_node *mine = cond1(s, F_ID, RM_OP_GTE, rm_int(3));
  rm_node *alike = cond1(twin, F_ID, RM_OP_GTE, rm_int(3));
  rm_node *yes, *n;
  unsigned char rec[64];
  const rm_record *out[16];
  rm_explain ex;
  rm_query q;
  rm_diag d;
  rm_diag_init(&d);
  yes = rm_node_true(&d);
  encode_item(s, 1, "one", rec);
  rm_query_init(&q);
  q.where = far;
  where_refused(t, &q, "a where tree on a field Item does not have");
  q.where = typed;
  where_refused(t, &q, "a where tree comparing Item's string field with a number");
  n = rm_node_and(yes, typed, &d);
  q.where = n;
  where_refused(t, &q, "TRUE and a condition of Other");
  rm_node_unref(n);
  n = rm_node_not(far, &d);
  q.where = n;
  where_refused(t, &q, "not of a condition of Other");
  rm_node_unref(n);
  is_int(rm_node_matches(far, s, rec), -1,
         "rm_node_matches refuses a tree of Other against an Item record");
  rm_diag_init(&d);
  n = rm_node_and(mine, typed, &d);
  ok(n == NULL && d.kind == RM_E_CONFIG,
     "and of conditions of Item and Other is refused (%s)", d.message);
  rm_diag_init(&d);
  n = rm_node_or(far, mine, &d);
  ok(n == NULL && d.kind == RM_E_CONFIG, "... or too (%s)", d.message);

  rm_diag_init(&d);
  q.where = alike;
  ok(rm_query_run(t, &q, out, 16, &d) == 3 && rm_query_count(t, &q) == 3,
     "a tree of a compatible declaration of Item runs on its table");
  n = rm_node_and(alike, mine, &d);
  q.where = n;
  ok(n != NULL && rm_query_count(t, &q) == 3,
     "... and combines with trees of the table's own (%s)", d.message);
  rm_node_unref(n);
  ok(rm_node_matches(alike, s, rec) == 0 && rm_node_matches(yes, o, rec) == 1,
     "rm_node_matches takes compatible trees and TRUE");
  q.where = yes;
  ok(rm_query_count(t, &q) == 5 && rm_query_explain(t, &q, &ex, &d) == 0,
     "TRUE alone fits any table");
  rm_node_unref(far);
  rm_node_unref(typed);
  rm_node_unref(mine);
  rm_node_unref(alike);
  rm_node_unref(yes);
  rm_store_free(st);
  rm_schema_unref(s);
  rm_schema_unref(o);
  rm_schema_unref(twin);
}

/* Thing declared with an integer n, then (its table empty) redeclared
 * with a string n: the table takes the new schema, and trees built on
 * the old one are refused, even once the caller dropped that schema
 * (the tree keeps it alive). Trees of the new one run. */
static void test_swapped_where(void) {
  rm_schema *old = rm_schema_new("Thing"), *now = rm_schema_new("Thing");
  rm_store *st = rm_store_new();
  rm_node *stale, *fresh;
  rm_value v[2];
  unsigned char buf[64];
  rm_table *t;
  rm_query q;
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(old, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(old, "n", RM_T_INTEGER, RM_F_INDEX, &d);
  rm_schema_finish(old, &d);
  rm_schema_add_field(now, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(now, "n", RM_T_STRING, RM_F_INDEX, &d);
  rm_schema_finish(now, &d);
  t = rm_store_table(st, old, &d);
  stale = cond1(old, 1, RM_OP_GTE, rm_int(0));
  ok(t != NULL && rm_store_table(st, now, &d) == t && rm_table_schema(t) == now,
     "the empty table takes the redeclared schema (%s)", d.message);
  rm_schema_unref(old);
  v[0] = rm_int(1);
  v[1] = S("text");
  rm_record_encode(now, v, buf);
  rm_diag_init(&d);
  ok(rm_table_put(t, buf, rm_record_encoded_size(now, v), RM_PUT_CREATE, NULL, &d) == 0,
     "a record of the new declaration is stored (%s)", d.message);
  rm_query_init(&q);
  q.where = stale;
  where_refused(t, &q, "a where tree built on the replaced declaration");
  rm_diag_init(&d);
  rm_query_run(t, &q, NULL, 0, &d);
  ok(strstr(d.message, "another declaration") != NULL,
     "... the message says the model was declared again (%s)", d.message);
  fresh = cond1(now, 1, RM_OP_STARTSWITH, S("te"));
  q.where = fresh;
  is_int(rm_query_count(t, &q), 1, "a tree of the new declaration runs");
  rm_node_unref(stale);
  rm_node_unref(fresh);
  rm_store_free(st);
  rm_schema_unref(now);
}

/* A run into no buffer at all: nothing to gather, sort or move (qsort_r
 * was called with NULL). */
static void test_run_without_buffer(void) {
  rm_schema *s = item_schema();
  rm_store *st = rm_store_new();
  rm_table *t = items(st, s, 3);
  rm_query q;
  rm_diag d;
  size_t need = 99;
  rm_query_init(&q);
  q.order.nterms = 1;
  q.order.field[0] = F_SCORE; /* not indexed: the results are sorted */
  q.order.desc[0] = 1;
  rm_diag_init(&d);
  is_int(rm_query_run(t, &q, NULL, 0, &d), 0, "run with out NULL and cap 0 gives 0");
  is_int(rm_query_run_within(t, &q, NULL, 0, &need, &d), -2,
         "run_within with no room asks for more");
  is_uint(need, 3, "... as much as three records take");
  rm_store_free(st);
  rm_schema_unref(s);
}

/* -------------------------------------------------- records to remove */

/* rm_table_remove refuses r with a configuration error naming the table
 * and leaves the table (its records, version, the store's bytes) as it
 * was. */
static void remove_refused(rm_store *st, rm_table *t, const rm_record *r,
                           const char *what) {
  size_t count = rm_table_count(t), bytes = rm_store_bytes(st);
  uint64_t version = rm_table_version(t);
  rm_diag d;
  int rc;
  rm_diag_init(&d);
  rc = rm_table_remove(t, r, &d);
  ok(rc == -1 && d.kind == RM_E_CONFIG &&
         strstr(d.message, rm_table_name(t)) != NULL &&
         rm_table_count(t) == count && rm_table_version(t) == version &&
         rm_store_bytes(st) == bytes,
     "remove refuses %s (%s)", what, d.message);
}

static const rm_record *item_at(const rm_table *t, int64_t id) {
  const rm_record *r = NULL;
  rm_diag d;
  rm_diag_init(&d);
  rm_table_get(t, rm_int(id), &r, &d);
  return r;
}

/* A malloc'd copy of r's memory, header and bytes: what a pointer kept
 * past the removal of its record would show if the memory were left as
 * it was (the test cannot read the freed record itself). */
static rm_record *copy_of(const rm_schema *s, const rm_record *r) {
  size_t header = (size_t)(rm_record_data(r) - (const unsigned char *)r);
  size_t size = header + rm_record_size(s, r);
  void *copy = malloc(size);
  if (copy != NULL) memcpy(copy, r, size);
  return copy;
}

/* A Tag table (string key) with one record, "a". */
static rm_table *tags(rm_store *st) {
  rm_schema *s = rm_schema_new("Tag");
  rm_value v = S("a");
  unsigned char buf[16];
  rm_table *t;
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(s, "name", RM_T_STRING, RM_F_PRIMARY_KEY, &d);
  rm_schema_finish(s, &d);
  t = rm_store_table(st, s, &d);
  rm_record_encode(s, &v, buf);
  rm_table_put(t, buf, rm_record_encoded_size(s, &v), RM_PUT_CREATE, NULL, &d);
  rm_schema_unref(s);
  return t;
}

static void test_remove_foreign(void) {
  rm_schema *s = item_schema();
  rm_store *st = rm_store_new(), *st2 = rm_store_new();
  rm_table *t = items(st, s, 3), *t2 = items(st2, s, 6), *tag = tags(st);
  const rm_record *tag_a = NULL;
  rm_diag d;
  rm_diag_init(&d);
  rm_table_get(tag, S("a"), &tag_a, &d);
  remove_refused(st, t, NULL, "a NULL record");
  remove_refused(st, t, item_at(t2, 3),
                 "the record of the same key and place in another store");
  remove_refused(st, t, item_at(t2, 6), "a record placed past the table's end");
  remove_refused(st, t, tag_a, "a record of another model");
  remove_refused(st, tag, item_at(t, 1), "an Item record in the Tag table");
  ok(item_at(t, 1) != NULL && item_at(t, 3) != NULL && item_at(t2, 3) != NULL &&
         rm_table_count(tag) == 1,
     "... and every record is still there");
  rm_store_free(st);
  rm_store_free(st2);
  rm_schema_unref(s);
}

static void test_remove_stale(void) {
  rm_schema *s = item_schema();
  rm_store *st = rm_store_new();
  rm_table *t = items(st, s, 3);
  rm_record *old3 = copy_of(s, item_at(t, 3)), *old2 = copy_of(s, item_at(t, 2));
  const rm_record *out[8];
  unsigned char buf[64];
  rm_query q;
  rm_diag d;
  long i, n;
  rm_diag_init(&d);
  /* 3 is the last record: created again, it takes the same place. */
  ok(rm_table_delete(t, rm_int(3), &d) == 1 &&
         rm_table_put(t, buf, encode_item(s, 3, "again", buf), RM_PUT_CREATE,
                      NULL, &d) == 0,
     "key 3 removed and created again");
  remove_refused(st, t, old3, "its record from before (same key and place)");
  ok(rm_table_put(t, buf, encode_item(s, 2, "new", buf), RM_PUT_UPSERT, NULL,
                  &d) == 0,
     "key 2 replaced by an upsert");
  remove_refused(st, t, old2, "the record the upsert replaced");
  ok(item_at(t, 2) != NULL && item_at(t, 3) != NULL && rm_table_count(t) == 3,
     "... and the live records are still there");
  rm_query_init(&q);
  n = rm_query_run(t, &q, out, 8, &d);
  for (i = 0; i < n; i++)
    if (rm_table_remove(t, out[i], &d) < 0) break;
  ok(n == 3 && i == n && rm_table_count(t) == 0,
     "the records of one query result are removed one after another");
  free(old3);
  free(old2);
  rm_store_free(st);
  rm_schema_unref(s);
}

/* ------------------------------------------------ documented behaviour */

/* What the header promises about clear, cursors and static names. */
static void test_documented(void) {
  rm_schema *s = item_schema();
  rm_store *st = rm_store_new();
  rm_table *t = items(st, s, 3);
  uint64_t version = rm_table_version(t);
  const rm_record *r = NULL;
  rm_position pos;
  rm_query q;
  rm_diag d;
  char text[256];
  size_t len;
  rm_diag_init(&d);
  rm_query_init(&q);
  rm_table_get(t, rm_int(2), &r, &d);
  rm_query_position(t, &q, r, &pos);
  len = rm_cursor_size(&pos);
  memset(text, '#', sizeof text);
  ok(len < sizeof text && rm_cursor_encode(t, &q, &pos, text) == len &&
         text[len] == '#',
     "rm_cursor_encode writes its length in bytes and no NUL");
  rm_table_clear(t);
  ok(rm_table_version(t) > version && rm_table_count(t) == 0,
     "rm_table_clear is a write: the version moves on");
  is_str(rm_errkind_name(RM_E_CONFIG), "ConfigurationError", "rm_errkind_name");
  is_str(rm_ftype_name((rm_ftype)99), "unknown", "rm_ftype_name of a bad type");
  rm_store_free(st);
  rm_schema_unref(s);
}

/* ------------------------------------------- cursors for NaN positions */

/* Decodes a cursor the engine signed for a position of one score. */
static int decode_score(const rm_table *t, const rm_query *q, double score,
                        rm_position *out, rm_diag *d) {
  rm_position pos;
  char text[256];
  unsigned char scratch[256];
  size_t len;
  memset(&pos, 0, sizeof pos);
  pos.seq = 1;
  pos.nterms = 1;
  pos.vals[0] = rm_float(score);
  len = rm_cursor_encode(t, q, &pos, text);
  rm_diag_init(d);
  return rm_cursor_decode(t, q, text, len, out, scratch, d);
}

/* A C host may hand rm_cursor_encode any position; one holding NaN is
 * signed like any other, but decodes to no value a record could hold. */
static void test_nan_cursor(void) {
  rm_schema *s = item_schema();
  rm_store *st = rm_store_new();
  rm_table *t = items(st, s, 3);
  rm_position pos;
  rm_query q;
  rm_diag d;
  int rc;
  rm_query_init(&q);
  q.order.nterms = 1;
  q.order.field[0] = F_SCORE;
  rc = decode_score(t, &q, 2.5, &pos, &d);
  ok(rc == 0 && pos.nterms == 1 && pos.vals[0].tag == RM_V_FLOAT &&
         pos.vals[0].u.f == 2.5,
     "a cursor for score 2.5 decodes (%s)", d.message);
  rc = decode_score(t, &q, NAN, &pos, &d);
  ok(rc == -1 && d.kind == RM_E_VALIDATION && strstr(d.message, "invalid cursor"),
     "a signed cursor for a NaN score is refused (%s)", d.message);
  rm_store_free(st);
  rm_schema_unref(s);
}


int main(void) {
  test_put_sizes();
  test_cond_args();
  test_null_children();
  test_setter_indexes();
  test_finished_is_fixed();
  test_finish_twice();
  test_failed_finish_changes_nothing();
  test_length_twice();
  test_unfinished_table();
  test_offset_limit();
  test_run_without_buffer();
  test_foreign_where();
  test_swapped_where();
  test_remove_foreign();
  test_remove_stale();
  test_nan_cursor();
  test_documented();
  return done_testing();
}
