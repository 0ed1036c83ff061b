/*
 * Schemas and validation: declaring fields and their rules, the
 * configuration errors of a bad declaration, and rm_field_validate's
 * coercions, rule checks and error collection.
 */
#include <math.h>
#include <string.h>

#include "restmachine_orm.h"
#include "tap.h"

#define S(lit) rm_str(lit, sizeof lit - 1)

enum { F_ID, F_NAME, F_EMAIL, F_AGE, F_SCORE, F_ACTIVE, F_CREATED, F_ROLE,
       F_DATA, F_LEVEL };

/* A model with one field of each kind and a rule of each kind. Returns
 * NULL (after a failing check) when the declaration is refused. */
static rm_schema *user_schema(void) {
  rm_schema *s = rm_schema_new("User");
  rm_diag d;
  int rc = 0;
  rm_diag_init(&d);
  rc |= rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d) != F_ID;
  rc |= rm_schema_add_field(s, "name", RM_T_STRING, 0, &d) != F_NAME;
  rc |= rm_schema_set_length(s, F_NAME, 2, 5, &d);
  rc |= rm_schema_add_field(s, "email", RM_T_STRING,
                            RM_F_UNIQUE | RM_F_OPTIONAL, &d) != F_EMAIL;
  rc |= rm_schema_add_field(s, "age", RM_T_INTEGER, RM_F_OPTIONAL, &d) != F_AGE;
  rc |= rm_schema_set_bound(s, F_AGE, "ge", rm_int(0), &d);
  rc |= rm_schema_set_bound(s, F_AGE, "le", rm_int(150), &d);
  rc |= rm_schema_add_field(s, "score", RM_T_NUMBER, RM_F_OPTIONAL, &d) != F_SCORE;
  rc |= rm_schema_set_bound(s, F_SCORE, "gt", rm_int(0), &d);
  rc |= rm_schema_set_bound(s, F_SCORE, "lt", rm_float(100.0), &d);
  rc |= rm_schema_add_field(s, "active", RM_T_BOOLEAN, RM_F_OPTIONAL, &d) != F_ACTIVE;
  rc |= rm_schema_add_field(s, "created", RM_T_DATETIME, RM_F_OPTIONAL, &d) != F_CREATED;
  rc |= rm_schema_set_bound(s, F_CREATED, "ge", S("2020-01-01"), &d);
  rc |= rm_schema_add_field(s, "role", RM_T_STRING, RM_F_OPTIONAL, &d) != F_ROLE;
  rc |= rm_schema_set_length(s, F_ROLE, -1, 5, &d);
  rc |= rm_schema_add_choice(s, F_ROLE, S("admin"), &d);
  rc |= rm_schema_add_choice(s, F_ROLE, S("user"), &d);
  rc |= rm_schema_add_field(s, "data", RM_T_BYTES, RM_F_OPTIONAL, &d) != F_DATA;
  rc |= rm_schema_set_length(s, F_DATA, -1, 4, &d);
  rc |= rm_schema_add_field(s, "level", RM_T_INTEGER, RM_F_OPTIONAL, &d) != F_LEVEL;
  rc |= rm_schema_add_choice(s, F_LEVEL, rm_int(1), &d);
  rc |= rm_schema_add_choice(s, F_LEVEL, rm_float(2.0), &d);
  rc |= rm_schema_finish(s, &d);
  if (!ok(rc == 0, "the User schema is accepted (%s)", d.message)) {
    rm_schema_unref(s);
    return NULL;
  }
  return s;
}

/* Validates v against field and returns the diag's first error code ("" if
 * none); *rc gets the return value. */
static const char *validate(const rm_schema *s, int field, rm_value *v,
                            rm_diag *d, int *rc) {
  rm_diag_init(d);
  *rc = rm_field_validate(s, field, v, d);
  return d->nerrors > 0 ? d->errors[0].code : "";
}

