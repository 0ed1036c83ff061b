/*
 * json values: the binary encoding (writing and reading items), checking
 * untrusted bytes, deep equality, contains, array lengths, JSON text, and
 * json fields in schemas, validation, records and query conditions.
 */
#include <math.h>
#include <string.h>

#include "restmachine_orm.h"
#include "tap.h"

/* ------------------------------------------------------------- builder */

/* Values are built by hand with the engine's writers, as a C host would. */
typedef struct jb {
  unsigned char buf[8192];
  size_t n;
} jb;

static void j_reset(jb *b) { b->n = 0; }

static void j_item(jb *b, rm_jtag tag, int64_t i, double f, size_t n) {
  rm_json_item it;
  memset(&it, 0, sizeof it);
  it.tag = tag;
  it.i = i;
  it.f = f;
  it.n = n;
  b->n += rm_json_put(b->buf + b->n, &it);
}

static void j_null(jb *b) { j_item(b, RM_J_NULL, 0, 0, 0); }
static void j_bool(jb *b, int v) { j_item(b, v ? RM_J_TRUE : RM_J_FALSE, 0, 0, 0); }
static void j_int(jb *b, int64_t i) { j_item(b, RM_J_INT, i, 0, 0); }
static void j_float(jb *b, double f) { j_item(b, RM_J_FLOAT, 0, f, 0); }
static void j_arr(jb *b, size_t n) { j_item(b, RM_J_ARRAY, 0, 0, n); }
static void j_obj(jb *b, size_t n) { j_item(b, RM_J_OBJECT, 0, 0, n); }

static void j_strn(jb *b, const char *s, size_t len) {
  j_item(b, RM_J_STR, 0, 0, len);
  memcpy(b->buf + b->n, s, len);
  b->n += len;
}

static void j_str(jb *b, const char *s) { j_strn(b, s, strlen(s)); }

static void j_key(jb *b, const char *k) {
  size_t len = strlen(k);
  b->n += rm_json_put_key(b->buf + b->n, len);
  memcpy(b->buf + b->n, k, len);
  b->n += len;
}

/* ["a", 1, 2.5, true, false, null, {"k": [1]}, "é"] */
static void sample(jb *b) {
  j_reset(b);
  j_arr(b, 8);
  j_str(b, "a");
  j_int(b, 1);
  j_float(b, 2.5);
  j_bool(b, 1);
  j_bool(b, 0);
  j_null(b);
  j_obj(b, 1);
  j_key(b, "k");
  j_arr(b, 1);
  j_int(b, 1);
  j_str(b, "\xc3\xa9");
}

static int valid(const jb *b) { return rm_json_check(b->buf, b->n, NULL, 0) == 0; }

/* The reason rm_json_check gives, or "" when it accepts the bytes. */
static const char *why(const unsigned char *p, size_t len) {
  static char buf[96]; /* test-only scratch */
  buf[0] = '\0';
  if (rm_json_check(p, len, buf, sizeof buf) == 0) return "";
  return buf;
}

/* ------------------------------------------------------------ encoding */

static void test_items(void) {
  jb b;
  rm_json_item it;
  const unsigned char *p;
  const char *key;
  size_t klen;
  sample(&b);
  ok(valid(&b), "a sample document is well formed");
  p = rm_json_get(b.buf, &it);
  ok(it.tag == RM_J_ARRAY && it.n == 8, "it starts with an array of 8");
  p = rm_json_get(p, &it);
  ok(it.tag == RM_J_STR && it.n == 1 && it.s[0] == 'a', "a string reads back");
  p = rm_json_get(p, &it);
  ok(it.tag == RM_J_INT && it.i == 1, "an integer reads back");
  p = rm_json_get(p, &it);
  ok(it.tag == RM_J_FLOAT && it.f == 2.5, "a float reads back");
  p = rm_json_get(p, &it);
  ok(it.tag == RM_J_TRUE, "true reads back");
  p = rm_json_get(p, &it);
  ok(it.tag == RM_J_FALSE, "false reads back");
  p = rm_json_get(p, &it);
  ok(it.tag == RM_J_NULL, "null reads back");
  p = rm_json_get(p, &it);
  ok(it.tag == RM_J_OBJECT && it.n == 1, "an object of one pair reads back");
  p = rm_json_get_key(p, &key, &klen);
  ok(klen == 1 && key[0] == 'k', "its key reads back");
  p = rm_json_skip(p);
  p = rm_json_get(p, &it);
  ok(it.tag == RM_J_STR && it.n == 2, "skipping the nested array lands on the last string");
  ok(p == b.buf + b.n, "the walk ends at the last byte");
  ok(rm_json_skip(b.buf) == b.buf + b.n, "rm_json_skip passes the whole document");
}

