/*
 * Queries: condition trees (rm_node_cond / and / or / not) and their
 * evaluation by rm_query_run and rm_query_count: comparisons of integers
 * and floats, nil handling, in-lists, ordering on several fields with
 * nil placement and stable ties, offset and limit, keyset positions, and
 * the errors a wrong condition value gives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restmachine_orm.h"
#include "tap.h"

#define S(lit) rm_str(lit, sizeof lit - 1)

enum { F_ID, F_NAME, F_AGE, F_SCORE, F_ACTIVE, F_CITY, NF };

/* Set by main: every test runs on a model without indexes, then on the
 * same model with an ordered index on each non-key field, where the
 * planner may answer from the indexes. The results must not differ. */
static unsigned indexed;

static rm_schema *people_schema(void) {
  rm_schema *s = rm_schema_new("P");
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(s, "name", RM_T_STRING, indexed, &d);
  rm_schema_add_field(s, "age", RM_T_INTEGER, RM_F_OPTIONAL | indexed, &d);
  rm_schema_add_field(s, "score", RM_T_NUMBER, RM_F_OPTIONAL | indexed, &d);
  rm_schema_add_field(s, "active", RM_T_BOOLEAN, RM_F_OPTIONAL | indexed, &d);
  rm_schema_add_field(s, "city", RM_T_STRING, RM_F_OPTIONAL | indexed, &d);
  if (rm_schema_finish(s, &d) < 0) diag("schema refused: %s", d.message);
  return s;
}

static void put(rm_table *t, const rm_value *vals) {
  const rm_schema *s = rm_table_schema(t);
  unsigned char buf[512];
  size_t size = rm_record_encoded_size(s, vals);
  rm_diag d;
  rm_diag_init(&d);
  if (size > sizeof buf) return;
  rm_record_encode(s, vals, buf);
  if (rm_table_put(t, buf, size, RM_PUT_UPSERT, NULL, &d) < 0)
    diag("put failed: %s", d.message);
}

static void person(rm_table *t, int64_t id, const char *name, rm_value age,
                   rm_value score, rm_value active, rm_value city) {
  rm_value v[NF];
  v[F_ID] = rm_int(id);
  v[F_NAME] = rm_str(name, strlen(name));
  v[F_AGE] = age;
  v[F_SCORE] = score;
  v[F_ACTIVE] = active;
  v[F_CITY] = city;
  put(t, v);
}

/* Six people; nil in each optional field somewhere. */
static void load(rm_table *t) {
  person(t, 1, "ann", rm_int(30), rm_float(1.5), rm_bool(1), S("Oslo"));
  person(t, 2, "bob", rm_int(25), rm_int(2), rm_bool(0), rm_nil());
  person(t, 3, "cid", rm_nil(), rm_float(2.5), rm_bool(1), S("Rome"));
  person(t, 4, "dan", rm_int(30), rm_nil(), rm_nil(), S("Oslo"));
  person(t, 5, "eve", rm_int(40), rm_int(3), rm_bool(0), S("Bern"));
  person(t, 6, "fay", rm_int(25), rm_float(2.0), rm_bool(1), S("Rome"));
}

/* The ids of the records a query returns, as "1,4". */
static const char *ids(const rm_table *t, const rm_query *q, char *buf,
                       size_t cap) {
  const rm_record **out = malloc((rm_table_count(t) + 1) * sizeof *out);
  rm_diag d;
  long n, i;
  size_t used = 0;
  rm_diag_init(&d);
  n = rm_query_run(t, q, out, rm_table_count(t) + 1, &d);
  buf[0] = '\0';
  if (n < 0) snprintf(buf, cap, "error: %.200s", d.message);
  for (i = 0; i < n && used < cap; i++) {
    rm_value v;
    rm_record_get(rm_table_schema(t), rm_record_data(out[i]), F_ID, &v);
    used += (size_t)snprintf(buf + used, cap - used, "%s%lld", i ? "," : "",
                             (long long)v.u.i);
  }
  free(out);
  return buf;
}

