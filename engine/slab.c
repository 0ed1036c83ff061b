/*
 * Slab allocation for the small blocks a store is made of (records, unique
 * map entries): 64 KiB pages taken from the system with mmap, one block
 * size per page, in 8-byte steps. Compared with malloc this saves the
 * per-chunk header and 16-byte rounding (about 10 bytes a record), and it
 * keeps records out of the heap that Lua's short-lived garbage churns, so
 * that holes left by that garbage do not inflate the process. A page goes
 * back to the system as soon as its last block is freed.
 *
 * Builds for valgrind define RM_SLAB_DISABLE (see mem.c) so that memcheck
 * sees every record as a heap block of its own.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

#define PAGE_SIZE RM_SLAB_PAGE

struct rm_slab_page {
  rm_slab_page *prev, *next; /* in its class's list of pages with room */
  void *free;                /* freed blocks, linked through their first word */
  uint32_t live;             /* blocks in use */
  uint32_t bump;             /* offset of the first never-used block */
  uint32_t block;            /* block size */
  uint32_t listed;           /* on the class list */
};

#define FIRST_BLOCK ((sizeof(rm_slab_page) + 7) & ~(size_t)7)

static size_t class_of(size_t size) { return (size + 7) / 8 - 1; }

static rm_slab_page *page_of(void *p) {
  return (rm_slab_page *)((uintptr_t)p & ~(uintptr_t)(PAGE_SIZE - 1));
}

/* A PAGE_SIZE-aligned page: map twice the size, unmap the slack. */
static rm_slab_page *map_page(void) {
  char *raw = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *start;
  size_t head;
  if (raw == MAP_FAILED) return NULL;
  start = (char *)(((uintptr_t)raw + PAGE_SIZE - 1) & ~(uintptr_t)(PAGE_SIZE - 1));
  head = (size_t)(start - raw);
  if (head) munmap(raw, head);
  munmap(start + PAGE_SIZE, PAGE_SIZE - head);
  return (rm_slab_page *)start;
}

static void list_add(rm_slab *s, size_t cls, rm_slab_page *pg) {
  pg->prev = NULL;
  pg->next = s->avail[cls];
  if (pg->next) pg->next->prev = pg;
  s->avail[cls] = pg;
  pg->listed = 1;
}

static void list_remove(rm_slab *s, size_t cls, rm_slab_page *pg) {
  if (pg->prev) pg->prev->next = pg->next;
  else s->avail[cls] = pg->next;
  if (pg->next) pg->next->prev = pg->prev;
  pg->listed = 0;
}

static rm_slab_page *new_page(rm_slab *s, size_t cls) {
  rm_slab_page *pg = map_page();
  if (pg == NULL) return NULL;
  memset(pg, 0, sizeof *pg);
  pg->block = (uint32_t)((cls + 1) * 8);
  pg->bump = (uint32_t)FIRST_BLOCK;
  s->reserved += PAGE_SIZE;
  list_add(s, cls, pg);
  return pg;
}

static int page_full(const rm_slab_page *pg) {
  return pg->free == NULL && pg->bump + pg->block > PAGE_SIZE;
}

void *rm_slab_alloc(rm_slab *s, size_t size) {
  size_t cls = class_of(size ? size : 1);
  rm_slab_page *pg = s->avail[cls];
  void *p;
  if (pg == NULL && (pg = new_page(s, cls)) == NULL) return NULL;
  if (pg->free != NULL) {
    p = pg->free;
    memcpy(&pg->free, p, sizeof pg->free);
  } else {
    p = (char *)pg + pg->bump;
    pg->bump += pg->block;
  }
  pg->live++;
  if (page_full(pg)) list_remove(s, cls, pg);
  return p;
}

/* The last page of a class stays mapped when it empties, so that a
 * create/delete cycle at a page boundary does not map and unmap each
 * time. */
void rm_slab_free(rm_slab *s, void *p) {
  rm_slab_page *pg = page_of(p);
  size_t cls = class_of(pg->block);
  memcpy(p, &pg->free, sizeof pg->free);
  pg->free = p;
  pg->live--;
  if (!pg->listed) list_add(s, cls, pg);
  if (pg->live == 0 && (pg->next != NULL || pg->prev != NULL)) {
    list_remove(s, cls, pg);
    s->reserved -= PAGE_SIZE;
    munmap(pg, PAGE_SIZE);
  }
}

/* Unmaps the pages kept empty; every block must have been freed. */
void rm_slab_release(rm_slab *s) {
  size_t cls;
  for (cls = 0; cls < RM_SLAB_CLASSES; cls++) {
    while (s->avail[cls] != NULL) {
      rm_slab_page *pg = s->avail[cls];
      list_remove(s, cls, pg);
      s->reserved -= PAGE_SIZE;
      munmap(pg, PAGE_SIZE);
    }
  }
}
