/*
 * Stores and tables: put in its three modes, get and delete by key of each
 * key type, insertion order through deletes and upserts, unique fields,
 * clear, the store's record and byte counts, redeclared models, and many
 * records.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restmachine_orm.h"
#include "tap.h"

#define S(lit) rm_str(lit, sizeof lit - 1)

/* ------------------------------------------------------------ helpers */

/* Declares a model from "name:type[:flags]" specs; flags are letters: k
 * primary key, u unique, o optional. */
static rm_schema *schema(const char *model, const char *const *specs) {
  rm_schema *s = rm_schema_new(model);
  rm_diag d;
  rm_diag_init(&d);
  for (; *specs; specs++) {
    char name[32];
    const char *c1 = strchr(*specs, ':'), *c2;
    unsigned flags = 0;
    rm_ftype type = RM_T_STRING;
    size_t n = (size_t)(c1 - *specs);
    memcpy(name, *specs, n);
    name[n] = '\0';
    switch (c1[1]) {
      case 's': type = RM_T_STRING; break;
      case 'i': type = RM_T_INTEGER; break;
      case 'n': type = RM_T_NUMBER; break;
      case 'b': type = RM_T_BOOLEAN; break;
      case 'd': type = RM_T_DATETIME; break;
      case 'y': type = RM_T_BYTES; break;
    }
    c2 = strchr(c1 + 1, ':');
    if (c2 && strchr(c2, 'k')) flags |= RM_F_PRIMARY_KEY;
    if (c2 && strchr(c2, 'u')) flags |= RM_F_UNIQUE;
    if (c2 && strchr(c2, 'o')) flags |= RM_F_OPTIONAL;
    rm_schema_add_field(s, name, type, flags, &d);
  }
  if (rm_schema_finish(s, &d) < 0) diag("schema %s refused: %s", model, d.message);
  return s;
}

/* Validates vals as a write would, encodes them and puts the record. */
static int put(rm_table *t, const rm_value *vals, rm_put_mode mode,
               const rm_record **out, rm_diag *d) {
  const rm_schema *s = rm_table_schema(t);
  rm_value v[RM_MAX_FIELDS];
  unsigned char *buf;
  size_t size;
  int i, rc = 0;
  rm_diag_init(d);
  for (i = 0; i < rm_schema_nfields(s); i++) {
    v[i] = vals[i];
    if (rm_field_validate(s, i, &v[i], d) < 0) rc = -1;
  }
  if (rc < 0) return -1;
  size = rm_record_encoded_size(s, v);
  buf = malloc(size);
  rm_record_encode(s, v, buf);
  rc = rm_table_put(t, buf, size, mode, out, d);
  free(buf);
  return rc;
}

/* The User model: id string key, email unique, n an integer. */
static const char *const user_fields[] = {"id:s:k", "email:s:uo", "n:i:o", NULL};

static int put_user(rm_table *t, const char *id, const char *email, int64_t n,
                    rm_put_mode mode, rm_diag *d) {
  rm_value v[3];
  v[0] = rm_str(id, strlen(id));
  v[1] = email ? rm_str(email, strlen(email)) : rm_nil();
  v[2] = rm_int(n);
  return put(t, v, mode, NULL, d);
}

/* The record with this key, or NULL. */
static const rm_record *get(const rm_table *t, rm_value key) {
  const rm_record *r = NULL;
  rm_diag d;
  rm_diag_init(&d);
  if (rm_table_get(t, key, &r, &d) < 0) return NULL;
  return r;
}

static const rm_record *get_str(const rm_table *t, const char *key) {
  return get(t, rm_str(key, strlen(key)));
}

static rm_value field_of(const rm_table *t, const rm_record *r, int field) {
  rm_value v;
  rm_record_get(rm_table_schema(t), rm_record_data(r), field, &v);
  return v;
}

static int64_t int_field(const rm_table *t, const rm_record *r, int field) {
  rm_value v;
  if (r == NULL) return INT64_MIN;
  v = field_of(t, r, field);
  return v.tag == RM_V_INT ? v.u.i : INT64_MIN;
}

/* The string keys in insertion order joined by ",". */
static const char *order_of(const rm_table *t, char *buf, size_t cap) {
  size_t pos = 0, used = 0;
  const rm_record *r;
  buf[0] = '\0';
  while ((r = rm_table_next(t, &pos)) != NULL) {
    rm_value k = field_of(t, r, rm_schema_primary_key(rm_table_schema(t)));
    if (k.tag == RM_V_STR)
      used += (size_t)snprintf(buf + used, cap - used, "%s%.*s", used ? "," : "",
                               (int)k.u.s.len, k.u.s.ptr);
    else
      used += (size_t)snprintf(buf + used, cap - used, "%s%lld", used ? "," : "",
                               (long long)k.u.i);
    if (used >= cap) break;
  }
  return buf;
}

/* ------------------------------------------------------------- tests */