/* A condition with one value (NULL after a failing check). */
static rm_node *cond(const rm_schema *s, int field, rm_op op, rm_value v) {
  rm_diag d;
  rm_node *n;
  rm_diag_init(&d);
  n = rm_node_cond(s, field, op, &v, 1, &d);
  if (n == NULL) diag("condition refused: %s", d.message);
  return n;
}

/* Runs `where` (consumed) and checks the ids, and that rm_query_count
 * agrees. */
static void where_is(const rm_table *t, rm_node *where, const char *want,
                     const char *what) {
  rm_query q;
  char buf[256];
  int64_t count;
  size_t commas = 0;
  const char *p;
  rm_query_init(&q);
  q.where = where;
  is_str(ids(t, &q, buf, sizeof buf), want, "%s", what);
  for (p = want; *p; p++) commas += *p == ',';
  count = rm_query_count(t, &q);
  is_int(count, *want ? (int64_t)commas + 1 : 0, "... and rm_query_count agrees");
  rm_node_unref(where);
}

static void test_comparisons(const rm_table *t) {
  const rm_schema *s = rm_table_schema(t);
  where_is(t, cond(s, F_AGE, RM_OP_EQ, rm_int(30)), "1,4", "age eq 30");
  where_is(t, cond(s, F_AGE, RM_OP_NE, rm_int(30)), "2,3,5,6",
           "age ne 30 (a nil age is not equal)");
  where_is(t, cond(s, F_AGE, RM_OP_GT, rm_int(25)), "1,4,5",
           "age gt 25 (nil does not compare)");
  where_is(t, cond(s, F_AGE, RM_OP_GTE, rm_int(30)), "1,4,5", "age gte 30");
  where_is(t, cond(s, F_AGE, RM_OP_LT, rm_int(30)), "2,6", "age lt 30");
  where_is(t, cond(s, F_AGE, RM_OP_LTE, rm_int(25)), "2,6", "age lte 25");
  where_is(t, cond(s, F_AGE, RM_OP_LT, rm_int(0)), "", "age lt 0 matches nothing");
  where_is(t, cond(s, F_AGE, RM_OP_EQ, rm_float(30.0)), "1,4",
           "age eq 30.0 (coerced to an integer)");
  /* A number field holds integers and floats; they compare as numbers. */
  where_is(t, cond(s, F_SCORE, RM_OP_EQ, rm_int(2)), "2,6",
           "score eq 2 matches integer 2 and float 2.0");
  where_is(t, cond(s, F_SCORE, RM_OP_EQ, rm_float(2.0)), "2,6",
           "score eq 2.0 matches both too");
  where_is(t, cond(s, F_SCORE, RM_OP_GT, rm_int(2)), "3,5",
           "score gt 2 (2.5 and 3, not 2 or 2.0)");
  where_is(t, cond(s, F_SCORE, RM_OP_GTE, rm_int(2)), "2,3,5,6", "score gte 2");
  where_is(t, cond(s, F_SCORE, RM_OP_LT, rm_float(2.5)), "1,2,6", "score lt 2.5");
  where_is(t, cond(s, F_SCORE, RM_OP_LTE, rm_float(1.5)), "1", "score lte 1.5");
  where_is(t, cond(s, F_SCORE, RM_OP_GT, rm_float(2.9999999)), "5",
           "score gt 2.9999999 (integer 3 is greater)");
  where_is(t, cond(s, F_SCORE, RM_OP_NE, rm_int(2)), "1,3,4,5",
           "score ne 2 (and nil)");
  where_is(t, cond(s, F_NAME, RM_OP_GT, S("c")), "3,4,5,6",
           "strings compare bytewise");
  where_is(t, cond(s, F_NAME, RM_OP_LT, S("ann")), "", "nothing sorts before \"ann\"");
  where_is(t, cond(s, F_CITY, RM_OP_LT, S("Z")), "1,3,4,5,6",
           "city lt \"Z\" leaves out nil");
  where_is(t, cond(s, F_CITY, RM_OP_EQ, S("Oslo")), "1,4", "city eq \"Oslo\"");
  where_is(t, cond(s, F_ACTIVE, RM_OP_EQ, rm_bool(1)), "1,3,6", "active eq true");
  where_is(t, cond(s, F_ACTIVE, RM_OP_NE, rm_bool(1)), "2,4,5",
           "active ne true (and nil)");
  where_is(t, cond(s, F_CITY, RM_OP_ISNULL, rm_bool(1)), "2", "city isnull true");
  where_is(t, cond(s, F_CITY, RM_OP_ISNULL, rm_bool(0)), "1,3,4,5,6",
           "city isnull false");
  where_is(t, cond(s, F_NAME, RM_OP_STARTSWITH, S("d")), "4", "name startswith d");
  where_is(t, cond(s, F_NAME, RM_OP_CONTAINS, S("a")), "1,4,6", "name contains a");
  where_is(t, cond(s, F_NAME, RM_OP_ICONTAINS, S("A")), "1,4,6",
           "name icontains A");
  where_is(t, cond(s, F_NAME, RM_OP_ENDSWITH, S("n")), "1,4", "name endswith n");
  where_is(t, cond(s, F_NAME, RM_OP_IEXACT, S("ANN")), "1", "name iexact ANN");
}

