/*
 * The order-statistic B+tree of the ordered indexes (engine/btree*.c):
 * a long randomized run against a plain sorted-array model, the insert
 * patterns that split unevenly (ascending, descending, runs of one key),
 * string keys whose bytes belong to the caller, out-of-memory inserts that
 * must leave the tree as it was, and clear returning every byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "btree.h"
#include "tap.h"

/* ------------------------------------------------------------ helpers */

/* xorshift64*: a fixed seed gives the same run everywhere. */
static uint64_t rnd(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ULL;
}

static size_t rnd_below(uint64_t *s, size_t n) { return (size_t)(rnd(s) % n); }

/* String keys of the randomized run: short, from a small alphabet with a
 * NUL and a 0xff byte, some equal to others in different slots. */
/* Strings of up to 12 bytes from a 4-letter alphabet with 0 and 0xff: the
 * tree compares strings by their first 8 bytes (0-padded) first, so many
 * tie there and are told apart by their lengths or their later bytes. */
#define NSTR 300
#define STR_MAX 12
static char str_pool[NSTR][STR_MAX];
static size_t str_len[NSTR];

static void fill_str_pool(uint64_t *s) {
  static const char alphabet[4] = {'a', 'b', '\0', '\xff'};
  size_t i, j;
  for (i = 0; i < NSTR; i++) {
    str_len[i] = rnd_below(s, STR_MAX + 1);
    for (j = 0; j < str_len[i]; j++) str_pool[i][j] = alphabet[rnd_below(s, 4)];
  }
}

/* A key of any kind: integers and floats that collide (3 and 3.0),
 * fractions between them, strings, booleans and nil. */
static rm_value random_key(uint64_t *s) {
  size_t k = rnd_below(s, 20), i;
  int64_t v = (int64_t)rnd_below(s, 101) - 50;
  if (k < 8) return rm_int(v);
  if (k < 10) return rm_float((double)v);
  if (k < 12) return rm_float((double)v + (double)rnd_below(s, 1000) / 1000.0);
  if (k < 17) {
    i = rnd_below(s, NSTR);
    return rm_str(str_pool[i], str_len[i]);
  }
  if (k < 18) return rm_bool((int)rnd_below(s, 2));
  return rm_nil();
}

static const void *rec_of(uint64_t seq) {
  return (const void *)(uintptr_t)(seq * 16 + 16);
}

static rm_bt_entry entry(rm_value key, uint64_t seq) {
  rm_bt_entry e;
  rm_bt_entry_set(&e, &key, seq, rec_of(seq));
  return e;
}

/* A pointer to an entry's key as a value, for the calls that take one. It
 * points into a ring of four, so that up to four can be in use in one
 * expression. */
static const rm_value *key_ptr(const rm_bt_entry *e) {
  static rm_value ring[4];
  static unsigned next;
  rm_value *v = &ring[next++ % 4];
  *v = rm_bt_entry_key(e);
  return v;
}

/* The order the tree must keep, written out again independently. */
static int model_key_cmp(const rm_value *a, const rm_value *b) {
  int c;
  if (a->tag == RM_V_NIL || b->tag == RM_V_NIL)
    return (a->tag == RM_V_NIL) - (b->tag == RM_V_NIL);
  c = rm_value_compare(a, b);
  return (c > 0) - (c < 0);
}

static int model_cmp(const rm_bt_entry *a, const rm_bt_entry *b) {
  int c = model_key_cmp(key_ptr(a), key_ptr(b));
  if (c != 0) return c;
  return (a->seq > b->seq) - (a->seq < b->seq);
}

static int qsort_cmp(const void *a, const void *b) { return model_cmp(a, b); }

/* ---------------------------------------------------------------- model */

/* The expected contents: `sorted` as of the last sync, plus entries added
 * since (`added`) and a dead flag per seq for those deleted since; `live`
 * lists the live entries unordered, to pick deletions from. A sync merges
 * them in O(n), so the model stays cheap at 200,000 operations. */
typedef struct model {
  rm_bt_entry *sorted, *added, *live, *scratch;
  size_t n, nadded, nlive, cap;
  unsigned char *dead;
  uint64_t next_seq, max_seq;
} model;

static void model_init(model *md, size_t cap, uint64_t max_seq) {
  md->sorted = malloc(cap * sizeof *md->sorted);
  md->added = malloc(cap * sizeof *md->added);
  md->live = malloc(cap * sizeof *md->live);
  md->scratch = malloc(cap * sizeof *md->scratch);
  md->dead = calloc(max_seq + 1, 1);
  md->n = md->nadded = md->nlive = 0;
  md->cap = cap;
  md->next_seq = 1;
  md->max_seq = max_seq;
}

static void model_free(model *md) {
  free(md->sorted);
  free(md->added);
  free(md->live);
  free(md->scratch);
  free(md->dead);
}

static void model_add(model *md, const rm_bt_entry *e) {
  md->added[md->nadded++] = *e;
  md->live[md->nlive++] = *e;
}

/* Removes and returns live entry i. */
static rm_bt_entry model_take(model *md, size_t i) {
  rm_bt_entry e = md->live[i];
  md->live[i] = md->live[--md->nlive];
  md->dead[e.seq] = 1;
  return e;
}

static void model_sync(model *md) {
  size_t i, j = 0, k = 0, na = 0, n = 0;
  for (i = 0; i < md->nadded; i++)
    if (!md->dead[md->added[i].seq]) md->added[na++] = md->added[i];
  qsort(md->added, na, sizeof *md->added, qsort_cmp);
  for (i = 0; i < md->n; i++)
    if (!md->dead[md->sorted[i].seq]) md->sorted[j++] = md->sorted[i];
  i = 0;
  while (i < j || k < na) {
    if (k == na || (i < j && model_cmp(&md->sorted[i], &md->added[k]) < 0))
      md->scratch[n++] = md->sorted[i++];
    else
      md->scratch[n++] = md->added[k++];
  }
  memcpy(md->sorted, md->scratch, n * sizeof *md->sorted);
  md->n = n;
  md->nadded = 0;
}