static void test_store_tables(void) {
  rm_schema *user = schema("User", user_fields);
  rm_schema *tag = schema("Tag", (const char *const[]){"slug:s:k", NULL});
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t, *t2, *tt;
  rm_diag_init(&d);
  ok(rm_store_find(st, "User") == NULL, "a new store has no User table");
  t = rm_store_table(st, user, &d);
  ok(t != NULL, "rm_store_table creates the table");
  is_str(rm_table_name(t), "User", "the table is named after the model");
  ok(rm_table_schema(t) == user, "the table has the model's schema");
  is_uint(rm_table_count(t), 0, "a new table is empty");
  t2 = rm_store_table(st, user, &d);
  ok(t2 == t, "the same model gets the same table");
  ok(rm_store_find(st, "User") == t, "rm_store_find finds it by name");
  tt = rm_store_table(st, tag, &d);
  ok(tt != NULL && tt != t, "another model gets its own table");
  ok(rm_store_find(st, "Nope") == NULL, "rm_store_find of no model is NULL");
  rm_store_free(st);
  rm_schema_unref(user);
  rm_schema_unref(tag);
}

static void test_put_modes(void) {
  rm_schema *user = schema("User", user_fields);
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  const rm_record *r = NULL;
  rm_value v[3];
  uint64_t version, seq;
  char buf[256];
  rm_diag_init(&d);
  t = rm_store_table(st, user, &d);
  v[0] = S("a");
  v[1] = rm_nil();
  v[2] = rm_int(1);
  is_int(put(t, v, RM_PUT_CREATE, &r, &d), 0, "CREATE stores a new record");
  ok(r != NULL && r == get_str(t, "a"), "... *out is the stored record");
  is_uint(rm_table_count(t), 1, "... the table counts it");
  put_user(t, "b", NULL, 2, RM_PUT_CREATE, &d);
  put_user(t, "c", NULL, 3, RM_PUT_CREATE, &d);
  version = rm_table_version(t);
  is_int(put_user(t, "b", NULL, 99, RM_PUT_CREATE, &d), -1,
         "CREATE of an existing key fails");
  is_int(d.kind, RM_E_DUPLICATE, "... with RM_E_DUPLICATE");
  ok(strstr(d.message, "User") && strstr(d.message, "\"b\""),
     "... naming model and key: %s", d.message);
  is_int(int_field(t, get_str(t, "b"), 2), 2, "... and the record is unchanged");
  is_uint(rm_table_version(t), version, "... and the version is unchanged");
  seq = rm_record_seq(get_str(t, "b"));
  is_int(put_user(t, "b", NULL, 20, RM_PUT_UPSERT, &d), 0,
         "UPSERT of an existing key succeeds");
  is_int(int_field(t, get_str(t, "b"), 2), 20, "... and replaces the record");
  is_uint(rm_table_count(t), 3, "... without adding one");
  is_uint(rm_record_seq(get_str(t, "b")), seq, "... keeping its sequence");
  is_str(order_of(t, buf, sizeof buf), "a,b,c", "... and its place in order");
  ok(rm_table_version(t) > version, "a write increases the version");
  is_int(put_user(t, "d", NULL, 4, RM_PUT_UPSERT, &d), 0,
         "UPSERT of a new key inserts");
  is_str(order_of(t, buf, sizeof buf), "a,b,c,d", "... at the end");
  is_int(put_user(t, "c", NULL, 30, RM_PUT_UPDATE, &d), 0,
         "UPDATE of an existing key succeeds");
  is_int(int_field(t, get_str(t, "c"), 2), 30, "... and replaces the record");
  is_str(order_of(t, buf, sizeof buf), "a,b,c,d", "... in its place");
  version = rm_table_version(t);
  is_int(put_user(t, "zz", NULL, 5, RM_PUT_UPDATE, &d), -1,
         "UPDATE of a missing key fails");
  is_int(d.kind, RM_E_NOT_FOUND, "... with RM_E_NOT_FOUND");
  ok(get_str(t, "zz") == NULL && rm_table_count(t) == 4,
     "... and inserts nothing");
  is_uint(rm_table_version(t), version, "... and leaves the version");
  rm_store_free(st);
  rm_schema_unref(user);
}

static void test_string_keys(void) {
  rm_schema *user = schema("User", user_fields);
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  const rm_record *r = (const rm_record *)&d;
  static const char nul_key[] = "k\0x";
  rm_value v[3];
  rm_diag_init(&d);
  t = rm_store_table(st, user, &d);
  put_user(t, "alice", NULL, 1, RM_PUT_CREATE, &d);
  put_user(t, "alice2", NULL, 2, RM_PUT_CREATE, &d);
  put_user(t, "k", NULL, 3, RM_PUT_CREATE, &d);
  v[0] = rm_str(nul_key, 3);
  v[1] = rm_nil();
  v[2] = rm_int(4);
  put(t, v, RM_PUT_CREATE, NULL, &d);
  is_int(int_field(t, get_str(t, "alice"), 2), 1, "get by string key");
  is_int(int_field(t, get_str(t, "alice2"), 2), 2,
         "a key that extends another is its own");
  is_int(int_field(t, get(t, rm_str(nul_key, 3)), 2), 4,
         "a key with a NUL byte is found by all its bytes");
  is_int(int_field(t, get_str(t, "k"), 2), 3, "... and differs from its prefix");
  ok(get_str(t, "alic") == NULL && get_str(t, "Alice") == NULL,
     "other keys are not found");
  is_int(rm_table_get(t, S("nobody"), &r, &d), 0, "get of a missing key returns 0");
  ok(r == NULL, "... with NULL");
  rm_diag_init(&d);
  is_int(rm_table_get(t, rm_int(1), &r, &d), -1,
         "get with an integer for a string key fails");
  ok(d.kind == RM_E_VALIDATION && d.nerrors == 1 &&
         strcmp(d.errors[0].field, "id") == 0,
     "... with a ValidationError naming the key field");
  rm_diag_init(&d);
  is_int(rm_table_delete(t, rm_bool(1), &d), -1,
         "delete with a boolean for a string key fails");
  is_uint(rm_table_count(t), 4, "... and deletes nothing");
  rm_store_free(st);
  rm_schema_unref(user);
}

