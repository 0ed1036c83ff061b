/*
 * Schemas: a model's fields and their rules, built once at declaration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static char *dup_str(const char *s, size_t len) {
  char *p = rm_xalloc(len + 1);
  if (p == NULL) return NULL;
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

rm_schema *rm_schema_new(const char *name) {
  rm_schema *s = name != NULL ? rm_xalloc(sizeof *s) : NULL;
  if (s == NULL) return NULL;
  memset(s, 0, sizeof *s);
  s->name = dup_str(name, strlen(name));
  if (s->name == NULL) {
    rm_xfree(s);
    return NULL;
  }
  s->refs = 1;
  s->pk = -1;
  return s;
}

void rm_schema_ref(rm_schema *s) { s->refs++; }

static void free_field(rm_field *f) {
  size_t i;
  for (i = 0; i < f->nchoices; i++)
    if (f->choices[i].tag == RM_V_STR) rm_xfree((void *)f->choices[i].u.s.ptr);
  rm_xfree(f->choices);
  rm_pattern_free(f->pattern);
  rm_xfree(f->name);
}

void rm_schema_unref(rm_schema *s) {
  int i;
  if (s == NULL || --s->refs > 0) return;
  for (i = 0; i < s->nfields; i++) free_field(&s->fields[i]);
  rm_xfree(s->name);
  rm_xfree(s);
}

const char *rm_ftype_name(rm_ftype t) {
  switch (t) {
    case RM_T_STRING: return "string";
    case RM_T_BYTES: return "bytes";
    case RM_T_INTEGER: return "integer";
    case RM_T_NUMBER: return "number";
    case RM_T_BOOLEAN: return "boolean";
    case RM_T_DATETIME: return "datetime";
    case RM_T_JSON: return "json";
  }
  return "unknown";
}

/* A finished schema is fixed: tables hold it and stored records were
 * checked against its rules, which must not change under them. */
static int refuse_if_finished(const rm_schema *s, const char *what,
                              rm_diag *d) {
  if (!s->finished) return 0;
  rm_diag_set(d, RM_E_CONFIG, "%s: the model is finished; %s cannot change it",
              s->name, what);
  return -1;
}

/* The field a setter changes: one of s's, s not finished yet; NULL with
 * d filled otherwise. */
static rm_field *field_to_change(rm_schema *s, int field, const char *what,
                                 rm_diag *d) {
  if (refuse_if_finished(s, what, d) < 0) return NULL;
  if (field >= 0 && field < s->nfields) return &s->fields[field];
  rm_diag_set(d, RM_E_CONFIG, "%s: %s names field %d; the model has %d",
              s->name, what, field, s->nfields);
  return NULL;
}

static int known_type(rm_ftype t) {
  return (int)t >= (int)RM_T_STRING && (int)t <= (int)RM_T_JSON;
}

int rm_schema_add_field(rm_schema *s, const char *name, rm_ftype type,
                        unsigned flags, rm_diag *d) {
  rm_field *f;
  if (refuse_if_finished(s, "add_field", d) < 0) return -1;
  if (name == NULL || !known_type(type)) {
    rm_diag_set(d, RM_E_CONFIG, "%s: a field needs a name and a known type",
                s->name);
    return -1;
  }
  if (s->nfields == RM_MAX_FIELDS) {
    rm_diag_set(d, RM_E_CONFIG, "%s.%s: a model holds at most %d fields",
                s->name, name, RM_MAX_FIELDS);
    return -1;
  }
  if (rm_schema_find(s, name, strlen(name)) >= 0) {
    rm_diag_set(d, RM_E_CONFIG, "%s.%s: field declared twice", s->name, name);
    return -1;
  }
  /* json values have no identity to hash or order to index by. */
  if (type == RM_T_JSON && (flags & (RM_F_PRIMARY_KEY | RM_F_UNIQUE | RM_F_INDEX))) {
    rm_diag_set(d, RM_E_CONFIG,
                "%s.%s: a json field cannot be a primary key, unique or "
                "indexed", s->name, name);
    return -1;
  }
  f = &s->fields[s->nfields];
  memset(f, 0, sizeof *f);
  f->name = dup_str(name, strlen(name));
  if (f->name == NULL) {
    rm_diag_set(d, RM_E_MEMORY, "%s.%s: out of memory", s->name, name);
    return -1;
  }
  f->type = type;
  f->flags = flags;
  f->min_len = f->max_len = -1;
  return s->nfields++;
}

