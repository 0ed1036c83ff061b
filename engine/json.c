/*
 * json values: the binary encoding json fields are stored in (its layout
 * is described in restmachine_orm.h, "json values"), and what the engine
 * does with it: writing and reading items, checking untrusted bytes, deep
 * equality, the `contains` lookup, array lengths and JSON text.
 *
 * The encoding is a prefix form (a tag, then a count or length, then the
 * contents), so a value is read front to back without an index and copied
 * with one memcpy. Every function but rm_json_check trusts its input:
 * rm_field_coerce checks each value before it is stored, so the walks
 * below need no bounds, and nesting (hence recursion) is at most
 * RM_JSON_MAX_DEPTH deep.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "varint.h"

/* Writes a varint; returns its length. */
static size_t put_varint(unsigned char *out, uint64_t n) {
  return (size_t)(rm_varint_put(out, n) - out);
}

/* ------------------------------------------------------ writing, reading */

size_t rm_json_put(unsigned char *out, const rm_json_item *it) {
  out[0] = (unsigned char)it->tag;
  switch (it->tag) {
    case RM_J_INT: return 1 + put_varint(out + 1, rm_zigzag(it->i));
    case RM_J_FLOAT: memcpy(out + 1, &it->f, 8); return 9;
    case RM_J_STR:
    case RM_J_ARRAY:
    case RM_J_OBJECT: return 1 + put_varint(out + 1, it->n);
    default: return 1;
  }
}

size_t rm_json_put_key(unsigned char *out, size_t len) {
  return put_varint(out, len);
}

const unsigned char *rm_json_get(const unsigned char *p, rm_json_item *it) {
  uint64_t u;
  it->tag = (rm_jtag)*p++;
  it->i = 0;
  it->f = 0;
  it->s = NULL;
  it->n = 0;
  switch (it->tag) {
    case RM_J_INT:
      p = rm_varint_get(p, &u);
      it->i = rm_unzigzag(u);
      return p;
    case RM_J_FLOAT:
      memcpy(&it->f, p, 8);
      return p + 8;
    case RM_J_STR:
      p = rm_varint_get(p, &u);
      it->s = (const char *)p;
      it->n = (size_t)u;
      return p + u;
    case RM_J_ARRAY:
    case RM_J_OBJECT:
      p = rm_varint_get(p, &u);
      it->n = (size_t)u;
      return p;
    default:
      return p;
  }
}

const unsigned char *rm_json_get_key(const unsigned char *p, const char **key,
                                     size_t *len) {
  uint64_t u;
  p = rm_varint_get(p, &u);
  *key = (const char *)p;
  *len = (size_t)u;
  return p + u;
}

static int is_container(rm_jtag tag) {
  return tag == RM_J_ARRAY || tag == RM_J_OBJECT;
}

const unsigned char *rm_json_skip(const unsigned char *p) {
  rm_json_item it;
  size_t i;
  const char *key;
  size_t klen;
  p = rm_json_get(p, &it);
  if (!is_container(it.tag)) return p;
  for (i = 0; i < it.n; i++) {
    if (it.tag == RM_J_OBJECT) p = rm_json_get_key(p, &key, &klen);
    p = rm_json_skip(p);
  }
  return p;
}

/* ------------------------------------------------------------- checking */

/* An object key met by the check: its bytes, inside the input. */
typedef struct key_slice {
  const char *s;
  size_t n;
} key_slice;

/* Keys the checker holds before it takes memory from the heap, and the
 * most pairs of an object whose keys are compared pairwise rather than
 * sorted. */
#define LOCAL_KEYS 16
#define PAIRWISE_MAX 8

typedef struct checker {
  const unsigned char *end;
  char *why;
  size_t cap;
  /* The keys of the objects open on the path being checked, innermost
   * last: each object checks its own once its pairs are read and drops
   * them, so this holds at most the input's pairs, never a claimed
   * count. In local until it outgrows it; rm_json_check frees it. */
  key_slice *keys;
  size_t nkeys, keycap;
  key_slice local[LOCAL_KEYS];
} checker;

static const unsigned char *bad(checker *c, const char *what) {
  if (c->why != NULL && c->cap > 0) snprintf(c->why, c->cap, "%s", what);
  return NULL;
}

/* A length-prefixed UTF-8 text (a string's or a key's). */
static const unsigned char *check_text(checker *c, const unsigned char *p) {
  uint64_t n;
  if ((p = rm_varint_get_canonical(p, c->end, &n)) == NULL)
    return bad(c, "a cut short or non-canonical length");
  if (n > (uint64_t)(c->end - p)) return bad(c, "truncated");
  if (!rm_utf8_check((const char *)p, (size_t)n, NULL))
    return bad(c, "a string is not valid UTF-8");
  return p + n;
}