static void test_integer_keys(void) {
  rm_schema *s = schema("Num", (const char *const[]){"id:i:k", "v:i", NULL});
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  const rm_record *r;
  int64_t keys[] = {0, 1, -1, 63, 64, -64, -65, 127, 128, -129, 300, -300,
                    INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1,
                    (int64_t)1 << 40, -((int64_t)1 << 40)};
  size_t i, n = sizeof keys / sizeof *keys;
  int found = 1, stored = 1;
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  for (i = 0; i < n; i++) {
    rm_value v[2];
    v[0] = rm_int(keys[i]);
    v[1] = rm_int((int64_t)i);
    if (put(t, v, RM_PUT_CREATE, NULL, &d) < 0) stored = 0;
  }
  ok(stored, "%zu distinct integer keys (negative, extreme) are stored", n);
  is_uint(rm_table_count(t), n, "... and counted");
  for (i = 0; i < n; i++)
    if (int_field(t, get(t, rm_int(keys[i])), 1) != (int64_t)i) {
      diag("key %lld not found", (long long)keys[i]);
      found = 0;
    }
  ok(found, "each is found by its key");
  ok(get(t, rm_int(2)) == NULL && get(t, rm_int(-2)) == NULL &&
         get(t, rm_int(65)) == NULL,
     "keys not stored are not found");
  is_int(int_field(t, get(t, rm_float(-1.0)), 1), 2,
         "an integral float key finds the integer record");
  rm_diag_init(&d);
  is_int(rm_table_get(t, rm_float(1.5), &r, &d), -1,
         "a fractional key for an integer key fails");
  is_int(d.kind, RM_E_VALIDATION, "... with RM_E_VALIDATION");
  rm_diag_init(&d);
  is_int(rm_table_get(t, S("1"), &r, &d), -1, "a string key for an integer key fails");
  is_int(rm_table_delete(t, rm_int(INT64_MIN), &d), 1, "delete INT64_MIN returns 1");
  ok(get(t, rm_int(INT64_MIN)) == NULL && get(t, rm_int(INT64_MAX)) != NULL,
     "... and only that key is gone");
  rm_store_free(st);
  rm_schema_unref(s);
}

static void test_datetime_keys(void) {
  rm_schema *s = schema("Event", (const char *const[]){"at:d:k", "v:i", NULL});
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  rm_value v[2];
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  v[0] = rm_float(1736937000.5);
  v[1] = rm_int(1);
  put(t, v, RM_PUT_CREATE, NULL, &d);
  v[0] = S("2025-01-15T10:30:00Z");
  v[1] = rm_int(2);
  put(t, v, RM_PUT_CREATE, NULL, &d);
  v[0] = rm_float(-0.0);
  v[1] = rm_int(3);
  put(t, v, RM_PUT_CREATE, NULL, &d);
  v[0] = rm_float(-1.25);
  v[1] = rm_int(4);
  put(t, v, RM_PUT_CREATE, NULL, &d);
  is_uint(rm_table_count(t), 4, "four datetime keys are stored");
  is_int(int_field(t, get(t, rm_float(1736937000.5)), 1), 1,
         "a float datetime key is found by the float");
  is_int(int_field(t, get(t, S("2025-01-15T10:30:00.5Z")), 1), 1,
         "... and by its ISO-8601 text");
  is_int(int_field(t, get(t, S("2025-01-15T12:30:00.5+02:00")), 1), 1,
         "... and by ISO-8601 text with an offset");
  is_int(int_field(t, get(t, rm_int(1736937000)), 1), 2,
         "an integer finds the whole-second datetime key");
  is_int(int_field(t, get(t, rm_float(1736937000.0)), 1), 2,
         "... and so does the float");
  is_int(int_field(t, get(t, rm_float(0.0)), 1), 3,
         "0.0 finds the record stored as -0.0");
  is_int(int_field(t, get(t, rm_int(0)), 1), 3, "... and so does integer 0");
  is_int(int_field(t, get(t, S("1969-12-31T23:59:58.75Z")), 1), 4,
         "a negative datetime key is found by its text");
  ok(get(t, rm_float(1736937000.25)) == NULL, "a nearby time is not found");
  v[0] = rm_int(0);
  v[1] = rm_int(5);
  is_int(put(t, v, RM_PUT_CREATE, NULL, &d), -1,
         "CREATE with key 0 duplicates the -0.0 key");
  is_int(d.kind, RM_E_DUPLICATE, "... as RM_E_DUPLICATE");
  rm_store_free(st);
  rm_schema_unref(s);
}