static void test_integers(void) {
  static const int64_t samples[] = {0, 1, -1, 63, -64, 64, 300, -300,
                                    INT64_MAX, INT64_MIN, 4294967296LL};
  size_t i;
  jb b;
  for (i = 0; i < sizeof samples / sizeof *samples; i++) {
    rm_json_item it;
    j_reset(&b);
    j_int(&b, samples[i]);
    rm_json_get(b.buf, &it);
    ok(it.tag == RM_J_INT && it.i == samples[i] && valid(&b),
       "integer %lld round-trips in %zu bytes", (long long)samples[i], b.n);
  }
  j_reset(&b);
  j_int(&b, 5);
  is_uint(b.n, 2, "a small integer takes two bytes");
  ok(b.n <= RM_JSON_HEAD_MAX, "heads fit RM_JSON_HEAD_MAX");
  j_reset(&b);
  j_int(&b, INT64_MIN);
  ok(b.n <= RM_JSON_HEAD_MAX, "the longest integer fits RM_JSON_HEAD_MAX (%zu)", b.n);
}

/* ------------------------------------------------------------ checking */

static void test_check(void) {
  jb b;
  size_t i;
  unsigned char raw[16];
  sample(&b);
  for (i = 0; i < b.n; i++)
    if (rm_json_check(b.buf, i, NULL, 0) == 0) break;
  ok(i == b.n, "every proper prefix of a document is refused");
  is_str(why(b.buf, 0), "empty", "no bytes at all are refused");
  raw[0] = 9;
  is_str(why(raw, 1), "unknown tag", "an unknown tag is refused");
  raw[0] = RM_J_NULL;
  raw[1] = RM_J_NULL;
  is_str(why(raw, 2), "trailing bytes after the value", "trailing bytes are refused");
  j_reset(&b);
  j_arr(&b, 1000000);
  j_int(&b, 1);
  is_str(why(b.buf, b.n), "truncated", "a count larger than the bytes is refused");
  j_reset(&b);
  j_float(&b, NAN);
  is_str(why(b.buf, b.n), "a float is NaN or infinite", "a NaN float is refused");
  j_reset(&b);
  j_float(&b, -INFINITY);
  ok(!valid(&b), "an infinite float is refused");
  j_reset(&b);
  j_strn(&b, "\xff", 1);
  is_str(why(b.buf, b.n), "a string is not valid UTF-8", "invalid UTF-8 in a string is refused");
  j_reset(&b);
  j_obj(&b, 1);
  j_key(&b, "\xc3");
  j_null(&b);
  ok(!valid(&b), "invalid UTF-8 in a key is refused");
  j_reset(&b);
  for (i = 0; i < RM_JSON_MAX_DEPTH; i++) j_arr(&b, 1);
  j_null(&b);
  ok(valid(&b), "%d nested arrays are accepted", RM_JSON_MAX_DEPTH);
  j_reset(&b);
  for (i = 0; i < RM_JSON_MAX_DEPTH + 1; i++) j_arr(&b, 1);
  j_null(&b);
  is_str(why(b.buf, b.n), "nested too deeply", "%d nested arrays are refused",
         RM_JSON_MAX_DEPTH + 1);
  raw[0] = RM_J_INT;
  memset(raw + 1, 0xFF, 11);
  is_str(why(raw, 12), "a cut short or non-canonical integer",
         "a varint longer than 10 bytes is refused");
  raw[0] = RM_J_INT;
  memset(raw + 1, 0xFF, 9);
  raw[10] = 0x7F; /* bits past 64 in the tenth byte */
  is_str(why(raw, 11), "a cut short or non-canonical integer",
         "an integer with bits past 64 is refused, not cut short");
  raw[0] = RM_J_INT;
  raw[1] = 0x82;
  raw[2] = 0x00; /* 2 with a high zero group */
  is_str(why(raw, 3), "a cut short or non-canonical integer",
         "an integer in a longer encoding than its own is refused");
  raw[0] = RM_J_STR;
  raw[1] = 0x81;
  raw[2] = 0x00;
  raw[3] = 'a';
  is_str(why(raw, 4), "a cut short or non-canonical length",
         "a string length in a longer encoding than its own is refused");
  raw[0] = RM_J_ARRAY;
  raw[1] = 0x80;
  raw[2] = 0x80;
  is_str(why(raw, 3), "a cut short or non-canonical count",
         "a container count cut short is refused");
}

