/*
 * Record encoding: every kind of value survives encode/decode unchanged,
 * rm_record_encoded_size is exactly what rm_record_encode writes, and a
 * record stored in a table decodes to the same values.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restmachine_orm.h"
#include "tap.h"

#define NFIELDS 40
#define SENTINEL 0xA5

/* The encoding does not depend on field types, so one schema of
 * optional bytes fields (after an integer key) holds any value. */
static rm_schema *wide_schema(int nfields) {
  rm_schema *s = rm_schema_new("Wide");
  rm_diag d;
  char name[16];
  int i;
  rm_diag_init(&d);
  rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  for (i = 1; i < nfields; i++) {
    snprintf(name, sizeof name, "f%d", i);
    rm_schema_add_field(s, name, RM_T_BYTES, RM_F_OPTIONAL, &d);
  }
  if (rm_schema_finish(s, &d) < 0) diag("schema refused: %s", d.message);
  return s;
}

/* Same value, same representation: floats bit for bit (-0.0 is kept),
 * strings byte for byte. */
static int same_value(const rm_value *a, const rm_value *b) {
  if (a->tag != b->tag) return 0;
  switch (a->tag) {
    case RM_V_INT: return a->u.i == b->u.i;
    case RM_V_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case RM_V_STR:
      return a->u.s.len == b->u.s.len &&
             (a->u.s.len == 0 || memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0);
    default: return 1;
  }
}

static void describe(const rm_value *v, char *buf, size_t cap) {
  switch (v->tag) {
    case RM_V_NIL: snprintf(buf, cap, "nil"); break;
    case RM_V_FALSE: snprintf(buf, cap, "false"); break;
    case RM_V_TRUE: snprintf(buf, cap, "true"); break;
    case RM_V_INT: snprintf(buf, cap, "integer %lld", (long long)v->u.i); break;
    case RM_V_FLOAT: snprintf(buf, cap, "float %.17g", v->u.f); break;
    case RM_V_STR: snprintf(buf, cap, "string of %zu bytes", v->u.s.len); break;
    default: snprintf(buf, cap, "tag %d", (int)v->tag); break;
  }
}

/* Encodes vals (s's fields) into a fresh buffer with SENTINEL bytes after
 * the encoded size; returns the buffer, *size its encoded size. */
static unsigned char *encode(const rm_schema *s, const rm_value *vals,
                             size_t *size) {
  unsigned char *buf;
  *size = rm_record_encoded_size(s, vals);
  buf = malloc(*size + 16);
  if (buf == NULL) return NULL;
  memset(buf, SENTINEL, *size + 16);
  rm_record_encode(s, vals, buf);
  return buf;
}

static int untouched_after(const unsigned char *buf, size_t size) {
  size_t i;
  for (i = size; i < size + 16; i++)
    if (buf[i] != SENTINEL) return 0;
  return 1;
}

/* One value in field 1 of a two-field record, round tripped alone. */
static void round_trip_one(const rm_schema *two, rm_value v) {
  rm_value vals[2], out[2], one;
  char what[64];
  size_t size;
  unsigned char *buf;
  vals[0] = rm_int(1);
  vals[1] = v;
  describe(&v, what, sizeof what);
  buf = encode(two, vals, &size);
  if (buf == NULL) return;
  ok(untouched_after(buf, size), "%s: encode writes no more than its size",
     what);
  rm_record_get_all(two, buf, out);
  ok(same_value(&out[0], &vals[0]) && same_value(&out[1], &v),
     "%s: rm_record_get_all decodes it unchanged", what);
  rm_record_get(two, buf, 1, &one);
  ok(same_value(&one, &v), "%s: rm_record_get decodes it unchanged", what);
  free(buf);
}

