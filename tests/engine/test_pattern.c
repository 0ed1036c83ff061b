/*
 * Patterns on string fields: compiled once at declaration with PCRE2,
 * bad patterns refused with PCRE2's message and offset, values searched
 * in UTF mode with Unicode classes, errors collected with the other rules.
 */
#include <string.h>

#include "restmachine_orm.h"
#include "tap.h"

#define S(lit) rm_str(lit, sizeof lit - 1)

/* A model whose field 1 has the pattern, and a max_length when max_len
 * is not -1; NULL (after a failing check) when it is refused. */
static rm_schema *with_pattern_length(const char *pattern, int64_t max_len,
                                      rm_diag *d) {
  rm_schema *s = rm_schema_new("Item");
  rm_diag_init(d);
  rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, d);
  rm_schema_add_field(s, "code", RM_T_STRING, RM_F_OPTIONAL, d);
  if (rm_schema_set_pattern(s, 1, pattern, strlen(pattern), d) < 0 ||
      rm_schema_set_length(s, 1, -1, max_len, d) < 0 ||
      rm_schema_finish(s, d) < 0) {
    rm_schema_unref(s);
    return NULL;
  }
  return s;
}

static rm_schema *with_pattern(const char *pattern, rm_diag *d) {
  return with_pattern_length(pattern, -1, d);
}

/* The first rule code broken by v ("" if none); *nerrors gets the count. */
static const char *check(const rm_schema *s, rm_value v, int *nerrors,
                         rm_diag *d) {
  rm_diag_init(d);
  rm_field_validate(s, 1, &v, d);
  *nerrors = d->nerrors;
  return d->nerrors ? d->errors[0].code : "";
}

static void matches(const rm_schema *s, rm_value v, const char *what) {
  rm_diag d;
  int n;
  is_str(check(s, v, &n, &d), "", "%s matches", what);
}

static void fails(const rm_schema *s, rm_value v, const char *what) {
  rm_diag d;
  int n;
  is_str(check(s, v, &n, &d), "pattern", "%s does not match", what);
}

static void test_python_syntax(void) {
  rm_diag d;
  rm_schema *s = with_pattern("^[A-Z]{3}\\d{6}$", &d);
  if (!ok(s != NULL, "^[A-Z]{3}\\d{6}$ compiles (%s)", d.message)) return;
  matches(s, S("ABC123456"), "ABC123456");
  fails(s, S("ABC12345"), "ABC12345 (too short)");
  fails(s, S("abc123456"), "abc123456 (lower case)");
  fails(s, S("ABC1234567"), "ABC1234567 (too long)");
  matches(s, S("ABC123456\n"), "a trailing newline before $ (as in Python and PCRE)");
  {
    rm_value v = S("xx");
    int n;
    check(s, v, &n, &d);
    ok(n == 1 && strstr(d.errors[0].message, "Item.code") != NULL &&
       strstr(d.errors[0].message, "^[A-Z]{3}\\d{6}$") != NULL,
       "the message names model, field and pattern: %s", d.errors[0].message);
    is_str(d.errors[0].field, "code", "the rule names the field");
  }
  {
    rm_value v = rm_nil();
    ok(rm_field_validate(s, 1, &v, &d) == 0, "nil in an optional field is not matched");
  }
  rm_schema_unref(s);
}

static void test_search_and_unicode(void) {
  rm_diag d;
  rm_schema *s = with_pattern("\\d+", &d);
  if (!ok(s != NULL, "\\d+ compiles")) return;
  matches(s, S("abc 42 def"), "an unanchored pattern found inside the text");
  fails(s, S("abc"), "text without digits");
  matches(s, S("\xd9\xa3"), "an Arabic-Indic digit (Unicode \\d, as Python's re)");
  rm_schema_unref(s);
  s = with_pattern("^.{3}$", &d);
  if (!ok(s != NULL, "^.{3}$ compiles")) return;
  matches(s, S("\xc3\xa4\xc3\xb6\xc3\xbc"), "three two-byte characters count as three (UTF mode)");
  fails(s, S("abcd"), "four characters");
  rm_schema_unref(s);
  s = with_pattern("(?i)^hello\\s\\w+$", &d);
  if (!ok(s != NULL, "inline flags, \\s and \\w compile")) return;
  matches(s, S("HeLLo W\xc3\xb6rld"), "case-insensitive, Unicode word characters");
  rm_schema_unref(s);
  s = with_pattern("^(?P<area>\\d{3})-(?P=area)$", &d);
  if (!ok(s != NULL, "Python's named groups compile")) return;
  matches(s, S("555-555"), "a named back-reference");
  fails(s, S("555-556"), "a broken back-reference");
  rm_schema_unref(s);
}

