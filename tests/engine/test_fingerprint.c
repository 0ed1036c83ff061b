/*
 * Query fingerprints (rm_query_fingerprint, rm_node_hash), which cursors
 * carry: queries that mean the same whatever the order and nesting of
 * their ANDed or ORed terms get the same fingerprint, so that a cursor
 * from one is taken by the other; queries that differ in a value, a
 * lookup, a field, a negation, AND against OR, the model or the order
 * terms get different ones. Offset and limit do not count.
 */
#include <stdint.h>
#include <string.h>

#include "restmachine_orm.h"
#include "tap.h"

#define S(lit) rm_str(lit, sizeof lit - 1)

enum { F_ID, F_A, F_B, F_C, F_NAME, NF };

static rm_schema *schema(const char *name) {
  rm_schema *s = rm_schema_new(name);
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(s, "a", RM_T_INTEGER, RM_F_OPTIONAL, &d);
  rm_schema_add_field(s, "b", RM_T_INTEGER, RM_F_OPTIONAL, &d);
  rm_schema_add_field(s, "c", RM_T_INTEGER, RM_F_OPTIONAL, &d);
  rm_schema_add_field(s, "name", RM_T_STRING, RM_F_OPTIONAL, &d);
  if (rm_schema_finish(s, &d) < 0) diag("schema refused: %s", d.message);
  return s;
}

static rm_table *table;
static const rm_schema *people;
static rm_diag scratch_diag;

/* A condition with one value; the tests below leak nothing: every tree
 * goes through fp() or fp_order(), which release it. */
static rm_node *cond(int field, rm_op op, rm_value v) {
  return rm_node_cond(people, field, op, &v, 1, &scratch_diag);
}

static rm_node *eq(int field, int64_t v) { return cond(field, RM_OP_EQ, rm_int(v)); }

/* The combinators take new references: these consume their arguments. */
static rm_node *and_(rm_node *a, rm_node *b) {
  rm_node *n = rm_node_and(a, b, &scratch_diag);
  rm_node_unref(a);
  rm_node_unref(b);
  return n;
}

static rm_node *or_(rm_node *a, rm_node *b) {
  rm_node *n = rm_node_or(a, b, &scratch_diag);
  rm_node_unref(a);
  rm_node_unref(b);
  return n;
}

static rm_node *not_(rm_node *a) {
  rm_node *n = rm_node_not(a, &scratch_diag);
  rm_node_unref(a);
  return n;
}

static rm_node *true_(void) { return rm_node_true(&scratch_diag); }

/* The fingerprint of `where` (consumed; NULL: no conditions) ordered by
 * `order`: one letter per term, a/b/c for those fields, upper case for
 * descending. */
static uint64_t fp_order(const rm_table *t, rm_node *where, const char *order) {
  rm_query q;
  uint64_t h;
  rm_query_init(&q);
  q.where = where;
  for (; *order; order++) {
    int up = *order >= 'A' && *order <= 'Z';
    q.order.field[q.order.nterms] = F_A + ((up ? *order + 32 : *order) - 'a');
    q.order.desc[q.order.nterms++] = up;
  }
  h = rm_query_fingerprint(t, &q);
  rm_node_unref(where);
  return h;
}

static uint64_t fp(rm_node *where) { return fp_order(table, where, ""); }

static void test_and_commutes(void) {
  is_uint(fp(and_(eq(F_A, 1), eq(F_B, 1))), fp(and_(eq(F_B, 1), eq(F_A, 1))),
          "a AND b = b AND a");
  is_uint(fp(or_(eq(F_A, 1), eq(F_B, 1))), fp(or_(eq(F_B, 1), eq(F_A, 1))),
          "a OR b = b OR a");
  is_uint(fp(and_(cond(F_NAME, RM_OP_STARTSWITH, S("x")), eq(F_A, 2))),
          fp(and_(eq(F_A, 2), cond(F_NAME, RM_OP_STARTSWITH, S("x")))),
          "name startswith x AND a = 2, either way round");
}

