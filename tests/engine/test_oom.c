/*
 * Out-of-memory safety. Each write of a sequence (creates with unique
 * fields, upserts that change or keep unique values, updates, creates that
 * reuse freed values) is tried under every byte limit from the store's
 * current size upward: every failing attempt must return -1 with
 * RM_E_MEMORY and leave the table exactly as it was (count, records in
 * order, bytes, version); once the limit is high enough the same write
 * succeeds. At the end the table must hold what the writes say. The model
 * has unique fields and ordered indexes, so every map and tree is under
 * test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restmachine_orm.h"
#include "internal.h"
#include "tap.h"

#define NBASE 200          /* records the first phase creates */
#define REUSE_END (NBASE + NBASE / 4) /* keys of creates reusing values */
#define NEW_END (REUSE_END + 25)      /* keys of upserts of new keys */
#define NKEYS (NEW_END + 30)          /* keys the sequence uses */
#define MAX_STEPS 100000   /* limits tried for one write before giving up */
#define MAX_REPORTS 5      /* failures described per kind of check */

enum { F_ID, F_EMAIL, F_CODE, F_N, F_N2, NF };

/* What the table should hold for key i (the reference the end checks). */
typedef struct expected {
  int live;
  char email[40]; /* "" for nil */
  int64_t code;   /* INT64_MIN for nil */
  int64_t n;
} expected;

static expected want[NKEYS];

/* A copy of the table's state: records in order (pointer, size, bytes). */
typedef struct snapshot {
  size_t count, bytes, nrec;
  uint64_t version;
  const rm_record **recs;
  size_t *sizes;
  unsigned char **data;
} snapshot;

/* Tallies of one phase of the sequence. */
typedef struct tally {
  int writes;       /* writes done */
  int failures;     /* failing attempts seen */
  int bad_result;   /* failing attempts not -1 / RM_E_MEMORY */
  int changed;      /* failing attempts that changed count/records/version */
  int bytes_changed; /* failing attempts that changed the store's bytes */
  int never_ok;     /* writes that never succeeded */
  int wrong_error;  /* writes that failed other than for memory */
} tally;

