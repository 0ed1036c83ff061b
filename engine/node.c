/*
 * Condition trees: immutable, reference-counted AND/OR/NOT trees of field
 * conditions ("age__gte = 18"), checked against the schema when built,
 * hashed for query fingerprints (a normal form worked out as each node is
 * built) and matched against encoded records. A tree remembers its schema,
 * so that one of another model is refused rather than matched by field
 * index against records laid out differently.
 */
#include <stdlib.h>
#include <string.h>

#include "plan.h"

static const char *const op_names[] = {
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "startswith",
    "endswith", "icontains", "istartswith", "iendswith", "iexact", "isnull"};

#define NOPS ((int)(sizeof op_names / sizeof *op_names))

static int is_text_op(rm_op op) {
  return op >= RM_OP_CONTAINS && op <= RM_OP_IEXACT;
}

int rm_op_parse(const char *name, size_t len) {
  int i;
  for (i = 0; i < NOPS; i++)
    if (strlen(op_names[i]) == len && memcmp(op_names[i], name, len) == 0)
      return i;
  return -1;
}

/* An op that is not one of the enum's (a cast by the host) is read from
 * nowhere. */
const char *rm_op_name(rm_op op) {
  return (int)op >= 0 && (int)op < NOPS ? op_names[op] : "?";
}

/* -------------------------------------------------------------- hashing */

uint64_t rm_hash_bytes(const void *p, size_t len, uint64_t h) {
  const unsigned char *b = p;
  size_t i;
  for (i = 0; i < len; i++) {
    h ^= b[i];
    h *= 1099511628211ULL;
  }
  return h;
}

#define FNV_BASIS 14695981039346656037ULL

static uint64_t hash_value(const rm_value *v, uint64_t h) {
  unsigned char tag = (unsigned char)v->tag;
  h = rm_hash_bytes(&tag, 1, h);
  if (v->tag == RM_V_STR || v->tag == RM_V_JSON) {
    h = rm_hash_bytes(&v->u.s.len, sizeof v->u.s.len, h);
    return rm_hash_bytes(v->u.s.ptr, v->u.s.len, h);
  }
  if (v->tag == RM_V_INT || v->tag == RM_V_FLOAT)
    return rm_hash_bytes(&v->u, 8, h);
  return h;
}

/* MurmurHash3's 64-bit finalizer: a bijection that spreads every bit of
 * x over the whole word, so that the terms of a sum (below) stay apart
 * where raw FNV hashes, which differ in few bits, could cancel out. */
static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

static uint64_t head_hash(rm_nkind kind, int field, rm_op op) {
  int head[3];
  head[0] = (int)kind;
  head[1] = field;
  head[2] = (int)op;
  return rm_hash_bytes(head, sizeof head, FNV_BASIS);
}

/* TRUE and conditions hash their kind, field, lookup and values (an `in`
 * list is sorted and distinct by then, so its order does not count). */
static void leaf_form(rm_node *n) {
  uint64_t h = head_hash(n->kind, n->field, n->op);
  size_t i;
  for (i = 0; i < n->nvals; i++) h = hash_value(&n->vals[i], h);
  n->form.kind = n->kind;
  n->form.hash = h;
}

static void not_form(rm_node *n) {
  uint64_t h = head_hash(RM_N_NOT, 0, RM_OP_EQ);
  n->form.kind = RM_N_NOT;
  n->form.hash = rm_hash_bytes(&n->a->form.hash, sizeof n->a->form.hash, h);
}

/* Adds child c to the multiset f of an AND or OR: the terms of a child of
 * the same kind, nothing for TRUE under AND, else c itself. */
static void add_terms(rm_nform *f, const rm_node *c) {
  if (c->form.kind == f->kind) {
    f->terms += c->form.terms;
    f->sum += c->form.sum;
  } else if (f->kind == RM_N_OR || c->form.kind != RM_N_TRUE) {
    f->terms++;
    f->sum += mix(c->form.hash);
  }
}