/* An object of n pairs "k<i>": i for i from first on, keys in ascending
 * byte order (i in three digits) or, with reverse set, descending. */
static void j_keys_in(jb *b, int first, int n, int reverse) {
  char key[16];
  int i, k;
  j_obj(b, (size_t)n);
  for (i = 0; i < n; i++) {
    k = reverse ? first + n - 1 - i : first + i;
    snprintf(key, sizeof key, "k%03d", k);
    j_key(b, key);
    j_int(b, k);
  }
}

static void j_keys(jb *b, int first, int n) { j_keys_in(b, first, n, 0); }

static void test_check_keys(void) {
  jb b;
  int i;
  j_reset(&b);
  j_obj(&b, 2);
  j_key(&b, "k");
  j_int(&b, 1);
  j_key(&b, "k");
  j_int(&b, 1);
  is_str(why(b.buf, b.n), "an object has a key twice",
         "an object with a key twice is refused");
  j_reset(&b);
  j_obj(&b, 3);
  j_key(&b, "b");
  j_null(&b);
  j_key(&b, "ab");
  j_null(&b);
  j_key(&b, "a");
  j_null(&b);
  ok(valid(&b), "distinct keys out of order, one the prefix of another, are accepted");
  j_reset(&b);
  j_obj(&b, 2);
  j_key(&b, "x");
  j_obj(&b, 1);
  j_key(&b, "x");
  j_null(&b);
  j_key(&b, "y");
  j_obj(&b, 1);
  j_key(&b, "x");
  j_null(&b);
  ok(valid(&b), "a key may come again in a nested or a sibling object");
  j_reset(&b);
  j_keys(&b, 0, 40);
  ok(valid(&b), "an object of 40 distinct keys is accepted");
  j_reset(&b);
  j_keys_in(&b, 0, 40, 1);
  ok(valid(&b), "... and of the same 40 keys in descending order");
  j_reset(&b);
  j_keys(&b, 0, 20);
  b.buf[1] = 40; /* 20 pairs more, the same keys again, in order */
  for (i = 0; i < 20; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%03d", i);
    j_key(&b, key);
    j_null(&b);
  }
  is_str(why(b.buf, b.n), "an object has a key twice",
         "an object of 20 ascending keys, then the same 20 again, is refused");
  j_reset(&b);
  j_keys(&b, 0, 20);
  b.buf[1] = 21; /* one pair more: the last key again, next to itself */
  j_key(&b, "k019");
  j_null(&b);
  is_str(why(b.buf, b.n), "an object has a key twice",
         "an object of ascending keys with its last key twice is refused");
  j_reset(&b);
  j_keys(&b, 0, 39);
  b.buf[1] = 40; /* one pair more: "k000" again, last */
  j_key(&b, "k000");
  j_null(&b);
  is_str(why(b.buf, b.n), "an object has a key twice",
         "an object of 40 keys with its first key again last is refused");
  j_reset(&b);
  j_obj(&b, 20);
  for (i = 0; i < 20; i++) {
    char key[16];
    snprintf(key, sizeof key, "o%d", i);
    j_key(&b, key);
    j_keys(&b, 0, 20);
  }
  ok(valid(&b), "20 objects of the same 20 keys inside one of 20 are accepted");
  j_reset(&b);
  j_arr(&b, 2);
  j_keys(&b, 0, 20);
  j_keys(&b, 10, 20);
  ok(valid(&b), "objects with keys in common side by side in an array are accepted");
  j_reset(&b);
  j_arr(&b, 2);
  j_keys(&b, 0, 20);
  j_obj(&b, 20);
  for (i = 0; i < 20; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%03d", i == 19 ? 3 : i);
    j_key(&b, key);
    j_null(&b);
  }
  ok(!valid(&b), "a second object with a key twice is refused after a good one");
}

