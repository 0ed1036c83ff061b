/*
 * Validation: converting a value to a field's storage form and checking
 * every rule of the field, collecting all broken rules in one pass.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* A short description of a value for messages: `string "abc"`, `float
 * 1.5`. */
static void describe(const rm_value *v, char *buf, size_t cap) {
  switch (v->tag) {
    case RM_V_NIL: snprintf(buf, cap, "nil"); break;
    case RM_V_FALSE: snprintf(buf, cap, "boolean false"); break;
    case RM_V_TRUE: snprintf(buf, cap, "boolean true"); break;
    case RM_V_INT: snprintf(buf, cap, "integer %lld", (long long)v->u.i); break;
    case RM_V_FLOAT: snprintf(buf, cap, "float %.17g", v->u.f); break;
    case RM_V_STR: {
      int n = v->u.s.len > 40 ? 40 : (int)v->u.s.len;
      snprintf(buf, cap, "string \"%.*s%s\"", n, v->u.s.ptr,
               v->u.s.len > 40 ? "..." : "");
      break;
    }
    case RM_V_OTHER: snprintf(buf, cap, "%s", v->u.type_name); break;
    case RM_V_JSON: snprintf(buf, cap, "a json value"); break;
  }
}

static int type_error(const rm_schema *s, const rm_field *f,
                      const rm_value *v, rm_diag *d) {
  char got[64];
  describe(v, got, sizeof got);
  rm_diag_field_error(d, f->name, "type", "%s.%s: expected %s, got %s",
                      s->name, f->name, rm_ftype_name(f->type), got);
  return -1;
}

static int nan_error(const rm_schema *s, const rm_field *f, rm_diag *d) {
  rm_diag_field_error(d, f->name, "nan", "%s.%s: NaN is not allowed in a %s field",
                      s->name, f->name, rm_ftype_name(f->type));
  return -1;
}

/* Floats with an exact integer value become integers (2.0 -> 2). */
static int coerce_integer(const rm_schema *s, const rm_field *f,
                          rm_value *v, rm_diag *d) {
  if (v->tag == RM_V_INT) return 0;
  if (v->tag != RM_V_FLOAT) return type_error(s, f, v, d);
  if (v->u.f != v->u.f) return nan_error(s, f, d);
  if (v->u.f != floor(v->u.f) || v->u.f < -9223372036854775808.0 ||
      v->u.f >= 9223372036854775808.0)
    return type_error(s, f, v, d);
  *v = rm_int((int64_t)v->u.f);
  return 0;
}

static int coerce_datetime(const rm_schema *s, const rm_field *f,
                           rm_value *v, rm_diag *d) {
  double t;
  if (v->tag == RM_V_INT) *v = rm_float((double)v->u.i);
  if (v->tag == RM_V_STR && rm_datetime_parse_any(v->u.s.ptr, v->u.s.len, &t) == 0)
    *v = rm_float(t);
  if (v->tag == RM_V_FLOAT) {
    if (v->u.f != v->u.f) return nan_error(s, f, d);
    if (v->u.f == 0) v->u.f = 0.0; /* no -0.0 */
    /* Microseconds are kept, and stored times are those that ISO text
     * gives back exactly (to_json, then from_json). */
    if (rm_datetime_valid(v->u.f)) {
      v->u.f = rm_datetime_round(v->u.f);
      if (rm_datetime_valid(v->u.f)) return 0;
    }
    rm_diag_field_error(d, f->name, "range",
                        "%s.%s: %g is outside the years 1 to 9999", s->name,
                        f->name, v->u.f);
    return -1;
  }
  if (v->tag == RM_V_STR) {
    char got[64];
    describe(v, got, sizeof got);
    rm_diag_field_error(d, f->name, "type",
                        "%s.%s: expected a datetime (epoch seconds or "
                        "ISO-8601 text), got %s", s->name, f->name, got);
    return -1;
  }
  return type_error(s, f, v, d);
}

/* Encoded json comes from the bindings or a C host: it is checked whole
 * before anything stores or walks it. */
static int coerce_json(const rm_schema *s, const rm_field *f,
                       const rm_value *v, rm_diag *d) {
  char why[80];
  if (v->tag != RM_V_JSON) return type_error(s, f, v, d);
  if (rm_json_check((const unsigned char *)v->u.s.ptr, v->u.s.len, why,
                    sizeof why) == 0)
    return 0;
  rm_diag_field_error(d, f->name, "json", "%s.%s: invalid json encoding (%s)",
                      s->name, f->name, why);
  return -1;
}