/* Doubles the key stack; 0, or -1 when memory ran out. */
static int grow_keys(checker *c) {
  key_slice *k = NULL;
  if (c->keycap <= SIZE_MAX / 2 / sizeof *k)
    k = rm_xalloc(2 * c->keycap * sizeof *k);
  if (k == NULL) return -1;
  memcpy(k, c->keys, c->nkeys * sizeof *k);
  if (c->keys != c->local) rm_xfree(c->keys);
  c->keys = k;
  c->keycap *= 2;
  return 0;
}

/* An object key: checked as text, then kept for the duplicate check. */
static const unsigned char *check_key(checker *c, const unsigned char *p) {
  const unsigned char *next = check_text(c, p);
  key_slice *k;
  if (next == NULL) return NULL;
  if (c->nkeys == c->keycap && grow_keys(c) < 0) return bad(c, "out of memory");
  k = &c->keys[c->nkeys++];
  rm_json_get_key(p, &k->s, &k->n);
  return next;
}

/* Bytewise, a prefix first: the order the Lua bindings write keys in. */
static int compare_keys(const void *x, const void *y) {
  const key_slice *a = x, *b = y;
  size_t n = a->n < b->n ? a->n : b->n;
  int c = n ? memcmp(a->s, b->s, n) : 0;
  if (c != 0) return c;
  return a->n < b->n ? -1 : a->n > b->n;
}

/* Whether the n keys at k are in strictly ascending order, as the Lua
 * bindings write them: then they are distinct. */
static int ascending(const key_slice *k, size_t n) {
  size_t i;
  for (i = 1; i < n; i++)
    if (compare_keys(&k[i - 1], &k[i]) >= 0) return 0;
  return 1;
}

/* Whether the keys from keys[base] on are distinct; drops them. A few are
 * compared pairwise; more, unless already ascending (one pass), are
 * sorted (O(n log n) whatever the input). */
static int distinct_keys(checker *c, size_t base) {
  key_slice *k = c->keys + base;
  size_t n = c->nkeys - base, i, j;
  c->nkeys = base;
  if (n <= PAIRWISE_MAX) {
    for (i = 0; i < n; i++)
      for (j = i + 1; j < n; j++)
        if (compare_keys(&k[i], &k[j]) == 0) return 0;
    return 1;
  }
  if (ascending(k, n)) return 1;
  qsort(k, n, sizeof *k, compare_keys);
  for (i = 1; i < n; i++)
    if (compare_keys(&k[i - 1], &k[i]) == 0) return 0;
  return 1;
}

static const unsigned char *check_value(checker *c, const unsigned char *p,
                                        int depth);

/* The elements or pairs of a container whose count starts at p. */
static const unsigned char *check_items(checker *c, const unsigned char *p,
                                        int object, int depth) {
  uint64_t n, i;
  size_t base = c->nkeys;
  if (depth >= RM_JSON_MAX_DEPTH) return bad(c, "nested too deeply");
  if ((p = rm_varint_get_canonical(p, c->end, &n)) == NULL)
    return bad(c, "a cut short or non-canonical count");
  /* Each element takes a byte at least, each pair two. */
  if (n > (uint64_t)(c->end - p) / (object ? 2 : 1)) return bad(c, "truncated");
  for (i = 0; i < n && p != NULL; i++) {
    if (object && (p = check_key(c, p)) == NULL) return NULL;
    p = check_value(c, p, depth + 1);
  }
  if (p != NULL && object && !distinct_keys(c, base))
    return bad(c, "an object has a key twice");
  return p;
}

static const unsigned char *check_value(checker *c, const unsigned char *p,
                                        int depth) {
  uint64_t u;
  double f;
  if (p >= c->end) return bad(c, "truncated");
  switch (*p++) {
    case RM_J_NULL:
    case RM_J_FALSE:
    case RM_J_TRUE: return p;
    case RM_J_INT:
      /* One encoding per integer, as in records: a tenth byte with bits
       * past 64 would otherwise be dropped without a word. */
      p = rm_varint_get_canonical(p, c->end, &u);
      return p != NULL ? p : bad(c, "a cut short or non-canonical integer");
    case RM_J_FLOAT:
      if (c->end - p < 8) return bad(c, "truncated");
      memcpy(&f, p, 8);
      return isfinite(f) ? p + 8 : bad(c, "a float is NaN or infinite");
    case RM_J_STR: return check_text(c, p);
    case RM_J_ARRAY: return check_items(c, p, 0, depth);
    case RM_J_OBJECT: return check_items(c, p, 1, depth);
    default: return bad(c, "unknown tag");
  }
}