/* ------------------------------------------------------------ equality */

static int equal(const jb *a, const jb *b) { return rm_json_equal(a->buf, b->buf); }

static void test_equal(void) {
  jb a, b;
  sample(&a);
  sample(&b);
  ok(equal(&a, &b), "a document equals its copy");
  j_reset(&a);
  j_int(&a, 1);
  j_reset(&b);
  j_float(&b, 1.0);
  ok(equal(&a, &b), "1 equals 1.0");
  j_reset(&b);
  j_float(&b, 1.5);
  ok(!equal(&a, &b), "1 differs from 1.5");
  j_reset(&a);
  j_int(&a, 9007199254740993LL);
  j_reset(&b);
  j_float(&b, 9007199254740992.0);
  ok(!equal(&a, &b), "2^53 + 1 differs from the float 2^53 (compared exactly)");
  j_reset(&a);
  j_null(&a);
  j_reset(&b);
  j_bool(&b, 0);
  ok(!equal(&a, &b), "null differs from false");
  j_reset(&a);
  j_str(&a, "ab");
  j_reset(&b);
  j_str(&b, "abc");
  ok(!equal(&a, &b), "strings of different lengths differ");
  j_reset(&a);
  j_arr(&a, 2);
  j_int(&a, 1);
  j_int(&a, 2);
  j_reset(&b);
  j_arr(&b, 2);
  j_int(&b, 2);
  j_int(&b, 1);
  ok(!equal(&a, &b), "array order matters");
  j_reset(&a);
  j_obj(&a, 3);
  j_key(&a, "a");
  j_int(&a, 1);
  j_key(&a, "b");
  j_arr(&a, 1);
  j_str(&a, "x");
  j_key(&a, "c");
  j_null(&a);
  j_reset(&b);
  j_obj(&b, 3);
  j_key(&b, "c");
  j_null(&b);
  j_key(&b, "a");
  j_float(&b, 1.0);
  j_key(&b, "b");
  j_arr(&b, 1);
  j_str(&b, "x");
  ok(equal(&a, &b), "objects are equal whatever their key order");
  j_reset(&b);
  j_obj(&b, 3);
  j_key(&b, "a");
  j_int(&b, 1);
  j_key(&b, "b");
  j_arr(&b, 1);
  j_str(&b, "y");
  j_key(&b, "c");
  j_null(&b);
  ok(!equal(&a, &b), "objects with one different value differ");
  j_reset(&b);
  j_obj(&b, 3);
  j_key(&b, "a");
  j_int(&b, 1);
  j_key(&b, "b");
  j_arr(&b, 1);
  j_str(&b, "x");
  j_key(&b, "d");
  j_null(&b);
  ok(!equal(&a, &b), "objects with one different key differ");
  j_reset(&a);
  j_keys_in(&a, 0, 40, 0);
  j_reset(&b);
  j_keys_in(&b, 0, 40, 1);
  ok(equal(&a, &b) && equal(&b, &a),
     "40 keys in ascending and in descending order are equal both ways");
  j_reset(&b);
  j_keys_in(&b, 1, 40, 0);
  ok(!equal(&a, &b) && !equal(&b, &a),
     "40 ascending keys differ from 40 others ascending, 39 in common, both ways");
  j_reset(&b);
  j_keys_in(&b, 1, 40, 1);
  ok(!equal(&a, &b) && !equal(&b, &a),
     "... and from the same descending, both ways");
  j_reset(&b);
  j_arr(&b, 0);
  j_reset(&a);
  j_obj(&a, 0);
  ok(!equal(&a, &b), "an empty object differs from an empty array");
  {
    rm_value va = rm_json(a.buf, a.n), vb = rm_json(a.buf, a.n), vs = rm_str("x", 1);
    ok(rm_value_equal(&va, &vb), "rm_value_equal compares json values deeply");
    ok(!rm_value_equal(&va, &vs), "a json value never equals a string");
  }
}

/* ------------------------------------------------------ contains, length */

