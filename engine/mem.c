/*
 * The engine allocator: counts the bytes each store holds and can be capped
 * so that tests reach the out-of-memory paths.
 */
#include <stdlib.h>

#include "internal.h"

static int over_limit(const rm_mem *m, size_t more) {
  return m->limit != 0 && m->bytes + more > m->limit;
}

void *rm_mem_alloc(rm_mem *m, size_t size) {
  void *p;
  if (over_limit(m, size)) return NULL;
  p = malloc(size);
  if (p != NULL) m->bytes += size;
  return p;
}

void *rm_mem_realloc(rm_mem *m, void *p, size_t old_size, size_t new_size) {
  void *q;
  if (new_size > old_size && over_limit(m, new_size - old_size)) return NULL;
  q = realloc(p, new_size);
  if (q != NULL) m->bytes = m->bytes - old_size + new_size;
  return q;
}

void rm_mem_free(rm_mem *m, void *p, size_t size) {
  if (p == NULL) return;
  m->bytes -= size;
  free(p);
}

void *rm_xalloc(size_t size) { return malloc(size); }

void rm_xfree(void *p) { free(p); }
