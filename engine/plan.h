/*
 * Query plans (plan.c) and the node layout they read. Internal.
 */
#ifndef RM_PLAN_H
#define RM_PLAN_H

#include "internal.h"

typedef enum rm_nkind { RM_N_TRUE, RM_N_AND, RM_N_OR, RM_N_NOT, RM_N_COND } rm_nkind;

/* The tree as query fingerprints see it (node.c): the terms of nested
 * ANDs (ORs) gathered into one multiset, whose hash is the sum of the
 * terms' mixed hashes, so that neither the order nor the nesting of the
 * terms matters; TRUE left out of ANDs, and an AND left with one term
 * standing for that term. Worked out when a node is built, from its
 * children's forms, so that hashing never walks the tree. */
typedef struct rm_nform {
  rm_nkind kind;    /* the kind of the normalised tree */
  size_t terms;     /* AND, OR: how many terms the multiset holds */
  uint64_t sum;     /* AND, OR: the sum of their mixed hashes */
  uint64_t hash;    /* the normalised tree's hash */
} rm_nform;

/* Trees may be very deep (a chain of 100,000 ORs built in a loop), so
 * every walk iterates along `a` and recurses only into `b`, which the
 * combinators keep the smaller subtree: recursion depth stays below
 * log2(size). */
struct rm_node {
  unsigned refs;
  rm_nkind kind;
  size_t size;      /* nodes in this subtree */
  rm_node *a, *b;   /* children of AND, OR (a, b) and NOT (a) */
  rm_nform form;
  /* The schema the tree's conditions name fields of: a condition holds a
   * reference to the one it was built on, a combinator borrows its
   * children's (they outlive it); NULL for a tree of TRUE alone, which
   * fits every schema. Queries compare it with their table's (O(1)). */
  rm_schema *schema;
  int field;        /* RM_N_COND */
  rm_op op;
  size_t nvals;
  rm_value vals[];  /* string bytes follow the array */
};

#define RM_PLAN_MAX_CONDS 64

typedef enum rm_plan_kind {
  RM_PLAN_SCAN,      /* every record in insertion order */
  RM_PLAN_KEYS,      /* primary key values of an eq/in condition */
  RM_PLAN_UNIQUE,    /* unique field values of an eq/in condition */
  RM_PLAN_RANGE,     /* ranks [lo, hi) of an indexed field's tree */
  RM_PLAN_IN_RANGES  /* one rank range per value of an `in` condition */
} rm_plan_kind;

typedef struct rm_plan {
  rm_plan_kind kind;
  int field;            /* the field whose index is used */
  const rm_node *cond;  /* KEYS, UNIQUE, IN_RANGES: the condition */
  size_t lo, hi;        /* RANGE */
  int ordered;          /* candidates come in the query's order_by order */
  int in_seq;           /* candidates come in insertion order (one key of
                           an index, a scan, a single key or unique value) */
  rm_value seq_key;     /* RANGE with in_seq: that one key */
  int desc;             /* walk the range from the top */
  int covers;           /* the plan alone decides the whole where clause */
  size_t estimate;      /* candidates it yields (exact for ranges) */
} rm_plan;

/* 1 when tree n (NULL: no conditions) can be matched against records of
 * schema s: built on s, on a schema compatible with it
 * (rm_schema_compatible: same fields, types and key flags) or on none. A
 * pointer compare unless the schemas differ. */
int rm_node_fits(const rm_node *n, const rm_schema *s);
/* rm_node_matches without that check, for trees a query has checked. */
int rm_node_eval(const rm_node *n, const rm_schema *s,
                 const unsigned char *data);
/* 0 when t can run a query with this where tree, else -1 with
 * RM_E_CONFIG naming the table and the model the tree was built for
 * (query.c). */
int rm_where_check(const rm_table *t, const rm_node *where, rm_diag *d);

void rm_plan_query(const rm_table *t, const rm_query *q, rm_plan *p);
const char *rm_plan_name(const rm_plan *p);

#endif