static void test_contains(void) {
  jb b;
  rm_value v;
  sample(&b);
  v = rm_str("a", 1);
  ok(rm_json_contains(b.buf, &v), "contains finds a string element");
  v = rm_str("k", 1);
  ok(!rm_json_contains(b.buf, &v), "contains does not look into objects");
  v = rm_int(1);
  ok(rm_json_contains(b.buf, &v), "contains finds an integer element");
  v = rm_float(1.0);
  ok(rm_json_contains(b.buf, &v), "contains finds 1 for 1.0");
  v = rm_int(2);
  ok(!rm_json_contains(b.buf, &v), "contains does not find 2 for 2.5");
  v = rm_float(2.5);
  ok(rm_json_contains(b.buf, &v), "contains finds 2.5");
  v = rm_bool(1);
  ok(rm_json_contains(b.buf, &v), "contains finds true");
  v = rm_str("\xc3\xa9", 2);
  ok(rm_json_contains(b.buf, &v), "contains finds the element after a nested one");
  j_reset(&b);
  j_arr(&b, 1);
  j_arr(&b, 1);
  j_int(&b, 7);
  v = rm_int(7);
  ok(!rm_json_contains(b.buf, &v), "contains looks at the top-level array only");
  j_reset(&b);
  j_str(&b, "abc");
  v = rm_str("b", 1);
  ok(!rm_json_contains(b.buf, &v), "contains on a json string is false");
  is_int(rm_json_array_length(b.buf), -1, "a string has no array length");
  sample(&b);
  is_int(rm_json_array_length(b.buf), 8, "the sample array has 8 elements");
}

/* ----------------------------------------------------------------- text */

static void is_text(const jb *b, const char *want, const char *what) {
  char out[512];
  size_t n = rm_json_text(b->buf, NULL);
  size_t m = rm_json_text(b->buf, out);
  ok(n == m, "%s: measuring and writing agree", what);
  is_mem(out, m, want, strlen(want), "%s", what);
}

static void test_text(void) {
  jb b;
  sample(&b);
  is_text(&b, "[\"a\",1,2.5,true,false,null,{\"k\":[1]},\"\xc3\xa9\"]",
          "the sample document as text");
  j_reset(&b);
  j_arr(&b, 4);
  j_float(&b, 2.0);
  j_float(&b, 0.1);
  j_float(&b, 0.1 + 0.2);
  j_float(&b, -0.0);
  is_text(&b, "[2.0,0.1,0.30000000000000004,-0.0]",
          "floats: a point always, the fewest digits that read back");
  j_reset(&b);
  j_strn(&b, "q\"\\\n\t\x01/", 7);
  is_text(&b, "\"q\\\"\\\\\\n\\t\\u0001/\"", "strings are escaped");
  j_reset(&b);
  j_obj(&b, 0);
  is_text(&b, "{}", "an empty object");
  is_int(rm_float_digits(0.1), 15, "0.1 needs 15 digits");
  is_int(rm_float_digits(1.0 / 3.0), 16, "1/3 needs 16 digits");
  is_int(rm_float_digits(0.1 + 0.2), 17, "0.1 + 0.2 needs 17 digits");
}

/* ---------------------------------------------------- fields and records */

static rm_schema *json_schema(void) {
  rm_schema *s = rm_schema_new("Doc");
  rm_diag d;
  int rc = 0;
  rm_diag_init(&d);
  rc |= rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d) != 0;
  rc |= rm_schema_add_field(s, "tags", RM_T_JSON, RM_F_OPTIONAL, &d) != 1;
  rc |= rm_schema_set_length(s, 1, 1, 2, &d);
  rc |= rm_schema_add_field(s, "data", RM_T_JSON, 0, &d) != 2;
  rc |= rm_schema_finish(s, &d);
  ok(rc == 0, "a schema with json fields is accepted (%s)", d.message);
  return s;
}

static void config_refused(rm_schema *s, int rc, const rm_diag *d,
                           const char *what) {
  ok(rc < 0 && d->kind == RM_E_CONFIG && strstr(d->message, "Bad.j") != NULL,
     "%s is a configuration error naming the field (%s)", what, d->message);
  (void)s;
}