/* The value is accepted with no error recorded. */
static void valid(const rm_schema *s, int field, rm_value v, const char *what) {
  rm_diag d;
  int rc;
  const char *code = validate(s, field, &v, &d, &rc);
  ok(rc == 0 && d.nerrors == 0 && d.kind == RM_OK,
     "%s.%s accepts %s%s%s", rm_schema_name(s), rm_field_name(s, field), what,
     *code ? ": " : "", d.message);
}

/* The value is refused with exactly one error of this code, naming the
 * field, with a message naming model and field. */
static void invalid(const rm_schema *s, int field, rm_value v,
                    const char *what, const char *want_code) {
  rm_diag d;
  int rc;
  char prefix[96];
  const char *code = validate(s, field, &v, &d, &rc);
  is_str(code, want_code, "%s.%s refuses %s with code %s", rm_schema_name(s),
         rm_field_name(s, field), what, want_code);
  snprintf(prefix, sizeof prefix, "%s.%s", rm_schema_name(s),
           rm_field_name(s, field));
  ok(rc == -1 && d.kind == RM_E_VALIDATION && d.nerrors == 1 &&
         strcmp(d.errors[0].field, rm_field_name(s, field)) == 0 &&
         strstr(d.errors[0].message, prefix) != NULL &&
         strstr(d.message, prefix) != NULL,
     "... as one ValidationError naming %s (rc %d, %d errors: %s)", prefix,
     rc, d.nerrors, d.message);
}

/* ------------------------------------------------- declaration errors */

static void test_no_primary_key(void) {
  rm_schema *s = rm_schema_new("Note");
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(s, "title", RM_T_STRING, 0, &d);
  is_int(rm_schema_finish(s, &d), -1, "a model without a primary key is refused");
  is_int(d.kind, RM_E_CONFIG, "... with RM_E_CONFIG");
  ok(strstr(d.message, "Note") != NULL, "... naming the model: %s", d.message);
  rm_schema_unref(s);
}