static void test_in(const rm_table *t) {
  const rm_schema *s = rm_table_schema(t);
  rm_value vals[100];
  rm_diag d;
  int i;
  rm_diag_init(&d);
  vals[0] = rm_int(25);
  vals[1] = rm_int(40);
  where_is(t, rm_node_cond(s, F_AGE, RM_OP_IN, vals, 2, &d), "2,5,6",
           "age in (25, 40)");
  vals[0] = rm_int(999);
  where_is(t, rm_node_cond(s, F_AGE, RM_OP_IN, vals, 1, &d), "", "age in (999)");
  vals[0] = S("Oslo");
  vals[1] = S("Rome");
  where_is(t, rm_node_cond(s, F_CITY, RM_OP_IN, vals, 2, &d), "1,3,4,6",
           "city in (Oslo, Rome) leaves out nil");
  vals[0] = rm_float(2.0);
  vals[1] = rm_float(3.0);
  where_is(t, rm_node_cond(s, F_SCORE, RM_OP_IN, vals, 2, &d), "2,5,6",
           "score in (2.0, 3.0) matches integers and floats");
  /* More values than the builder keeps on its stack. */
  for (i = 0; i < 100; i++) vals[i] = rm_int(100 - i);
  where_is(t, rm_node_cond(s, F_AGE, RM_OP_IN, vals, 100, &d), "1,2,4,5,6",
           "age in (100 values)");
  {
    static char names[100][16]; /* room for any int: no truncation warning */
    for (i = 0; i < 100; i++) {
      snprintf(names[i], sizeof names[i], "n%d", i);
      vals[i] = rm_str(names[i], strlen(names[i]));
    }
    vals[77] = S("eve");
    where_is(t, rm_node_cond(s, F_NAME, RM_OP_IN, vals, 100, &d), "5",
             "name in (100 strings, one of them \"eve\")");
  }
}

/* Combinators that also release the caller's references to the children
 * (the new node holds its own). */
static rm_node *and_(rm_node *a, rm_node *b) {
  rm_diag d;
  rm_node *n;
  rm_diag_init(&d);
  n = rm_node_and(a, b, &d);
  rm_node_unref(a);
  rm_node_unref(b);
  return n;
}

static rm_node *or_(rm_node *a, rm_node *b) {
  rm_diag d;
  rm_node *n;
  rm_diag_init(&d);
  n = rm_node_or(a, b, &d);
  rm_node_unref(a);
  rm_node_unref(b);
  return n;
}

static rm_node *not_(rm_node *a) {
  rm_diag d;
  rm_node *n;
  rm_diag_init(&d);
  n = rm_node_not(a, &d);
  rm_node_unref(a);
  return n;
}