static void test_delete(void) {
  rm_schema *user = schema("User", user_fields);
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  uint64_t version;
  char buf[256];
  rm_diag_init(&d);
  t = rm_store_table(st, user, &d);
  put_user(t, "a", NULL, 1, RM_PUT_CREATE, &d);
  put_user(t, "b", NULL, 2, RM_PUT_CREATE, &d);
  is_int(rm_table_delete(t, S("a"), &d), 1, "delete of a stored key returns 1");
  ok(get_str(t, "a") == NULL && rm_table_count(t) == 1, "... and removes it");
  version = rm_table_version(t);
  is_int(rm_table_delete(t, S("a"), &d), 0, "delete again returns 0");
  is_int(rm_table_delete(t, S("zz"), &d), 0, "delete of a missing key returns 0");
  is_uint(rm_table_version(t), version, "deleting nothing leaves the version");
  is_str(order_of(t, buf, sizeof buf), "b", "the other record stays");
  is_int(rm_table_delete(t, rm_nil(), &d), 0, "delete of a nil key returns 0");
  rm_store_free(st);
  rm_schema_unref(user);
}

static void test_insertion_order(void) {
  rm_schema *user = schema("User", user_fields);
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  char key[16], buf[256]; /* key: room for any int */
  size_t pos = 0;
  int i;
  rm_diag_init(&d);
  t = rm_store_table(st, user, &d);
  ok(rm_table_next(t, &pos) == NULL, "an empty table iterates nothing");
  for (i = 0; i < 10; i++) {
    snprintf(key, sizeof key, "k%d", i);
    put_user(t, key, NULL, i, RM_PUT_CREATE, &d);
  }
  is_str(order_of(t, buf, sizeof buf), "k0,k1,k2,k3,k4,k5,k6,k7,k8,k9",
         "records iterate in insertion order");
  rm_table_delete(t, S("k3"), &d);
  rm_table_delete(t, S("k7"), &d);
  rm_table_delete(t, S("k9"), &d);
  is_str(order_of(t, buf, sizeof buf), "k0,k1,k2,k4,k5,k6,k8",
         "deleted records leave the order");
  put_user(t, "k5", NULL, 55, RM_PUT_UPSERT, &d);
  put_user(t, "k0", NULL, 0, RM_PUT_UPDATE, &d);
  is_str(order_of(t, buf, sizeof buf), "k0,k1,k2,k4,k5,k6,k8",
         "upserts and updates keep their places");
  put_user(t, "k10", NULL, 10, RM_PUT_UPSERT, &d);
  put_user(t, "k3", NULL, 3, RM_PUT_CREATE, &d);
  put_user(t, "k9", NULL, 9, RM_PUT_CREATE, &d);
  is_str(order_of(t, buf, sizeof buf), "k0,k1,k2,k4,k5,k6,k8,k10,k3,k9",
         "new and re-created keys go to the end");
  ok(rm_record_seq(get_str(t, "k8")) < rm_record_seq(get_str(t, "k10")) &&
         rm_record_seq(get_str(t, "k10")) < rm_record_seq(get_str(t, "k3")),
     "sequences follow insertion order");
  rm_table_delete(t, S("k9"), &d);
  rm_table_delete(t, S("k3"), &d);
  rm_table_delete(t, S("k10"), &d);
  put_user(t, "k11", NULL, 11, RM_PUT_CREATE, &d);
  is_str(order_of(t, buf, sizeof buf), "k0,k1,k2,k4,k5,k6,k8,k11",
         "deleting from the end then inserting keeps the order");
  rm_store_free(st);
  rm_schema_unref(user);
}