static void test_two_primary_keys(void) {
  rm_schema *s = rm_schema_new("Pair");
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(s, "a", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(s, "b", RM_T_STRING, RM_F_PRIMARY_KEY, &d);
  is_int(rm_schema_finish(s, &d), -1, "a model with two primary keys is refused");
  is_int(d.kind, RM_E_CONFIG, "... with RM_E_CONFIG");
  ok(strstr(d.message, "Pair.b") != NULL && strstr(d.message, "a") != NULL,
     "... naming model and fields: %s", d.message);
  rm_schema_unref(s);
}

/* A configuration error from one call on a fresh model "M" with a field
 * "f" of type t. */
typedef int (*config_call)(rm_schema *s, int f, rm_diag *d);

static void config_error(const char *what, rm_ftype t, config_call call) {
  rm_schema *s = rm_schema_new("M");
  rm_diag d;
  int f, rc;
  rm_diag_init(&d);
  f = rm_schema_add_field(s, "f", t, 0, &d);
  rc = call(s, f, &d);
  ok(rc == -1 && d.kind == RM_E_CONFIG && strstr(d.message, "M.f") != NULL,
     "%s: RM_E_CONFIG naming M.f (rc %d, kind %d: %s)", what, rc, d.kind,
     d.message);
  rm_schema_unref(s);
}

static int ge_zero(rm_schema *s, int f, rm_diag *d) {
  return rm_schema_set_bound(s, f, "ge", rm_int(0), d);
}
static int ge_text(rm_schema *s, int f, rm_diag *d) {
  return rm_schema_set_bound(s, f, "ge", S("5"), d);
}
static int ge_nil(rm_schema *s, int f, rm_diag *d) {
  return rm_schema_set_bound(s, f, "ge", rm_nil(), d);
}
static int ge_nan(rm_schema *s, int f, rm_diag *d) {
  return rm_schema_set_bound(s, f, "ge", rm_float(NAN), d);
}
static int bad_bound_name(rm_schema *s, int f, rm_diag *d) {
  return rm_schema_set_bound(s, f, "gte", rm_int(0), d);
}
static int length_1_5(rm_schema *s, int f, rm_diag *d) {
  return rm_schema_set_length(s, f, 1, 5, d);
}
static int length_5_1(rm_schema *s, int f, rm_diag *d) {
  return rm_schema_set_length(s, f, 5, 1, d);
}
static int choice_int(rm_schema *s, int f, rm_diag *d) {
  return rm_schema_add_choice(s, f, rm_int(1), d);
}
static int choice_half(rm_schema *s, int f, rm_diag *d) {
  return rm_schema_add_choice(s, f, rm_float(0.5), d);
}
static int twice(rm_schema *s, int f, rm_diag *d) {
  (void)f;
  return rm_schema_add_field(s, "f", RM_T_STRING, 0, d);
}

static void test_config_errors(void) {
  config_error("ge on a string field", RM_T_STRING, ge_zero);
  config_error("ge on a boolean field", RM_T_BOOLEAN, ge_zero);
  config_error("ge with a string bound on an integer field", RM_T_INTEGER,
               ge_text);
  config_error("ge with a nil bound", RM_T_NUMBER, ge_nil);
  config_error("ge with a NaN bound", RM_T_NUMBER, ge_nan);
  config_error("an unknown bound name", RM_T_INTEGER, bad_bound_name);
  config_error("min_length on an integer field", RM_T_INTEGER, length_1_5);
  config_error("min_length above max_length", RM_T_STRING, length_5_1);
  config_error("an integer choice on a string field", RM_T_STRING, choice_int);
  config_error("a fractional choice on an integer field", RM_T_INTEGER,
               choice_half);
  config_error("a field declared twice", RM_T_INTEGER, twice);
}

static void test_number_primary_key(void) {
  rm_schema *s = rm_schema_new("Reading");
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(s, "value", RM_T_NUMBER, RM_F_PRIMARY_KEY, &d);
  ok(rm_schema_finish(s, &d) == -1 && d.kind == RM_E_CONFIG &&
         strstr(d.message, "Reading.value") != NULL,
     "a number primary key is refused: %s", d.message);
  rm_schema_unref(s);
}

/* Whether rm_schema_finish accepts a model "M" with a key and a field f
 * of type t with two bounds; a refusal must name M.f and the bounds. */
static int range_accepted(rm_ftype t, const char *b1, rm_value v1,
                          const char *b2, rm_value v2) {
  rm_schema *s = rm_schema_new("M");
  rm_diag d;
  int rc = 0;
  rm_diag_init(&d);
  rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(s, "f", t, 0, &d);
  rc |= rm_schema_set_bound(s, 1, b1, v1, &d);
  rc |= rm_schema_set_bound(s, 1, b2, v2, &d);
  if (rc == 0) rc = rm_schema_finish(s, &d);
  if (rc < 0 && (d.kind != RM_E_CONFIG || strstr(d.message, "M.f") == NULL ||
                 strstr(d.message, b1) == NULL))
    rc = -2;
  rm_schema_unref(s);
  return rc;
}

static void test_empty_ranges(void) {
  ok(range_accepted(RM_T_INTEGER, "ge", rm_int(10), "le", rm_int(1)) == -1,
     "ge 10 with le 1 leaves no integer");
  ok(range_accepted(RM_T_INTEGER, "gt", rm_int(5), "le", rm_int(5)) == -1,
     "gt 5 with le 5 leaves no integer");
  ok(range_accepted(RM_T_INTEGER, "gt", rm_int(5), "lt", rm_int(6)) == -1,
     "gt 5 with lt 6 leaves no integer");
  ok(range_accepted(RM_T_INTEGER, "gt", rm_int(INT64_MAX), "ge", rm_int(0)) == -1,
     "gt INT64_MAX leaves no integer");
  ok(range_accepted(RM_T_INTEGER, "ge", rm_int(5), "le", rm_int(5)) == 0,
     "ge 5 with le 5 leaves 5");
  ok(range_accepted(RM_T_INTEGER, "gt", rm_int(5), "lt", rm_int(7)) == 0,
     "gt 5 with lt 7 leaves 6");
  ok(range_accepted(RM_T_NUMBER, "gt", rm_int(5), "lt", rm_float(5.0)) == -1,
     "gt 5 with lt 5.0 leaves no number");
  ok(range_accepted(RM_T_NUMBER, "gt", rm_int(5), "lt", rm_int(6)) == 0,
     "gt 5 with lt 6 leaves numbers");
  ok(range_accepted(RM_T_DATETIME, "ge", S("2025-01-02"), "le",
                    S("2025-01-01")) == -1,
     "a datetime range ending before it starts is refused");
}

static void test_too_many_fields(void) {
  rm_schema *s = rm_schema_new("Wide");
  rm_diag d;
  char name[16];
  int i, last = 0;
  rm_diag_init(&d);
  for (i = 0; i < RM_MAX_FIELDS; i++) {
    snprintf(name, sizeof name, "f%d", i);
    last = rm_schema_add_field(s, name, RM_T_INTEGER, i == 0 ? RM_F_PRIMARY_KEY : 0, &d);
  }
  is_int(last, RM_MAX_FIELDS - 1, "RM_MAX_FIELDS fields can be declared");
  ok(rm_schema_add_field(s, "one_more", RM_T_INTEGER, 0, &d) == -1 &&
         d.kind == RM_E_CONFIG,
     "one more field is refused with RM_E_CONFIG");
  is_int(rm_schema_nfields(s), RM_MAX_FIELDS, "... and not added");
  rm_schema_unref(s);
}

/* ------------------------------------------------------ introspection */

static void test_introspection(const rm_schema *s) {
  is_str(rm_schema_name(s), "User", "rm_schema_name");
  is_int(rm_schema_nfields(s), 10, "rm_schema_nfields");
  is_int(rm_schema_primary_key(s), F_ID, "rm_schema_primary_key");
  is_int(rm_schema_find(s, "email", 5), F_EMAIL, "rm_schema_find email");
  is_int(rm_schema_find(s, "emailx", 5), F_EMAIL,
         "rm_schema_find reads only len bytes");
  is_int(rm_schema_find(s, "emai", 4), -1, "rm_schema_find of a prefix is -1");
  is_int(rm_schema_find(s, "nope", 4), -1, "rm_schema_find of no field is -1");
  is_str(rm_field_name(s, F_CREATED), "created", "rm_field_name");
  is_int(rm_field_type(s, F_CREATED), RM_T_DATETIME, "rm_field_type");
  is_uint(rm_field_flags(s, F_EMAIL), RM_F_UNIQUE | RM_F_OPTIONAL,
          "rm_field_flags");
  is_str(rm_ftype_name(RM_T_DATETIME), "datetime", "rm_ftype_name");
  is_str(rm_errkind_name(RM_E_VALIDATION), "ValidationError",
         "rm_errkind_name(RM_E_VALIDATION)");
  is_str(rm_errkind_name(RM_E_DUPLICATE), "DuplicateKeyError",
         "rm_errkind_name(RM_E_DUPLICATE)");
}

/* A primary key is required even when declared optional. */
static void test_key_always_required(void) {
  rm_schema *s = rm_schema_new("K");
  rm_diag d;
  rm_value v = rm_nil();
  rm_diag_init(&d);
  rm_schema_add_field(s, "k", RM_T_STRING, RM_F_PRIMARY_KEY | RM_F_OPTIONAL, &d);
  rm_schema_finish(s, &d);
  ok(!(rm_field_flags(s, 0) & RM_F_OPTIONAL), "finish drops OPTIONAL from the key");
  rm_diag_init(&d);
  ok(rm_field_validate(s, 0, &v, &d) == -1 && d.nerrors == 1 &&
         strcmp(d.errors[0].code, "required") == 0,
     "a nil key is refused as required");
  rm_schema_unref(s);
}

static void test_compatible(const rm_schema *user) {
  rm_schema *a = rm_schema_new("T"), *b = rm_schema_new("T"),
            *c = rm_schema_new("T"), *e = rm_schema_new("T");
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(a, "id", RM_T_STRING, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(a, "n", RM_T_INTEGER, 0, &d);
  rm_schema_add_field(b, "id", RM_T_STRING, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(b, "n", RM_T_INTEGER, RM_F_OPTIONAL, &d);
  rm_schema_set_bound(b, 1, "ge", rm_int(3), &d);
  rm_schema_add_field(c, "id", RM_T_STRING, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(c, "n", RM_T_NUMBER, 0, &d);
  rm_schema_add_field(e, "id", RM_T_STRING, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(e, "n", RM_T_INTEGER, RM_F_UNIQUE, &d);
  rm_schema_finish(a, &d);
  rm_schema_finish(b, &d);
  rm_schema_finish(c, &d);
  rm_schema_finish(e, &d);
  is_int(rm_schema_compatible(a, b), 1,
         "schemas differing only in rules and optionality are compatible");
  is_int(rm_schema_compatible(a, c), 0, "a changed field type is incompatible");
  is_int(rm_schema_compatible(a, e), 0, "a changed unique flag is incompatible");
  is_int(rm_schema_compatible(a, user), 0, "other fields are incompatible");
  /* A second reference keeps the schema alive after the first is dropped. */
  rm_schema_ref(a);
  rm_schema_unref(a);
  is_str(rm_schema_name(a), "T", "a referenced schema outlives one unref");
  rm_schema_unref(a);
  rm_schema_unref(b);
  rm_schema_unref(c);
  rm_schema_unref(e);
}

/* ------------------------------------------------------------ types */

static void test_types(const rm_schema *s) {
  rm_diag d;
  rm_value v;
  int rc;
  rm_value table;
  invalid(s, F_AGE, S("5"), "string \"5\"", "type");
  invalid(s, F_AGE, rm_float(1.5), "1.5", "type");
  invalid(s, F_AGE, rm_float(1e19), "1e19 (out of int64 range)", "type");
  invalid(s, F_AGE, rm_bool(1), "true", "type");
  invalid(s, F_AGE, rm_float(NAN), "NaN", "nan");
  v = rm_float(2.0);
  validate(s, F_AGE, &v, &d, &rc);
  ok(rc == 0 && v.tag == RM_V_INT && v.u.i == 2,
     "2.0 is accepted for an integer field and becomes RM_V_INT 2");
  v = rm_float(-0.0);
  validate(s, F_LEVEL, &v, &d, &rc);
  ok(v.tag == RM_V_INT && v.u.i == 0, "-0.0 becomes RM_V_INT 0");
  invalid(s, F_SCORE, S("5"), "string \"5\"", "type");
  invalid(s, F_SCORE, rm_float(NAN), "NaN", "nan");
  invalid(s, F_SCORE, rm_bool(0), "false", "type");
  v = rm_float(2.0);
  validate(s, F_SCORE, &v, &d, &rc);
  ok(rc == 0 && v.tag == RM_V_FLOAT && v.u.f == 2.0,
     "a number field keeps a float as a float");
  v = rm_int(7);
  validate(s, F_SCORE, &v, &d, &rc);
  ok(rc == 0 && v.tag == RM_V_INT && v.u.i == 7,
     "a number field keeps an integer as an integer");
  valid(s, F_ACTIVE, rm_bool(1), "true");
  valid(s, F_ACTIVE, rm_bool(0), "false");
  invalid(s, F_ACTIVE, rm_int(1), "integer 1", "type");
  invalid(s, F_ACTIVE, S("true"), "string \"true\"", "type");
  invalid(s, F_NAME, rm_int(42), "integer 42", "type");
  invalid(s, F_DATA, rm_bool(1), "true", "type");
  table.tag = RM_V_OTHER;
  table.u.type_name = "table";
  invalid(s, F_NAME, table, "a host table", "type");
  validate(s, F_NAME, &table, &d, &rc);
  ok(strstr(d.errors[0].message, "table") != NULL,
     "the type error says what was given: %s", d.errors[0].message);
  v = S("5");
  validate(s, F_AGE, &v, &d, &rc);
  ok(strstr(d.errors[0].message, "integer") != NULL &&
         strstr(d.errors[0].message, "\"5\"") != NULL,
     "the type error names the expected type and the value: %s",
     d.errors[0].message);
}

static void test_datetime_fields(const rm_schema *s) {
  rm_diag d;
  rm_value v;
  int rc;
  v = S("2025-01-15T10:30:00Z");
  validate(s, F_CREATED, &v, &d, &rc);
  ok(rc == 0 && v.tag == RM_V_FLOAT && v.u.f == 1736937000.0,
     "ISO-8601 text becomes epoch seconds");
  v = S("2025-01-15T12:30:00.5+02:00");
  validate(s, F_CREATED, &v, &d, &rc);
  ok(rc == 0 && v.tag == RM_V_FLOAT && v.u.f == 1736937000.5,
     "ISO-8601 text with fraction and offset becomes epoch seconds");
  v = rm_int(1736937000);
  validate(s, F_CREATED, &v, &d, &rc);
  ok(rc == 0 && v.tag == RM_V_FLOAT && v.u.f == 1736937000.0,
     "an integer datetime becomes a float");
  invalid(s, F_CREATED, S("yesterday"), "text that is no datetime", "type");
  invalid(s, F_CREATED, rm_float(NAN), "NaN", "nan");
  invalid(s, F_CREATED, rm_bool(1), "true", "type");
  invalid(s, F_CREATED, S("2019-12-31T23:59:59Z"), "a date before the ge bound",
          "ge");
  v = S("2019-12-31T23:59:59Z");
  validate(s, F_CREATED, &v, &d, &rc);
  ok(strstr(d.errors[0].message, "2020-01-01T00:00:00Z") != NULL,
     "a datetime bound error shows the bound as ISO-8601: %s",
     d.errors[0].message);
  valid(s, F_CREATED, S("2020-01-01"), "the bound itself");
  valid(s, F_CREATED, S("9999-12-31T23:59:59.5Z"), "the last second of 9999");
  invalid(s, F_CREATED, rm_float(253402300800.0), "the start of year 10000",
          "range");
  invalid(s, F_CREATED, rm_float(HUGE_VAL), "infinity", "range");
  invalid(s, F_CREATED, S("0000-06-01"), "ISO text of year 0", "range");
  invalid(s, F_CREATED, S("9999-12-31T23:59:59-01:00"),
          "ISO text whose offset moves it into 10000", "range");
}

/* ------------------------------------------------------------- rules */

static void test_required(const rm_schema *s) {
  invalid(s, F_NAME, rm_nil(), "nil (required)", "required");
  invalid(s, F_ID, rm_nil(), "a nil key", "required");
  valid(s, F_EMAIL, rm_nil(), "nil (optional)");
  valid(s, F_AGE, rm_nil(), "nil (optional, with bounds)");
  valid(s, F_ROLE, rm_nil(), "nil (optional, with choices)");
}

static void test_empty_key(void) {
  rm_schema *s = rm_schema_new("Tag");
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(s, "slug", RM_T_STRING, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(s, "label", RM_T_STRING, 0, &d);
  rm_schema_finish(s, &d);
  invalid(s, 0, S(""), "an empty key string", "empty_key");
  valid(s, 1, S(""), "an empty string that is not a key");
  valid(s, 0, S("x"), "a one-character key");
  rm_schema_unref(s);
}

static void test_bounds(const rm_schema *s) {
  invalid(s, F_AGE, rm_int(-1), "-1 (ge 0)", "ge");
  valid(s, F_AGE, rm_int(0), "0 (ge 0)");
  valid(s, F_AGE, rm_int(150), "150 (le 150)");
  invalid(s, F_AGE, rm_int(151), "151 (le 150)", "le");
  invalid(s, F_AGE, rm_float(151.0), "151.0 (le 150)", "le");
  invalid(s, F_SCORE, rm_int(0), "0 (gt 0)", "gt");
  invalid(s, F_SCORE, rm_float(0.0), "0.0 (gt 0)", "gt");
  invalid(s, F_SCORE, rm_float(-0.5), "-0.5 (gt 0)", "gt");
  valid(s, F_SCORE, rm_float(1e-300), "1e-300 (gt 0)");
  valid(s, F_SCORE, rm_float(99.999), "99.999 (lt 100.0)");
  valid(s, F_SCORE, rm_int(99), "integer 99 (lt 100.0)");
  invalid(s, F_SCORE, rm_int(100), "integer 100 (lt 100.0)", "lt");
  invalid(s, F_SCORE, rm_float(100.0), "100.0 (lt 100.0)", "lt");
  {
    rm_diag d;
    rm_value v = rm_int(-1);
    int rc;
    validate(s, F_AGE, &v, &d, &rc);
    ok(strstr(d.errors[0].message, ">= 0") != NULL &&
           strstr(d.errors[0].message, "-1") != NULL,
       "the bound message gives bound and value: %s", d.errors[0].message);
  }
}

static void test_lengths(const rm_schema *s) {
  valid(s, F_NAME, S("ab"), "2 characters (min_length 2)");
  invalid(s, F_NAME, S("a"), "1 character", "min_length");
  /* "é" is two bytes but one character. */
  invalid(s, F_NAME, S("\xc3\xa9"), "one 2-byte character", "min_length");
  valid(s, F_NAME, S("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"),
        "5 two-byte characters (10 bytes, max_length 5)");
  valid(s, F_NAME, S("\xf0\x9f\x98\x80\xf0\x9f\x98\x80"),
        "2 four-byte characters (min_length 2)");
  invalid(s, F_NAME, S("abcdef"), "6 characters (max_length 5)", "max_length");
  invalid(s, F_NAME, S("ab\xff"), "invalid UTF-8", "utf8");
  invalid(s, F_NAME, S("ab\xed\xa0\x80"), "a surrogate", "utf8");
  /* bytes fields count bytes and take any bytes. */
  valid(s, F_DATA, S("\xff\xfe\x00\x01"), "4 arbitrary bytes (max_length 4)");
  invalid(s, F_DATA, S("\xc3\xa9\xc3\xa9\xc3"), "5 bytes (max_length 4)",
          "max_length");
  valid(s, F_DATA, S(""), "an empty byte string");
}

static void test_choices(const rm_schema *s) {
  valid(s, F_ROLE, S("admin"), "a choice");
  valid(s, F_ROLE, S("user"), "another choice");
  invalid(s, F_ROLE, S("root"), "a string that is not a choice", "choices");
  invalid(s, F_ROLE, S("Admin"), "a choice in other case", "choices");
  invalid(s, F_ROLE, S("adm"), "a prefix of a choice", "choices");
  valid(s, F_LEVEL, rm_int(1), "integer choice 1");
  valid(s, F_LEVEL, rm_int(2), "integer choice 2 (declared as 2.0)");
  valid(s, F_LEVEL, rm_float(1.0), "1.0 for integer choice 1");
  invalid(s, F_LEVEL, rm_int(3), "integer 3", "choices");
}

/* Every broken rule is reported, in one rm_diag. */
static void test_collect(const rm_schema *s) {
  rm_diag d;
  rm_value age = rm_int(-5), name = S("a"), role = S("superuser");
  int r1, r2, r3;
  rm_diag_init(&d);
  r1 = rm_field_validate(s, F_AGE, &age, &d);
  r2 = rm_field_validate(s, F_NAME, &name, &d);
  r3 = rm_field_validate(s, F_ROLE, &role, &d);
  ok(r1 == -1 && r2 == -1 && r3 == -1, "each broken field returns -1");
  is_int(d.nerrors, 4, "one diag collects the four broken rules");
  ok(d.nerrors == 4 && strcmp(d.errors[0].code, "ge") == 0 &&
         strcmp(d.errors[1].code, "min_length") == 0 &&
         strcmp(d.errors[2].code, "max_length") == 0 &&
         strcmp(d.errors[3].code, "choices") == 0,
     "... in order: ge, min_length, max_length, choices");
  ok(strcmp(d.errors[2].field, "role") == 0 &&
         strcmp(d.errors[3].field, "role") == 0,
     "both of role's broken rules name role");
  ok(strstr(d.message, "User.age") != NULL && strstr(d.message, "User.name") &&
         strstr(d.message, "User.role") != NULL && strstr(d.message, "; "),
     "the diag message joins the rules' messages: %s", d.message);
  is_int(d.kind, RM_E_VALIDATION, "the diag's kind is RM_E_VALIDATION");
  is_int(d.truncated, 0, "... and it is not truncated");
}

/* Past RM_MAX_FIELD_ERRORS the diag says it is truncated, and a broken rule
 * still makes rm_field_validate fail. */
static void test_truncated(const rm_schema *s) {
  rm_diag d;
  int i, rc;
  rm_value v;
  rm_diag_init(&d);
  for (i = 0; i < RM_MAX_FIELD_ERRORS; i++) {
    v = rm_int(-1);
    rm_field_validate(s, F_AGE, &v, &d);
  }
  is_int(d.nerrors, RM_MAX_FIELD_ERRORS, "the diag holds RM_MAX_FIELD_ERRORS errors");
  is_int(d.truncated, 0, "... without truncation");
  v = rm_int(-1);
  rc = rm_field_validate(s, F_AGE, &v, &d);
  is_int(d.truncated, 1, "one more broken rule sets truncated");
  is_int(d.nerrors, RM_MAX_FIELD_ERRORS, "... and adds no entry");
  is_int(rc, -1, "a broken bound fails validation even when the diag is full");
  v = S("root");
  rc = rm_field_validate(s, F_ROLE, &v, &d);
  is_int(rc, -1, "a broken choice fails validation even when the diag is full");
  v = S("x");
  rc = rm_field_validate(s, F_AGE, &v, &d);
  is_int(rc, -1, "a type error fails validation even when the diag is full");
  v = rm_int(5);
  rc = rm_field_validate(s, F_AGE, &v, &d);
  is_int(rc, 0, "a valid value still passes with a full diag");
}

/* rm_field_coerce checks the type only, not the rules. */
static void test_coerce_only(const rm_schema *s) {
  rm_diag d;
  rm_value v = rm_int(-1);
  rm_diag_init(&d);
  ok(rm_field_coerce(s, F_AGE, &v, &d) == 0 && d.nerrors == 0,
     "coerce ignores a broken bound");
  v = rm_float(3.0);
  ok(rm_field_coerce(s, F_AGE, &v, &d) == 0 && v.tag == RM_V_INT && v.u.i == 3,
     "coerce turns 3.0 into integer 3");
  v = S("3");
  ok(rm_field_coerce(s, F_AGE, &v, &d) == -1 && d.nerrors == 1 &&
         strcmp(d.errors[0].code, "type") == 0,
     "coerce refuses a string for an integer");
}

int main(void) {
  rm_schema *user;
  test_no_primary_key();
  test_two_primary_keys();
  test_config_errors();
  test_number_primary_key();
  test_empty_ranges();
  test_too_many_fields();
  test_key_always_required();
  test_empty_key();
  user = user_schema();
  if (user != NULL) {
    test_introspection(user);
    test_compatible(user);
    test_types(user);
    test_datetime_fields(user);
    test_required(user);
    test_bounds(user);
    test_lengths(user);
    test_choices(user);
    test_collect(user);
    test_truncated(user);
    test_coerce_only(user);
    rm_schema_unref(user);
  }
  return done_testing();
}