static void test_bad_patterns(void) {
  rm_diag d;
  rm_schema *s = with_pattern("([a-", &d);
  ok(s == NULL && d.kind == RM_E_CONFIG, "an unclosed class is a configuration error");
  ok(strstr(d.message, "Item.code") != NULL, "the message names model and field: %s", d.message);
  ok(strstr(d.message, "missing terminating ]") != NULL, "it gives PCRE2's message");
  ok(strstr(d.message, "at offset 4") != NULL, "and the offset");
  s = with_pattern("a{2,1}", &d);
  ok(s == NULL && d.kind == RM_E_CONFIG, "a{2,1} is refused: %s", d.message);
  s = with_pattern("(?<n>a)(?<n>b)", &d);
  ok(s == NULL && d.kind == RM_E_CONFIG, "a repeated group name is refused: %s", d.message);
  s = with_pattern("\xff", &d);
  ok(s == NULL && d.kind == RM_E_CONFIG, "a pattern that is not UTF-8 is refused");
  {
    rm_schema *t = rm_schema_new("Item");
    rm_diag_init(&d);
    rm_schema_add_field(t, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
    rm_schema_add_field(t, "blob", RM_T_BYTES, 0, &d);
    ok(rm_schema_set_pattern(t, 1, "a", 1, &d) < 0 && d.kind == RM_E_CONFIG,
       "a pattern on a bytes field is refused: %s", d.message);
    rm_schema_add_field(t, "n", RM_T_INTEGER, 0, &d);
    ok(rm_schema_set_pattern(t, 2, "a", 1, &d) < 0 && d.kind == RM_E_CONFIG,
       "a pattern on an integer field is refused");
    rm_schema_unref(t);
  }
}

/* All broken rules come in one pass: length, pattern, choices. */
static void test_with_other_rules(void) {
  rm_diag d;
  rm_schema *s = with_pattern_length("^[a-z]+$", 3, &d);
  rm_value v = S("ABCDEF");
  int n;
  if (!ok(s != NULL, "^[a-z]+$ compiles")) return;
  check(s, v, &n, &d);
  ok(n == 2 && strcmp(d.errors[0].code, "max_length") == 0 &&
     strcmp(d.errors[1].code, "pattern") == 0,
     "max_length and pattern are both reported (%s)", d.message);
  v = S("\xff");
  check(s, v, &n, &d);
  ok(n == 1 && strcmp(d.errors[0].code, "utf8") == 0,
     "invalid UTF-8 is reported before any matching");
  rm_schema_unref(s);
  /* Before finish, that is: a finished schema takes no new rules. */
  s = rm_schema_new("Item");
  rm_diag_init(&d);
  rm_schema_add_field(s, "id", RM_T_INTEGER, RM_F_PRIMARY_KEY, &d);
  rm_schema_add_field(s, "code", RM_T_STRING, 0, &d);
  rm_schema_set_pattern(s, 1, "^[a-z]+$", 8, &d);
  ok(rm_schema_set_pattern(s, 1, "^x$", 3, &d) == 0 && rm_schema_finish(s, &d) == 0,
     "a second pattern replaces the first");
  matches(s, S("x"), "the replacing pattern");
  is_str(check(s, S("abc"), &n, &d), "pattern", "the first pattern is gone");
  rm_schema_unref(s);
}

int main(void) {
  test_python_syntax();
  test_search_and_unicode();
  test_bad_patterns();
  test_with_other_rules();
  return done_testing();
}