/* Entries of the synced model before the probe (bias as in btree.c). */
static size_t model_rank(const model *md, const rm_value *key, uint64_t seq,
                         int bias) {
  size_t lo = 0, hi = md->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = model_key_cmp(key_ptr(&md->sorted[mid]), key);
    if (c == 0) c = bias ? -bias : (md->sorted[mid].seq > seq) - (md->sorted[mid].seq < seq);
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* ------------------------------------------------------------- checking */

/* Failures are counted per kind and the first of each kind is shown, so
 * that a run of 200,000 operations prints a handful of lines. */
typedef struct tally {
  long structure, count, rank_lower, rank_of, at, iter, seek, ops;
  long checks;
} tally;

static int same_entry(const rm_bt_entry *a, const rm_bt_entry *b) {
  return a != NULL && b != NULL && a->seq == b->seq && a->rec == b->rec &&
         model_key_cmp(key_ptr(a), key_ptr(b)) == 0 && a->key.tag == b->key.tag;
}

#define FAIL(field, ...) \
  do { if (tl->field++ == 0) diag(__VA_ARGS__); } while (0)

/* Forward and backward over the whole tree against the model. */
static void check_iteration(const rm_btree *t, const model *md, tally *tl) {
  rm_bt_iter it;
  const rm_bt_entry *e;
  size_t i = 0;
  rm_btree_seek(t, 0, &it);
  while ((e = rm_btree_next(&it)) != NULL) {
    if (i >= md->n || !same_entry(e, &md->sorted[i]))
      FAIL(iter, "forward iteration differs at %zu", i);
    i++;
  }
  if (i != md->n) FAIL(iter, "forward iteration saw %zu of %zu", i, md->n);
  rm_btree_seek(t, (size_t)-1, &it);
  while ((e = rm_btree_prev(&it)) != NULL) {
    if (i == 0 || !same_entry(e, &md->sorted[i - 1]))
      FAIL(iter, "backward iteration differs at %zu", i);
    i--;
  }
  if (i != 0) FAIL(iter, "backward iteration stopped %zu short", i);
}

/* A cursor placed at a random rank steps both ways like the model. */
static void check_seek(const rm_btree *t, const model *md, uint64_t *s,
                       tally *tl) {
  size_t r = rnd_below(s, md->n + 1), i;
  rm_bt_iter it;
  const rm_bt_entry *e;
  rm_btree_seek(t, r, &it);
  for (i = r; i < r + 30; i++) {
    e = rm_btree_next(&it);
    if (i < md->n ? !same_entry(e, &md->sorted[i]) : e != NULL)
      FAIL(seek, "seek(%zu): next differs at %zu", r, i);
  }
  rm_btree_seek(t, r, &it);
  for (i = r; i > 0 && i + 30 > r; i--) {
    e = rm_btree_prev(&it);
    if (!same_entry(e, &md->sorted[i - 1]))
      FAIL(seek, "seek(%zu): prev differs at %zu", r, i - 1);
  }
  if (r == 0 && rm_btree_prev(&it) != NULL)
    FAIL(seek, "prev before the first entry is not NULL");
}

static void check_ranks(const rm_btree *t, const model *md, uint64_t *s,
                        tally *tl) {
  int k;
  for (k = 0; k < 16; k++) {
    rm_value key = random_key(s);
    size_t lt = rm_btree_rank_lower(t, &key, 0);
    size_t le = rm_btree_rank_lower(t, &key, 1);
    if (lt != model_rank(md, &key, 0, -1) || le != model_rank(md, &key, 0, 1))
      FAIL(rank_lower, "rank_lower(tag %d): got %zu/%zu, want %zu/%zu",
           (int)key.tag, lt, le, model_rank(md, &key, 0, -1),
           model_rank(md, &key, 0, 1));
  }
  for (k = 0; k < 8 && md->n > 0; k++) {
    size_t r = rnd_below(s, md->n);
    const rm_bt_entry *m = &md->sorted[r];
    rm_value key = random_key(s);
    uint64_t seq = rnd_below(s, md->next_seq + 1);
    if (rm_btree_rank_of(t, key_ptr(m), m->seq) != r)
      FAIL(rank_of, "rank_of(entry of rank %zu) = %zu", r,
           rm_btree_rank_of(t, key_ptr(m), m->seq));
    if (rm_btree_rank_of(t, &key, seq) != model_rank(md, &key, seq, 0))
      FAIL(rank_of, "rank_of(random probe) differs");
    if (!same_entry(rm_btree_at(t, r), m)) FAIL(at, "at(%zu) differs", r);
    if (rm_btree_find(t, key_ptr(m), m->seq) == NULL ||
        !same_entry(rm_btree_find(t, key_ptr(m), m->seq), m))
      FAIL(at, "find(entry of rank %zu) differs", r);
  }
  if (rm_btree_at(t, md->n) != NULL) FAIL(at, "at(count) is not NULL");
}

/* Everything but full iteration; that every `full` calls. */
static void check_all(const rm_btree *t, model *md, uint64_t *s, tally *tl,
                      int full) {
  int rc = rm_btree_check(t);
  model_sync(md);
  tl->checks++;
  if (rc != 0) FAIL(structure, "rm_btree_check fails at btree_check.c line %d", rc);
  if (rm_btree_count(t) != md->n)
    FAIL(count, "count %zu, model %zu", rm_btree_count(t), md->n);
  check_ranks(t, md, s, tl);
  check_seek(t, md, s, tl);
  if (full) check_iteration(t, md, tl);
}

static void report(const tally *tl, const char *what) {
  ok(tl->structure == 0, "%s: tree invariants hold at %ld checkpoints", what,
     tl->checks);
  ok(tl->ops == 0, "%s: insert and delete return what the model says", what);
  ok(tl->count == 0, "%s: count matches", what);
  ok(tl->rank_lower == 0, "%s: rank_lower, inclusive and not, matches", what);
  ok(tl->rank_of == 0, "%s: rank_of matches for entries and probes", what);
  ok(tl->at == 0, "%s: at(rank) and find match", what);
  ok(tl->iter == 0, "%s: full forward and backward iteration match", what);
  ok(tl->seek == 0, "%s: seek then next/prev match", what);
}

/* ------------------------------------------------------------------ tests */

static void test_empty(void) {
  rm_mem m;
  rm_btree t;
  rm_bt_iter it;
  rm_value k = rm_int(1), nil = rm_nil();
  memset(&m, 0, sizeof m);
  rm_btree_init(&t, &m);
  ok(rm_btree_count(&t) == 0 && rm_btree_at(&t, 0) == NULL,
     "an empty tree has no entries");
  ok(rm_btree_rank_lower(&t, &k, 1) == 0 && rm_btree_rank_lower(&t, &nil, 1) == 0 &&
     rm_btree_rank_of(&t, &k, 3) == 0, "ranks in an empty tree are 0");
  ok(rm_btree_delete(&t, &k, 1) == 0 && rm_btree_find(&t, &k, 1) == NULL,
     "delete and find in an empty tree find nothing");
  rm_btree_seek(&t, 0, &it);
  ok(rm_btree_next(&it) == NULL && rm_btree_prev(&it) == NULL,
     "a cursor on an empty tree yields nothing");
  is_int(rm_btree_check(&t), 0, "an empty tree passes the checks");
  is_uint(m.bytes, 0, "init allocates nothing");
}

/* Small fixed cases of the order: nil last, 1 == 1.0, seq breaks ties. */
static void test_order(void) {
  rm_mem m;
  rm_btree t;
  rm_value keys[7];
  rm_value two = rm_int(2), nil = rm_nil(), one_f = rm_float(1.0);
  size_t i;
  int bad = 0;
  memset(&m, 0, sizeof m);
  rm_btree_init(&t, &m);
  keys[0] = rm_nil();
  keys[1] = rm_int(2);
  keys[2] = rm_float(1.5);
  keys[3] = rm_int(1);
  keys[4] = rm_float(1.0);
  keys[5] = rm_nil();
  keys[6] = rm_int(-7);
  for (i = 0; i < 7; i++) {
    rm_bt_entry e = entry(keys[i], 10 - i);
    bad |= rm_btree_insert(&t, &e);
  }
  ok(!bad && rm_btree_count(&t) == 7, "seven entries go in");
  /* Expected: -7(4), 1.0(6), 1(7), 1.5(8), 2(9), nil(5), nil(10). */
  {
    static const uint64_t want[7] = {4, 6, 7, 8, 9, 5, 10};
    for (i = 0; i < 7; i++) bad |= rm_btree_at(&t, i)->seq != want[i];
  }
  ok(!bad, "order: numbers numerically, 1 and 1.0 by seq, nil last by seq");
  is_uint(rm_btree_rank_lower(&t, &one_f, 0), 1, "one entry below 1.0");
  is_uint(rm_btree_rank_lower(&t, &one_f, 1), 3, "three entries at or below 1.0");
  is_uint(rm_btree_rank_lower(&t, &two, 1), 5, "five entries at or below 2");
  is_uint(rm_btree_rank_lower(&t, &nil, 0), 5, "five entries before nil");
  is_uint(rm_btree_rank_lower(&t, &nil, 1), 7, "seven at or before nil");
  is_uint(rm_btree_rank_of(&t, &nil, 7), 6, "rank_of(nil, 7) falls between the nils");
  rm_btree_clear(&t);
  is_uint(m.bytes, 0, "clear frees the leaf");
  rm_mem_release(&m);
}

/* 200,000 random inserts and deletes of mixed keys, the size swinging
 * between empty and 30,000 so that splits, merges, borrows, root growth
 * and root collapse all happen, checked every 250 operations. */
static void test_random(void) {
  enum { OPS = 200000, EVERY = 250 };
  static const size_t targets[] = {30000, 20, 8000, 0, 30000, 3000, 100, 20000};
  uint64_t s = 0x9E3779B97F4A7C15ULL;
  rm_mem m;
  rm_btree t;
  model md;
  tally tls, *tl = &tls;
  long op;
  size_t target = targets[0], nphase = 0;
  memset(&m, 0, sizeof m);
  memset(tl, 0, sizeof *tl);
  fill_str_pool(&s);
  rm_btree_init(&t, &m);
  model_init(&md, OPS + 1, OPS + 1);
  for (op = 0; op < OPS; op++) {
    int grow = md.nlive < target ? rnd_below(&s, 10) < 7 : rnd_below(&s, 10) < 3;
    if (op % 25000 == 24999) target = targets[++nphase % 8];
    if (grow || md.nlive == 0) {
      rm_bt_entry e = entry(random_key(&s), md.next_seq++);
      if (rm_btree_insert(&t, &e) != 0) FAIL(ops, "insert %ld failed", op);
      model_add(&md, &e);
    } else if (rnd_below(&s, 16) == 0) {
      /* Absent: a live key with an unused seq. */
      rm_bt_entry e = md.live[rnd_below(&s, md.nlive)];
      if (rm_btree_delete(&t, key_ptr(&e), md.next_seq + 7) != 0)
        FAIL(ops, "delete of an absent entry removed something (op %ld)", op);
    } else {
      rm_bt_entry e = model_take(&md, rnd_below(&s, md.nlive));
      if (rm_btree_delete(&t, key_ptr(&e), e.seq) != 1)
        FAIL(ops, "delete of seq %llu did not remove it (op %ld)",
             (unsigned long long)e.seq, op);
    }
    if (op % EVERY == EVERY - 1) check_all(&t, &md, &s, tl, op % 2000 == 1999);
  }
  check_all(&t, &md, &s, tl, 1);
  report(tl, "random");
  diag("random: %zu entries at the end, height %u, %zu bytes",
       rm_btree_count(&t), t.height, m.bytes);
  rm_btree_clear(&t);
  is_uint(m.bytes, 0, "random: clear frees every byte");
  model_free(&md);
  rm_mem_release(&m);
}

/* Builds a tree by one insert pattern, checks it against the model, and
 * reports its bytes per entry, which the uneven splits keep low. */
static void pattern(const char *what, int kind, size_t n, double max_bytes) {
  uint64_t s = 12345;
  rm_mem m;
  rm_btree t;
  model md;
  tally tls, *tl = &tls;
  size_t i;
  memset(&m, 0, sizeof m);
  memset(tl, 0, sizeof *tl);
  rm_btree_init(&t, &m);
  model_init(&md, n + 1, n + 1);
  for (i = 0; i < n; i++) {
    rm_value key;
    rm_bt_entry e;
    switch (kind) {
      case 0: key = rm_int((int64_t)i); break;                 /* ascending */
      case 1: key = rm_int(-(int64_t)i); break;                /* descending */
      case 2: key = rm_int((int64_t)rnd_below(&s, 3)); break;  /* 3 values */
      default: key = rm_int((int64_t)rnd_below(&s, n / 50)); break; /* runs of ~50 */
    }
    e = entry(key, md.next_seq++);
    if (rm_btree_insert(&t, &e) != 0) FAIL(ops, "insert %zu failed", i);
    model_add(&md, &e);
    if (i % 10000 == 9999) check_all(&t, &md, &s, tl, 0);
  }
  check_all(&t, &md, &s, tl, 1);
  report(tl, what);
  ok((double)m.bytes / (double)n <= max_bytes,
     "%s: %.1f bytes per entry (at most %.0f), height %u", what,
     (double)m.bytes / (double)n, max_bytes, t.height);
  /* Then delete in random order: down to a tenth, where merges must have
   * kept nodes at least a third full (984 / 8 bytes an entry in leaves,
   * plus inner nodes), and on to nothing. */
  while (md.nlive > 0) {
    rm_bt_entry e = model_take(&md, rnd_below(&s, md.nlive));
    if (rm_btree_delete(&t, key_ptr(&e), e.seq) != 1) FAIL(ops, "delete failed");
    if (md.nlive % 4001 == 0) check_all(&t, &md, &s, tl, 0);
    if (md.nlive == n / 10)
      ok((double)m.bytes / (double)md.nlive <= 145.0,
         "%s: %.1f bytes per entry after deleting 90%% (at most 145)", what,
         (double)m.bytes / (double)md.nlive);
  }
  ok(tl->ops == 0 && tl->structure == 0 && rm_btree_count(&t) == 0 &&
     t.root == NULL && m.bytes == 0,
     "%s: deleting everything leaves an empty tree and no bytes", what);
  model_free(&md);
  rm_mem_release(&m);
}

static void test_patterns(void) {
  /* A full leaf is 984 bytes for 24 entries: 41 bytes an entry. */
  pattern("ascending keys", 0, 40000, 44.0);
  pattern("descending keys", 1, 40000, 44.0);
  pattern("three distinct keys", 2, 40000, 46.0);
  pattern("runs of one key", 3, 40000, 58.0);
}

/* String keys whose bytes the caller owns: entries are deleted and their
 * bytes freed (after scribbling) at once, and records replaced by copies
 * move their entries (rm_btree_replace). A separator left pointing at
 * freed bytes would make valgrind fail the run, and rm_btree_check (which
 * wants separators to be bit copies of live entries) fail here. */
static char *new_key(uint64_t *s, size_t *len) {
  char *p = malloc(8);
  int v = (int)rnd_below(s, 2000);
  p[0] = 'k';
  p[1] = (char)('0' + v / 1000);
  p[2] = (char)('0' + v / 100 % 10);
  p[3] = (char)('0' + v / 10 % 10);
  p[4] = (char)('0' + v % 10);
  *len = 5;
  return p;
}

static void drop_key(char *p) {
  memset(p, 0x5a, 8);
  free(p);
}

static void test_owned_strings(void) {
  enum { N = 6000 };
  uint64_t s = 777;
  rm_mem m;
  rm_btree t;
  char *bytes[N + 1];
  size_t len[N + 1], i, live[N], nlive = 0;
  int bad = 0, checks_bad = 0;
  memset(&m, 0, sizeof m);
  rm_btree_init(&t, &m);
  for (i = 1; i <= N; i++) {
    rm_bt_entry e;
    bytes[i] = new_key(&s, &len[i]);
    e = entry(rm_str(bytes[i], len[i]), i);
    bad |= rm_btree_insert(&t, &e) != 0;
    live[nlive++] = i;
  }
  ok(!bad && rm_btree_check(&t) == 0, "strings: 6000 entries go in");
  /* Replace every record by a copy at new bytes. */
  for (i = 1; i <= N; i++) {
    char *copy = malloc(8);
    rm_bt_entry e;
    memcpy(copy, bytes[i], len[i]);
    e = entry(rm_str(copy, len[i]), i);
    e.rec = copy;
    bad |= rm_btree_replace(&t, &e) != 1;
    drop_key(bytes[i]);
    bytes[i] = copy;
    if (i % 500 == 0) checks_bad |= rm_btree_check(&t) != 0;
  }
  ok(!bad && !checks_bad && rm_btree_check(&t) == 0,
     "strings: replace moves entries and separators to the new bytes");
  {
    rm_bt_iter it;
    const rm_bt_entry *e;
    rm_btree_seek(&t, 0, &it);
    while ((e = rm_btree_next(&it)) != NULL)
      bad |= e->key.u.s != bytes[e->seq] || e->rec != bytes[e->seq];
    ok(!bad, "strings: every entry points at its record's new bytes");
  }
  {
    rm_value k = rm_str("k0000", 5);
    rm_bt_entry e = entry(k, N + 100);
    ok(rm_btree_replace(&t, &e) == 0, "strings: replace of an absent entry returns 0");
  }
  /* Delete in random order, freeing each key's bytes at once. */
  while (nlive > 0) {
    size_t j = rnd_below(&s, nlive), seq = live[j];
    rm_value k = rm_str(bytes[seq], len[seq]);
    live[j] = live[--nlive];
    bad |= rm_btree_delete(&t, &k, seq) != 1;
    drop_key(bytes[seq]);
    if (nlive % 250 == 0) checks_bad |= rm_btree_check(&t) != 0;
  }
  ok(!bad && !checks_bad && m.bytes == 0,
     "strings: deleting and freeing bytes at once keeps the tree sound");
  rm_mem_release(&m);
}

/* The tree's contents as a model, for before/after comparisons. */
static int tree_equals(const rm_btree *t, const model *md) {
  rm_bt_iter it;
  const rm_bt_entry *e;
  size_t i = 0;
  if (rm_btree_count(t) != md->n || rm_btree_check(t) != 0) return 0;
  rm_btree_seek(t, 0, &it);
  while ((e = rm_btree_next(&it)) != NULL)
    if (i >= md->n || !same_entry(e, &md->sorted[i++])) return 0;
  return i == md->n;
}

/* Inserts e under a cap `room` bytes above current use. Returns the
 * insert's result; on failure checks that nothing changed. */
static int capped_insert(rm_btree *t, rm_mem *m, model *md,
                         const rm_bt_entry *e, size_t room, int *unchanged) {
  size_t before = m->bytes;
  int rc;
  m->limit = before + room;
  rc = rm_btree_insert(t, e);
  m->limit = 0;
  if (rc == 0) {
    model_add(md, e);
    return 0;
  }
  model_sync(md);
  if (m->bytes != before || !tree_equals(t, md) ||
      rm_btree_find(t, key_ptr(e), e->seq) != NULL)
    *unchanged = 0;
  return rc;
}

static void test_oom(void) {
  uint64_t s = 4242;
  rm_mem m;
  rm_btree t;
  model md;
  size_t i, fails = 0, fails2 = 0, fails3 = 0;
  int unchanged = 1, bad = 0;
  memset(&m, 0, sizeof m);
  rm_btree_init(&t, &m);
  model_init(&md, 60000, 60000);
  {
    rm_bt_entry e = entry(rm_int(1), md.next_seq++);
    m.limit = 1;
    ok(rm_btree_insert(&t, &e) == -1 && rm_btree_count(&t) == 0 &&
       t.root == NULL && m.bytes == 0,
       "oom: the first insert fails cleanly when the first leaf cannot be had");
    m.limit = 0;
  }
  /* Random keys, no room for any node: only inserts that split fail. */
  for (i = 0; i < 3000; i++) {
    rm_bt_entry e = entry(rm_int((int64_t)rnd_below(&s, 100000)), md.next_seq++);
    bad |= rm_btree_insert(&t, &e) != 0;
    model_add(&md, &e);
  }
  for (i = 0; i < 5000 && fails < 40; i++) {
    rm_bt_entry e = entry(rm_int((int64_t)rnd_below(&s, 100000)), md.next_seq++);
    if (capped_insert(&t, &m, &md, &e, 1, &unchanged) == 0) continue;
    fails++;
    bad |= rm_btree_insert(&t, &e) != 0; /* no cap: now it goes in */
    model_add(&md, &e);
  }
  ok(!bad && fails == 40, "oom: %zu leaf splits refused with no room", fails);
  ok(unchanged, "oom: each refused insert left count, entries and bytes as they were");
  /* Ascending keys: the rightmost path fills, and split chains of two and
   * three nodes (up to a new root) need room for all of them. */
  for (i = 0; i < 40000; i++) {
    rm_bt_entry e = entry(rm_int(1000000 + (int64_t)i), md.next_seq++);
    if (capped_insert(&t, &m, &md, &e, sizeof(rm_bt_leaf) + 8, &unchanged) == 0)
      continue;
    fails2++;
    if (capped_insert(&t, &m, &md, &e, sizeof(rm_bt_leaf) + sizeof(rm_bt_inner) + 8,
                      &unchanged) == 0)
      continue;
    fails3++;
    bad |= rm_btree_insert(&t, &e) != 0;
    model_add(&md, &e);
  }
  ok(!bad && fails2 > 10 && fails3 >= 1,
     "oom: %zu chains of two nodes and %zu of three refused when short", fails2,
     fails3);
  ok(unchanged, "oom: refused chains left the tree and its bytes as they were");
  model_sync(&md);
  ok(tree_equals(&t, &md), "oom: after the cap is lifted the tree holds every insert");
  {
    size_t before = 0;
    rm_btree_clear(&t);
    ok(m.bytes == before && rm_btree_count(&t) == 0, "clear: every byte is back");
    for (i = 0; i < 100; i++) {
      rm_bt_entry e = entry(rm_int((int64_t)i), i + 1);
      bad |= rm_btree_insert(&t, &e) != 0;
    }
    ok(!bad && rm_btree_count(&t) == 100 && rm_btree_check(&t) == 0,
       "clear: the tree is usable again");
    rm_btree_clear(&t);
    is_uint(m.bytes, 0, "clear: and frees again");
  }
  model_free(&md);
  rm_mem_release(&m);
}

/* ------------------------------------------------------------- unput */

/* What the inserts of the unput runs did, told by the bytes and height
 * they added, and what went wrong undoing them. */
typedef struct unput_tally {
  long seqs, inserts, firsts, puts, leaf_splits, inner_splits, new_roots;
  long failed_insert, step, check, content, absent;
} unput_tally;

static void snap_entries(const rm_btree *t, rm_bt_entry *snap) {
  rm_bt_iter it;
  const rm_bt_entry *e;
  size_t i = 0;
  rm_btree_seek(t, 0, &it);
  while ((e = rm_btree_next(&it)) != NULL) snap[i++] = *e;
}

/* The tree holds the n entries of snap, in that order. */
static int same_entries(const rm_btree *t, const rm_bt_entry *snap, size_t n) {
  rm_bt_iter it;
  const rm_bt_entry *e;
  size_t i = 0;
  if (rm_btree_count(t) != n) return 0;
  rm_btree_seek(t, 0, &it);
  while ((e = rm_btree_next(&it)) != NULL)
    if (i >= n || !same_entry(e, &snap[i++])) return 0;
  return i == n;
}

/* A key for an insert of a run: integer trees (int_span > 0, keys 0 to
 * int_span) get integers anywhere, past either end, or the key of the
 * run's previous insert; mixed trees get random keys of every kind. Both
 * often take the key of an entry in the tree, so that inserts pile up in
 * one leaf and split it, and pass entries to its neighbours. */
static rm_value unput_key(const rm_btree *t, uint64_t *s, int64_t int_span,
                          const rm_bt_entry *prev) {
  size_t k = rnd_below(s, 10);
  if (prev != NULL && k < 3) return rm_bt_entry_key(prev);
  if (k < 6 && rm_btree_count(t) > 0)
    return rm_bt_entry_key(rm_btree_at(t, rnd_below(s, rm_btree_count(t))));
  if (int_span == 0) return random_key(s);
  if (k == 6) return rm_int(int_span + 1 + (int64_t)rnd_below(s, 3));
  if (k == 7) return rm_int(-1 - (int64_t)rnd_below(s, 3));
  return rm_int((int64_t)rnd_below(s, (size_t)int_span + 1));
}

/* One run: 1 to 5 inserts, then unputs in the reverse order. After each
 * unput the bytes, count and height are those from before its insert and
 * its entry is gone (`deep`: the tree's checks pass too); at the end the
 * entries are those from before the run. */
static void unput_run(rm_btree *t, rm_mem *m, uint64_t *s, uint64_t *next_seq,
                      int64_t int_span, rm_bt_entry *snap, int deep,
                      unput_tally *ut) {
  rm_bt_entry e[5];
  size_t bytes[6], count[6];
  unsigned height[6];
  int n = 1 + (int)rnd_below(s, 5), k;
  snap_entries(t, snap);
  bytes[0] = m->bytes;
  count[0] = rm_btree_count(t);
  height[0] = t->height;
  ut->seqs++;
  for (k = 0; k < n; k++) {
    size_t added;
    e[k] = entry(unput_key(t, s, int_span, k > 0 ? &e[k - 1] : NULL),
                 (*next_seq)++);
    if (rm_btree_insert(t, &e[k]) != 0) {
      if (ut->failed_insert++ == 0) diag("unput: an insert failed");
      n = k;
      break;
    }
    bytes[k + 1] = m->bytes;
    count[k + 1] = rm_btree_count(t);
    height[k + 1] = t->height;
    added = bytes[k + 1] - bytes[k];
    ut->inserts++;
    if (height[k] == 0) ut->firsts++;
    else if (height[k + 1] > height[k]) ut->new_roots++;
    else if (added > sizeof(rm_bt_leaf)) ut->inner_splits++;
    else if (added == sizeof(rm_bt_leaf)) ut->leaf_splits++;
    else ut->puts++;
  }
  for (k = n; k-- > 0;) {
    int rc;
    rm_btree_unput(t, key_ptr(&e[k]), e[k].seq);
    if (m->bytes != bytes[k] || rm_btree_count(t) != count[k] ||
        t->height != height[k])
      if (ut->step++ < 5)
        diag("unput %d of %d: bytes %zu (want %zu), count %zu (want %zu), "
             "height %u (want %u)", k + 1, n, m->bytes, bytes[k],
             rm_btree_count(t), count[k], t->height, height[k]);
    if (rm_btree_find(t, key_ptr(&e[k]), e[k].seq) != NULL ||
        (k > 0 && rm_btree_find(t, key_ptr(&e[k - 1]), e[k - 1].seq) == NULL))
      if (ut->absent++ == 0) diag("unput %d of %d: wrong entries found", k + 1, n);
    if (deep && (rc = rm_btree_check(t)) != 0)
      if (ut->check++ < 5) diag("unput %d of %d: check fails at line %d", k + 1, n, rc);
  }
  if (rm_btree_check(t) != 0 && ut->check++ < 5) diag("after a run: check fails");
  if (!same_entries(t, snap, count[0]) && ut->content++ == 0)
    diag("after a run: the entries differ from before it");
}

/* Integer trees built by ascending inserts, whose nodes are all full: a
 * full root leaf (24), a full root over full leaves (504 = 24 * 21) and
 * full levels down to the leaves (10584 = 24 * 21 * 21), so that any
 * insert splits a leaf and every inner node above it and adds a root;
 * and sizes just around those. */
static void test_unput_full(unput_tally *ut) {
  static const size_t sizes[] = {0, 1, 23, 24, 25, 503, 504, 505, 10584};
  uint64_t s = 31337, next_seq = 1;
  size_t z, i;
  rm_bt_entry *snap = malloc(20000 * sizeof *snap);
  for (z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
    rm_mem m;
    rm_btree t;
    size_t n = sizes[z], runs = n > 1000 ? 60 : 300;
    uint64_t first = next_seq;
    int bad = 0;
    memset(&m, 0, sizeof m);
    rm_btree_init(&t, &m);
    for (i = 0; i < n; i++) {
      rm_bt_entry e = entry(rm_int((int64_t)i * 4), next_seq++);
      bad |= rm_btree_insert(&t, &e) != 0;
    }
    for (i = 0; i < runs; i++)
      unput_run(&t, &m, &s, &next_seq, (int64_t)n * 4, snap, n <= 1000, ut);
    /* Still a sound tree: deletes take it down to nothing. */
    for (i = 0; i < n; i++) {
      rm_value k = rm_int((int64_t)i * 4);
      bad |= rm_btree_delete(&t, &k, first + i) != 1;
    }
    ok(!bad && m.bytes == 0 && t.root == NULL,
       "unput on a tree of %zu ascending keys (%zu runs): deletes then free "
       "every byte", n, runs);
    rm_mem_release(&m);
  }
  free(snap);
}

/* Mixed keys (every kind, nil and strings included) in a tree that grows
 * and shrinks by committed inserts and deletes between the runs, from
 * empty to 6,000 entries and back. */
static void test_unput_random(unput_tally *ut) {
  enum { RUNS = 2400, CAP = 40000 };
  static const size_t targets[] = {30, 2000, 0, 6000, 300, 3000};
  uint64_t s = 0xC0FFEE, next_seq = 1;
  rm_mem m;
  rm_btree t;
  rm_bt_entry *live = malloc(CAP * sizeof *live);
  rm_bt_entry *snap = malloc((CAP + 8) * sizeof *snap);
  size_t nlive = 0, run, i;
  int bad = 0;
  memset(&m, 0, sizeof m);
  fill_str_pool(&s);
  rm_btree_init(&t, &m);
  for (run = 0; run < RUNS; run++) {
    size_t target = targets[run * 6 / RUNS];
    /* Committed changes toward the phase's size, and a few either way. */
    size_t ops = nlive + 400 < target || nlive > target + 400 ? 400 : 6;
    for (i = 0; i < ops; i++) {
      int grow = nlive < target ? rnd_below(&s, 8) != 0 : rnd_below(&s, 8) == 0;
      if ((grow || nlive == 0) && nlive < CAP) {
        rm_bt_entry e = entry(random_key(&s), next_seq++);
        bad |= rm_btree_insert(&t, &e) != 0;
        live[nlive++] = e;
      } else if (nlive > 0) {
        size_t j = rnd_below(&s, nlive);
        bad |= rm_btree_delete(&t, key_ptr(&live[j]), live[j].seq) != 1;
        live[j] = live[--nlive];
      }
    }
    unput_run(&t, &m, &s, &next_seq, 0, snap, nlive <= 1000, ut);
  }
  ok(!bad, "unput: the committed inserts and deletes between runs succeed");
  rm_btree_clear(&t);
  is_uint(m.bytes, 0, "unput: clear then frees every byte");
  free(live);
  free(snap);
  rm_mem_release(&m);
}

/* Inserts that fail for memory in the middle of a run leave nothing to
 * undo; the inserts before them are unput as usual. */
static void test_unput_oom(void) {
  rm_mem m;
  rm_btree t;
  rm_bt_entry e[3];
  size_t i, before;
  int bad = 0;
  memset(&m, 0, sizeof m);
  rm_btree_init(&t, &m);
  for (i = 0; i < 504; i++) {
    rm_bt_entry x = entry(rm_int((int64_t)i * 4), i + 1);
    bad |= rm_btree_insert(&t, &x) != 0;
  }
  before = m.bytes;
  e[0] = entry(rm_int(101), 1001); /* splits a leaf, the root, adds a root */
  e[1] = entry(rm_int(102), 1002);
  e[2] = entry(rm_int(1001), 1003); /* another full leaf: a split */
  bad |= rm_btree_insert(&t, &e[0]) != 0 || rm_btree_insert(&t, &e[1]) != 0;
  m.limit = m.bytes + 1;
  bad |= rm_btree_insert(&t, &e[2]) != -1;
  m.limit = 0;
  rm_btree_unput(&t, key_ptr(&e[1]), e[1].seq);
  rm_btree_unput(&t, key_ptr(&e[0]), e[0].seq);
  ok(!bad && m.bytes == before && t.height == 2 && rm_btree_count(&t) == 504 &&
     rm_btree_check(&t) == 0,
     "unput: inserts before one that failed for memory are undone");
  rm_btree_unput(&t, key_ptr(&e[2]), e[2].seq);
  ok(m.bytes == before && rm_btree_count(&t) == 504 && rm_btree_check(&t) == 0,
     "unput of an entry not in the tree changes nothing");
  rm_btree_clear(&t);
  rm_mem_release(&m);
}

/* Inserts, unputs and deletes at random. Unputs pop inserts like a
 * stack (the latest insert not yet undone, after any delete), and each
 * must give back the bytes its insert took; with `stray` set, unputs of
 * any entry come in too, which must still remove it and leave a sound
 * tree (the bytes are then not checked). */
static void unput_mixed(int stray) {
  enum { OPS = 12000, CAP = 2000 };
  uint64_t s = stray ? 0xBADC0DE : 0x5EED;
  rm_mem m;
  rm_btree t;
  model md;
  rm_bt_entry run[64];
  size_t run_bytes[64], nrun = 0, bad_bytes = 0, pops = 0, strays = 0;
  size_t split_pops = 0, peak = 0;
  long op;
  int bad = 0, unsound = 0;
  memset(&m, 0, sizeof m);
  rm_btree_init(&t, &m);
  model_init(&md, OPS + 1, OPS + 1);
  for (op = 0; op < OPS; op++) {
    size_t k = rnd_below(&s, 20);
    if ((k < 12 || md.nlive == 0) && md.nlive < CAP && nrun < 64) {
      /* Often the key of a live entry, so that leaves fill and split. */
      rm_bt_entry e = entry(md.nlive > 0 && k < 5
                                ? rm_bt_entry_key(&md.live[rnd_below(&s, md.nlive)])
                                : random_key(&s),
                            md.next_seq++);
      size_t before = m.bytes;
      bad |= rm_btree_insert(&t, &e) != 0;
      model_add(&md, &e);
      run[nrun] = e;
      run_bytes[nrun++] = before;
    } else if (k < 17 && nrun > 0) {
      size_t j, before = m.bytes;
      nrun--;
      for (j = 0; md.live[j].seq != run[nrun].seq; j++) continue;
      model_take(&md, j);
      rm_btree_unput(&t, key_ptr(&run[nrun]), run[nrun].seq);
      bad_bytes += m.bytes != run_bytes[nrun];
      split_pops += m.bytes < before;
      pops++;
    } else if (md.nlive > 0 && k >= 17) {
      rm_bt_entry e = model_take(&md, rnd_below(&s, md.nlive));
      if (stray && k >= 19) {
        rm_btree_unput(&t, key_ptr(&e), e.seq);
        strays++;
      } else {
        bad |= rm_btree_delete(&t, key_ptr(&e), e.seq) != 1;
      }
      nrun = 0;
    }
    if (op % 100 == 99) {
      model_sync(&md);
      unsound += !tree_equals(&t, &md);
    }
    if (md.nlive > peak) peak = md.nlive;
  }
  model_sync(&md);
  diag("unput %s: up to %zu entries, %zu unputs gave nodes back",
       stray ? "astray" : "as a stack", peak, split_pops);
  ok(!bad && unsound == 0 && tree_equals(&t, &md),
     "unput %s: %zu unputs%s; the tree holds what the model says and passes "
     "its checks throughout", stray ? "astray" : "as a stack", pops + strays,
     stray ? ", some of entries that were not the last insert" : "");
  if (!stray)
    is_uint(bad_bytes, 0, "unput as a stack: each of %zu unputs gives back "
            "the bytes its insert took", pops);
  rm_btree_clear(&t);
  is_uint(m.bytes, 0, "unput %s: clear frees every byte",
          stray ? "astray" : "as a stack");
  model_free(&md);
  rm_mem_release(&m);
}

/* Builds a tree of keys 0, 4, 8, ... by ascending inserts (seq = key / 4
 * + 1): full leaves, and full inner nodes above them. */
static void ascending_tree(rm_btree *t, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    rm_bt_entry e = entry(rm_int((int64_t)i * 4), i + 1);
    rm_btree_insert(t, &e);
  }
}