static void test_schema(void) {
  rm_schema *s = rm_schema_new("Bad");
  rm_diag d;
  int rc;
  rm_diag_init(&d);
  rc = rm_schema_add_field(s, "j", RM_T_JSON, RM_F_PRIMARY_KEY, &d);
  config_refused(s, rc, &d, "a json primary key");
  rm_diag_init(&d);
  rc = rm_schema_add_field(s, "j", RM_T_JSON, RM_F_UNIQUE, &d);
  config_refused(s, rc, &d, "a unique json field");
  rm_diag_init(&d);
  rc = rm_schema_add_field(s, "j", RM_T_JSON, RM_F_INDEX, &d);
  config_refused(s, rc, &d, "an indexed json field");
  rm_diag_init(&d);
  rc = rm_schema_add_field(s, "j", RM_T_JSON, 0, &d);
  ok(rc == 0, "a plain json field is accepted");
  rm_diag_init(&d);
  config_refused(s, rm_schema_add_choice(s, 0, rm_int(1), &d), &d, "choices on json");
  rm_diag_init(&d);
  config_refused(s, rm_schema_set_bound(s, 0, "ge", rm_int(1), &d), &d, "ge on json");
  rm_diag_init(&d);
  config_refused(s, rm_schema_set_pattern(s, 0, "x", 1, &d), &d, "a pattern on json");
  rm_diag_init(&d);
  ok(rm_schema_set_length(s, 0, -1, 3, &d) == 0, "max_length on json is accepted");
  is_str(rm_ftype_name(RM_T_JSON), "json", "the type is named json");
  rm_schema_unref(s);
}

static const char *validate(const rm_schema *s, int field, rm_value v, int *rc) {
  static rm_diag d; /* test-only scratch, read right after */
  rm_diag_init(&d);
  *rc = rm_field_validate(s, field, &v, &d);
  return d.nerrors ? d.errors[0].code : "";
}

static void test_validate(rm_schema *s) {
  jb b;
  int rc;
  sample(&b);
  is_str(validate(s, 2, rm_json(b.buf, b.n), &rc), "", "a json value is accepted");
  is_str(validate(s, 2, rm_str("x", 1), &rc), "type", "a string for a json field is a type error");
  is_str(validate(s, 2, rm_nil(), &rc), "required", "a required json field needs a value");
  is_str(validate(s, 2, rm_json(b.buf, b.n - 1), &rc), "json",
         "a malformed encoding is refused");
  is_str(validate(s, 1, rm_json(b.buf, b.n), &rc), "max_length",
         "8 elements break max_length 2");
  j_reset(&b);
  j_arr(&b, 0);
  is_str(validate(s, 1, rm_json(b.buf, b.n), &rc), "min_length",
         "0 elements break min_length 1");
  j_reset(&b);
  j_arr(&b, 2);
  j_null(&b);
  j_null(&b);
  is_str(validate(s, 1, rm_json(b.buf, b.n), &rc), "", "2 elements are within the limits");
  j_reset(&b);
  j_obj(&b, 0);
  is_str(validate(s, 1, rm_json(b.buf, b.n), &rc), "type",
         "an object in a field with a length limit is a type error");
  is_str(validate(s, 2, rm_json(b.buf, b.n), &rc), "",
         "an object in a field without limits is fine");
}

static void test_record(rm_schema *s) {
  jb a, b;
  rm_value vals[3], back[3];
  unsigned char rec[512];
  size_t n;
  sample(&a);
  j_reset(&b);
  j_arr(&b, 1);
  j_str(&b, "t");
  vals[0] = rm_int(7);
  vals[1] = rm_json(b.buf, b.n);
  vals[2] = rm_json(a.buf, a.n);
  n = rm_record_encoded_size(s, vals);
  rm_record_encode(s, vals, rec);
  ok(n == 2 + (1 + 1 + b.n) + (1 + 1 + a.n), "json values are stored as tag, length, bytes");
  rm_record_get_all(s, rec, back);
  ok(back[2].tag == RM_V_JSON && back[2].u.s.len == a.n &&
     memcmp(back[2].u.s.ptr, a.buf, a.n) == 0, "a record gives the json bytes back");
  rm_record_get(s, rec, 1, &back[1]);
  ok(rm_value_equal(&back[1], &vals[1]), "a single field decodes too");
}