static void test_nesting(void) {
  uint64_t flat = fp(and_(and_(eq(F_A, 1), eq(F_B, 2)), eq(F_C, 3)));
  is_uint(fp(and_(eq(F_A, 1), and_(eq(F_B, 2), eq(F_C, 3)))), flat,
          "(a AND b) AND c = a AND (b AND c)");
  is_uint(fp(and_(and_(eq(F_C, 3), eq(F_A, 1)), eq(F_B, 2))), flat,
          "(c AND a) AND b = (a AND b) AND c");
  is_uint(fp(and_(eq(F_B, 2), and_(eq(F_C, 3), eq(F_A, 1)))), flat,
          "b AND (c AND a) = (a AND b) AND c");
  flat = fp(or_(or_(eq(F_A, 1), eq(F_B, 2)), eq(F_C, 3)));
  is_uint(fp(or_(eq(F_C, 3), or_(eq(F_B, 2), eq(F_A, 1)))), flat,
          "c OR (b OR a) = (a OR b) OR c");
  is_uint(fp(or_(and_(eq(F_A, 1), eq(F_B, 2)), not_(eq(F_C, 3)))),
          fp(or_(not_(eq(F_C, 3)), and_(eq(F_B, 2), eq(F_A, 1)))),
          "(a AND b) OR NOT c = NOT c OR (b AND a)");
  is_uint(fp(not_(and_(eq(F_A, 1), eq(F_B, 2)))),
          fp(not_(and_(eq(F_B, 2), eq(F_A, 1)))),
          "NOT (a AND b) = NOT (b AND a)");
}

/* where{} is TRUE; where{}:and_{a = 1} is TRUE AND a. */
static void test_true(void) {
  uint64_t a = fp(eq(F_A, 1));
  is_uint(fp(and_(true_(), eq(F_A, 1))), a, "TRUE AND a = a");
  is_uint(fp(and_(eq(F_A, 1), true_())), a, "a AND TRUE = a");
  is_uint(fp(and_(and_(true_(), eq(F_A, 1)), and_(eq(F_B, 1), true_()))),
          fp(and_(eq(F_B, 1), eq(F_A, 1))), "(TRUE AND a) AND (b AND TRUE) = b AND a");
  is_uint(fp(and_(true_(), true_())), fp(true_()), "TRUE AND TRUE = TRUE");
  is_uint(fp(NULL), fp(true_()), "no conditions = TRUE");
  is_uint(fp(or_(and_(true_(), or_(eq(F_A, 1), eq(F_B, 1))), eq(F_C, 1))),
          fp(or_(eq(F_A, 1), or_(eq(F_B, 1), eq(F_C, 1)))),
          "(TRUE AND (a OR b)) OR c = a OR (b OR c)");
  ok(fp(or_(true_(), eq(F_A, 1))) != a, "TRUE OR a differs from a");
}

static void test_in_lists(void) {
  rm_value v[3];
  rm_node *x, *y;
  v[0] = rm_int(1);
  v[1] = rm_int(2);
  x = rm_node_cond(people, F_A, RM_OP_IN, v, 2, &scratch_diag);
  v[0] = rm_int(2);
  v[1] = rm_int(1);
  v[2] = rm_int(2);
  y = rm_node_cond(people, F_A, RM_OP_IN, v, 3, &scratch_diag);
  is_uint(fp(x), fp(y), "a in (1, 2) = a in (2, 1, 2)");
  v[1] = rm_int(3);
  x = rm_node_cond(people, F_A, RM_OP_IN, v, 2, &scratch_diag);
  v[1] = rm_int(1);
  y = rm_node_cond(people, F_A, RM_OP_IN, v, 2, &scratch_diag);
  ok(fp(x) != fp(y), "a in (2, 3) differs from a in (2, 1)");
}