static int is_numeric_type(rm_ftype t) {
  return t == RM_T_INTEGER || t == RM_T_NUMBER || t == RM_T_DATETIME;
}

static int is_length_type(rm_ftype t) {
  return t == RM_T_STRING || t == RM_T_BYTES || t == RM_T_JSON;
}

int rm_schema_set_bound(rm_schema *s, int field, const char *bound,
                        rm_value v, rm_diag *d) {
  rm_field *f = field_to_change(s, field, "set_bound", d);
  rm_diag tmp;
  if (f == NULL) return -1;
  if (bound == NULL) bound = "(NULL)";
  if (!is_numeric_type(f->type)) {
    rm_diag_set(d, RM_E_CONFIG,
                "%s.%s: option %s applies to integer, number and datetime "
                "fields, not %s", s->name, f->name, bound,
                rm_ftype_name(f->type));
    return -1;
  }
  rm_diag_init(&tmp);
  if (v.tag == RM_V_NIL || rm_field_coerce(s, field, &v, &tmp) < 0) {
    rm_diag_set(d, RM_E_CONFIG, "%s.%s: option %s must be a value of type %s",
                s->name, f->name, bound, rm_ftype_name(f->type));
    return -1;
  }
  if (strcmp(bound, "gt") == 0) { f->gt = v; f->bounds |= RM_BOUND_GT; }
  else if (strcmp(bound, "ge") == 0) { f->ge = v; f->bounds |= RM_BOUND_GE; }
  else if (strcmp(bound, "lt") == 0) { f->lt = v; f->bounds |= RM_BOUND_LT; }
  else if (strcmp(bound, "le") == 0) { f->le = v; f->bounds |= RM_BOUND_LE; }
  else {
    rm_diag_set(d, RM_E_CONFIG, "%s.%s: unknown bound %s", s->name, f->name,
                bound);
    return -1;
  }
  return 0;
}

/* -1 leaves an end as it was, so the check is against the ends the field
 * has after the call (a min_length set by an earlier call counts). */
int rm_schema_set_length(rm_schema *s, int field, int64_t min_len,
                         int64_t max_len, rm_diag *d) {
  rm_field *f = field_to_change(s, field, "set_length", d);
  int64_t lo, hi;
  if (f == NULL) return -1;
  if (!is_length_type(f->type)) {
    rm_diag_set(d, RM_E_CONFIG,
                "%s.%s: min_length/max_length apply to string, bytes and "
                "json fields, not %s", s->name, f->name, rm_ftype_name(f->type));
    return -1;
  }
  lo = min_len >= 0 ? min_len : f->min_len;
  hi = max_len >= 0 ? max_len : f->max_len;
  if (min_len < -1 || max_len < -1 || (hi >= 0 && lo > hi)) {
    rm_diag_set(d, RM_E_CONFIG,
                "%s.%s: min_length/max_length must be non-negative integers "
                "with min_length <= max_length", s->name, f->name);
    return -1;
  }
  f->min_len = lo;
  f->max_len = hi;
  return 0;
}

int rm_schema_add_choice(rm_schema *s, int field, rm_value v, rm_diag *d) {
  rm_field *f = field_to_change(s, field, "add_choice", d);
  rm_value *grown;
  rm_diag tmp;
  if (f == NULL) return -1;
  rm_diag_init(&tmp);
  if (f->type == RM_T_JSON) {
    rm_diag_set(d, RM_E_CONFIG, "%s.%s: choices do not apply to json fields",
                s->name, f->name);
    return -1;
  }
  if (v.tag == RM_V_NIL || rm_field_coerce(s, field, &v, &tmp) < 0) {
    rm_diag_set(d, RM_E_CONFIG, "%s.%s: every choice must be a value of type %s",
                s->name, f->name, rm_ftype_name(f->type));
    return -1;
  }
  grown = realloc(f->choices, (f->nchoices + 1) * sizeof *grown);
  if (grown == NULL) goto oom;
  f->choices = grown;
  if (v.tag == RM_V_STR) {
    char *copy = dup_str(v.u.s.ptr, v.u.s.len);
    if (copy == NULL) goto oom;
    v.u.s.ptr = copy;
  }
  f->choices[f->nchoices++] = v;
  return 0;
oom:
  rm_diag_set(d, RM_E_MEMORY, "%s.%s: out of memory", s->name, f->name);
  return -1;
}