/* ----------------------------------------------------------- conditions */

static void test_conditions(rm_schema *s) {
  rm_store *st = rm_store_new();
  rm_table *t;
  rm_diag d;
  jb a, b, q;
  rm_value vals[3], v;
  unsigned char rec[2][256];
  rm_node *n;
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  j_reset(&a);
  j_arr(&a, 2);
  j_str(&a, "red");
  j_int(&a, 3);
  j_reset(&b);
  j_obj(&b, 2);
  j_key(&b, "x");
  j_int(&b, 1);
  j_key(&b, "y");
  j_arr(&b, 0);
  vals[0] = rm_int(1);
  vals[1] = rm_json(a.buf, a.n);
  vals[2] = rm_json(b.buf, b.n);
  rm_record_encode(s, vals, rec[0]);
  ok(rm_table_put(t, rec[0], rm_record_encoded_size(s, vals), RM_PUT_CREATE, NULL, &d) == 0,
     "a record with json fields is stored");
  vals[0] = rm_int(2);
  vals[1] = rm_nil();
  vals[2] = rm_json(a.buf, a.n);
  rm_record_encode(s, vals, rec[1]);
  rm_table_put(t, rec[1], rm_record_encoded_size(s, vals), RM_PUT_CREATE, NULL, &d);

  v = rm_str("red", 3);
  n = rm_node_cond(s, 1, RM_OP_CONTAINS, &v, 1, &d);
  ok(n != NULL && rm_node_matches(n, s, rec[0]) && !rm_node_matches(n, s, rec[1]),
     "tags contains \"red\" matches the first record only");
  rm_node_unref(n);
  v = rm_float(3.0);
  n = rm_node_cond(s, 1, RM_OP_CONTAINS, &v, 1, &d);
  ok(n != NULL && rm_node_matches(n, s, rec[0]), "tags contains 3.0 matches 3");
  rm_node_unref(n);
  v = rm_json(a.buf, a.n);
  rm_diag_init(&d);
  n = rm_node_cond(s, 1, RM_OP_CONTAINS, &v, 1, &d);
  ok(n == NULL && d.nerrors == 1 && strcmp(d.errors[0].code, "type") == 0,
     "contains with a json value is a type error (%s)", d.message);

  j_reset(&q);
  j_obj(&q, 2);
  j_key(&q, "y");
  j_arr(&q, 0);
  j_key(&q, "x");
  j_float(&q, 1.0);
  v = rm_json(q.buf, q.n);
  rm_diag_init(&d);
  n = rm_node_cond(s, 2, RM_OP_EQ, &v, 1, &d);
  ok(n != NULL && rm_node_matches(n, s, rec[0]) && !rm_node_matches(n, s, rec[1]),
     "data equal to {y: [], x: 1.0} matches {x: 1, y: []}");
  rm_node_unref(n);
  n = rm_node_cond(s, 2, RM_OP_NE, &v, 1, &d);
  ok(n != NULL && !rm_node_matches(n, s, rec[0]), "ne is its negation");
  rm_node_unref(n);
  v = rm_bool(1);
  n = rm_node_cond(s, 1, RM_OP_ISNULL, &v, 1, &d);
  ok(n != NULL && !rm_node_matches(n, s, rec[0]) && rm_node_matches(n, s, rec[1]),
     "isnull applies to json fields");
  rm_node_unref(n);
  v = rm_int(1);
  rm_diag_init(&d);
  n = rm_node_cond(s, 1, RM_OP_GT, &v, 1, &d);
  ok(n == NULL && strcmp(d.errors[0].code, "lookup") == 0, "gt on a json field is refused");
  rm_diag_init(&d);
  v = rm_str("r", 1);
  n = rm_node_cond(s, 1, RM_OP_STARTSWITH, &v, 1, &d);
  ok(n == NULL && strcmp(d.errors[0].code, "lookup") == 0, "startswith on a json field is refused");
  rm_store_free(st);
}

int main(void) {
  rm_schema *s;
  test_items();
  test_integers();
  test_check();
  test_check_keys();
  test_equal();
  test_contains();
  test_text();
  test_schema();
  s = json_schema();
  test_validate(s);
  test_record(s);
  test_conditions(s);
  rm_schema_unref(s);
  return done_testing();
}