static void test_each_kind(void) {
  rm_schema *two = wide_schema(2);
  static const char nuls[] = "a\0b\0\0c";
  char *big = malloc(100000);
  size_t lens[] = {127, 128, 16383, 16384, 100000};
  size_t i;
  round_trip_one(two, rm_nil());
  round_trip_one(two, rm_bool(0));
  round_trip_one(two, rm_bool(1));
  round_trip_one(two, rm_int(0));
  round_trip_one(two, rm_int(1));
  round_trip_one(two, rm_int(-1));
  round_trip_one(two, rm_int(63));
  round_trip_one(two, rm_int(64));
  round_trip_one(two, rm_int(-64));
  round_trip_one(two, rm_int(-65));
  round_trip_one(two, rm_int(1000000007));
  round_trip_one(two, rm_int(-1000000007));
  round_trip_one(two, rm_int(INT64_MAX));
  round_trip_one(two, rm_int(INT64_MIN));
  round_trip_one(two, rm_int(INT64_MAX - 1));
  round_trip_one(two, rm_int(INT64_MIN + 1));
  round_trip_one(two, rm_int((int64_t)1 << 62));
  round_trip_one(two, rm_int(-((int64_t)1 << 62)));
  round_trip_one(two, rm_float(0.0));
  round_trip_one(two, rm_float(-0.0));
  round_trip_one(two, rm_float(1.5));
  round_trip_one(two, rm_float(-1e300));
  round_trip_one(two, rm_float(5e-324));
  round_trip_one(two, rm_float(HUGE_VAL));
  round_trip_one(two, rm_float(1736937000.123456));
  round_trip_one(two, rm_str("", 0));
  round_trip_one(two, rm_str("hello", 5));
  round_trip_one(two, rm_str(nuls, sizeof nuls - 1));
  round_trip_one(two, rm_str("\xff\xfe\x80", 3));
  if (big != NULL) {
    for (i = 0; i < 100000; i++) big[i] = (char)(i * 7 + i / 256);
    for (i = 0; i < sizeof lens / sizeof *lens; i++)
      round_trip_one(two, rm_str(big, lens[i]));
  }
  free(big);
  rm_schema_unref(two);
}

/* The sizes the encoding documents: a tag byte per field, floats in 8
 * bytes, strings with a varint length, small integers in a byte or two. */
static void test_sizes(void) {
  rm_schema *two = wide_schema(2);
  rm_value vals[2];
  vals[0] = rm_int(0);
  vals[1] = rm_nil();
  is_uint(rm_record_encoded_size(two, vals), 3, "nil and integer 0 take 3 bytes");
  vals[1] = rm_bool(1);
  is_uint(rm_record_encoded_size(two, vals), 3, "a boolean takes its tag byte");
  vals[1] = rm_float(2.5);
  is_uint(rm_record_encoded_size(two, vals), 2 + 9, "a float takes 9 bytes");
  vals[1] = rm_str("abc", 3);
  is_uint(rm_record_encoded_size(two, vals), 2 + 5, "\"abc\" takes 5 bytes");
  vals[1] = rm_int(INT64_MIN);
  ok(rm_record_encoded_size(two, vals) <= 2 + 11,
     "INT64_MIN takes at most 11 bytes (%zu)", rm_record_encoded_size(two, vals));
  rm_schema_unref(two);
}

/* A record of many fields mixing every kind: each field decodes to its
 * value, alone or all at once. */
