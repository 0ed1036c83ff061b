/*
 * Fuzzes the engine's handling of text a client sends as a value or a
 * name: the input, as a string, is validated for every field of a model
 * whose string field has a pattern, lengths and choices (rm_field_validate:
 * UTF-8 check, character count, PCRE2 search, datetime parsing, json and
 * number type errors), made the value of an equality and a startswith
 * condition on each field (rm_node_cond coerces it, as a filter from a
 * query string), matched against a stored record, and looked up as a
 * field name and a lookup suffix (rm_schema_find, rm_op_parse).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restmachine_orm.h"

enum { F_ID, F_CODE, F_NOTE, F_AT, F_N, F_DOC, NFIELDS };

static rm_schema *schema;
static unsigned char record[64];

static void setup(void) {
  rm_value v[NFIELDS];
  rm_diag d;
  rm_diag_init(&d);
  schema = rm_schema_new("Ticket");
  if (schema == NULL ||
      rm_schema_add_field(schema, "id", RM_T_STRING, RM_F_PRIMARY_KEY, &d) < 0 ||
      rm_schema_add_field(schema, "code", RM_T_STRING, 0, &d) < 0 ||
      rm_schema_add_field(schema, "note", RM_T_BYTES, RM_F_OPTIONAL, &d) < 0 ||
      rm_schema_add_field(schema, "at", RM_T_DATETIME, 0, &d) < 0 ||
      rm_schema_add_field(schema, "n", RM_T_INTEGER, RM_F_OPTIONAL, &d) < 0 ||
      rm_schema_add_field(schema, "doc", RM_T_JSON, RM_F_OPTIONAL, &d) < 0 ||
      rm_schema_set_length(schema, F_ID, 1, 12, &d) < 0 ||
      rm_schema_set_pattern(schema, F_ID, "^\\w+(-\\d+)*$", 12, &d) < 0 ||
      rm_schema_add_choice(schema, F_CODE, rm_str("open", 4), &d) < 0 ||
      rm_schema_add_choice(schema, F_CODE, rm_str("ÉTÉ", 5), &d) < 0 ||
      rm_schema_finish(schema, &d) < 0)
    abort();
  v[F_ID] = rm_str("t-1", 3);
  v[F_CODE] = rm_str("open", 4);
  v[F_NOTE] = rm_str("a\0b", 3);
  v[F_AT] = rm_float(1700000000.5);
  v[F_N] = rm_int(-7);
  v[F_DOC] = rm_nil();
  if (rm_record_encoded_size(schema, v) > sizeof record) abort();
  rm_record_encode(schema, v, record);
}

/* A refusal is a validation error whose entries name the field. */
static void validate(int field, const char *text, size_t len) {
  rm_value v = rm_str(text, len);
  rm_diag d;
  int i;
  rm_diag_init(&d);
  if (rm_field_validate(schema, field, &v, &d) == 0) return;
  if (d.kind != RM_E_VALIDATION || d.nerrors < 1) abort();
  for (i = 0; i < d.nerrors; i++)
    if (strcmp(d.errors[i].field, rm_field_name(schema, field)) != 0) abort();
}

static void filter(int field, rm_op op, const char *text, size_t len) {
  rm_value v = rm_str(text, len);
  rm_diag d;
  rm_node *n;
  rm_diag_init(&d);
  n = rm_node_cond(schema, field, op, &v, 1, &d);
  if (n == NULL) {
    if (d.kind != RM_E_VALIDATION) abort();
    return;
  }
  (void)rm_node_matches(n, schema, record);
  (void)rm_node_hash(n, 0);
  rm_node_unref(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  size_t chars;
  int i;
  if (schema == NULL) setup();
  if (rm_utf8_check(text, size, &chars) && chars > size) abort();
  for (i = 0; i < NFIELDS; i++) {
    validate(i, text, size);
    filter(i, RM_OP_EQ, text, size);
    filter(i, RM_OP_ISTARTSWITH, text, size);
  }
  i = rm_op_parse(text, size);
  if (i >= 0 && strlen(rm_op_name((rm_op)i)) != size) abort();
  i = rm_schema_find(schema, text, size);
  if (i >= 0 && strlen(rm_field_name(schema, i)) != size) abort();
  return 0;
}