int rm_schema_set_pattern(rm_schema *s, int field, const char *pattern,
                          size_t len, rm_diag *d) {
  rm_field *f = field_to_change(s, field, "set_pattern", d);
  rm_pattern *p;
  char err[200];
  if (f == NULL) return -1;
  if (pattern == NULL) {
    rm_diag_set(d, RM_E_CONFIG, "%s.%s: the pattern is NULL", s->name,
                f->name);
    return -1;
  }
  if (f->type != RM_T_STRING) {
    rm_diag_set(d, RM_E_CONFIG,
                "%s.%s: option pattern applies to string fields, not %s",
                s->name, f->name, rm_ftype_name(f->type));
    return -1;
  }
  p = rm_pattern_compile(pattern, len, err, sizeof err);
  if (p == NULL) {
    rm_diag_set(d, RM_E_CONFIG, "%s.%s: invalid pattern '%.*s': %s", s->name,
                f->name, len > 80 ? 80 : (int)len, pattern, err);
    return -1;
  }
  rm_pattern_free(f->pattern);
  f->pattern = p;
  return 0;
}

/* A primary key is hashed by bytes inside the record, so it must have one
 * encoding per value; a number field (1 and 1.0) does not. Unique number
 * fields are fine: their index keeps canonical key bytes. */
static int key_type_ok(rm_ftype t, unsigned flags) {
  return t != RM_T_NUMBER || !(flags & RM_F_PRIMARY_KEY);
}

/* Records which fields have an ordered index or a unique map (once, when
 * the schema is finished). */
static void note_indexes(rm_schema *s) {
  int i;
  for (i = 0; i < s->nfields; i++) {
    s->index_of[i] = s->unique_of[i] = -1;
    if (s->fields[i].flags & RM_F_INDEX) {
      s->index_of[i] = s->nindexed;
      s->indexed[s->nindexed++] = i;
    }
  }
  for (i = 0; i < s->nunique; i++) s->unique_of[s->unique[i]] = i;
}

/* One end of a field's range: the tighter of gt and ge (or of lt and
 * le), and whether it excludes its own value. */
typedef struct range_end {
  const rm_value *v; /* NULL: no bound on this side */
  int strict;
} range_end;

/* `sign` is 1 for the lower end (the larger bound is tighter) and -1 for
 * the upper end; of two equal bounds the strict one is tighter. */
static range_end tighter(const rm_value *strict, int has_strict,
                         const rm_value *incl, int has_incl, int sign) {
  range_end e;
  e.v = has_incl ? incl : NULL;
  e.strict = 0;
  if (has_strict && (!has_incl || sign * rm_value_compare(strict, incl) >= 0)) {
    e.v = strict;
    e.strict = 1;
  }
  return e;
}

/* Whether no value of the type lies between the two ends. An integer
 * range is made inclusive first (gt 5 is ge 6), so that gt 5 with lt 6
 * is found empty too. */
static int range_empty(rm_ftype type, range_end lo, range_end hi) {
  int c;
  if (type == RM_T_INTEGER) {
    int64_t a = lo.v ? lo.v->u.i : INT64_MIN, b = hi.v ? hi.v->u.i : INT64_MAX;
    if (lo.strict) {
      if (a == INT64_MAX) return 1;
      a++;
    }
    if (hi.strict) {
      if (b == INT64_MIN) return 1;
      b--;
    }
    return a > b;
  }
  if (lo.v == NULL || hi.v == NULL) return 0;
  c = rm_value_compare(lo.v, hi.v);
  return c > 0 || (c == 0 && (lo.strict || hi.strict));
}

/* The field's bounds as text for messages: "gt 5, le 5". */
static void bounds_text(const rm_field *f, char *buf, size_t cap) {
  static const char *const names[4] = {"gt", "ge", "lt", "le"};
  static const unsigned bits[4] = {RM_BOUND_GT, RM_BOUND_GE, RM_BOUND_LT,
                                   RM_BOUND_LE};
  const rm_value *v[4];
  size_t i, used = 0;
  v[0] = &f->gt;
  v[1] = &f->ge;
  v[2] = &f->lt;
  v[3] = &f->le;
  buf[0] = '\0';
  for (i = 0; i < 4 && used < cap; i++) {
    char num[48];
    if (!(f->bounds & bits[i])) continue;
    rm_number_text(f, v[i], num, sizeof num);
    used += (size_t)snprintf(buf + used, cap - used, "%s%s %s",
                             used ? ", " : "", names[i], num);
  }
}

/* A field whose bounds leave no value could never be given one: a
 * declaration mistake (ge 10 with le 1). */