static void test_trees(const rm_table *t) {
  const rm_schema *s = rm_table_schema(t);
  rm_diag d;
  rm_node *shared;
  rm_diag_init(&d);
  where_is(t, rm_node_true(&d), "1,2,3,4,5,6", "true matches every record");
  where_is(t, not_(rm_node_true(&d)), "", "not true matches none");
  where_is(t, and_(cond(s, F_AGE, RM_OP_EQ, rm_int(30)),
                   cond(s, F_CITY, RM_OP_EQ, S("Oslo"))),
           "1,4", "age eq 30 and city eq Oslo");
  where_is(t, and_(cond(s, F_AGE, RM_OP_EQ, rm_int(30)),
                   cond(s, F_NAME, RM_OP_EQ, S("dan"))),
           "4", "age eq 30 and name eq dan");
  where_is(t, or_(cond(s, F_AGE, RM_OP_EQ, rm_int(40)),
                  cond(s, F_NAME, RM_OP_EQ, S("ann"))),
           "1,5", "age eq 40 or name eq ann");
  where_is(t, not_(cond(s, F_AGE, RM_OP_EQ, rm_int(30))), "2,3,5,6",
           "not (age eq 30) keeps the nil age");
  where_is(t, not_(cond(s, F_AGE, RM_OP_GT, rm_int(25))), "2,3,6",
           "not (age gt 25) keeps the nil age");
  where_is(t, not_(cond(s, F_CITY, RM_OP_EQ, S("Oslo"))), "2,3,5,6",
           "not (city eq Oslo) keeps the nil city");
  where_is(t, not_(not_(cond(s, F_AGE, RM_OP_GT, rm_int(25)))), "1,4,5",
           "not not (age gt 25) drops the nil age again");
  where_is(t, not_(or_(cond(s, F_ACTIVE, RM_OP_EQ, rm_bool(1)),
                       cond(s, F_AGE, RM_OP_GTE, rm_int(30)))),
           "2", "not (active or age gte 30)");
  where_is(t, and_(not_(cond(s, F_CITY, RM_OP_ISNULL, rm_bool(1))),
                   or_(cond(s, F_SCORE, RM_OP_LT, rm_int(2)),
                       cond(s, F_SCORE, RM_OP_GTE, rm_int(3)))),
           "1,5", "city not null and (score lt 2 or score gte 3)");
  /* One node can be a child of several trees. */
  shared = cond(s, F_AGE, RM_OP_EQ, rm_int(25));
  rm_node_ref(shared);
  rm_node_ref(shared);
  where_is(t, and_(shared, cond(s, F_ACTIVE, RM_OP_EQ, rm_bool(1))), "6",
           "a shared node in one tree");
  where_is(t, or_(shared, cond(s, F_ACTIVE, RM_OP_EQ, rm_bool(1))),
           "1,2,3,6", "... and in another");
  where_is(t, shared, "2,6", "... and on its own");
}

/* Wrong condition values are refused with a ValidationError naming the
 * field. */
static void refused(const rm_schema *s, int field, rm_op op, rm_value v,
                    const char *code, const char *what) {
  rm_diag d;
  rm_node *n;
  char prefix[32];
  rm_diag_init(&d);
  n = rm_node_cond(s, field, op, &v, 1, &d);
  snprintf(prefix, sizeof prefix, "P.%s", rm_field_name(s, field));
  ok(n == NULL && d.kind == RM_E_VALIDATION && d.nerrors >= 1 &&
         strcmp(d.errors[0].field, rm_field_name(s, field)) == 0 &&
         strcmp(d.errors[0].code, code) == 0 && strstr(d.message, prefix),
     "%s is refused (%s, naming %s): %s", what, code, prefix, d.message);
  rm_node_unref(n);
}

static void test_errors(const rm_schema *s) {
  rm_value vals[3];
  rm_diag d;
  rm_node *n;
  refused(s, F_AGE, RM_OP_EQ, S("5"), "type", "age eq \"5\"");
  refused(s, F_AGE, RM_OP_GT, rm_float(2.5), "type", "age gt 2.5");
  refused(s, F_AGE, RM_OP_EQ, rm_bool(1), "type", "age eq true");
  refused(s, F_SCORE, RM_OP_LT, S("1"), "type", "score lt \"1\"");
  refused(s, F_NAME, RM_OP_EQ, rm_int(1), "type", "name eq 1");
  refused(s, F_ACTIVE, RM_OP_EQ, rm_int(1), "type", "active eq 1");
  refused(s, F_ACTIVE, RM_OP_GT, rm_bool(0), "lookup", "active gt false");
  refused(s, F_AGE, RM_OP_EQ, rm_nil(), "type", "age eq nil");
  refused(s, F_AGE, RM_OP_CONTAINS, rm_int(3), "lookup", "age contains 3");
  refused(s, F_CITY, RM_OP_ISNULL, S("yes"), "type", "city isnull \"yes\"");
  vals[0] = rm_int(1);
  vals[1] = S("two");
  vals[2] = rm_int(3);
  rm_diag_init(&d);
  n = rm_node_cond(s, F_AGE, RM_OP_IN, vals, 3, &d);
  ok(n == NULL && d.kind == RM_E_VALIDATION && d.nerrors == 1 &&
         strcmp(d.errors[0].field, "age") == 0,
     "one wrong value in an in-list refuses the condition: %s", d.message);
  rm_node_unref(n);
}