/* Pairs of queries that mean different things. */
static void test_differences(void) {
  ok(fp(eq(F_A, 1)) != fp(eq(F_A, 2)), "a = 1 differs from a = 2");
  ok(fp(eq(F_A, 1)) != fp(eq(F_B, 1)), "a = 1 differs from b = 1");
  ok(fp(eq(F_A, 1)) != fp(cond(F_A, RM_OP_NE, rm_int(1))), "a = 1 differs from a ne 1");
  ok(fp(eq(F_A, 1)) != fp(cond(F_A, RM_OP_GTE, rm_int(1))), "a = 1 differs from a gte 1");
  ok(fp(eq(F_A, 1)) != fp(not_(eq(F_A, 1))), "a = 1 differs from NOT a = 1");
  ok(fp(not_(eq(F_A, 1))) != fp(not_(not_(eq(F_A, 1)))), "NOT a differs from NOT NOT a");
  ok(fp(cond(F_NAME, RM_OP_EQ, S("ab"))) != fp(cond(F_NAME, RM_OP_EQ, S("ba"))),
     "name = ab differs from name = ba");
  ok(fp(cond(F_A, RM_OP_ISNULL, rm_bool(1))) != fp(cond(F_A, RM_OP_ISNULL, rm_bool(0))),
     "a isnull true differs from a isnull false");
  ok(fp(and_(eq(F_A, 1), eq(F_B, 1))) != fp(or_(eq(F_A, 1), eq(F_B, 1))),
     "a AND b differs from a OR b");
  ok(fp(and_(eq(F_A, 1), or_(eq(F_B, 1), eq(F_C, 1)))) !=
     fp(or_(and_(eq(F_A, 1), eq(F_B, 1)), eq(F_C, 1))),
     "a AND (b OR c) differs from (a AND b) OR c");
  ok(fp(and_(or_(eq(F_A, 1), eq(F_B, 1)), or_(eq(F_C, 1), eq(F_A, 2)))) !=
     fp(and_(or_(eq(F_A, 1), eq(F_C, 1)), or_(eq(F_B, 1), eq(F_A, 2)))),
     "(a OR b) AND (c OR d) differs from (a OR c) AND (b OR d)");
  ok(fp(not_(and_(eq(F_A, 1), eq(F_B, 1)))) !=
     fp(and_(not_(eq(F_A, 1)), not_(eq(F_B, 1)))),
     "NOT (a AND b) differs from NOT a AND NOT b");
  ok(fp(and_(eq(F_A, 1), eq(F_B, 1))) != fp(and_(eq(F_A, 1), eq(F_C, 1))),
     "a AND b differs from a AND c");
  ok(fp(and_(eq(F_A, 1), eq(F_B, 1))) !=
     fp(and_(and_(eq(F_A, 1), eq(F_B, 1)), eq(F_C, 1))),
     "a AND b differs from a AND b AND c");
  ok(fp(eq(F_A, 1)) != fp(NULL), "a = 1 differs from no conditions");
}

static void test_order_terms(void) {
  ok(fp_order(table, NULL, "a") != fp_order(table, NULL, "A"),
     "order_by a differs from order_by -a");
  ok(fp_order(table, NULL, "ab") != fp_order(table, NULL, "ba"),
     "order_by a, b differs from order_by b, a");
  ok(fp_order(table, NULL, "a") != fp_order(table, NULL, ""),
     "order_by a differs from no order_by");
  is_uint(fp_order(table, and_(eq(F_A, 1), eq(F_B, 1)), "Ab"),
          fp_order(table, and_(eq(F_B, 1), eq(F_A, 1)), "Ab"),
          "the same conditions in another order, the same order_by");
}

static void test_limit_offset_and_model(rm_store *st) {
  rm_schema *other = schema("Q");
  rm_table *t2;
  rm_query q;
  uint64_t h;
  rm_query_init(&q);
  h = rm_query_fingerprint(table, &q);
  q.limit = 3;
  q.offset = 7;
  is_uint(rm_query_fingerprint(table, &q), h, "limit and offset do not count");
  q.identity_set = 1;
  is_uint(rm_query_fingerprint(table, &q), h,
          "an identity without conditions is the same as no conditions");
  t2 = rm_store_table(st, other, &scratch_diag);
  ok(fp_order(t2, NULL, "") != fp(NULL), "the same query on another model differs");
  rm_schema_unref(other);
}

/* A chain of n conditions built in a loop, from the left (e = e AND x)
 * or from the right (e = x AND e). */
static rm_node *chain(int n, int right) {
  rm_node *e = eq(F_A, 0);
  int i;
  for (i = 1; i < n; i++)
    e = right ? and_(eq(F_A, i), e) : and_(e, eq(F_A, i));
  return e;
}

static void test_deep(void) {
  is_uint(fp(chain(100000, 0)), fp(chain(100000, 1)),
          "100,000 ANDed conditions, chained from the left or from the right");
  ok(fp(chain(100000, 0)) != fp(chain(99999, 0)),
     "100,000 ANDed conditions differ from 99,999");
}

int main(void) {
  rm_schema *s = schema("P");
  rm_store *st = rm_store_new();
  rm_diag_init(&scratch_diag);
  table = rm_store_table(st, s, &scratch_diag);
  people = rm_table_schema(table);
  test_and_commutes();
  test_nesting();
  test_true();
  test_in_lists();
  test_differences();
  test_order_terms();
  test_limit_offset_and_model(st);
  test_deep();
  if (scratch_diag.kind != RM_OK) diag("a builder failed: %s", scratch_diag.message);
  ok(scratch_diag.kind == RM_OK, "every tree was built");
  rm_store_free(st);
  rm_schema_unref(s);
  return done_testing();
}