static rm_schema *user_schema(void) {
  rm_schema *s = rm_schema_new("U");
  rm_diag d;
  rm_diag_init(&d);
  rm_schema_add_field(s, "id", RM_T_STRING, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(s, "email", RM_T_STRING,
                      RM_F_UNIQUE | RM_F_INDEX | RM_F_OPTIONAL, &d);
  rm_schema_add_field(s, "code", RM_T_INTEGER, RM_F_UNIQUE | RM_F_OPTIONAL, &d);
  rm_schema_add_field(s, "n", RM_T_INTEGER, RM_F_INDEX, &d);
  /* A second index holding the same values as n: both trees split at the
   * same writes, so a write can fail in the second after the first split. */
  rm_schema_add_field(s, "n2", RM_T_INTEGER, RM_F_INDEX, &d);
  if (rm_schema_finish(s, &d) < 0) diag("schema refused: %s", d.message);
  return s;
}

static void key_of(int i, char *buf) { snprintf(buf, 16, "k%03d", i); }

/* The encoded record for key i with these values. */
static unsigned char *encode(const rm_schema *s, int i, const expected *e,
                             size_t *size) {
  rm_value v[NF];
  char key[16];
  unsigned char *buf;
  key_of(i, key);
  v[F_ID] = rm_str(key, strlen(key));
  v[F_EMAIL] = e->email[0] ? rm_str(e->email, strlen(e->email)) : rm_nil();
  v[F_CODE] = e->code == INT64_MIN ? rm_nil() : rm_int(e->code);
  v[F_N] = rm_int(e->n);
  v[F_N2] = rm_int(e->n);
  *size = rm_record_encoded_size(s, v);
  buf = malloc(*size);
  rm_record_encode(s, v, buf);
  return buf;
}

static void snap_free(snapshot *sn) {
  size_t i;
  for (i = 0; i < sn->nrec; i++) free(sn->data[i]);
  free(sn->recs);
  free(sn->sizes);
  free(sn->data);
  memset(sn, 0, sizeof *sn);
}

/* The store's bytes apart from the tables' hash bucket arrays: uthash
 * doubles those while adding and cannot halve them again, so a write that
 * grew one and then failed keeps the larger array. Everything else a
 * failing write took must be given back. */
static size_t held_bytes(const rm_store *st, const rm_table *t) {
  size_t n = rm_store_bytes(st);
  int u;
  if (t->by_key) n -= t->by_key->hh.tbl->num_buckets * sizeof(UT_hash_bucket);
  for (u = 0; u < t->schema->nunique; u++)
    if (t->unique[u]) n -= t->unique[u]->hh.tbl->num_buckets * sizeof(UT_hash_bucket);
  return n;
}

static void snap_take(const rm_store *st, const rm_table *t, snapshot *sn) {
  size_t pos = 0, cap = rm_table_count(t) + 1;
  const rm_record *r;
  sn->count = rm_table_count(t);
  sn->bytes = held_bytes(st, t);
  sn->version = rm_table_version(t);
  sn->recs = malloc(cap * sizeof *sn->recs);
  sn->sizes = malloc(cap * sizeof *sn->sizes);
  sn->data = malloc(cap * sizeof *sn->data);
  sn->nrec = 0;
  while ((r = rm_table_next(t, &pos)) != NULL && sn->nrec < cap) {
    size_t n = rm_record_size(rm_table_schema(t), r);
    sn->recs[sn->nrec] = r;
    sn->sizes[sn->nrec] = n;
    sn->data[sn->nrec] = malloc(n);
    memcpy(sn->data[sn->nrec], rm_record_data(r), n);
    sn->nrec++;
  }
}

/* Compares the table's content with a snapshot; returns NULL when equal,
 * else what differs. (Bytes are compared on their own.) The records'
 * bytes are compared only when `deep` is set: records are immutable, so a
 * failed write that damaged one would still show at the next deep check,
 * and comparing every byte at every limit would make the test slow. */
static const char *snap_differs(const rm_table *t, const snapshot *sn,
                                int deep) {
  size_t pos = 0, i = 0;
  const rm_record *r;
  if (rm_table_count(t) != sn->count) return "count";
  if (rm_table_version(t) != sn->version) return "version";
  while ((r = rm_table_next(t, &pos)) != NULL) {
    if (i >= sn->nrec || r != sn->recs[i]) return "records";
    if (deep && memcmp(rm_record_data(r), sn->data[i], sn->sizes[i]) != 0)
      return "record data";
    i++;
  }
  return i == sn->nrec ? NULL : "records";
}

/* Deep checks: the first failure of a write and every eighth after it. */
#define DEEP(k) ((k) % 8 == 0)

/* Puts key i with values e under every limit from the current bytes up
 * until it succeeds, checking each failure. Returns the final status. */
static int put_everywhere(rm_store *st, rm_table *t, int i, const expected *e,
                          rm_put_mode mode, tally *ty) {
  const rm_schema *s = rm_table_schema(t);
  snapshot sn;
  size_t size, k;
  unsigned char *buf = encode(s, i, e, &size);
  rm_diag d;
  int rc = -1;
  snap_take(st, t, &sn);
  ty->writes++;
  for (k = 0; k < MAX_STEPS; k++) {
    const char *what;
    rm_store_set_limit(st, rm_store_bytes(st) + k);
    rm_diag_init(&d);
    rc = rm_table_put(t, buf, size, mode, NULL, &d);
    if (rc == 0) break;
    if (rc != -1 || d.kind != RM_E_MEMORY) {
      if (d.kind != RM_E_MEMORY) {
        if (ty->wrong_error++ < MAX_REPORTS)
          diag("key %d: failed with kind %d, not RM_E_MEMORY: %s", i, d.kind,
               d.message);
        break;
      }
      if (ty->bad_result++ < MAX_REPORTS)
        diag("key %d at limit +%zu: returned %d", i, k, rc);
    }
    ty->failures++;
    what = snap_differs(t, &sn, DEEP(k));
    if (what != NULL && ty->changed++ < MAX_REPORTS)
      diag("key %d (mode %d) at limit +%zu: a failed put changed the %s "
           "(count %zu -> %zu)", i, (int)mode, k, what, sn.count,
           rm_table_count(t));
    if (held_bytes(st, t) != sn.bytes && ty->bytes_changed++ < MAX_REPORTS)
      diag("key %d (mode %d) at limit +%zu: a failed put changed the bytes "
           "(%zu -> %zu)", i, (int)mode, k, sn.bytes, held_bytes(st, t));
    if (what != NULL || held_bytes(st, t) != sn.bytes) {
      /* Continue from the changed state so that one fault is reported
       * once, not at every later limit. */
      snap_free(&sn);
      snap_take(st, t, &sn);
    }
  }
  rm_store_set_limit(st, 0);
  if (rc != 0 && ty->never_ok++ < MAX_REPORTS)
    diag("key %d: never succeeded (last: %s)", i, d.message);
  snap_free(&sn);
  free(buf);
  return rc;
}

/* Puts keys[0..n-1] with values es[] as one batch under every limit from
 * the current bytes up until it succeeds, checking each failure. */
static int batch_everywhere(rm_store *st, rm_table *t, const int *keys,
                            const expected *es, size_t n, rm_put_mode mode,
                            tally *ty) {
  const rm_schema *s = rm_table_schema(t);
  snapshot sn;
  unsigned char *data[8];
  size_t size[8], i, k;
  rm_diag d;
  int rc = -1;
  for (i = 0; i < n; i++) data[i] = encode(s, keys[i], &es[i], &size[i]);
  snap_take(st, t, &sn);
  ty->writes++;
  for (k = 0; k < MAX_STEPS; k++) {
    const char *what;
    rm_store_set_limit(st, rm_store_bytes(st) + k);
    rm_diag_init(&d);
    rc = rm_table_put_many(t, (const unsigned char *const *)data, size, n,
                           mode, &d);
    if (rc == 0) break;
    if (d.kind != RM_E_MEMORY) {
      if (ty->wrong_error++ < MAX_REPORTS)
        diag("batch at key %d: failed with kind %d: %s", keys[0], d.kind,
             d.message);
      break;
    }
    if (rc != -1 && ty->bad_result++ < MAX_REPORTS)
      diag("batch at key %d: returned %d", keys[0], rc);
    ty->failures++;
    what = snap_differs(t, &sn, DEEP(k));
    if (what != NULL && ty->changed++ < MAX_REPORTS)
      diag("batch at key %d at limit +%zu: a failed put changed the %s",
           keys[0], k, what);
    if (held_bytes(st, t) != sn.bytes && ty->bytes_changed++ < MAX_REPORTS)
      diag("batch at key %d at limit +%zu: a failed put changed the bytes "
           "(%zu -> %zu)", keys[0], k, sn.bytes, held_bytes(st, t));
    if (what != NULL || held_bytes(st, t) != sn.bytes) {
      snap_free(&sn);
      snap_take(st, t, &sn);
    }
  }
  rm_store_set_limit(st, 0);
  if (rc != 0 && ty->never_ok++ < MAX_REPORTS)
    diag("batch at key %d: never succeeded (last: %s)", keys[0], d.message);
  snap_free(&sn);
  for (i = 0; i < n; i++) free(data[i]);
  return rc;
}

static void report(const char *phase, const tally *ty) {
  ok(ty->failures > 0, "%s: %d writes met %d out-of-memory failures", phase,
     ty->writes, ty->failures);
  is_int(ty->bad_result, 0, "%s: every failing put returns -1 with RM_E_MEMORY",
         phase);
  is_int(ty->changed, 0,
         "%s: every failing put leaves count, records and version", phase);
  is_int(ty->bytes_changed, 0, "%s: every failing put leaves the store's bytes",
         phase);
  is_int(ty->wrong_error + ty->never_ok, 0,
         "%s: every write succeeds once the limit allows it", phase);
}

static void set(expected *e, const char *email, int64_t code, int64_t n) {
  e->live = 1;
  snprintf(e->email, sizeof e->email, "%s", email ? email : "");
  e->code = code;
  e->n = n;
}

/* The sequence of writes, phase by phase. */
static void run_sequence(rm_store *st, rm_table *t) {
  tally ty;
  expected e;
  char email[40];
  int i;
  rm_diag d;

  memset(&ty, 0, sizeof ty);
  for (i = 0; i < NBASE; i++) {
    snprintf(email, sizeof email, "user%d@example.com", i);
    set(&e, i % 7 == 3 ? NULL : email, i % 5 == 4 ? INT64_MIN : i * 10, i);
    if (put_everywhere(st, t, i, &e, RM_PUT_CREATE, &ty) == 0) want[i] = e;
  }
  report("creates with unique values", &ty);

  memset(&ty, 0, sizeof ty);
  for (i = 0; i < NBASE; i += 3) {
    snprintf(email, sizeof email, "new%d@example.com", i);
    set(&e, email, i * 10 + 1, i + 1000);
    if (put_everywhere(st, t, i, &e, RM_PUT_UPSERT, &ty) == 0) want[i] = e;
  }
  report("upserts changing unique values", &ty);

  memset(&ty, 0, sizeof ty);
  for (i = 1; i < NBASE; i += 5) {
    e = want[i];
    e.n = -i;
    if (put_everywhere(st, t, i, &e, RM_PUT_UPSERT, &ty) == 0) want[i] = e;
  }
  report("upserts keeping unique values", &ty);

  /* Deletes allocate nothing: they work at the current limit. */
  rm_store_set_limit(st, rm_store_bytes(st));
  {
    int deleted = 0, expected_deletes = 0;
    for (i = 0; i < NBASE; i += 4) {
      char key[16];
      key_of(i, key);
      rm_diag_init(&d);
      expected_deletes++;
      if (rm_table_delete(t, rm_str(key, strlen(key)), &d) == 1) {
        deleted++;
        want[i].live = 0;
      }
    }
    is_int(deleted, expected_deletes, "deletes succeed under a limit at the current size");
  }
  rm_store_set_limit(st, 0);

  /* New keys take the unique values the deleted records held. */
  memset(&ty, 0, sizeof ty);
  for (i = 0; i < NBASE; i += 4) {
    int j = NBASE + i / 4;
    e = want[i];
    e.live = 1;
    e.n = j;
    if (put_everywhere(st, t, j, &e, RM_PUT_CREATE, &ty) == 0) want[j] = e;
  }
  report("creates reusing freed unique values", &ty);

  memset(&ty, 0, sizeof ty);
  for (i = 1; i < NBASE; i += 4) {
    set(&e, NULL, 100000 + i, 7);
    if (put_everywhere(st, t, i, &e, RM_PUT_UPDATE, &ty) == 0) want[i] = e;
  }
  report("updates setting a unique value to nil", &ty);

  memset(&ty, 0, sizeof ty);
  for (i = REUSE_END; i < NEW_END; i++) {
    snprintf(email, sizeof email, "late%d@example.com", i);
    set(&e, email, -i, i);
    if (put_everywhere(st, t, i, &e, RM_PUT_UPSERT, &ty) == 0) want[i] = e;
  }
  report("upserts of new keys", &ty);

  /* Batches: three creates at a time, then pairs of records swapping
   * their unique values. */
  memset(&ty, 0, sizeof ty);
  for (i = NEW_END; i + 3 <= NKEYS; i += 3) {
    expected es[3];
    int keys[3], j;
    for (j = 0; j < 3; j++) {
      keys[j] = i + j;
      snprintf(email, sizeof email, "batch%d@example.com", i + j);
      set(&es[j], email, 5000 + i + j, i + j);
    }
    if (batch_everywhere(st, t, keys, es, 3, RM_PUT_CREATE, &ty) == 0)
      for (j = 0; j < 3; j++) want[keys[j]] = es[j];
  }
  report("batches of three creates", &ty);

  memset(&ty, 0, sizeof ty);
  for (i = NEW_END; i + 3 <= NKEYS; i += 3) {
    expected es[2];
    int keys[2];
    keys[0] = i;
    keys[1] = i + 1;
    es[0] = want[i + 1];
    es[0].n = want[i].n;
    es[1] = want[i];
    es[1].n = want[i + 1].n;
    if (batch_everywhere(st, t, keys, es, 2, RM_PUT_UPSERT, &ty) == 0) {
      want[keys[0]] = es[0];
      want[keys[1]] = es[1];
    }
  }
  report("batches swapping unique values", &ty);
}

/* The ordered indexes (on n and email) agree with the records after all
 * the failed writes: range counts and sorted runs give what the expected
 * contents say. */
static void check_indexes(rm_table *t, size_t live) {
  const rm_schema *s = rm_table_schema(t);
  const int64_t thresholds[] = {-1000, -1, 0, 150, 299, 1000, 1100, 5000};
  const rm_record **out = malloc((live + 1) * sizeof *out);
  size_t i;
  int counts_ok = 1, sorted_ok = 1;
  rm_query q;
  rm_diag d;
  long n;
  for (i = 0; i < sizeof thresholds / sizeof *thresholds; i++) {
    rm_value v = rm_int(thresholds[i]);
    int64_t want_count = 0;
    int j;
    rm_diag_init(&d);
    rm_query_init(&q);
    q.where = rm_node_cond(s, F_N, RM_OP_GTE, &v, 1, &d);
    for (j = 0; j < NKEYS; j++)
      if (want[j].live && want[j].n >= thresholds[i]) want_count++;
    if (rm_query_count(t, &q) != want_count) {
      diag("count of n >= %lld: %lld, expected %lld", (long long)thresholds[i],
           (long long)rm_query_count(t, &q), (long long)want_count);
      counts_ok = 0;
    }
    rm_node_unref((rm_node *)q.where);
  }
  ok(counts_ok, "counts over the index on n match the records");
  rm_query_init(&q);
  q.order.nterms = 1;
  q.order.field[0] = F_EMAIL;
  rm_diag_init(&d);
  n = rm_query_run(t, &q, out, live + 1, &d);
  for (i = 1; n > 0 && i < (size_t)n; i++) {
    rm_value a, b;
    rm_record_get(s, rm_record_data(out[i - 1]), F_EMAIL, &a);
    rm_record_get(s, rm_record_data(out[i]), F_EMAIL, &b);
    /* nil sorts last */
    if (a.tag == RM_V_NIL ? b.tag != RM_V_NIL
                          : b.tag != RM_V_NIL && rm_value_compare(&a, &b) > 0)
      sorted_ok = 0;
  }
  ok(n == (long)live && sorted_ok,
     "a run ordered by the indexed email gives every record in order (%ld)", n);
  free(out);
}

/* The table holds exactly the expected records, and each unique value of
 * a live record is still taken. */
static void check_final(rm_table *t) {
  const rm_schema *s = rm_table_schema(t);
  size_t live = 0;
  int i, content_ok = 1, unique_ok = 1;
  rm_diag d;
  for (i = 0; i < NKEYS; i++) {
    char key[16];
    const rm_record *r = NULL;
    key_of(i, key);
    rm_diag_init(&d);
    rm_table_get(t, rm_str(key, strlen(key)), &r, &d);
    if (!want[i].live) {
      if (r != NULL) content_ok = 0;
      continue;
    }
    live++;
    if (r == NULL) {
      content_ok = 0;
      continue;
    }
    {
      size_t size;
      unsigned char *buf = encode(s, i, &want[i], &size);
      if (rm_record_size(s, r) != size ||
          memcmp(rm_record_data(r), buf, size) != 0) {
        if (content_ok) diag("key %d holds other values", i);
        content_ok = 0;
      }
      free(buf);
    }
    /* Another key with this record's email or code must be refused. */
    if (want[i].email[0] || want[i].code != INT64_MIN) {
      expected e = want[i];
      size_t size;
      unsigned char *buf;
      e.n = 0;
      buf = encode(s, 9999, &e, &size);
      rm_diag_init(&d);
      if (rm_table_put(t, buf, size, RM_PUT_CREATE, NULL, &d) != -1 ||
          d.kind != RM_E_DUPLICATE) {
        if (unique_ok) diag("key %d: its unique values are not taken", i);
        unique_ok = 0;
        rm_table_delete(t, rm_str("k9999", 5), &d);
      }
      free(buf);
    }
  }
  is_uint(rm_table_count(t), live, "the table holds the %zu expected records", live);
  ok(content_ok, "each key holds the values its last successful write gave");
  ok(unique_ok, "each live unique value is still taken");
  check_indexes(t, live);
}

/* Creating the table itself can fail; it then exists only once the limit
 * allows it. */
static rm_table *table_everywhere(rm_store *st, const rm_schema *s) {
  rm_table *t = NULL;
  size_t k, before = rm_store_bytes(st);
  int bad = 0, failures = 0;
  rm_diag d;
  /* A limit of 0 means none: start at 1 byte. */
  for (k = before == 0; k < 10000 && t == NULL; k++) {
    rm_store_set_limit(st, before + k);
    rm_diag_init(&d);
    t = rm_store_table(st, s, &d);
    if (t != NULL) break;
    failures++;
    if (d.kind != RM_E_MEMORY || rm_store_bytes(st) != before ||
        rm_store_find(st, rm_schema_name(s)) != NULL)
      bad++;
  }
  rm_store_set_limit(st, 0);
  ok(failures > 0 && bad == 0,
     "creating a table fails cleanly with RM_E_MEMORY %d times (%d bad)",
     failures, bad);
  ok(t != NULL, "... then succeeds");
  return t;
}

/* ---------------------------------------------------- schema swaps */

/* U declared again with other fields, more of them indexed: an empty
 * table of the first U takes it (rm_store_table), remaking its indexes. */
static rm_schema *other_user_schema(void) {
  static const char *const names[] = {"a", "b", "c", "d"};
  rm_schema *s = rm_schema_new("U");
  rm_diag d;
  int i;
  rm_diag_init(&d);
  rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  for (i = 0; i < 4; i++)
    rm_schema_add_field(s, names[i], RM_T_INTEGER, RM_F_INDEX, &d);
  if (rm_schema_finish(s, &d) < 0) diag("schema refused: %s", d.message);
  return s;
}

/* What a failed swap must leave as it was. */
typedef struct table_state {
  const rm_schema *schema;
  size_t count, bytes, nslots, capslots;
  uint64_t version;
  const rm_btree *trees;
} table_state;

static void state_take(const rm_store *st, const rm_table *t, table_state *ts) {
  memset(ts, 0, sizeof *ts); /* compared with memcmp */
  ts->schema = rm_table_schema(t);
  ts->count = rm_table_count(t);
  ts->bytes = rm_store_bytes(st);
  ts->nslots = t->nslots;
  ts->capslots = t->capslots;
  ts->version = rm_table_version(t);
  ts->trees = t->trees;
}

static int state_same(const rm_store *st, const rm_table *t,
                      const table_state *ts) {
  table_state now;
  state_take(st, t, &now);
  return memcmp(&now, ts, sizeof now) == 0;
}

/* n >= 500 over the index on n: the old indexes still answer. */
static int64_t count_n(rm_table *t) {
  rm_value v = rm_int(500);
  rm_query q;
  rm_diag d;
  int64_t n;
  rm_diag_init(&d);
  rm_query_init(&q);
  q.where = rm_node_cond(rm_table_schema(t), F_N, RM_OP_GTE, &v, 1, &d);
  n = rm_query_count(t, &q);
  rm_node_unref((rm_node *)q.where);
  return n;
}

/* The U table, emptied by deletes (its slot array and trees still
 * allocated), takes the other U under every limit from below its bytes
 * upward: each failure is RM_E_MEMORY and leaves schema, count, version,
 * slots, indexes and bytes as they were, the old indexes still in use;
 * then the swap succeeds. */
static void test_swap_everywhere(void) {
  rm_schema *s = user_schema(), *s2 = other_user_schema();
  rm_store *st = rm_store_new();
  rm_table *t, *got;
  table_state before;
  expected e;
  size_t k, size;
  int failures = 0, bad = 0, usable = 1, i;
  unsigned char *buf;
  rm_diag d;
  rm_diag_init(&d);
  t = rm_store_table(st, s, &d);
  for (i = 0; i < 40; i++) {
    set(&e, "", INT64_MIN, 1000 + i);
    buf = encode(s, i, &e, &size);
    rm_table_put(t, buf, size, RM_PUT_CREATE, NULL, &d);
    free(buf);
  }
  for (i = 0; i < 40; i++) {
    char key[16];
    key_of(i, key);
    rm_table_delete(t, rm_str(key, strlen(key)), &d);
  }
  state_take(st, t, &before);
  /* k == 0 stands for a limit of 1 byte, below what the store holds. */
  for (k = 0; k < 10000; k++) {
    rm_store_set_limit(st, k == 0 ? 1 : before.bytes + k - 1);
    rm_diag_init(&d);
    got = rm_store_table(st, s2, &d);
    rm_store_set_limit(st, 0);
    if (got != NULL) break;
    failures++;
    if (d.kind != RM_E_MEMORY || !state_same(st, t, &before)) bad++;
    if (k == 0) {
      /* Still the first U, indexes and all: a record goes in and out. */
      set(&e, "", INT64_MIN, 700);
      buf = encode(s, 0, &e, &size);
      usable = rm_table_put(t, buf, size, RM_PUT_CREATE, NULL, &d) == 0 &&
               count_n(t) == 1 && rm_table_delete(t, rm_str("k000", 4), &d) == 1;
      free(buf);
      state_take(st, t, &before);
    }
  }
  ok(failures > 1 && bad == 0,
     "a schema swap fails cleanly with RM_E_MEMORY %d times (%d changed the "
     "table or the store's bytes)", failures, bad);
  ok(usable, "... and after a failure the table works with its old indexes");
  ok(got == t && rm_table_schema(t) == s2 && rm_table_count(t) == 0,
     "... then succeeds: the table takes the new schema");
  rm_schema_unref(s);
  if (got == t) {
    rm_value v[5];
    unsigned char rec[64];
    rm_query q;
    rm_value two = rm_int(2);
    for (i = 0; i < 5; i++) v[i] = rm_int(i + 1);
    rm_record_encode(s2, v, rec);
    rm_diag_init(&d);
    rm_query_init(&q);
    q.where = rm_node_cond(s2, 4, RM_OP_GTE, &two, 1, &d);
    ok(rm_table_put(t, rec, rm_record_encoded_size(s2, v), RM_PUT_CREATE,
                    NULL, &d) == 0 && rm_query_count(t, &q) == 1,
       "... and its new indexes answer queries (%s)", d.message);
    rm_node_unref((rm_node *)q.where);
  }
  rm_store_free(st);
  rm_schema_unref(s2);
}

/* Set when main returns normally. An exit() from inside the engine (as
 * uthash's default fatal handler does when out of memory) would otherwise
 * end the output silently. */
static int finished;

static void exit_check(void) {
  if (finished) return;
  ok(0, "the engine returns errors rather than calling exit() when out of memory");
  diag("exit() was called during a write under a memory limit (uthash's "
       "uthash_fatal: is HASH_NONFATAL_OOM defined before uthash.h?)");
  done_testing();
}

int main(void) {
  rm_schema *s;
  rm_store *st;
  rm_table *t;
  int status;
  atexit(exit_check);
  s = user_schema();
  st = rm_store_new();
  {
    rm_diag d;
    rm_diag_init(&d);
    t = rm_store_table(st, s, &d);
  }
  if (ok(t != NULL, "the table is created without a limit")) {
    run_sequence(st, t);
    check_final(t);
    rm_table_clear(t);
  }
  rm_store_free(st);
  rm_schema_unref(s);
  /* A table of its own: creating it can fail too. */
  s = user_schema();
  st = rm_store_new();
  t = table_everywhere(st, s);
  rm_store_free(st);
  rm_schema_unref(s);
  test_swap_everywhere();
  status = done_testing();
  finished = 1;
  return status;
}