/* The ids in the order `order` gives (after where/offset/limit). */
static void order_is(const rm_table *t, const char *spec, int64_t offset,
                     int64_t limit, const char *want) {
  rm_query q;
  char buf[256];
  const char *p = spec;
  rm_query_init(&q);
  /* spec: field letters, uppercase for descending: n name, a age, s score,
   * b active, c city, i id. */
  for (; *p; p++) {
    int desc = *p >= 'A' && *p <= 'Z';
    char c = (char)(desc ? *p + 32 : *p);
    int f = c == 'n' ? F_NAME : c == 'a' ? F_AGE : c == 's' ? F_SCORE
          : c == 'b' ? F_ACTIVE : c == 'c' ? F_CITY : F_ID;
    q.order.field[q.order.nterms] = f;
    q.order.desc[q.order.nterms++] = desc;
  }
  q.offset = offset;
  q.limit = limit;
  is_str(ids(t, &q, buf, sizeof buf), want,
         "order \"%s\" offset %lld limit %lld", spec, (long long)offset,
         (long long)limit);
}

static void test_order(const rm_table *t) {
  order_is(t, "a", 0, -1, "2,6,1,4,5,3");   /* nil last, ties in insertion order */
  order_is(t, "A", 0, -1, "3,5,1,4,2,6");   /* nil first, ties still in insertion order */
  order_is(t, "aN", 0, -1, "6,2,4,1,5,3");  /* age asc, then name desc */
  order_is(t, "An", 0, -1, "3,5,1,4,2,6");
  order_is(t, "s", 0, -1, "1,2,6,3,5,4");   /* 2 and 2.0 tie */
  order_is(t, "S", 0, -1, "4,5,3,2,6,1");
  order_is(t, "C", 0, -1, "2,3,6,1,4,5");
  order_is(t, "c", 0, -1, "5,1,4,3,6,2");
  order_is(t, "b", 0, -1, "2,5,1,3,6,4");   /* false < true, nil last */
  order_is(t, "B", 0, -1, "4,1,3,6,2,5");
  order_is(t, "cA", 0, -1, "5,1,4,3,6,2");
  order_is(t, "I", 0, -1, "6,5,4,3,2,1");
  order_is(t, "n", 0, -1, "1,2,3,4,5,6");
}

static void test_offset_limit(const rm_table *t) {
  const rm_schema *s = rm_table_schema(t);
  rm_query q;
  char buf[256];
  rm_node *w = cond(s, F_AGE, RM_OP_NE, rm_int(30)); /* 2,3,5,6 */
  order_is(t, "", 1, 2, "2,3");
  order_is(t, "", 0, 0, "");
  order_is(t, "", 5, 10, "6");
  order_is(t, "", 6, -1, "");
  order_is(t, "", 100, 5, "");
  order_is(t, "", 0, 100, "1,2,3,4,5,6");
  order_is(t, "", 0, INT64_MAX, "1,2,3,4,5,6");
  order_is(t, "", 2, INT64_MAX, "3,4,5,6");
  order_is(t, "a", 2, 3, "1,4,5");
  order_is(t, "A", 0, 1, "3");
  order_is(t, "A", 5, 1, "6");
  rm_query_init(&q);
  q.where = w;
  q.offset = 1;
  q.limit = 2;
  is_str(ids(t, &q, buf, sizeof buf), "3,5", "where age ne 30, offset 1, limit 2");
  is_int(rm_query_count(t, &q), 2, "... count 2");
  q.order.nterms = 1;
  q.order.field[0] = F_AGE;
  q.order.desc[0] = 1;
  is_str(ids(t, &q, buf, sizeof buf), "5,2",
         "... sorted by age desc (3,5,2,6): 5,2");
  q.order.nterms = 0;
  q.offset = 3;
  q.limit = 5;
  is_int(rm_query_count(t, &q), 1, "count with offset 3 of 4 matches is 1");
  q.offset = 10;
  is_int(rm_query_count(t, &q), 0, "count with offset past the end is 0");
  q.offset = 0;
  q.limit = 0;
  is_int(rm_query_count(t, &q), 0, "count with limit 0 is 0");
  q.limit = -1;
  is_int(rm_query_count(t, &q), 4, "count without limit is 4");
  q.offset = 1;
  is_int(rm_query_count(t, &q), 3, "count with offset 1 is 3");
  q.offset = 0;
  q.limit = 3;
  is_int(rm_query_count(t, &q), 3, "count with limit 3 is 3");
  q.limit = INT64_MAX;
  q.offset = 2;
  is_int(rm_query_count(t, &q), 2, "count with offset 2 and a huge limit is 2");
  rm_node_unref(w);
}