int rm_json_check(const unsigned char *p, size_t len, char *why, size_t cap) {
  checker c;
  c.end = p + len;
  c.why = why;
  c.cap = cap;
  c.keys = c.local;
  c.nkeys = 0;
  c.keycap = LOCAL_KEYS;
  if (len == 0) {
    bad(&c, "empty");
    return -1;
  }
  p = check_value(&c, p, 0);
  if (c.keys != c.local) rm_xfree(c.keys);
  if (p == NULL) return -1;
  if (p != c.end) {
    bad(&c, "trailing bytes after the value");
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------- equality */

static int is_number(rm_jtag tag) { return tag == RM_J_INT || tag == RM_J_FLOAT; }

static rm_value number_value(const rm_json_item *it) {
  return it->tag == RM_J_INT ? rm_int(it->i) : rm_float(it->f);
}

static int same_bytes(const char *a, size_t alen, const char *b, size_t blen) {
  return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static int equal_at(const unsigned char **pa, const unsigned char **pb);

/* The value of key in the n pairs starting at p, or NULL. */
static const unsigned char *find_key(const unsigned char *p, size_t n,
                                     const char *key, size_t len) {
  size_t i, klen;
  const char *k;
  for (i = 0; i < n; i++) {
    p = rm_json_get_key(p, &k, &klen);
    if (same_bytes(k, klen, key, len)) return p;
    p = rm_json_skip(p);
  }
  return NULL;
}

/* Whether the n pairs at p have their keys in ascending order (as the Lua
 * bindings write them). */
static int keys_ascending(const unsigned char *p, size_t n) {
  key_slice prev, k;
  size_t i;
  for (i = 0; i < n; i++) {
    p = rm_json_skip(rm_json_get_key(p, &k.s, &k.n));
    if (i > 0 && compare_keys(&prev, &k) >= 0) return 0;
    prev = k;
  }
  return 1;
}

/* The n pairs at *pa and *pb, keys in any order (keys are distinct). While
 * the keys come in the same order they are compared pairwise. At the
 * first difference, two objects both in ascending key order differ (the
 * same distinct keys sorted come in one order); otherwise each key of a
 * is looked up in b, which is quadratic, but only for keys a C host wrote
 * in its own order. */
static int equal_pairs(const unsigned char **pa, const unsigned char **pb,
                       size_t n) {
  const unsigned char *a = *pa, *b = *pb, *b0 = *pb, *bv;
  int in_order = 1;
  size_t i, ka_len, kb_len;
  const char *ka, *kb;
  for (i = 0; i < n; i++) {
    a = rm_json_get_key(a, &ka, &ka_len);
    if (in_order) {
      bv = rm_json_get_key(b, &kb, &kb_len);
      if (same_bytes(ka, ka_len, kb, kb_len)) {
        if (!equal_at(&a, &bv)) return 0;
        b = bv;
        continue;
      }
      if (keys_ascending(*pa, n) && keys_ascending(b0, n)) return 0;
      in_order = 0;
    }
    bv = find_key(b0, n, ka, ka_len);
    if (bv == NULL || !equal_at(&a, &bv)) return 0;
  }
  *pa = a;
  if (!in_order) {
    for (b = b0, i = 0; i < n; i++) b = rm_json_skip(rm_json_get_key(b, &kb, &kb_len));
  }
  *pb = b;
  return 1;
}

/* Compares the values at *pa and *pb; when equal, moves both past them. */
static int equal_at(const unsigned char **pa, const unsigned char **pb) {
  rm_json_item x, y;
  const unsigned char *a = rm_json_get(*pa, &x), *b = rm_json_get(*pb, &y);
  size_t i;
  if (is_number(x.tag) && is_number(y.tag)) {
    rm_value vx = number_value(&x), vy = number_value(&y);
    if (rm_value_compare(&vx, &vy) != 0) return 0;
  } else if (x.tag != y.tag || x.n != y.n) {
    return 0;
  } else if (x.tag == RM_J_STR) {
    if (!same_bytes(x.s, x.n, y.s, y.n)) return 0;
  } else if (x.tag == RM_J_ARRAY) {
    for (i = 0; i < x.n; i++)
      if (!equal_at(&a, &b)) return 0;
  } else if (x.tag == RM_J_OBJECT) {
    if (!equal_pairs(&a, &b, x.n)) return 0;
  }
  *pa = a;
  *pb = b;
  return 1;
}

int rm_json_equal(const unsigned char *a, const unsigned char *b) {
  return equal_at(&a, &b);
}

/* ------------------------------------------------------ contains, length */

/* An element against the scalar of a `contains` lookup. */
static int scalar_matches(const rm_json_item *e, const rm_value *v) {
  switch (v->tag) {
    case RM_V_STR:
      return e->tag == RM_J_STR && same_bytes(e->s, e->n, v->u.s.ptr, v->u.s.len);
    case RM_V_INT:
    case RM_V_FLOAT:
      if (is_number(e->tag)) {
        rm_value ev = number_value(e);
        return rm_value_compare(&ev, v) == 0;
      }
      return 0;
    case RM_V_TRUE: return e->tag == RM_J_TRUE;
    case RM_V_FALSE: return e->tag == RM_J_FALSE;
    default: return 0;
  }
}

int rm_json_contains(const unsigned char *p, const rm_value *v) {
  rm_json_item it, e;
  size_t i;
  p = rm_json_get(p, &it);
  if (it.tag != RM_J_ARRAY) return 0;
  for (i = 0; i < it.n; i++) {
    const unsigned char *next = rm_json_get(p, &e);
    if (scalar_matches(&e, v)) return 1;
    p = is_container(e.tag) ? rm_json_skip(p) : next;
  }
  return 0;
}

int64_t rm_json_array_length(const unsigned char *p) {
  rm_json_item it;
  rm_json_get(p, &it);
  return it.tag == RM_J_ARRAY ? (int64_t)it.n : -1;
}

/* ----------------------------------------------------------------- text */

int rm_float_digits(double f) {
  char buf[40];
  int prec;
  for (prec = 15; prec < 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, f);
    if (strtod(buf, NULL) == f) return prec;
  }
  return 17;
}

/* Text goes to out when it is set; n counts it either way. */
typedef struct text_out {
  char *out;
  size_t n;
} text_out;

static void emit(text_out *t, const char *s, size_t len) {
  if (t->out != NULL && len) memcpy(t->out + t->n, s, len);
  t->n += len;
}

/* A JSON string literal: quotes, backslashes and control characters
 * escaped; other bytes (valid UTF-8) as they are. */
static void emit_string(text_out *t, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t i, run = 0;
  emit(t, "\"", 1);
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[6];
    size_t k = 2;
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    emit(t, s + run, i - run);
    run = i + 1;
    esc[0] = '\\';
    switch (c) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      default:
        memcpy(esc + 1, "u00", 3);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        k = 6;
    }
    emit(t, esc, k);
  }
  emit(t, s + run, len - run);
  emit(t, "\"", 1);
}