static void test_unique(void) {
  rm_schema *user = schema("User", user_fields);
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  uint64_t version;
  size_t bytes;
  char buf[256];
  rm_diag_init(&d);
  t = rm_store_table(st, user, &d);
  is_int(put_user(t, "a", "x@example.com", 1, RM_PUT_CREATE, &d), 0,
         "a record with a unique value is stored");
  version = rm_table_version(t);
  bytes = rm_store_bytes(st);
  is_int(put_user(t, "b", "x@example.com", 2, RM_PUT_CREATE, &d), -1,
         "a second record with the same unique value fails");
  is_int(d.kind, RM_E_DUPLICATE, "... with RM_E_DUPLICATE");
  ok(strstr(d.message, "User.email") != NULL &&
         strstr(d.message, "x@example.com") != NULL,
     "... naming field and value: %s", d.message);
  ok(get_str(t, "b") == NULL && rm_table_count(t) == 1,
     "... and the table is unchanged");
  is_uint(rm_table_version(t), version, "... version unchanged");
  is_uint(rm_store_bytes(st), bytes, "... bytes unchanged");
  is_int(put_user(t, "b", "x@example.com", 2, RM_PUT_UPSERT, &d), -1,
         "UPSERT of a new key with a taken unique value fails too");
  is_int(put_user(t, "b", NULL, 2, RM_PUT_CREATE, &d), 0,
         "a nil unique value is not counted");
  is_int(put_user(t, "c", NULL, 3, RM_PUT_CREATE, &d), 0,
         "... so two records can hold nil");
  is_int(put_user(t, "a", "x@example.com", 10, RM_PUT_UPDATE, &d), 0,
         "updating a record that keeps its own unique value is fine");
  is_int(int_field(t, get_str(t, "a"), 2), 10, "... and applies");
  is_int(put_user(t, "b", "x@example.com", 2, RM_PUT_UPDATE, &d), -1,
         "updating another record to a taken value fails");
  ok(d.kind == RM_E_DUPLICATE && field_of(t, get_str(t, "b"), 1).tag == RM_V_NIL,
     "... and leaves it as it was");
  is_int(put_user(t, "a", "y@example.com", 11, RM_PUT_UPSERT, &d), 0,
         "a record can change its unique value");
  is_int(put_user(t, "b", "x@example.com", 2, RM_PUT_UPDATE, &d), 0,
         "... which frees the old value");
  is_int(put_user(t, "d", "y@example.com", 4, RM_PUT_CREATE, &d), -1,
         "... and takes the new one");
  is_int(rm_table_delete(t, S("a"), &d), 1, "deleting the holder");
  is_int(put_user(t, "d", "y@example.com", 4, RM_PUT_CREATE, &d), 0,
         "... frees its unique value");
  is_int(put_user(t, "b", NULL, 2, RM_PUT_UPSERT, &d), 0,
         "setting a unique value to nil");
  is_int(put_user(t, "e", "x@example.com", 5, RM_PUT_CREATE, &d), 0,
         "... frees it");
  is_int(put_user(t, "f", "X@example.com", 6, RM_PUT_CREATE, &d), 0,
         "unique values compare bytewise (case matters)");
  is_str(order_of(t, buf, sizeof buf), "b,c,d,e,f", "the order is as expected");
  rm_table_clear(t);
  is_int(put_user(t, "g", "x@example.com", 7, RM_PUT_CREATE, &d), 0,
         "after clear every unique value is free");
  rm_store_free(st);
  rm_schema_unref(user);
}

/* Unique integer and number fields: a number field's 1 and 1.0 are the
 * same value. */
static void test_unique_numbers(void) {
  rm_schema *s = schema("Score", (const char *const[]){"id:i:k", "rank:i:uo",
                                                         "points:n:uo", NULL});
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  rm_value v[3];
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  v[0] = rm_int(1);
  v[1] = rm_int(-5);
  v[2] = rm_int(1);
  is_int(put(t, v, RM_PUT_CREATE, NULL, &d), 0, "rank -5, points 1 stored");
  v[0] = rm_int(2);
  v[1] = rm_float(-5.0);
  v[2] = rm_float(2.5);
  is_int(put(t, v, RM_PUT_CREATE, NULL, &d), -1,
         "a unique integer given as -5.0 duplicates -5");
  v[1] = rm_int(5);
  v[2] = rm_float(1.0);
  is_int(put(t, v, RM_PUT_CREATE, NULL, &d), -1,
         "a unique number 1.0 duplicates 1");
  is_int(d.kind, RM_E_DUPLICATE, "... with RM_E_DUPLICATE");
  v[2] = rm_float(1.5);
  is_int(put(t, v, RM_PUT_CREATE, NULL, &d), 0, "1.5 is another number");
  v[0] = rm_int(3);
  v[1] = rm_int(6);
  v[2] = rm_float(1.5);
  is_int(put(t, v, RM_PUT_CREATE, NULL, &d), -1, "... that is then taken");
  v[2] = rm_float(-0.0);
  is_int(put(t, v, RM_PUT_CREATE, NULL, &d), 0, "-0.0 is stored");
  v[0] = rm_int(4);
  v[1] = rm_int(7);
  v[2] = rm_int(0);
  is_int(put(t, v, RM_PUT_CREATE, NULL, &d), -1, "... and 0 duplicates it");
  rm_store_free(st);
  rm_schema_unref(s);
}