/* An AND or OR: the sum commutes, so the order of the terms and the way
 * they nest do not change the hash; their kind and count do. */
static void join_form(rm_node *n) {
  rm_nform *f = &n->form;
  f->kind = n->kind;
  add_terms(f, n->a);
  add_terms(f, n->b);
  if (f->terms <= 1) { /* an AND of TRUE and at most one other term */
    *f = (n->a->form.kind == RM_N_TRUE ? n->b : n->a)->form;
    return;
  }
  f->hash = mix(f->sum + rm_hash_bytes(&f->terms, sizeof f->terms,
                                       head_hash(n->kind, 0, RM_OP_EQ)));
}

/* O(1): the form was worked out when n was built. NULL (no conditions)
 * hashes as TRUE. */
uint64_t rm_node_hash(const rm_node *n, uint64_t h) {
  uint64_t x = n != NULL ? n->form.hash : head_hash(RM_N_TRUE, 0, RM_OP_EQ);
  return rm_hash_bytes(&x, sizeof x, h);
}

/* --------------------------------------------------------- building */

static rm_node *alloc_node(rm_nkind kind, size_t extra, rm_diag *d) {
  rm_node *n = rm_xalloc(sizeof *n + extra);
  if (n == NULL) {
    rm_diag_set(d, RM_E_MEMORY, "out of memory building a query");
    return NULL;
  }
  memset(n, 0, sizeof *n);
  n->refs = 1;
  n->kind = kind;
  n->size = 1;
  return n;
}

rm_node *rm_node_true(rm_diag *d) {
  rm_node *n = alloc_node(RM_N_TRUE, 0, d);
  if (n != NULL) leaf_form(n);
  return n;
}

void rm_node_ref(rm_node *n) { n->refs++; }

void rm_node_unref(rm_node *n) {
  while (n != NULL && --n->refs == 0) {
    rm_node *next = n->a;
    rm_node_unref(n->b);
    if (n->kind == RM_N_COND) rm_schema_unref(n->schema);
    rm_xfree(n);
    n = next;
  }
}

/* Which lookups a field type admits: ranges not on booleans, text lookups
 * only on string and bytes fields; json fields take eq and ne (deep
 * equality), contains (an element of an array) and isnull. */
static int op_applies(rm_ftype type, rm_op op) {
  int text = type == RM_T_STRING || type == RM_T_BYTES;
  if (type == RM_T_JSON)
    return op == RM_OP_EQ || op == RM_OP_NE || op == RM_OP_CONTAINS ||
           op == RM_OP_ISNULL;
  if (is_text_op(op)) return text;
  if (op >= RM_OP_GT && op <= RM_OP_LTE) return type != RM_T_BOOLEAN;
  return 1;
}

static int check_op(const rm_schema *s, int field, rm_op op, rm_diag *d) {
  const rm_field *f = &s->fields[field];
  if (op_applies(f->type, op)) return 0;
  rm_diag_field_error(d, f->name, "lookup",
                      "%s.%s: lookup %s does not apply to a %s field",
                      s->name, f->name, rm_op_name(op), rm_ftype_name(f->type));
  return -1;
}

/* isnull takes a boolean, whatever the field's type. */
static int check_isnull(const rm_schema *s, int field, const rm_value *v,
                        rm_diag *d) {
  if (v->tag == RM_V_TRUE || v->tag == RM_V_FALSE) return 0;
  rm_diag_field_error(d, s->fields[field].name, "type",
                      "%s.%s: lookup isnull expects true or false",
                      s->name, s->fields[field].name);
  return -1;
}