/* Unputs of entries that were not the last insert, in the three shapes
 * proper use never meets: the entry alone in its leaf (which then takes
 * an entry from the nearest neighbour with two, to the right or to the
 * left), and an entry beside a split that is not its own (then it goes
 * as by a delete). Each leaves a sound tree without the entry. */
static void test_unput_astray(void) {
  rm_mem m;
  rm_btree t;
  rm_bt_entry x, y;
  rm_value k;
  size_t bytes;
  memset(&m, 0, sizeof m);
  /* Three full leaves, one entry out of the last; -1 in front of the
   * first splits it into [-1] and the 24 others (its neighbour is full);
   * 1000 then goes into the last leaf, which has room. */
  rm_btree_init(&t, &m);
  ascending_tree(&t, 72);
  k = rm_int(284);
  rm_btree_delete(&t, &k, 72);
  x = entry(rm_int(-1), 100);
  y = entry(rm_int(1000), 101);
  rm_btree_insert(&t, &x);
  rm_btree_insert(&t, &y);
  bytes = m.bytes;
  rm_btree_unput(&t, key_ptr(&x), x.seq);
  ok(rm_btree_check(&t) == 0 && rm_btree_count(&t) == 72 &&
     rm_btree_find(&t, key_ptr(&x), x.seq) == NULL &&
     rm_btree_find(&t, key_ptr(&y), y.seq) != NULL && m.bytes == bytes &&
     rm_btree_at(&t, 0)->seq == 1 && t.root != NULL && t.height == 2 &&
     ((rm_bt_inner *)t.root)->n == 4,
     "unput astray: the only entry of the first leaf is replaced from the right");
  rm_btree_clear(&t);
  /* Three full leaves, four entries out of the first; 1000 splits the
   * last one into [24] and [1000]; 1 goes into the first leaf. */
  ascending_tree(&t, 72);
  for (k = rm_int(4); k.u.i <= 16; k.u.i += 4) rm_btree_delete(&t, &k, (uint64_t)k.u.i / 4 + 1);
  x = entry(rm_int(1000), 100);
  y = entry(rm_int(1), 101);
  rm_btree_insert(&t, &x);
  rm_btree_insert(&t, &y);
  bytes = m.bytes;
  rm_btree_unput(&t, key_ptr(&x), x.seq);
  ok(rm_btree_check(&t) == 0 && rm_btree_count(&t) == 69 &&
     rm_btree_find(&t, key_ptr(&x), x.seq) == NULL &&
     rm_btree_find(&t, key_ptr(&y), y.seq) != NULL && m.bytes == bytes &&
     rm_btree_at(&t, 68)->seq == 72,
     "unput astray: the only entry of the last leaf is replaced from the left");
  rm_btree_clear(&t);
  /* A full root over full leaves; 41 splits leaf 10, the root, and adds
   * a root; then an entry of leaf 3 is unput. */
  ascending_tree(&t, 504);
  x = entry(rm_int(41), 1000);
  rm_btree_insert(&t, &x);
  k = rm_int(300);
  rm_btree_unput(&t, &k, 76);
  ok(rm_btree_check(&t) == 0 && rm_btree_count(&t) == 504 &&
     rm_btree_find(&t, &k, 76) == NULL && rm_btree_find(&t, key_ptr(&x), x.seq) != NULL,
     "unput astray: an entry beside another insert's split goes as by a delete");
  rm_btree_unput(&t, key_ptr(&x), x.seq);
  ok(rm_btree_check(&t) == 0 && rm_btree_count(&t) == 503 &&
     rm_btree_find(&t, key_ptr(&x), x.seq) == NULL,
     "unput astray: ... and the tree stays sound for the next unput");
  rm_btree_clear(&t);
  is_uint(m.bytes, 0, "unput astray: clear frees every byte");
  rm_mem_release(&m);
}

