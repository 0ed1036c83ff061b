/*
 * Structured errors: what failed (kind), a message, and for validation one
 * entry per broken rule. Callers own the rm_diag; nothing here allocates.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void rm_diag_init(rm_diag *d) {
  d->kind = RM_OK;
  d->message[0] = '\0';
  d->nerrors = 0;
  d->truncated = 0;
}

const char *rm_errkind_name(rm_errkind kind) {
  switch (kind) {
    case RM_OK: return "OK";
    case RM_E_VALIDATION: return "ValidationError";
    case RM_E_DUPLICATE: return "DuplicateKeyError";
    case RM_E_NOT_FOUND: return "NotFoundError";
    case RM_E_MULTIPLE: return "MultipleResultsError";
    case RM_E_CONFIG: return "ConfigurationError";
    case RM_E_MEMORY: return "BackendError"; /* out of memory */
    case RM_E_BACKEND: return "BackendError";
  }
  return "BackendError";
}

void rm_diag_set(rm_diag *d, rm_errkind kind, const char *fmt, ...) {
  va_list ap;
  d->kind = kind;
  va_start(ap, fmt);
  vsnprintf(d->message, sizeof d->message, fmt, ap);
  va_end(ap);
}

static void copy_str(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* Records one broken rule. The overall message joins the rules' messages
 * with "; " so that it reads well on its own. */
void rm_diag_field_error(rm_diag *d, const char *field, const char *code,
                         const char *fmt, ...) {
  va_list ap;
  rm_field_error *e;
  size_t used;
  d->kind = RM_E_VALIDATION;
  if (d->nerrors == RM_MAX_FIELD_ERRORS) {
    d->truncated = 1;
    return;
  }
  e = &d->errors[d->nerrors++];
  copy_str(e->field, sizeof e->field, field);
  copy_str(e->code, sizeof e->code, code);
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  if (d->nerrors == 1) d->message[0] = '\0';
  used = strlen(d->message);
  snprintf(d->message + used, sizeof d->message - used, "%s%s",
           d->nerrors == 1 ? "" : "; ", e->message);
}
