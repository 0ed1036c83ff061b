/*
 * The engine allocator: counts the bytes each store holds, can be capped so
 * that tests reach the out-of-memory paths, and serves small blocks from
 * the store's slab (slab.c) and larger ones from malloc.
 */
#include <stdlib.h>

#include "internal.h"

/* Valgrind builds give every block to malloc, so memcheck tracks each. */
#ifdef RM_SLAB_DISABLE
#define USE_SLAB(size) 0
#else
#define USE_SLAB(size) ((size) <= RM_SLAB_MAX)
#endif

static int over_limit(const rm_mem *m, size_t more) {
  return m->limit != 0 && m->bytes + more > m->limit;
}

void *rm_mem_alloc(rm_mem *m, size_t size) {
  void *p;
  if (over_limit(m, size)) return NULL;
  if (USE_SLAB(size)) {
    p = rm_slab_alloc(&m->slab, size);
  } else {
    p = malloc(size ? size : 1);
    if (p != NULL) m->large += size;
  }
  if (p != NULL) m->bytes += size;
  return p;
}

void rm_mem_free(rm_mem *m, void *p, size_t size) {
  if (p == NULL) return;
  m->bytes -= size;
  if (USE_SLAB(size)) {
    rm_slab_free(&m->slab, p);
  } else {
    m->large -= size;
    free(p);
  }
}

void rm_mem_release(rm_mem *m) { rm_slab_release(&m->slab); }

size_t rm_mem_reserved(const rm_mem *m) { return m->slab.reserved + m->large; }

void *rm_xalloc(size_t size) { return malloc(size); }

void rm_xfree(void *p) { free(p); }