/* `contains` on a json field looks for an element equal to a scalar. */
static int check_element(const rm_schema *s, int field, const rm_value *v,
                         rm_diag *d) {
  switch (v->tag) {
    case RM_V_STR:
    case RM_V_INT:
    case RM_V_TRUE:
    case RM_V_FALSE: return 0;
    case RM_V_FLOAT:
      if (v->u.f == v->u.f) return 0;
      break;
    default: break;
  }
  rm_diag_field_error(d, s->fields[field].name, "type",
                      "%s.%s: lookup contains on a json field expects a "
                      "string, a number or a boolean", s->name,
                      s->fields[field].name);
  return -1;
}

/* Coerces the condition's values to the field's type; a nil value is
 * refused (conditions on nil are spelled isnull). */
static int coerce_values(const rm_schema *s, int field, rm_op op,
                         rm_value *vals, size_t n, size_t *text, rm_diag *d) {
  size_t i;
  int rc = 0, element = op == RM_OP_CONTAINS && s->fields[field].type == RM_T_JSON;
  *text = 0;
  for (i = 0; i < n; i++) {
    if (vals[i].tag == RM_V_NIL) {
      rm_diag_field_error(d, s->fields[field].name, "type",
                          "%s.%s: a query value cannot be nil", s->name,
                          s->fields[field].name);
      rc = -1;
    } else if (element ? check_element(s, field, &vals[i], d) < 0
                       : rm_field_coerce(s, field, &vals[i], d) < 0) {
      rc = -1;
    } else if (vals[i].tag == RM_V_STR || vals[i].tag == RM_V_JSON) {
      *text += vals[i].u.s.len;
    }
  }
  return rc;
}

static int compare_values(const void *a, const void *b) {
  return rm_value_compare(a, b);
}

/* Sorts an `in` list and drops repeated values (1 and 1.0 alike), so that
 * index lookups meet each record once. Returns the new count. */
static size_t distinct_values(rm_value *vals, size_t n) {
  size_t i, m = 0;
  qsort(vals, n, sizeof *vals, compare_values);
  for (i = 0; i < n; i++)
    if (m == 0 || !rm_value_equal(&vals[m - 1], &vals[i])) vals[m++] = vals[i];
  return m;
}

/* What the host passes is checked before anything reads it: a field of
 * the schema, a known lookup, and the values it takes (exactly one, or
 * for `in` any number of them; vals may be NULL only when n is 0). */
static int check_args(const rm_schema *s, int field, rm_op op,
                      const rm_value *vals, size_t n, rm_diag *d) {
  if (field < 0 || field >= s->nfields) {
    rm_diag_set(d, RM_E_CONFIG, "%s: no field %d (the model has %d)",
                s->name, field, s->nfields);
    return -1;
  }
  if ((int)op < 0 || (int)op >= NOPS) {
    rm_diag_set(d, RM_E_CONFIG, "%s.%s: unknown lookup %d", s->name,
                s->fields[field].name, (int)op);
    return -1;
  }
  if (op == RM_OP_IN ? (n > 0 && vals == NULL) : (n != 1 || vals == NULL)) {
    rm_diag_set(d, RM_E_CONFIG, "%s.%s: lookup %s takes %s, got %zu%s",
                s->name, s->fields[field].name, op_names[op],
                op == RM_OP_IN ? "a list of values" : "one value", n,
                vals == NULL ? " and no array" : "");
    return -1;
  }
  /* The node holds the values and their string bytes in one block. */
  if (n > SIZE_MAX / 2 / sizeof *vals) {
    rm_diag_set(d, RM_E_MEMORY, "out of memory building a query");
    return -1;
  }
  return 0;
}

