/*
 * Record encoding. A record is a byte string: for each field in schema
 * order a tag byte (rm_vtag) followed by its payload: nothing for nil and
 * booleans, a zigzag varint for integers (small numbers take a byte or
 * two), 8 native-order bytes for floats, a varint length and the bytes for
 * strings and for encoded json values (json.c). Compact (the benchmark's 5-field user takes 50 bytes) and cheap
 * to walk for the few fields a model has. Integer varints are canonical, so
 * keys hash by their encoded bytes.
 */
#include <string.h>

#include "internal.h"
#include "varint.h"

/* A string's length and the position of its bytes. */
static const unsigned char *get_length(const unsigned char *p, size_t *n) {
  uint64_t v;
  p = rm_varint_get(p, &v);
  *n = (size_t)v;
  return p;
}

static size_t value_size(const rm_value *v) {
  switch (v->tag) {
    case RM_V_INT: return 1 + rm_varint_size(rm_zigzag(v->u.i));
    case RM_V_FLOAT: return 9;
    case RM_V_STR:
    case RM_V_JSON: return 1 + rm_varint_size(v->u.s.len) + v->u.s.len;
    default: return 1;
  }
}

size_t rm_value_encoded_size(const rm_value *v) { return value_size(v); }

/* Writes one value; returns the bytes written. */
size_t rm_value_encode(const rm_value *v, unsigned char *out) {
  unsigned char *p = out;
  *p++ = (unsigned char)v->tag;
  if (v->tag == RM_V_INT) {
    p = rm_varint_put(p, rm_zigzag(v->u.i));
  } else if (v->tag == RM_V_FLOAT) {
    memcpy(p, &v->u, 8);
    p += 8;
  } else if (v->tag == RM_V_STR || v->tag == RM_V_JSON) {
    p = rm_varint_put(p, v->u.s.len);
    if (v->u.s.len) memcpy(p, v->u.s.ptr, v->u.s.len);
    p += v->u.s.len;
  }
  return (size_t)(p - out);
}

/* ------------------------------------------------ checking host bytes */

#define TAG(t) (1u << (t))

/* The tags a field of each type may hold, as rm_field_coerce leaves its
 * values (datetimes as floats), a bit per rm_vtag. Nil may stand in any
 * field but the key; whether the field may be empty is a rule, checked by
 * validation. A table rather than a switch: put runs this per field. */
static const unsigned char tags_of_type[RM_T_JSON + 1] = {
    0,                              /* no type 0 */
    TAG(RM_V_STR),                  /* RM_T_STRING */
    TAG(RM_V_STR),                  /* RM_T_BYTES */
    TAG(RM_V_INT),                  /* RM_T_INTEGER */
    TAG(RM_V_INT) | TAG(RM_V_FLOAT), /* RM_T_NUMBER */
    TAG(RM_V_FALSE) | TAG(RM_V_TRUE), /* RM_T_BOOLEAN */
    TAG(RM_V_FLOAT),                /* RM_T_DATETIME */
    TAG(RM_V_JSON)                  /* RM_T_JSON */
};

static int tag_fits(rm_ftype type, unsigned tag) {
  return (unsigned)type <= RM_T_JSON && tag <= RM_V_JSON &&
         (tags_of_type[type] & TAG(tag)) != 0;
}

/* The payload of a value tagged `tag` at p, within end: the position
 * after it, or NULL with *why set. NaN is refused because the engine's
 * order (keys, indexes) has no place for it; json payloads are checked
 * whole because every json function walks them unchecked. */
static const unsigned char *check_payload(unsigned tag, const unsigned char *p,
                                          const unsigned char *end,
                                          const char **why) {
  uint64_t u;
  double f;
  switch (tag) {
    case RM_V_INT:
      p = rm_varint_get_canonical(p, end, &u);
      *why = "a cut short or non-canonical integer";
      return p;
    case RM_V_FLOAT:
      *why = "a cut short float";
      if (end - p < 8) return NULL;
      memcpy(&f, p, 8);
      *why = "NaN";
      return f == f ? p + 8 : NULL;
    case RM_V_STR:
    case RM_V_JSON:
      *why = "a length past the end of the record";
      if ((p = rm_varint_get_canonical(p, end, &u)) == NULL) return NULL;
      if (u > (uint64_t)(end - p)) return NULL;
      *why = "an invalid json value";
      if (tag == RM_V_JSON && rm_json_check(p, (size_t)u, NULL, 0) < 0)
        return NULL;
      return p + u;
    default:
      return p;
  }
}

/* Walks every field within [data, data + size) and never past it, so
 * that a record the engine keeps can later be walked unchecked and its
 * size worked out again from its bytes (which is how stored records are
 * freed). */