static void test_clear_and_counts(void) {
  rm_schema *user = schema("User", user_fields);
  rm_schema *tag = schema("Tag", (const char *const[]){"slug:s:k", NULL});
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t, *tt;
  size_t empty, b10, b11;
  uint64_t version;
  char key[16], email[32];
  int i;
  rm_diag_init(&d);
  t = rm_store_table(st, user, &d);
  tt = rm_store_table(st, tag, &d);
  empty = rm_store_bytes(st);
  ok(empty > 0, "a store with tables holds some bytes (%zu)", empty);
  is_uint(rm_store_records(st), 0, "... and no records");
  for (i = 0; i < 10; i++) {
    snprintf(key, sizeof key, "u%d", i);
    snprintf(email, sizeof email, "u%d@example.com", i);
    put_user(t, key, email, i, RM_PUT_CREATE, &d);
  }
  {
    rm_value v = S("t1");
    put(tt, &v, RM_PUT_CREATE, NULL, &d);
  }
  b10 = rm_store_bytes(st);
  ok(b10 > empty, "eleven records take bytes (%zu > %zu)", b10, empty);
  is_uint(rm_store_records(st), 11, "rm_store_records counts every table");
  {
    rm_value v = S("t2");
    put(tt, &v, RM_PUT_CREATE, NULL, &d);
  }
  ok(rm_store_bytes(st) > b10, "a record in the other table takes bytes");
  is_uint(rm_store_records(st), 12, "... and is counted");
  rm_table_delete(tt, S("t2"), &d);
  is_uint(rm_store_bytes(st), b10, "deleting it gives them back");
  put_user(t, "u10", "u10@example.com", 10, RM_PUT_CREATE, &d);
  b11 = rm_store_bytes(st);
  ok(b11 > b10, "an eleventh record takes more bytes (%zu > %zu)", b11, b10);
  rm_table_delete(t, S("u10"), &d);
  is_uint(rm_store_bytes(st), b10, "deleting it gives them back");
  put_user(t, "u3", "u3-long-address@example.com", 3, RM_PUT_UPSERT, &d);
  ok(rm_store_bytes(st) > b10, "an upsert with a longer value takes more bytes");
  put_user(t, "u3", "u3@example.com", 3, RM_PUT_UPSERT, &d);
  is_uint(rm_store_bytes(st), b10, "... and upserting the old value gives them back");
  version = rm_table_version(t);
  rm_table_clear(t);
  is_uint(rm_table_count(t), 0, "clear empties the table");
  is_uint(rm_store_records(st), 1, "... and the store counts only the other table");
  rm_table_clear(tt);
  is_uint(rm_store_records(st), 0, "clearing that one too leaves no record");
  ok(get_str(t, "u1") == NULL, "... no record is found");
  {
    size_t pos = 0;
    ok(rm_table_next(t, &pos) == NULL, "... none is iterated");
  }
  ok(rm_table_version(t) > version, "... the version increases");
  is_uint(rm_store_bytes(st), empty, "... and the bytes are those of an empty store");
  put_user(t, "u1", "u1@example.com", 1, RM_PUT_CREATE, &d);
  is_uint(rm_table_count(t), 1, "a cleared table takes records again");
  rm_store_free(st);
  rm_schema_unref(user);
  rm_schema_unref(tag);
}

static void test_redeclared_model(void) {
  rm_schema *v1 = schema("Item", (const char *const[]){"id:i:k", "name:s", NULL});
  rm_schema *v1b = schema("Item", (const char *const[]){"id:i:k", "name:s:o", NULL});
  rm_schema *v2 = schema("Item", (const char *const[]){"id:i:k", "price:n", NULL});
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t, *t2;
  rm_value v[2];
  rm_diag_init(&d);
  t = rm_store_table(st, v1, &d);
  v[0] = rm_int(1);
  v[1] = S("one");
  put(t, v, RM_PUT_CREATE, NULL, &d);
  rm_diag_init(&d);
  t2 = rm_store_table(st, v2, &d);
  ok(t2 == NULL, "a model with other fields is refused while the table has records");
  is_int(d.kind, RM_E_CONFIG, "... with RM_E_CONFIG");
  ok(strstr(d.message, "Item") != NULL, "... naming the model: %s", d.message);
  ok(rm_table_schema(t) == v1 && rm_table_count(t) == 1,
     "... and the table keeps its schema and records");
  rm_diag_init(&d);
  ok(rm_store_table(st, v1b, &d) == t,
     "a model with the same fields (other rules) gets the table");
  rm_table_clear(t);
  rm_diag_init(&d);
  t2 = rm_store_table(st, v2, &d);
  ok(t2 == t, "once the table is empty the new model gets it");
  ok(rm_table_schema(t) == v2, "... and the table takes the new schema");
  v[1] = rm_float(9.5);
  is_int(put(t, v, RM_PUT_CREATE, NULL, &d), 0, "... and stores its records");
  ok(get(t, rm_int(1)) != NULL && field_of(t, get(t, rm_int(1)), 1).tag == RM_V_FLOAT,
     "... in the new layout");
  /* The store keeps the schema it holds alive. */
  rm_schema_unref(v2);
  v2 = NULL;
  ok(strcmp(rm_schema_name(rm_table_schema(t)), "Item") == 0,
     "the table's schema outlives the caller's reference");
  rm_store_free(st);
  rm_schema_unref(v1);
  rm_schema_unref(v1b);
}