rm_node *rm_node_cond(const rm_schema *s, int field, rm_op op,
                      const rm_value *vals, size_t n, rm_diag *d) {
  rm_value local[64], *tmp;
  rm_node *node = NULL;
  size_t text, i;
  char *p;
  if (check_args(s, field, op, vals, n, d) < 0) return NULL;
  tmp = n <= 64 ? local : rm_xalloc(n * sizeof *tmp);
  if (tmp == NULL) {
    rm_diag_set(d, RM_E_MEMORY, "out of memory building a query");
    return NULL;
  }
  if (n) memcpy(tmp, vals, n * sizeof *tmp);
  text = 0;
  if (check_op(s, field, op, d) == 0 &&
      (op == RM_OP_ISNULL ? check_isnull(s, field, &tmp[0], d)
                          : coerce_values(s, field, op, tmp, n, &text, d)) == 0) {
    if (op == RM_OP_IN) n = distinct_values(tmp, n);
    node = alloc_node(RM_N_COND, n * sizeof *tmp + text, d);
  }
  if (node != NULL) {
    node->schema = (rm_schema *)s;
    rm_schema_ref(node->schema);
    node->field = field;
    node->op = op;
    node->nvals = n;
    p = (char *)&node->vals[n];
    for (i = 0; i < n; i++) {
      node->vals[i] = tmp[i];
      if (tmp[i].tag != RM_V_STR && tmp[i].tag != RM_V_JSON) continue;
      if (tmp[i].u.s.len) memcpy(p, tmp[i].u.s.ptr, tmp[i].u.s.len);
      node->vals[i].u.s.ptr = p;
      p += tmp[i].u.s.len;
    }
    leaf_form(node);
  }
  if (tmp != local) rm_xfree(tmp);
  return node;
}

int rm_node_fits(const rm_node *n, const rm_schema *s) {
  return n == NULL || n->schema == NULL || n->schema == s ||
         rm_schema_compatible(n->schema, s);
}

/* Trees whose conditions name fields of schemas that differ do not mix:
 * the result could be run on neither model. */
static int mixed_schemas(const rm_node *a, const rm_node *b, rm_diag *d) {
  const rm_schema *x = a->schema, *y = b != NULL ? b->schema : NULL;
  if (x == NULL || y == NULL || rm_node_fits(a, y)) return 0;
  if (strcmp(x->name, y->name) != 0)
    rm_diag_set(d, RM_E_CONFIG, "%s: its conditions cannot be combined with "
                "conditions of model %s", x->name, y->name);
  else
    rm_diag_set(d, RM_E_CONFIG, "%s: conditions built on two declarations "
                "of the model with different fields cannot be combined",
                x->name);
  return 1;
}

/* AND and OR keep the smaller subtree in b (they commute). */
static rm_node *combine(rm_nkind kind, rm_node *a, rm_node *b, rm_diag *d) {
  rm_node *n;
  if (mixed_schemas(a, b, d)) return NULL;
  n = alloc_node(kind, 0, d);
  if (n == NULL) return NULL;
  n->schema = a->schema != NULL ? a->schema : b != NULL ? b->schema : NULL;
  if (b != NULL && b->size > a->size) {
    rm_node *t = a;
    a = b;
    b = t;
  }
  n->a = a;
  n->b = b;
  n->size = 1 + a->size + (b ? b->size : 0);
  rm_node_ref(a);
  if (b) rm_node_ref(b);
  if (kind == RM_N_NOT) not_form(n);
  else join_form(n);
  return n;
}

/* A missing child is the host's mistake (a failed constructor's NULL
 * passed on): refused before any reference is taken. */
static rm_node *no_child(rm_diag *d) {
  rm_diag_set(d, RM_E_CONFIG, "a query combinator was given a NULL tree");
  return NULL;
}

rm_node *rm_node_and(rm_node *a, rm_node *b, rm_diag *d) {
  if (a == NULL || b == NULL) return no_child(d);
  return combine(RM_N_AND, a, b, d);
}

rm_node *rm_node_or(rm_node *a, rm_node *b, rm_diag *d) {
  if (a == NULL || b == NULL) return no_child(d);
  return combine(RM_N_OR, a, b, d);
}

rm_node *rm_node_not(rm_node *a, rm_diag *d) {
  if (a == NULL) return no_child(d);
  return combine(RM_N_NOT, a, NULL, d);
}