static int check_range(const rm_schema *s, const rm_field *f, rm_diag *d) {
  range_end lo = tighter(&f->gt, f->bounds & RM_BOUND_GT, &f->ge,
                         f->bounds & RM_BOUND_GE, 1);
  range_end hi = tighter(&f->lt, f->bounds & RM_BOUND_LT, &f->le,
                         f->bounds & RM_BOUND_LE, -1);
  char text[256];
  if (!range_empty(f->type, lo, hi)) return 0;
  bounds_text(f, text, sizeof text);
  rm_diag_set(d, RM_E_CONFIG, "%s.%s: no %s value satisfies the bounds %s",
              s->name, f->name, rm_ftype_name(f->type), text);
  return -1;
}

/* The one primary key field, or -1 with d filled. Changes nothing. */
static int find_primary_key(const rm_schema *s, rm_diag *d) {
  int i, pk = -1;
  for (i = 0; i < s->nfields; i++) {
    const rm_field *f = &s->fields[i];
    if (!(f->flags & RM_F_PRIMARY_KEY)) continue;
    if (!key_type_ok(f->type, f->flags)) {
      rm_diag_set(d, RM_E_CONFIG,
                  "%s.%s: a %s field cannot be a primary key (use an integer "
                  "or string key)", s->name, f->name, rm_ftype_name(f->type));
      return -1;
    }
    if (pk >= 0) {
      rm_diag_set(d, RM_E_CONFIG,
                  "%s.%s: two primary keys (%s is one already)", s->name,
                  f->name, s->fields[pk].name);
      return -1;
    }
    pk = i;
  }
  if (pk < 0)
    rm_diag_set(d, RM_E_CONFIG,
                "%s: no primary key (declare a field with primary_key = true)",
                s->name);
  return pk;
}

/* Checks each field's range and the key, and only then records where the
 * key, unique and indexed fields are: a failing finish leaves the schema
 * as it was (it can be completed and finished again), and a finished one
 * is finished once, so that a second call has nothing to do. */
int rm_schema_finish(rm_schema *s, rm_diag *d) {
  int i, pk;
  if (s->finished) return 0;
  for (i = 0; i < s->nfields; i++)
    if (check_range(s, &s->fields[i], d) < 0) return -1;
  if ((pk = find_primary_key(s, d)) < 0) return -1;
  s->pk = pk;
  s->fields[pk].flags &= ~RM_F_OPTIONAL; /* a key is always required */
  s->nunique = 0;
  for (i = 0; i < s->nfields; i++)
    if (i != pk && (s->fields[i].flags & RM_F_UNIQUE)) s->unique[s->nunique++] = i;
  note_indexes(s);
  s->finished = 1;
  return 0;
}

const char *rm_schema_name(const rm_schema *s) { return s->name; }
int rm_schema_nfields(const rm_schema *s) { return s->nfields; }
int rm_schema_primary_key(const rm_schema *s) { return s->pk; }

/* Field getters answer NULL or 0 for an index the schema does not have. */
static const rm_field *field_at(const rm_schema *s, int i) {
  return i >= 0 && i < s->nfields ? &s->fields[i] : NULL;
}

const char *rm_field_name(const rm_schema *s, int i) {
  const rm_field *f = field_at(s, i);
  return f ? f->name : NULL;
}

rm_ftype rm_field_type(const rm_schema *s, int i) {
  const rm_field *f = field_at(s, i);
  return f ? f->type : (rm_ftype)0;
}

unsigned rm_field_flags(const rm_schema *s, int i) {
  const rm_field *f = field_at(s, i);
  return f ? f->flags : 0;
}

/* Lengths first: name may hold NUL bytes (a Lua key, a JSON key). */
int rm_schema_find(const rm_schema *s, const char *name, size_t len) {
  int i;
  for (i = 0; i < s->nfields; i++) {
    const char *fn = s->fields[i].name;
    if (strlen(fn) == len && memcmp(fn, name, len) == 0) return i;
  }
  return -1;
}

int rm_schema_compatible(const rm_schema *a, const rm_schema *b) {
  const unsigned keyflags = RM_F_PRIMARY_KEY | RM_F_UNIQUE | RM_F_INDEX;
  int i;
  if (a == b) return 1;
  if (a->nfields != b->nfields) return 0;
  for (i = 0; i < a->nfields; i++) {
    const rm_field *fa = &a->fields[i], *fb = &b->fields[i];
    if (strcmp(fa->name, fb->name) != 0 || fa->type != fb->type ||
        (fa->flags & keyflags) != (fb->flags & keyflags))
      return 0;
  }
  return 1;
}