int rm_field_coerce(const rm_schema *s, int field, rm_value *v, rm_diag *d) {
  const rm_field *f;
  if (field < 0 || field >= s->nfields) {
    rm_diag_set(d, RM_E_CONFIG, "%s: no field %d (the model has %d)", s->name,
                field, s->nfields);
    return -1;
  }
  f = &s->fields[field];
  if (v->tag == RM_V_NIL) return 0;
  switch (f->type) {
    case RM_T_STRING:
    case RM_T_BYTES:
      return v->tag == RM_V_STR ? 0 : type_error(s, f, v, d);
    case RM_T_INTEGER:
      return coerce_integer(s, f, v, d);
    case RM_T_NUMBER:
      if (v->tag == RM_V_FLOAT && v->u.f != v->u.f) return nan_error(s, f, d);
      return v->tag == RM_V_INT || v->tag == RM_V_FLOAT ? 0
                                                        : type_error(s, f, v, d);
    case RM_T_BOOLEAN:
      return v->tag == RM_V_TRUE || v->tag == RM_V_FALSE ? 0
                                                         : type_error(s, f, v, d);
    case RM_T_DATETIME:
      return coerce_datetime(s, f, v, d);
    case RM_T_JSON:
      return coerce_json(s, f, v, d);
  }
  return type_error(s, f, v, d);
}

void rm_number_text(const rm_field *f, const rm_value *v, char *buf,
                    size_t cap) {
  if (f->type == RM_T_DATETIME && v->tag == RM_V_FLOAT) {
    char iso[40];
    rm_datetime_format(v->u.f, iso);
    snprintf(buf, cap, "%s", iso);
  } else if (v->tag == RM_V_INT) {
    snprintf(buf, cap, "%lld", (long long)v->u.i);
  } else {
    snprintf(buf, cap, "%.17g", v->u.f);
  }
}

/* One bound; returns 1 when it is broken (and reported). */
static int check_bound(const rm_schema *s, const rm_field *f,
                       const rm_value *v, const rm_value *limit,
                       const char *code, const char *sym, int ok, rm_diag *d) {
  char lim[48], got[48];
  if (ok) return 0;
  rm_number_text(f, limit, lim, sizeof lim);
  rm_number_text(f, v, got, sizeof got);
  rm_diag_field_error(d, f->name, code, "%s.%s: must be %s %s, got %s",
                      s->name, f->name, sym, lim, got);
  return 1;
}

/* The checks below return how many rules they found broken. */
static int check_bounds(const rm_schema *s, const rm_field *f,
                        const rm_value *v, rm_diag *d) {
  int broken = 0;
  if (f->bounds & RM_BOUND_GT)
    broken += check_bound(s, f, v, &f->gt, "gt", ">", rm_value_compare(v, &f->gt) > 0, d);
  if (f->bounds & RM_BOUND_GE)
    broken += check_bound(s, f, v, &f->ge, "ge", ">=", rm_value_compare(v, &f->ge) >= 0, d);
  if (f->bounds & RM_BOUND_LT)
    broken += check_bound(s, f, v, &f->lt, "lt", "<", rm_value_compare(v, &f->lt) < 0, d);
  if (f->bounds & RM_BOUND_LE)
    broken += check_bound(s, f, v, &f->le, "le", "<=", rm_value_compare(v, &f->le) <= 0, d);
  return broken;
}

static const char *plural(int64_t n, const char *one, const char *many) {
  return n == 1 ? one : many;
}

/* The pattern is searched in the (valid UTF-8) text. */
static int check_pattern(const rm_schema *s, const rm_field *f,
                         const rm_value *v, rm_diag *d) {
  char err[120];
  const char *src = rm_pattern_source(f->pattern);
  int rc = rm_pattern_match(f->pattern, v->u.s.ptr, v->u.s.len, err, sizeof err);
  if (rc == 1) return 0;
  if (rc == 0)
    rm_diag_field_error(d, f->name, "pattern",
                        "%s.%s: does not match the pattern '%.60s%s'", s->name,
                        f->name, src, strlen(src) > 60 ? "..." : "");
  else
    rm_diag_field_error(d, f->name, "pattern",
                        "%s.%s: the pattern could not be matched: %s",
                        s->name, f->name, err);
  return 1;
}