/* Record number i (from 1) of t in insertion order: a scan's. */
static const rm_record *inserted(const rm_table *t, size_t i) {
  const rm_record *out[64];
  rm_query q;
  rm_diag d;
  rm_query_init(&q);
  rm_diag_init(&d);
  return rm_query_run(t, &q, out, 64, &d) >= (long)i ? out[i - 1] : NULL;
}

/* rm_query_run_within runs a query whose capacity fits the buffer, with
 * the results rm_query_run gives, and otherwise runs nothing and says how
 * much is needed. */
static void test_run_within(const rm_table *t) {
  const rm_schema *s = rm_table_schema(t);
  const rm_record *small[8], *full[8];
  rm_node *w = cond(s, F_AGE, RM_OP_NE, rm_int(30)); /* 2,3,5,6 */
  rm_query q;
  rm_diag d;
  size_t need = 0;
  long n, m;
  rm_query_init(&q);
  q.where = w;
  q.order.nterms = 1;
  q.order.field[0] = F_NAME;
  q.order.desc[0] = 1;
  rm_diag_init(&d);
  n = rm_query_run_within(t, &q, small, 1, &need, &d);
  is_int(n, -2, "run_within: a buffer of 1 is too small, nothing runs");
  is_uint(need, rm_query_capacity(t, &q), "... and it asks for rm_query_capacity");
  n = rm_query_run_within(t, &q, small, 8, &need, &d);
  m = rm_query_run(t, &q, full, 8, &d);
  ok(n == 4 && m == 4 && memcmp(small, full, 4 * sizeof small[0]) == 0,
     "run_within with room: the same 4 records, in the same order, as rm_query_run");
  q.limit = 1;
  q.order.nterms = 0;
  n = rm_query_run_within(t, &q, small, 1, &need, &d);
  ok(n == 1 && need <= 1, "a limit of 1 without order fits a buffer of 1");
  rm_node_unref(w);
  /* Equality on an indexed field walks one key of its tree, whose entries
   * are in insertion order: the walk stops at the limit, as a scan does. */
  w = cond(s, F_AGE, RM_OP_EQ, rm_int(30)); /* 1, 4 */
  q.where = w;
  q.limit = 1;
  n = rm_query_run_within(t, &q, small, 1, &need, &d);
  ok(n == 1 && need == 1 && small[0] == inserted(t, 1),
     "an equality with a limit of 1 fits a buffer of 1 and gives the first match");
  q.limit = -1;
  n = rm_query_run(t, &q, full, 8, &d);
  ok(n == 2 && full[0] == inserted(t, 1) && full[1] == inserted(t, 4),
     "its matches come in insertion order");
  rm_node_unref(w);
}

/* Many records with few distinct values: sorting keeps insertion order
 * within ties, ascending and descending; count agrees with run. */