static unsigned char fold(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static int same_text(const char *a, const char *b, size_t n, int icase) {
  size_t i;
  if (!icase) return n == 0 || memcmp(a, b, n) == 0;
  for (i = 0; i < n; i++)
    if (fold((unsigned char)a[i]) != fold((unsigned char)b[i])) return 0;
  return 1;
}

static int find_text(const rm_value *v, const rm_value *p, int icase) {
  size_t i;
  if (p->u.s.len > v->u.s.len) return 0;
  for (i = 0; i + p->u.s.len <= v->u.s.len; i++)
    if (same_text(v->u.s.ptr + i, p->u.s.ptr, p->u.s.len, icase)) return 1;
  return 0;
}

/* The text lookups on a string value v with pattern p. */
static int text_holds(rm_op op, const rm_value *v, const rm_value *p) {
  size_t n = p->u.s.len, len = v->u.s.len;
  int icase = op >= RM_OP_ICONTAINS;
  switch (op) {
    case RM_OP_CONTAINS:
    case RM_OP_ICONTAINS: return find_text(v, p, icase);
    case RM_OP_STARTSWITH:
    case RM_OP_ISTARTSWITH:
      return n <= len && same_text(v->u.s.ptr, p->u.s.ptr, n, icase);
    case RM_OP_ENDSWITH:
    case RM_OP_IENDSWITH:
      return n <= len && same_text(v->u.s.ptr + len - n, p->u.s.ptr, n, icase);
    case RM_OP_IEXACT: return n == len && same_text(v->u.s.ptr, p->u.s.ptr, n, 1);
    default: return 0;
  }
}

/* A condition on one field value. Comparisons with nil are false, except
 * ne (nil differs from every value) and isnull. */
static int cond_holds(const rm_node *n, const rm_value *v) {
  size_t i;
  int c;
  if (n->op == RM_OP_ISNULL) return (v->tag == RM_V_NIL) == (n->vals[0].tag == RM_V_TRUE);
  if (v->tag == RM_V_NIL) return n->op == RM_OP_NE;
  if (v->tag == RM_V_JSON && n->op == RM_OP_CONTAINS)
    return rm_json_contains((const unsigned char *)v->u.s.ptr, &n->vals[0]);
  if (is_text_op(n->op)) return text_holds(n->op, v, &n->vals[0]);
  switch (n->op) {
    case RM_OP_EQ: return rm_value_equal(v, &n->vals[0]);
    case RM_OP_NE: return !rm_value_equal(v, &n->vals[0]);
    case RM_OP_IN:
      for (i = 0; i < n->nvals; i++)
        if (rm_value_equal(v, &n->vals[i])) return 1;
      return 0;
    default: break;
  }
  c = rm_value_compare(v, &n->vals[0]);
  switch (n->op) {
    case RM_OP_GT: return c > 0;
    case RM_OP_GTE: return c >= 0;
    case RM_OP_LT: return c < 0;
    case RM_OP_LTE: return c <= 0;
    default: return 0;
  }
}

/* Iterates down `a` carrying a negation flag; recurses only into the
 * smaller `b`. */
int rm_node_eval(const rm_node *n, const rm_schema *s,
                 const unsigned char *data) {
  int negate = 0;
  rm_value v;
  for (;;) {
    switch (n->kind) {
      case RM_N_TRUE: return !negate;
      case RM_N_COND:
        rm_record_get(s, data, n->field, &v);
        return cond_holds(n, &v) != negate;
      case RM_N_NOT: negate = !negate; break;
      case RM_N_AND:
        if (!rm_node_eval(n->b, s, data)) return negate;
        break;
      case RM_N_OR:
        if (rm_node_eval(n->b, s, data)) return !negate;
        break;
    }
    n = n->a;
  }
}

/* A tree of another schema would read its fields by index from records
 * laid out differently: refused before any field is read. */
int rm_node_matches(const rm_node *n, const rm_schema *s,
                    const unsigned char *data) {
  if (!rm_node_fits(n, s)) return -1;
  return rm_node_eval(n, s, data);
}