static int check_text(const rm_schema *s, const rm_field *f,
                      const rm_value *v, rm_diag *d) {
  size_t n = v->u.s.len;
  int chars = f->type == RM_T_STRING, broken = 0;
  if (chars && !rm_utf8_check(v->u.s.ptr, v->u.s.len, &n)) {
    rm_diag_field_error(d, f->name, "utf8", "%s.%s: invalid UTF-8 text",
                        s->name, f->name);
    return 1;
  }
  if (f->min_len >= 0 && (int64_t)n < f->min_len) {
    rm_diag_field_error(d, f->name, "min_length",
                        "%s.%s: must be at least %lld %s long, got %zu",
                        s->name, f->name, (long long)f->min_len,
                        chars ? plural(f->min_len, "character", "characters")
                              : plural(f->min_len, "byte", "bytes"), n);
    broken++;
  }
  if (f->max_len >= 0 && (int64_t)n > f->max_len) {
    rm_diag_field_error(d, f->name, "max_length",
                        "%s.%s: must be at most %lld %s long, got %zu",
                        s->name, f->name, (long long)f->max_len,
                        chars ? plural(f->max_len, "character", "characters")
                              : plural(f->max_len, "byte", "bytes"), n);
    broken++;
  }
  if (f->pattern != NULL) broken += check_pattern(s, f, v, d);
  return broken;
}

/* json fields with min_length/max_length hold arrays, counted by
 * elements. */
static int check_json(const rm_schema *s, const rm_field *f,
                      const rm_value *v, rm_diag *d) {
  int64_t n;
  int broken = 0;
  if (f->min_len < 0 && f->max_len < 0) return 0;
  n = rm_json_array_length((const unsigned char *)v->u.s.ptr);
  if (n < 0) {
    rm_diag_field_error(d, f->name, "type",
                        "%s.%s: expected a json array (the field has a "
                        "length limit), got another json value",
                        s->name, f->name);
    return 1;
  }
  if (f->min_len >= 0 && n < f->min_len) {
    rm_diag_field_error(d, f->name, "min_length",
                        "%s.%s: must have at least %lld %s, got %lld",
                        s->name, f->name, (long long)f->min_len,
                        plural(f->min_len, "element", "elements"), (long long)n);
    broken++;
  }
  if (f->max_len >= 0 && n > f->max_len) {
    rm_diag_field_error(d, f->name, "max_length",
                        "%s.%s: must have at most %lld %s, got %lld",
                        s->name, f->name, (long long)f->max_len,
                        plural(f->max_len, "element", "elements"), (long long)n);
    broken++;
  }
  return broken;
}

static int check_choices(const rm_schema *s, const rm_field *f,
                         const rm_value *v, rm_diag *d) {
  size_t i;
  char got[64];
  if (f->nchoices == 0) return 0;
  for (i = 0; i < f->nchoices; i++)
    if (rm_value_equal(v, &f->choices[i])) return 0;
  describe(v, got, sizeof got);
  rm_diag_field_error(d, f->name, "choices",
                      "%s.%s: %s is not one of the allowed choices", s->name,
                      f->name, got);
  return 1;
}

/* Counted rather than read off d: once d is full it stops growing. */
int rm_field_validate(const rm_schema *s, int field, rm_value *v, rm_diag *d) {
  const rm_field *f;
  int broken = 0;
  if (rm_field_coerce(s, field, v, d) < 0) return -1;
  f = &s->fields[field];
  if (v->tag == RM_V_NIL) {
    if (f->flags & RM_F_OPTIONAL) return 0;
    rm_diag_field_error(d, f->name, "required", "%s.%s: is required",
                        s->name, f->name);
    return -1;
  }
  if (v->tag == RM_V_STR) {
    if ((f->flags & RM_F_PRIMARY_KEY) && v->u.s.len == 0) {
      rm_diag_field_error(d, f->name, "empty_key",
                          "%s.%s: a primary key cannot be empty", s->name,
                          f->name);
      broken++;
    }
    broken += check_text(s, f, v, d);
  } else if (v->tag == RM_V_JSON) {
    broken += check_json(s, f, v, d);
  } else if (f->bounds) {
    broken += check_bounds(s, f, v, d);
  }
  broken += check_choices(s, f, v, d);
  return broken ? -1 : 0;
}
