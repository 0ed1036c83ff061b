/*
 * The C interface under hostile use: what a C host can get wrong (sizes
 * that do not match a record's encoding, malformed bytes, out-of-range
 * field indexes, unfinished or finished schemas, bad condition arguments,
 * negative offsets) is refused with a diagnostic and changes nothing,
 * instead of crashing or reading past a buffer. Best run under ASan and
 * UBSan, which turn the old failures into reports.
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

int main(void) {
  test_put_sizes();
  test_cond_args();
  test_null_children();
  return done_testing();
}