static void test_stable(void) {
  enum { N = 3000 };
  rm_schema *s = people_schema();
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  rm_query q;
  const rm_record **out = malloc(N * sizeof *out);
  long n, i;
  int asc_ok = 1, desc_ok = 1;
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  /* Insert ids in a scrambled order, so that insertion order is not id
   * order. */
  for (i = 0; i < N; i++) {
    int64_t id = (i * 7919) % N;
    person(t, id, "x", rm_int(id % 3), rm_nil(), rm_nil(), rm_nil());
  }
  rm_query_init(&q);
  q.order.nterms = 1;
  q.order.field[0] = F_AGE;
  n = rm_query_run(t, &q, out, N, &d);
  for (i = 1; i < n; i++) {
    rm_value a0, a1;
    rm_record_get(s, rm_record_data(out[i - 1]), F_AGE, &a0);
    rm_record_get(s, rm_record_data(out[i]), F_AGE, &a1);
    if (a0.u.i > a1.u.i ||
        (a0.u.i == a1.u.i && rm_record_seq(out[i - 1]) > rm_record_seq(out[i])))
      asc_ok = 0;
  }
  ok(n == N && asc_ok, "%d records sort by age with ties in insertion order", N);
  q.order.desc[0] = 1;
  n = rm_query_run(t, &q, out, N, &d);
  for (i = 1; i < n; i++) {
    rm_value a0, a1;
    rm_record_get(s, rm_record_data(out[i - 1]), F_AGE, &a0);
    rm_record_get(s, rm_record_data(out[i]), F_AGE, &a1);
    if (a0.u.i < a1.u.i ||
        (a0.u.i == a1.u.i && rm_record_seq(out[i - 1]) > rm_record_seq(out[i])))
      desc_ok = 0;
  }
  ok(n == N && desc_ok, "... and descending, ties still in insertion order");
  q.where = cond(s, F_AGE, RM_OP_EQ, rm_int(1));
  q.offset = 10;
  q.limit = 500;
  n = rm_query_run(t, &q, out, N, &d);
  is_int(n, 500, "a page of 500 of the 1000 age-1 records");
  is_int(rm_query_count(t, &q), n, "... and count agrees");
  q.limit = -1;
  is_int(rm_query_count(t, &q), N / 3 - 10, "count after offset 10 is %d", N / 3 - 10);
  rm_node_unref((rm_node *)q.where);
  free(out);
  rm_store_free(st);
  rm_schema_unref(s);
}

/* Keyset pages: running from the position of each page's last record
 * gives the next page; the pages together are the whole result. */
static void test_positions(const rm_table *t, const char *spec, const char *want) {
  rm_query q;
  rm_position pos;
  char all[256] = "", page[256];
  const rm_record *out[8];
  int pages = 0;
  const char *p;
  rm_diag d;
  rm_query_init(&q);
  for (p = spec; *p; p++) {
    int desc = *p >= 'A' && *p <= 'Z';
    char c = (char)(desc ? *p + 32 : *p);
    q.order.field[q.order.nterms] = c == 'a' ? F_AGE : c == 's' ? F_SCORE : F_CITY;
    q.order.desc[q.order.nterms++] = desc;
  }
  q.limit = 2;
  rm_diag_init(&d);
  for (;;) {
    long n = rm_query_run(t, &q, out, 8, &d);
    if (n <= 0 || pages++ > 10) break;
    ids(t, &q, page, sizeof page);
    if (all[0]) strcat(all, ",");
    strcat(all, page);
    rm_query_position(t, &q, out[n - 1], &pos);
    q.after = &pos;
  }
  is_str(all, want, "pages of 2 by \"%s\" after each last record", spec);
}

/* Positions in insertion order skip past deleted slots. */
static void test_positions_holes(void) {
  rm_schema *s = people_schema();
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  rm_query q;
  rm_position pos;
  const rm_record *out[64];
  char buf[256];
  long n;
  int i;
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  for (i = 1; i <= 20; i++)
    person(t, i, "x", rm_nil(), rm_nil(), rm_nil(), rm_nil());
  for (i = 4; i <= 12; i++) rm_table_delete(t, rm_int(i), &d);
  rm_query_init(&q);
  q.limit = 3;
  n = rm_query_run(t, &q, out, 64, &d);
  is_str(ids(t, &q, buf, sizeof buf), "1,2,3", "first page in insertion order");
  rm_query_position(t, &q, out[n - 1], &pos);
  q.after = &pos;
  is_str(ids(t, &q, buf, sizeof buf), "13,14,15", "the next page skips the deleted run");
  q.limit = -1;
  is_int(rm_query_count(t, &q), 8, "count after the position is 8");
  pos.start = 1;
  is_int(rm_query_count(t, &q), 11, "a start position counts everything");
  rm_store_free(st);
  rm_schema_unref(s);
}

