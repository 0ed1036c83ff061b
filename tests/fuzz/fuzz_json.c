/*
 * Fuzzes rm_json_check, the gate for encoded json values from a host:
 * every other json function walks its input unchecked. Each accepted
 * value is also skipped, measured and written as text into a buffer of
 * exactly the measured size, compared with itself, searched (contains)
 * and counted, and validated as a json field with a length limit (which
 * runs the check again through rm_field_validate). When it is an array,
 * equality between its first elements must be symmetric (it was not for
 * objects with a key twice, which the check now refuses).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restmachine_orm.h"

static rm_schema *schema;

static void setup(void) {
  rm_diag d;
  rm_diag_init(&d);
  schema = rm_schema_new("Doc");
  if (schema == NULL ||
      rm_schema_add_field(schema, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d) != 0 ||
      rm_schema_add_field(schema, "body", RM_T_JSON, 0, &d) != 1 ||
      rm_schema_set_length(schema, 1, 0, 1000, &d) != 0 ||
      rm_schema_finish(schema, &d) != 0)
    abort();
}

/* The first few elements of an array: each equal to itself, and equal to
 * another exactly when that one is equal to it. */
static void symmetric(const unsigned char *p) {
  const unsigned char *e[4];
  rm_json_item it;
  size_t n, i, j;
  p = rm_json_get(p, &it);
  if (it.tag != RM_J_ARRAY) return;
  n = it.n < 4 ? it.n : 4;
  for (i = 0; i < n; i++) {
    e[i] = p;
    p = rm_json_skip(p);
  }
  for (i = 0; i < n; i++) {
    if (!rm_json_equal(e[i], e[i])) abort();
    for (j = i + 1; j < n; j++)
      if (rm_json_equal(e[i], e[j]) != rm_json_equal(e[j], e[i])) abort();
  }
}

static void use(const unsigned char *p, size_t len) {
  static const rm_value probes[] = {
      {RM_V_INT, {.i = 1}}, {RM_V_FLOAT, {.f = 1.5}}, {RM_V_TRUE, {.i = 0}}};
  rm_value s = rm_str("x", 1), v = rm_json(p, len);
  size_t n, i;
  char *text;
  rm_diag d;
  if (rm_json_skip(p) != p + len) abort();
  n = rm_json_text(p, NULL);
  text = malloc(n ? n : 1);
  if (text == NULL || rm_json_text(p, text) != n) abort();
  free(text);
  if (!rm_json_equal(p, p) || !rm_value_equal(&v, &v)) abort();
  symmetric(p);
  for (i = 0; i < sizeof probes / sizeof probes[0]; i++)
    (void)rm_json_contains(p, &probes[i]);
  (void)rm_json_contains(p, &s);
  (void)rm_json_array_length(p);
  rm_diag_init(&d);
  if (rm_field_validate(schema, 1, &v, &d) < 0 &&
      (d.kind != RM_E_VALIDATION ||
       (strcmp(d.errors[0].code, "type") != 0 &&
        strcmp(d.errors[0].code, "max_length") != 0)))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char why[80];
  if (schema == NULL) setup();
  why[0] = '\0';
  if (rm_json_check(data, size, why, sizeof why) == 0) use(data, size);
  else if (why[0] == '\0') abort(); /* a refusal says why */
  return 0;
}