/* Many records: inserts, gets, deletes and re-inserts stay consistent. */
static void test_many(void) {
  enum { N = 100000 };
  rm_schema *s = schema("Big", (const char *const[]){"id:i:k", "email:s:u",
                                                       "n:i", NULL});
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  rm_value v[3];
  char email[32];
  int i, failures = 0, found_ok = 1, order_ok = 1, dup_ok = 1;
  size_t pos = 0, empty;
  int64_t expect;
  const rm_record *r;
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  empty = rm_store_bytes(st);
  for (i = 0; i < N; i++) {
    snprintf(email, sizeof email, "user%d@example.com", i);
    v[0] = rm_int(i);
    v[1] = rm_str(email, strlen(email));
    v[2] = rm_int(-i);
    if (put(t, v, RM_PUT_CREATE, NULL, &d) < 0) failures++;
  }
  is_int(failures, 0, "%d records with unique values are stored", N);
  is_uint(rm_table_count(t), N, "... and counted");
  for (i = 0; i < N; i++)
    if (int_field(t, get(t, rm_int(i)), 2) != -i) found_ok = 0;
  ok(found_ok, "each is found by key");
  for (i = 0; i < N; i += 2)
    if (rm_table_delete(t, rm_int(i), &d) != 1) failures++;
  is_int(failures, 0, "deleting the even keys removes each");
  is_uint(rm_table_count(t), N / 2, "... leaving %d", N / 2);
  for (i = 0; i < N; i++) {
    r = get(t, rm_int(i));
    if ((i % 2 == 0) != (r == NULL)) found_ok = 0;
  }
  ok(found_ok, "odd keys are found, even keys are not");
  for (i = 1; i < N; i += 1000) {
    snprintf(email, sizeof email, "user%d@example.com", i);
    v[0] = rm_int(N + i);
    v[1] = rm_str(email, strlen(email));
    v[2] = rm_int(0);
    if (put(t, v, RM_PUT_CREATE, NULL, &d) == 0 || d.kind != RM_E_DUPLICATE)
      dup_ok = 0;
  }
  ok(dup_ok, "the survivors' unique values are still taken");
  for (i = 0; i < N; i += 2) {
    snprintf(email, sizeof email, "user%d@example.com", i);
    v[0] = rm_int(i);
    v[1] = rm_str(email, strlen(email));
    v[2] = rm_int(-i);
    if (put(t, v, RM_PUT_CREATE, NULL, &d) < 0) failures++;
  }
  is_int(failures, 0, "the deleted keys and their unique values can be re-created");
  is_uint(rm_table_count(t), N, "... back to %d", N);
  /* Odd keys first (in order), then even keys (re-created, in order). */
  expect = 1;
  while ((r = rm_table_next(t, &pos)) != NULL) {
    if (int_field(t, r, 0) != expect) {
      order_ok = 0;
      break;
    }
    expect += 2;
    if (expect == N + 1) expect = 0;
  }
  ok(order_ok && expect == N, "iteration gives odd keys then even keys in order");
  rm_table_clear(t);
  is_uint(rm_store_bytes(st), empty, "clear gives back every byte");
  rm_store_free(st);
  rm_schema_unref(s);
}

/* Deleting most records then inserting more reuses the slot array
 * (compaction) without changing the order. */
static void test_compaction(void) {
  rm_schema *s = schema("C", (const char *const[]){"id:i:k", NULL});
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  int i, round, order_ok = 1;
  int64_t next_key = 0, expect_first;
  static int64_t doomed[1000];
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  for (round = 0; round < 5; round++) {
    size_t pos = 0, n = 0;
    const rm_record *r;
    int64_t prev = -1;
    for (i = 0; i < 1000; i++) {
      rm_value k = rm_int(next_key++);
      put(t, &k, RM_PUT_CREATE, NULL, &d);
    }
    /* Keep every tenth record of everything stored (collected first: a
     * write invalidates the iteration). */
    pos = 0;
    while ((r = rm_table_next(t, &pos)) != NULL) {
      int64_t k = int_field(t, r, 0);
      if (k % 10 != 0) doomed[n++] = k;
    }
    while (n > 0) rm_table_delete(t, rm_int(doomed[--n]), &d);
    pos = 0;
    expect_first = 0;
    while ((r = rm_table_next(t, &pos)) != NULL) {
      int64_t k = int_field(t, r, 0);
      if (k <= prev || k % 10 != 0) order_ok = 0;
      if (n == 0 && k != expect_first) order_ok = 0;
      prev = k;
      n++;
    }
    if (n != (size_t)(next_key / 10)) order_ok = 0;
    if (rm_table_count(t) != n) order_ok = 0;
  }
  ok(order_ok, "five rounds of insert 1000 / delete 90%% keep insertion order");
  is_uint(rm_table_count(t), 500, "... and the count (500)");
  rm_store_free(st);
  rm_schema_unref(s);
}

/* Encodes a User record into buf (the caller frees it). */
static unsigned char *user_data(const rm_schema *s, const char *id,
                                const char *email, int64_t n, size_t *size) {
  rm_value v[3];
  unsigned char *buf;
  v[0] = rm_str(id, strlen(id));
  v[1] = email ? rm_str(email, strlen(email)) : rm_nil();
  v[2] = rm_int(n);
  *size = rm_record_encoded_size(s, v);
  buf = malloc(*size);
  rm_record_encode(s, v, buf);
  return buf;
}

/* Puts a batch of up to 4 users given as "id/email" ("id/" for nil). */
static int put_batch(rm_table *t, const char *const *specs, rm_put_mode mode,
                     rm_diag *d) {
  unsigned char *data[4];
  size_t size[4];
  int n, rc;
  for (n = 0; specs[n] != NULL; n++) {
    char id[16], email[32];
    const char *slash = strchr(specs[n], '/');
    size_t len = (size_t)(slash - specs[n]);
    memcpy(id, specs[n], len);
    id[len] = '\0';
    snprintf(email, sizeof email, "%s", slash + 1);
    data[n] = user_data(rm_table_schema(t), id, email[0] ? email : NULL, n, &size[n]);
  }
  rm_diag_init(d);
  rc = rm_table_put_many(t, (const unsigned char *const *)data, size, (size_t)n,
                         mode, d);
  while (n-- > 0) free(data[n]);
  return rc;
}