/* A float in the fewest digits that read back exactly, always with a
 * point or an exponent so that it reads back as a float (2.0, not 2). */
static void emit_float(text_out *t, double f) {
  char buf[48];
  int n = snprintf(buf, sizeof buf - 2, "%.*g", rm_float_digits(f), f);
  if (strpbrk(buf, ".eE") == NULL) {
    buf[n++] = '.';
    buf[n++] = '0';
  }
  emit(t, buf, (size_t)n);
}

static const unsigned char *emit_value(text_out *t, const unsigned char *p) {
  rm_json_item it;
  char buf[32];
  size_t i, klen;
  const char *key;
  p = rm_json_get(p, &it);
  switch (it.tag) {
    case RM_J_NULL: emit(t, "null", 4); break;
    case RM_J_FALSE: emit(t, "false", 5); break;
    case RM_J_TRUE: emit(t, "true", 4); break;
    case RM_J_INT:
      emit(t, buf, (size_t)snprintf(buf, sizeof buf, "%lld", (long long)it.i));
      break;
    case RM_J_FLOAT: emit_float(t, it.f); break;
    case RM_J_STR: emit_string(t, it.s, it.n); break;
    case RM_J_ARRAY:
    case RM_J_OBJECT:
      emit(t, it.tag == RM_J_ARRAY ? "[" : "{", 1);
      for (i = 0; i < it.n; i++) {
        if (i > 0) emit(t, ",", 1);
        if (it.tag == RM_J_OBJECT) {
          p = rm_json_get_key(p, &key, &klen);
          emit_string(t, key, klen);
          emit(t, ":", 1);
        }
        p = emit_value(t, p);
      }
      emit(t, it.tag == RM_J_ARRAY ? "]" : "}", 1);
      break;
  }
  return p;
}

size_t rm_json_text(const unsigned char *p, char *out) {
  text_out t;
  t.out = out;
  t.n = 0;
  emit_value(&t, p);
  return t.n;
}
