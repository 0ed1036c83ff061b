/*
 * Values: constructors, the comparison order queries use, and the key bytes
 * hash maps index values by.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

rm_value rm_nil(void) {
  rm_value v;
  v.tag = RM_V_NIL;
  v.u.i = 0;
  return v;
}

rm_value rm_bool(int b) {
  rm_value v;
  v.tag = b ? RM_V_TRUE : RM_V_FALSE;
  v.u.i = 0;
  return v;
}

rm_value rm_int(int64_t i) {
  rm_value v;
  v.tag = RM_V_INT;
  v.u.i = i;
  return v;
}

rm_value rm_float(double f) {
  rm_value v;
  v.tag = RM_V_FLOAT;
  v.u.f = f;
  return v;
}

rm_value rm_str(const char *ptr, size_t len) {
  rm_value v;
  v.tag = RM_V_STR;
  v.u.s.ptr = ptr;
  v.u.s.len = len;
  return v;
}

rm_value rm_json(const unsigned char *ptr, size_t len) {
  rm_value v;
  v.tag = RM_V_JSON;
  v.u.s.ptr = (const char *)ptr;
  v.u.s.len = len;
  return v;
}

static int is_number(const rm_value *v) {
  return v->tag == RM_V_INT || v->tag == RM_V_FLOAT;
}

static int cmp_int(int64_t a, int64_t b) { return (a > b) - (a < b); }

/* Compares an integer with a double exactly, as Lua does: converting the
 * integer to double could round it, so compare in the integer domain when
 * the double is inside int64 range. */
static int cmp_int_float(int64_t i, double f) {
  if (f != f) return -1; /* NaN never stored; keep a total order anyway */
  if (f >= 9223372036854775808.0) return -1;
  if (f < -9223372036854775808.0) return 1;
  {
    int64_t fi = (int64_t)f; /* truncates toward zero */
    if (i != fi) return cmp_int(i, fi);
    {
      double frac = f - (double)fi;
      return frac > 0 ? -1 : (frac < 0 ? 1 : 0);
    }
  }
}

static int cmp_numbers(const rm_value *a, const rm_value *b) {
  if (a->tag == RM_V_INT && b->tag == RM_V_INT) return cmp_int(a->u.i, b->u.i);
  if (a->tag == RM_V_INT) return cmp_int_float(a->u.i, b->u.f);
  if (b->tag == RM_V_INT) return -cmp_int_float(b->u.i, a->u.f);
  return (a->u.f > b->u.f) - (a->u.f < b->u.f);
}

static int cmp_strings(const rm_value *a, const rm_value *b) {
  size_t n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
  int c = n ? memcmp(a->u.s.ptr, b->u.s.ptr, n) : 0;
  if (c != 0) return c < 0 ? -1 : 1;
  return cmp_int((int64_t)a->u.s.len, (int64_t)b->u.s.len);
}

/* Values of one field are always of one kind (numbers, strings or
 * booleans); mixed kinds sort by kind so the order stays total. json
 * values are never sorted by queries; they order by their encoded bytes
 * only to keep the order total. */
int rm_value_compare(const rm_value *a, const rm_value *b) {
  if (is_number(a) && is_number(b)) return cmp_numbers(a, b);
  if ((a->tag == RM_V_STR && b->tag == RM_V_STR) ||
      (a->tag == RM_V_JSON && b->tag == RM_V_JSON))
    return cmp_strings(a, b);
  return cmp_int(a->tag, b->tag);
}

int rm_value_equal(const rm_value *a, const rm_value *b) {
  if (a->tag == RM_V_NIL || b->tag == RM_V_NIL) return a->tag == b->tag;
  if (a->tag == RM_V_JSON || b->tag == RM_V_JSON)
    return a->tag == b->tag &&
           rm_json_equal((const unsigned char *)a->u.s.ptr,
                         (const unsigned char *)b->u.s.ptr);
  return rm_value_compare(a, b) == 0;
}

size_t rm_number_key(const rm_value *v, unsigned char *out) {
  if (v->tag == RM_V_INT) {
    out[0] = 'i';
    return 1 + rm_int_key(v->u.i, out + 1);
  }
  if (v->u.f == floor(v->u.f) && v->u.f >= -9223372036854775808.0 &&
      v->u.f < 9223372036854775808.0) {
    out[0] = 'i';
    return 1 + rm_int_key((int64_t)v->u.f, out + 1);
  }
  out[0] = 'f';
  memcpy(out + 1, &v->u.f, 8);
  return 9;
}

static const unsigned char bool_key[3] = {RM_V_NIL, RM_V_FALSE, RM_V_TRUE};

rm_keybytes rm_value_key(const rm_value *v, unsigned char *scratch) {
  rm_keybytes k;
  switch (v->tag) {
    case RM_V_STR:
    case RM_V_JSON:
      k.ptr = v->u.s.ptr;
      k.len = v->u.s.len;
      return k;
    case RM_V_INT:
      k.ptr = scratch;
      k.len = rm_int_key(v->u.i, scratch);
      return k;
    case RM_V_FLOAT: {
      double f = v->u.f == 0 ? 0.0 : v->u.f; /* -0.0 keys like 0.0 */
      memcpy(scratch, &f, 8);
      break;
    }
    default:
      k.ptr = &bool_key[v->tag == RM_V_TRUE ? 2 : v->tag == RM_V_FALSE];
      k.len = 1;
      return k;
  }
  k.ptr = scratch;
  k.len = 8;
  return k;
}