/* The email of the record with key id is `want`. */
static int email_is(const rm_table *t, const char *id, const char *want) {
  const rm_record *r = get_str(t, id);
  rm_value v;
  if (r == NULL) return 0;
  v = field_of(t, r, 1);
  return v.tag == RM_V_STR && v.u.s.len == strlen(want) &&
         memcmp(v.u.s.ptr, want, v.u.s.len) == 0;
}

static void test_put_many(void) {
  rm_schema *user = schema("User", user_fields);
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  size_t bytes;
  uint64_t version;
  char buf[256];
  const rm_record *r;
  rm_diag_init(&d);
  t = rm_store_table(st, user, &d);
  is_int(put_batch(t, (const char *const[]){"a/x", "b/y", "c/", NULL},
                   RM_PUT_CREATE, &d), 0, "a batch of three creates succeeds");
  is_str(order_of(t, buf, sizeof buf), "a,b,c", "... in batch order");
  bytes = rm_store_bytes(st);
  version = rm_table_version(t);
#define UNCHANGED(what)                                                     \
  ok(strcmp(order_of(t, buf, sizeof buf), "a,b,c") == 0 &&                  \
         rm_store_bytes(st) == bytes && rm_table_version(t) == version,     \
     "%s leaves the table as it was (%s)", what, buf)
  is_int(put_batch(t, (const char *const[]){"d/", "a/", NULL}, RM_PUT_CREATE, &d),
         -1, "a batch creating an existing key fails");
  is_int(d.kind, RM_E_DUPLICATE, "... with RM_E_DUPLICATE");
  UNCHANGED("... and");
  is_int(put_batch(t, (const char *const[]){"d/", "d/", NULL}, RM_PUT_CREATE, &d),
         -1, "a batch repeating a key fails");
  is_int(d.kind, RM_E_DUPLICATE, "... with RM_E_DUPLICATE");
  UNCHANGED("... and");
  is_int(put_batch(t, (const char *const[]){"d/z", "e/z", NULL}, RM_PUT_CREATE, &d),
         -1, "a batch repeating a unique value fails");
  ok(d.kind == RM_E_DUPLICATE && strstr(d.message, "email") != NULL,
     "... with RM_E_DUPLICATE naming the field: %s", d.message);
  UNCHANGED("... and");
  is_int(put_batch(t, (const char *const[]){"d/", "e/x", NULL}, RM_PUT_CREATE, &d),
         -1, "a batch taking a stored unique value fails");
  UNCHANGED("... and");
  is_int(put_batch(t, (const char *const[]){"a/", "zz/", NULL}, RM_PUT_UPDATE, &d),
         -1, "a batch updating a missing key fails");
  is_int(d.kind, RM_E_NOT_FOUND, "... with RM_E_NOT_FOUND");
  UNCHANGED("... and");
  is_int(put_batch(t, (const char *const[]){"a/y", "b/x", NULL}, RM_PUT_UPSERT, &d),
         0, "a batch swapping two records' unique values succeeds");
  ok(email_is(t, "a", "y") && email_is(t, "b", "x"), "... and swaps them");
  is_str(order_of(t, buf, sizeof buf), "a,b,c", "... in their places");
  is_int(put_batch(t, (const char *const[]){"e/", "b/q", "f/x", NULL},
                   RM_PUT_UPSERT, &d),
         0, "a batch may take a value another record of it gives up");
  is_str(order_of(t, buf, sizeof buf), "a,b,c,e,f", "... new keys at the end");
  r = get_str(t, "c");
  ok(rm_table_remove(t, r, &d) == 0 && get_str(t, "c") == NULL &&
         rm_table_count(t) == 4,
     "rm_table_remove removes a record found by get");
  rm_store_free(st);
  rm_schema_unref(user);
#undef UNCHANGED
}

static void each_table(rm_table *t, void *ud) {
  char *names = ud;
  strcat(names, rm_table_name(t));
  strcat(names, ";");
}

static void test_each_table(void) {
  rm_schema *a = schema("Zeta", (const char *const[]){"id:i:k", NULL});
  rm_schema *b = schema("Alpha", (const char *const[]){"id:i:k", NULL});
  rm_store *st = rm_store_new();
  rm_diag d;
  char names[64] = "";
  rm_diag_init(&d);
  rm_store_table(st, a, &d);
  rm_store_table(st, b, &d);
  rm_store_table(st, a, &d);
  rm_store_each_table(st, each_table, names);
  is_str(names, "Zeta;Alpha;", "rm_store_each_table visits tables in creation order");
  rm_store_free(st);
  rm_schema_unref(a);
  rm_schema_unref(b);
}

int main(void) {
  test_store_tables();
  test_put_modes();
  test_string_keys();
  test_integer_keys();
  test_datetime_keys();
  test_delete();
  test_insertion_order();
  test_unique();
  test_unique_numbers();
  test_put_many();
  test_clear_and_counts();
  test_redeclared_model();
  test_many();
  test_compaction();
  test_each_table();
  return done_testing();
}