static void test_unput(void) {
  unput_tally ut;
  memset(&ut, 0, sizeof ut);
  test_unput_full(&ut);
  test_unput_random(&ut);
  diag("unput: %ld runs, %ld inserts: %ld first leaves, %ld without a split, "
       "%ld leaf splits, %ld up into inner nodes, %ld new roots", ut.seqs,
       ut.inserts, ut.firsts, ut.puts, ut.leaf_splits, ut.inner_splits,
       ut.new_roots);
  ok(ut.failed_insert == 0, "unput: every insert of the runs succeeds");
  ok(ut.step == 0, "unput: after each unput, bytes, count and height are "
     "those from before its insert");
  ok(ut.absent == 0, "unput: each unput removes its entry and only it");
  ok(ut.check == 0, "unput: the tree's checks pass after every unput");
  ok(ut.content == 0, "unput: after each run the entries are those from before it");
  ok(ut.firsts > 0 && ut.puts > 0 && ut.leaf_splits > 100 &&
     ut.inner_splits > 100 && ut.new_roots > 100,
     "unput: the runs undo first leaves, plain inserts, leaf splits, inner "
     "splits and new roots");
  test_unput_oom();
  unput_mixed(0);
  unput_mixed(1);
  test_unput_astray();
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 100,000 inserts, rank queries and deletes; timed, not judged (valgrind
 * runs this too). */
static void test_speed(void) {
  enum { N = 100000 };
  uint64_t s = 99;
  rm_mem m;
  rm_btree t;
  size_t i, sum = 0;
  int64_t *keys = malloc(N * sizeof *keys);
  double t0, t1, t2, t3, peak;
  int bad = 0;
  memset(&m, 0, sizeof m);
  rm_btree_init(&t, &m);
  for (i = 0; i < N; i++) keys[i] = (int64_t)(rnd(&s) % 1000000000);
  t0 = seconds();
  for (i = 0; i < N; i++) {
    rm_bt_entry e = entry(rm_int(keys[i]), i + 1);
    bad |= rm_btree_insert(&t, &e);
  }
  t1 = seconds();
  peak = (double)m.bytes / N;
  for (i = 0; i < N; i++) {
    rm_value k = rm_int(keys[(i * 7919) % N]);
    sum += rm_btree_rank_lower(&t, &k, (int)(i & 1));
  }
  t2 = seconds();
  for (i = 0; i < N; i++) {
    rm_value k = rm_int(keys[i]);
    bad |= rm_btree_delete(&t, &k, i + 1) != 1;
  }
  t3 = seconds();
  ok(!bad && sum > 0 && m.bytes == 0, "speed: 100,000 inserts, ranks, deletes");
  ok(peak <= 56.0, "random inserts: %.1f bytes per entry (at most 56)", peak);
  diag("100000 random inserts %.1f ms (%.1f bytes/entry at the peak), "
       "rank_lower %.1f ms, deletes %.1f ms",
       (t1 - t0) * 1e3, peak, (t2 - t1) * 1e3, (t3 - t2) * 1e3);
  free(keys);
  rm_mem_release(&m);
}

int main(void) {
  diag("leaf %zu bytes (%d entries), inner node %zu bytes (%d children)",
       sizeof(rm_bt_leaf), RM_BT_LEAF_MAX, sizeof(rm_bt_inner), RM_BT_INNER_MAX);
  ok(sizeof(rm_bt_leaf) <= RM_SLAB_MAX && sizeof(rm_bt_inner) <= RM_SLAB_MAX,
     "nodes fit in slab blocks");
  test_empty();
  test_order();
  test_random();
  test_patterns();
  test_owned_strings();
  test_oom();
  test_unput();
  test_speed();
  return done_testing();
}
