/*
 * What the fuzz targets (tests/fuzz/fuzz_*.c) and their seed writer
 * (seeds.c) share: one model with a field of every type, a store holding a
 * few of its records, and the queries cursors are decoded for. Built
 * through the public C interface only.
 *
 * Item: id integer key; name a unique optional string; tag an indexed
 * optional string; score, at, flag, blob and doc optional (number,
 * datetime, boolean, bytes, json).
 */
#ifndef RM_FUZZ_FIXTURE_H
#define RM_FUZZ_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restmachine_orm.h"

enum { F_ID, F_NAME, F_TAG, F_SCORE, F_AT, F_FLAG, F_BLOB, F_DOC, NFIELDS };

/* The orders cursors are made for: none, one term, two, three. */
#define FZ_NQUERIES 4

/* A fixture the harness cannot build is a broken harness, not a finding. */
static inline void fz_require(int cond, const char *what, const rm_diag *d) {
  if (cond) return;
  fprintf(stderr, "fuzz fixture: %s failed: %s\n", what, d->message);
  abort();
}

static inline rm_schema *fz_schema(void) {
  static const struct { const char *name; rm_ftype type; unsigned flags; }
  fields[NFIELDS] = {
      {"id", RM_T_INTEGER, RM_F_PRIMARY_KEY},
      {"name", RM_T_STRING, RM_F_UNIQUE | RM_F_OPTIONAL},
      {"tag", RM_T_STRING, RM_F_INDEX | RM_F_OPTIONAL},
      {"score", RM_T_NUMBER, RM_F_INDEX | RM_F_OPTIONAL},
      {"at", RM_T_DATETIME, RM_F_OPTIONAL},
      {"flag", RM_T_BOOLEAN, RM_F_OPTIONAL},
      {"blob", RM_T_BYTES, RM_F_OPTIONAL},
      {"doc", RM_T_JSON, RM_F_OPTIONAL}};
  rm_schema *s = rm_schema_new("Item");
  rm_diag d;
  int i;
  rm_diag_init(&d);
  fz_require(s != NULL, "rm_schema_new", &d);
  for (i = 0; i < NFIELDS; i++)
    fz_require(rm_schema_add_field(s, fields[i].name, fields[i].type,
                                   fields[i].flags, &d) == i,
               "rm_schema_add_field", &d);
  fz_require(rm_schema_finish(s, &d) == 0, "rm_schema_finish", &d);
  return s;
}

/* Item i's values; doc (an array holding i and "x") is written to buf (16
 * bytes). */
static inline void fz_item(int i, rm_value *v, unsigned char *buf) {
  static const char *tags[] = {"red", "green", "blue"};
  static char names[8][8];
  size_t n = 0;
  rm_json_item it;
  snprintf(names[i % 8], sizeof names[0], "n%d", i);
  v[F_ID] = rm_int(i);
  v[F_NAME] = rm_str(names[i % 8], strlen(names[i % 8]));
  v[F_TAG] = rm_str(tags[i % 3], strlen(tags[i % 3]));
  v[F_SCORE] = i % 2 ? rm_float(i * 1.5) : rm_int(i);
  v[F_AT] = rm_float(1700000000.0 + i * 86400.25);
  v[F_FLAG] = rm_bool(i % 2);
  v[F_BLOB] = i % 4 ? rm_str("\0\1\2", 3) : rm_nil();
  it.tag = RM_J_ARRAY;
  it.n = 2;
  n += rm_json_put(buf + n, &it);
  it.tag = RM_J_INT;
  it.i = i;
  n += rm_json_put(buf + n, &it);
  it.tag = RM_J_STR;
  it.n = 1;
  n += rm_json_put(buf + n, &it);
  buf[n++] = 'x';
  v[F_DOC] = rm_json(buf, n);
}

/* A store with items 0 to 7 in Item's table. */
static inline rm_table *fz_table(rm_store **st) {
  rm_schema *s = fz_schema();
  rm_table *t;
  rm_diag d;
  int i;
  rm_diag_init(&d);
  *st = rm_store_new();
  fz_require(*st != NULL, "rm_store_new", &d);
  t = rm_store_table(*st, s, &d);
  fz_require(t != NULL, "rm_store_table", &d);
  rm_schema_unref(s);
  for (i = 0; i < 8; i++) {
    rm_value v[NFIELDS];
    unsigned char doc[16], rec[128];
    fz_item(i, v, doc);
    fz_require(rm_record_encoded_size(rm_table_schema(t), v) <= sizeof rec,
               "item size", &d);
    rm_record_encode(rm_table_schema(t), v, rec);
    fz_require(rm_table_put(t, rec, rm_record_encoded_size(rm_table_schema(t), v),
                            RM_PUT_CREATE, NULL, &d) == 0,
               "rm_table_put", &d);
  }
  return t;
}

/* Query k of FZ_NQUERIES: all records in no order; by score; by tag
 * descending, then at; by name, flag descending, then blob. */
static inline void fz_query(int k, rm_query *q) {
  static const int fields[FZ_NQUERIES][3] = {
      {0}, {F_SCORE}, {F_TAG, F_AT}, {F_NAME, F_FLAG, F_BLOB}};
  static const int desc[FZ_NQUERIES][3] = {
      {0}, {0}, {1, 0}, {0, 1, 0}};
  int i;
  rm_query_init(q);
  q->order.nterms = k;
  for (i = 0; i < k; i++) {
    q->order.field[i] = fields[k][i];
    q->order.desc[i] = desc[k][i];
  }
}

#endif