/* Pages of an equality, in insertion order, after each last record: with
 * an index the walk starts at the cursor within the key's entries. */
static void test_positions_in_one_key(void) {
  rm_schema *s = people_schema();
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  rm_query q;
  rm_position pos;
  const rm_record *out[64];
  char all[256] = "", page[256];
  long n;
  int i, pages = 0;
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  for (i = 1; i <= 20; i++)
    person(t, i, "x", rm_int(i % 2 ? 30 : 31), rm_nil(), rm_nil(), rm_nil());
  for (i = 5; i <= 11; i++) rm_table_delete(t, rm_int(i), &d);
  rm_query_init(&q);
  q.where = cond(s, F_AGE, RM_OP_EQ, rm_int(30));
  q.limit = 3;
  while ((n = rm_query_run(t, &q, out, 64, &d)) > 0 && pages++ < 10) {
    if (all[0]) strcat(all, "|");
    strcat(all, ids(t, &q, page, sizeof page));
    rm_query_position(t, &q, out[n - 1], &pos);
    q.after = &pos;
  }
  is_str(all, "1,3,13|15,17,19", "pages of an equality skip deleted and other records");
  rm_node_unref((rm_node *)q.where);
  rm_store_free(st);
  rm_schema_unref(s);
}

/* Queries see every write: an upsert that changes a value, a delete and a
 * new record (indexes, when there are some, follow each). */
static void test_after_writes(void) {
  rm_schema *s = people_schema();
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  load(t);
  person(t, 2, "bob", rm_int(35), rm_int(2), rm_bool(0), rm_nil());
  rm_table_delete(t, rm_int(4), &d);
  person(t, 7, "gus", rm_int(30), rm_nil(), rm_nil(), S("Oslo"));
  person(t, 6, "fay", rm_nil(), rm_float(2.0), rm_bool(1), S("Rome"));
  where_is(t, cond(s, F_AGE, RM_OP_EQ, rm_int(30)), "1,7",
           "after writes: age eq 30");
  where_is(t, cond(s, F_AGE, RM_OP_GT, rm_int(30)), "2,5",
           "after writes: age gt 30");
  where_is(t, cond(s, F_AGE, RM_OP_LT, rm_int(30)), "",
           "after writes: age lt 30");
  where_is(t, cond(s, F_CITY, RM_OP_EQ, S("Oslo")), "1,7",
           "after writes: city eq Oslo");
  order_is(t, "a", 0, -1, "1,7,2,5,3,6");
  order_is(t, "A", 1, 3, "6,5,2");
  rm_store_free(st);
  rm_schema_unref(s);
}

static void run_all(void) {
  rm_schema *s = people_schema();
  rm_store *st = rm_store_new();
  rm_diag d;
  rm_table *t;
  diag("---- %s", indexed ? "with an ordered index on every field"
                          : "without indexes");
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  load(t);
  is_uint(rm_table_count(t), 6, "six people are loaded");
  test_comparisons(t);
  test_in(t);
  test_trees(t);
  test_errors(s);
  test_order(t);
  test_offset_limit(t);
  test_run_within(t);
  test_positions(t, "a", "2,6,1,4,5,3");
  test_positions(t, "A", "3,5,1,4,2,6");
  test_positions(t, "sC", "1,2,6,3,5,4");
  test_positions(t, "ca", "5,1,4,6,3,2");
  test_positions(t, "cA", "5,1,4,3,6,2");
  test_positions(t, "", "1,2,3,4,5,6");
  test_positions_holes();
  test_positions_in_one_key();
  test_after_writes();
  test_stable();
  rm_store_free(st);
  rm_schema_unref(s);
}

int main(void) {
  indexed = 0;
  run_all();
  indexed = RM_F_INDEX;
  run_all();
  return done_testing();
}