static void test_many_fields(void) {
  rm_schema *s = wide_schema(NFIELDS);
  rm_value vals[NFIELDS], out[NFIELDS];
  static const char text[] = "caf\xc3\xa9\0tail";
  unsigned char *buf;
  size_t size;
  int i, all_ok = 1, each_ok = 1;
  for (i = 0; i < NFIELDS; i++) {
    switch (i % 7) {
      case 0: vals[i] = rm_int((int64_t)i * -123456789); break;
      case 1: vals[i] = rm_nil(); break;
      case 2: vals[i] = rm_float(i / 3.0); break;
      case 3: vals[i] = rm_str(text, sizeof text - 1 - (size_t)(i % 5)); break;
      case 4: vals[i] = rm_bool(i % 2); break;
      case 5: vals[i] = rm_int(i % 2 ? INT64_MAX : INT64_MIN); break;
      default: vals[i] = rm_str("", 0); break;
    }
  }
  vals[0] = rm_int(42);
  buf = encode(s, vals, &size);
  if (buf == NULL) return;
  ok(untouched_after(buf, size), "a %d-field record is encoded within its size",
     NFIELDS);
  rm_record_get_all(s, buf, out);
  for (i = 0; i < NFIELDS; i++) {
    rm_value one;
    if (!same_value(&out[i], &vals[i])) all_ok = 0;
    rm_record_get(s, buf, i, &one);
    if (!same_value(&one, &vals[i])) each_ok = 0;
  }
  ok(all_ok, "rm_record_get_all decodes all %d fields", NFIELDS);
  ok(each_ok, "rm_record_get decodes each of the %d fields", NFIELDS);
  free(buf);
  rm_schema_unref(s);
}

/* A schema whose fields take the stored test's values: a table checks
 * that each value fits its field's type. */
static rm_schema *typed_schema(void) {
  static const rm_ftype types[6] = {RM_T_INTEGER, RM_T_BYTES, RM_T_NUMBER,
                                    RM_T_BYTES, RM_T_INTEGER, RM_T_BOOLEAN};
  rm_schema *s = rm_schema_new("Typed");
  rm_diag d;
  char name[16];
  int i;
  rm_diag_init(&d);
  for (i = 0; i < 6; i++) {
    snprintf(name, sizeof name, "f%d", i);
    rm_schema_add_field(s, name, types[i],
                        i == 0 ? RM_F_PRIMARY_KEY : RM_F_OPTIONAL, &d);
  }
  if (rm_schema_finish(s, &d) < 0) diag("schema refused: %s", d.message);
  return s;
}

/* A stored record is a copy: it decodes to the same values after the
 * caller's buffer is gone, and rm_record_size is the encoded size. */
static void test_stored(void) {
  rm_schema *s = typed_schema();
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  rm_value vals[6], out[6];
  const rm_record *r = NULL, *found = NULL;
  unsigned char *buf;
  size_t size;
  char *text = malloc(300);
  int i, same = 1;
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  memset(text, 'x', 300);
  text[100] = '\0';
  vals[0] = rm_int(INT64_MIN);
  vals[1] = rm_str(text, 300);
  vals[2] = rm_float(-0.0);
  vals[3] = rm_nil();
  vals[4] = rm_int(INT64_MAX);
  vals[5] = rm_bool(0);
  buf = encode(s, vals, &size);
  is_int(rm_table_put(t, buf, size, RM_PUT_CREATE, &r, &d), 0,
         "a record of every kind is stored");
  memset(buf, 0, size);
  memset(text, 'y', 300);
  free(buf);
  vals[1] = rm_str(NULL, 0); /* the caller's text is gone */
  is_uint(rm_record_size(s, r), size, "rm_record_size is the encoded size");
  rm_table_get(t, rm_int(INT64_MIN), &found, &d);
  ok(found == r, "it is found by its INT64_MIN key");
  rm_record_get_all(s, rm_record_data(r), out);
  for (i = 0; i < 6; i++)
    if (i != 1 && !same_value(&out[i], &vals[i])) same = 0;
  ok(same, "its values decode unchanged");
  ok(out[1].tag == RM_V_STR && out[1].u.s.len == 300 &&
         out[1].u.s.ptr[0] == 'x' && out[1].u.s.ptr[100] == '\0' &&
         out[1].u.s.ptr[299] == 'x',
     "its string (with a NUL) is the engine's copy");
  free(text);
  rm_store_free(st);
  rm_schema_unref(s);
}

int main(void) {
  test_each_kind();
  test_sizes();
  test_many_fields();
  test_stored();
  return done_testing();
}