int rm_record_check(const rm_schema *s, const unsigned char *data,
                    size_t size, rm_diag *d) {
  const unsigned char *p = data, *end;
  const char *why = "";
  int i;
  if (data == NULL) {
    rm_diag_set(d, RM_E_CONFIG, "%s: not a well-formed record: no bytes",
                s->name);
    return -1;
  }
  end = data + size;
  for (i = 0; i < s->nfields; i++) {
    const rm_field *f = &s->fields[i];
    unsigned tag = p < end ? *p : 0;
    if (p == end) why = "no bytes left for it";
    else if (tag == RM_V_NIL && i == s->pk) why = "nil in the primary key";
    else if (tag != RM_V_NIL && !tag_fits(f->type, tag))
      why = "a value of another type (or an unknown tag)";
    else if ((p = check_payload(tag, p + 1, end, &why)) != NULL) continue;
    rm_diag_set(d, RM_E_CONFIG, "%s.%s: not a well-formed record: %s",
                s->name, f->name, why);
    return -1;
  }
  if (p == end) return 0;
  rm_diag_set(d, RM_E_CONFIG,
              "%s: not a well-formed record: %zu bytes after the last field",
              s->name, (size_t)(end - p));
  return -1;
}

/* --------------------------------------------------------------- encoding */

size_t rm_record_encoded_size(const rm_schema *s, const rm_value *vals) {
  size_t n = 0;
  int i;
  for (i = 0; i < s->nfields; i++) n += value_size(&vals[i]);
  return n;
}

void rm_record_encode(const rm_schema *s, const rm_value *vals,
                      unsigned char *out) {
  int i;
  for (i = 0; i < s->nfields; i++) out += rm_value_encode(&vals[i], out);
}

/* The position of a field's tag byte. */
static const unsigned char *skip_to(const unsigned char *p, int field) {
  while (field-- > 0) {
    unsigned char tag = *p++;
    if (tag == RM_V_INT) {
      while (*p++ & 0x80) {}
    } else if (tag == RM_V_FLOAT) {
      p += 8;
    } else if (tag == RM_V_STR || tag == RM_V_JSON) {
      size_t len;
      p = get_length(p, &len);
      p += len;
    }
  }
  return p;
}

/* Decodes the value at p (a tag byte); returns the position after it. */
static const unsigned char *decode(const unsigned char *p, rm_value *out) {
  out->tag = (rm_vtag)*p++;
  if (out->tag == RM_V_INT) {
    uint64_t u;
    p = rm_varint_get(p, &u);
    out->u.i = rm_unzigzag(u);
    return p;
  }
  if (out->tag == RM_V_FLOAT) {
    memcpy(&out->u, p, 8);
    return p + 8;
  }
  if (out->tag == RM_V_STR || out->tag == RM_V_JSON) {
    size_t len;
    p = get_length(p, &len);
    out->u.s.ptr = (const char *)p;
    out->u.s.len = len;
    return p + len;
  }
  out->u.i = 0;
  return p;
}

/* Checked as a record's field is, so that a decoded value (a cursor's)
 * is one a record could hold: no NaN, canonical integers and lengths,
 * json values that pass rm_json_check. */
const unsigned char *rm_value_decode(const unsigned char *p,
                                     const unsigned char *end, rm_value *out) {
  const unsigned char *next;
  const char *why;
  if (p >= end || *p == RM_V_OTHER || *p > RM_V_JSON) return NULL;
  if ((next = check_payload(*p, p + 1, end, &why)) != NULL) decode(p, out);
  return next;
}

/* A field index the schema does not have reads as nil rather than past
 * the record. */
void rm_record_get(const rm_schema *s, const unsigned char *data, int field,
                   rm_value *out) {
  if (field < 0 || field >= s->nfields) {
    *out = rm_nil();
    return;
  }
  decode(skip_to(data, field), out);
}

void rm_record_get_all(const rm_schema *s, const unsigned char *data,
                       rm_value *vals) {
  int i;
  for (i = 0; i < s->nfields; i++) data = decode(data, &vals[i]);
}

rm_keybytes rm_record_key(const rm_schema *s, const unsigned char *data,
                          int field) {
  const unsigned char *p = skip_to(data, field);
  rm_keybytes k;
  (void)s;
  switch (*p) {
    case RM_V_INT: {
      const unsigned char *end = p + 1;
      while (*end++ & 0x80) {}
      k.ptr = p + 1;
      k.len = (size_t)(end - (p + 1));
      break;
    }
    case RM_V_FLOAT:
      k.ptr = p + 1;
      k.len = 8;
      break;
    case RM_V_STR:
    case RM_V_JSON:
      k.ptr = get_length(p + 1, &k.len);
      break;
    default: /* booleans key by their tag byte, as rm_value_key does */
      k.ptr = p;
      k.len = 1;
      break;
  }
  return k;
}

const unsigned char *rm_record_data(const rm_record *r) { return r->data; }
size_t rm_int_key(int64_t i, unsigned char *out) {
  return (size_t)(rm_varint_put(out, rm_zigzag(i)) - out);
}

size_t rm_record_size(const rm_schema *s, const rm_record *r) {
  return rm_record_data_size(s, r->data);
}

size_t rm_record_data_size(const rm_schema *s, const unsigned char *data) {
  return (size_t)(skip_to(data, s->nfields) - data);
}
uint64_t rm_record_seq(const rm_record *r) { return r->seq; }
