/*
 * Varints (7 bits a byte, low bits first) and zigzag integers, the number
 * encodings of records (record.c) and stored json values (json.c).
 * Internal.
 */
#ifndef RM_VARINT_H
#define RM_VARINT_H

#include <stddef.h>
#include <stdint.h>

static inline size_t rm_varint_size(uint64_t n) {
  size_t k = 1;
  while (n >= 0x80) {
    n >>= 7;
    k++;
  }
  return k;
}

/* Writes n at p; returns the position after it. */
static inline unsigned char *rm_varint_put(unsigned char *p, uint64_t n) {
  while (n >= 0x80) {
    *p++ = (unsigned char)(n | 0x80);
    n >>= 7;
  }
  *p++ = (unsigned char)n;
  return p;
}

/* Reads a varint the engine wrote itself (no bounds check). */
static inline const unsigned char *rm_varint_get(const unsigned char *p,
                                                 uint64_t *n) {
  uint64_t v = 0;
  int shift = 0;
  while (*p & 0x80) {
    v |= (uint64_t)(*p++ & 0x7F) << shift;
    shift += 7;
  }
  *n = v | ((uint64_t)*p++ << shift);
  return p;
}

/* Reads a varint of at most 10 bytes within [p, end) from bytes that
 * came from outside; NULL when there is none. */
static inline const unsigned char *rm_varint_get_checked(
    const unsigned char *p, const unsigned char *end, uint64_t *n) {
  uint64_t v = 0;
  int shift = 0;
  while (p < end && shift < 64) {
    unsigned char b = *p++;
    v |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      *n = v;
      return p;
    }
    shift += 7;
  }
  return NULL;
}

/* rm_varint_get_checked, refusing any encoding but the one rm_varint_put
 * writes: no high zero groups (0x80 0x00 for 0) and no bits past 64 in a
 * tenth byte. Keys hash by their encoded bytes, so one value must have
 * one encoding. */
static inline const unsigned char *rm_varint_get_canonical(
    const unsigned char *p, const unsigned char *end, uint64_t *n) {
  const unsigned char *q;
  if (p < end && *p < 0x80) { /* one byte: the common case */
    *n = *p;
    return p + 1;
  }
  q = rm_varint_get_checked(p, end, n);
  if (q == NULL || (size_t)(q - p) != rm_varint_size(*n)) return NULL;
  return q - p == 10 && p[9] > 1 ? NULL : q;
}

/* Small magnitudes, negative ones too, give small varints. */
static inline uint64_t rm_zigzag(int64_t i) {
  return ((uint64_t)i << 1) ^ (uint64_t)(i < 0 ? -1 : 0);
}

static inline int64_t rm_unzigzag(uint64_t u) {
  return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

#endif
