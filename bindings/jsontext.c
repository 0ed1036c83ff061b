/*
 * JSON text in and out of instances with jansson: u:to_json() and
 * User:from_json(text).
 *
 * to_json writes one compact object with every (loaded) field in field
 * order: nil as null, datetimes as ISO-8601 text with "Z", bytes as
 * standard padded base64, json fields as their value, integers as
 * integers and floats as reals (2.0 stays 2.0). Reals are written with the
 * fewest digits (15 to 17) that read back exactly for every real of the
 * document, so that 0.1 reads 0.1 and the round trip is exact.
 *
 * from_json parses strictly (duplicate keys, trailing text and invalid
 * JSON are errors naming the model, with jansson's message and position),
 * turns base64 text back into bytes, and builds the instance through the
 * constructor's own path (defaults, unknown keys, every rule). null gives
 * a field nil even when it has a default, so from_json(u:to_json()) == u.
 * Two things jansson refuses are handled apart (see "what jansson
 * refuses"): integers beyond 64 bits are read as reals, and object keys
 * holding a zero byte are refused naming the field.
 *
 * jansson trees are C memory: while one is alive it sits in a "box"
 * userdata whose finalizer frees it, so that a Lua error raised while the
 * result is built (out of memory) leaks nothing (the liolib recipe).
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings.h"

/* --------------------------------------------------------------- boxes */

typedef struct json_box {
  json_t *root;
  char *text;
} json_box;

static void box_free(json_box *b) {
  json_free_t free_fn;
  json_decref(b->root);
  b->root = NULL;
  if (b->text != NULL) {
    json_get_alloc_funcs(NULL, &free_fn);
    free_fn(b->text);
    b->text = NULL;
  }
}

static int box_gc(lua_State *L) {
  box_free(luaL_checkudata(L, 1, RM_JSONBOX_MT));
  return 0;
}

/* An empty box: [-0, +1]. */
static json_box *new_box(lua_State *L) {
  json_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->root = NULL;
  b->text = NULL;
  luaL_setmetatable(L, RM_JSONBOX_MT);
  return b;
}

/* -------------------------------------------------------------- base64 */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes (len + 2) / 3 * 4 characters. */
static void b64_encode(const unsigned char *in, size_t len, char *out) {
  size_t i, n = 0;
  for (i = 0; i < len; i += 3) {
    size_t k = len - i < 3 ? len - i : 3;
    uint32_t w = (uint32_t)in[i] << 16;
    if (k > 1) w |= (uint32_t)in[i + 1] << 8;
    if (k > 2) w |= in[i + 2];
    out[n++] = b64[w >> 18 & 63];
    out[n++] = b64[w >> 12 & 63];
    out[n++] = k > 1 ? b64[w >> 6 & 63] : '=';
    out[n++] = k > 2 ? b64[w & 63] : '=';
  }
}

static int b64_value(char c) {
  const char *p = c ? strchr(b64, c) : NULL;
  return p ? (int)(p - b64) : -1;
}

/* Strict: whole groups of four, '=' padding only at the end, unused bits
 * zero, so that each byte string has exactly one text. Returns the byte
 * count or -1. */
static long b64_decode(const char *in, size_t len, unsigned char *out) {
  size_t i, n = 0;
  if (len % 4 != 0) return -1;
  for (i = 0; i < len; i += 4) {
    int last = i + 4 == len, pad = 0, j;
    uint32_t w = 0;
    if (last) pad = (in[i + 3] == '=') + (in[i + 2] == '=' && in[i + 3] == '=');
    for (j = 0; j < 4; j++) {
      int v = j >= 4 - pad ? 0 : b64_value(in[i + j]);
      if (v < 0) return -1;
      w = w << 6 | (uint32_t)v;
    }
    if ((pad == 1 && (w & 0xFF)) || (pad == 2 && (w & 0xFFFF))) return -1;
    out[n++] = (unsigned char)(w >> 16);
    if (pad < 2) out[n++] = (unsigned char)(w >> 8);
    if (pad < 1) out[n++] = (unsigned char)w;
  }
  return (long)n;
}

/* ------------------------------------------------------------- to_json */

static void note_digits(int *digits, double f) {
  int k = rm_float_digits(f);
  if (k > *digits) *digits = k;
}

/* An encoded json value (checked when stored) as a jansson tree. */
static json_t *blob_tree(const unsigned char **pp, int *digits) {
  rm_json_item it;
  json_t *t, *e;
  size_t i, klen;
  const char *key;
  *pp = rm_json_get(*pp, &it);
  switch (it.tag) {
    case RM_J_NULL: return json_null();
    case RM_J_FALSE: return json_false();
    case RM_J_TRUE: return json_true();
    case RM_J_INT: return json_integer((json_int_t)it.i);
    case RM_J_FLOAT: note_digits(digits, it.f); return json_real(it.f);
    case RM_J_STR: return json_stringn_nocheck(it.s, it.n);
    case RM_J_ARRAY:
      if ((t = json_array()) == NULL) return NULL;
      for (i = 0; i < it.n; i++) {
        if ((e = blob_tree(pp, digits)) == NULL || json_array_append_new(t, e) < 0) {
          json_decref(t);
          return NULL;
        }
      }
      return t;
    case RM_J_OBJECT:
      if ((t = json_object()) == NULL) return NULL;
      for (i = 0; i < it.n; i++) {
        *pp = rm_json_get_key(*pp, &key, &klen);
        if ((e = blob_tree(pp, digits)) == NULL ||
            json_object_setn_new_nocheck(t, key, klen, e) < 0) {
          json_decref(t);
          return NULL;
        }
      }
      return t;
  }
  return NULL;
}

static json_t *bytes_tree(const rm_value *v) {
  size_t n = (v->u.s.len + 2) / 3 * 4;
  char *text = malloc(n ? n : 1);
  json_t *t;
  if (text == NULL) return NULL;
  b64_encode((const unsigned char *)v->u.s.ptr, v->u.s.len, text);
  t = json_stringn_nocheck(text, n);
  free(text);
  return t;
}

/* Datetimes are floats here (validation stores them so); a C host might
 * have stored an integer. */
static json_t *datetime_tree(double t) {
  char iso[40];
  return json_stringn_nocheck(iso, rm_datetime_format(t, iso));
}

/* One field's value as a tree; NULL when out of memory, or with d filled
 * when the value has no JSON form (an infinite number). */
static json_t *field_tree(const l_instance *u, int field, int *digits,
                          rm_diag *d) {
  const rm_schema *s = u->schema;
  rm_ftype type = rm_field_type(s, field);
  rm_value v;
  rm_record_get(s, u->data, field, &v);
  switch (v.tag) {
    case RM_V_FALSE:
    case RM_V_TRUE: return json_boolean(v.tag == RM_V_TRUE);
    case RM_V_INT:
      if (type == RM_T_DATETIME) return datetime_tree((double)v.u.i);
      return json_integer((json_int_t)v.u.i);
    case RM_V_FLOAT:
      if (type == RM_T_DATETIME) return datetime_tree(v.u.f);
      if (!isfinite(v.u.f)) {
        rm_diag_field_error(d, rm_field_name(s, field), "json",
                            "%s.%s: %g cannot be written as JSON",
                            rm_schema_name(s), rm_field_name(s, field), v.u.f);
        return NULL;
      }
      note_digits(digits, v.u.f);
      return json_real(v.u.f);
    case RM_V_STR:
      if (type == RM_T_BYTES) return bytes_tree(&v);
      return json_stringn_nocheck(v.u.s.ptr, v.u.s.len); /* valid UTF-8 */
    case RM_V_JSON: {
      const unsigned char *p = (const unsigned char *)v.u.s.ptr;
      return blob_tree(&p, digits);
    }
    default: return json_null();
  }
}

/* The instance's (loaded) fields as an object, in field order. */
static json_t *instance_tree(const l_instance *u, int *digits, rm_diag *d) {
  const rm_schema *s = u->schema;
  int i, n = rm_schema_nfields(s);
  json_t *obj = json_object(), *v;
  for (i = 0; i < n && obj != NULL; i++) {
    if (u->mask != NULL && !u->mask[i]) continue;
    v = field_tree(u, i, digits, d);
    if (v == NULL || json_object_set_new(obj, rm_field_name(s, i), v) < 0) {
      json_decref(obj);
      obj = NULL;
    }
  }
  if (obj == NULL && d->kind == RM_OK)
    rm_diag_set(d, RM_E_MEMORY, "%s: out of memory writing JSON",
                rm_schema_name(s));
  return obj;
}

/* core.to_json(u) -> JSON text. */
static int l_to_json(lua_State *L) {
  l_instance *u = rml_checkinstance(L, 1);
  json_box *b;
  rm_diag d;
  int digits = 15;
  lua_settop(L, 1);
  b = new_box(L);
  rm_diag_init(&d);
  b->root = instance_tree(u, &digits, &d);
  if (b->root != NULL)
    b->text = json_dumps(b->root, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                      JSON_REAL_PRECISION(digits));
  if (b->text == NULL) {
    box_free(b);
    if (d.kind == RM_OK)
      rm_diag_set(&d, RM_E_MEMORY, "%s: out of memory writing JSON",
                  rm_schema_name(u->schema));
    return rml_raise(L, &d);
  }
  lua_pushstring(L, b->text);
  box_free(b);
  return 1;
}

/* ----------------------------------------------------------- from_json */

/* A JSON value as a Lua value: null is orm.null, arrays are lists,
 * objects tables with string keys. */
static void push_tree(lua_State *L, json_t *t) {
  size_t i, klen;
  const char *key;
  json_t *v;
  luaL_checkstack(L, 4, "JSON text nested too deeply");
  switch (json_typeof(t)) {
    case JSON_OBJECT:
      lua_createtable(L, 0, (int)json_object_size(t));
      json_object_keylen_foreach(t, key, klen, v) {
        lua_pushlstring(L, key, klen);
        push_tree(L, v);
        lua_rawset(L, -3);
      }
      break;
    case JSON_ARRAY:
      lua_createtable(L, (int)json_array_size(t), 0);
      json_array_foreach(t, i, v) {
        push_tree(L, v);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
      }
      break;
    case JSON_STRING: lua_pushlstring(L, json_string_value(t), json_string_length(t)); break;
    case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(t)); break;
    case JSON_REAL: lua_pushnumber(L, json_real_value(t)); break;
    case JSON_TRUE: lua_pushboolean(L, 1); break;
    case JSON_FALSE: lua_pushboolean(L, 0); break;
    case JSON_NULL: rml_pushnull(L); break;
  }
}

/* A bytes field's base64 text as bytes; on bad text the rule is added to
 * d and the text itself pushed, so that the other fields are still
 * checked. */
static void push_bytes(lua_State *L, const rm_schema *s, int field,
                       json_t *t, rm_diag *d) {
  size_t len = json_string_length(t);
  unsigned char *buf = lua_newuserdatauv(L, len / 4 * 3 + 1, 0);
  long n = b64_decode(json_string_value(t), len, buf);
  if (n >= 0) {
    lua_pushlstring(L, (const char *)buf, (size_t)n);
  } else {
    rm_diag_field_error(d, rm_field_name(s, field), "base64",
                        "%s.%s: invalid base64 text (standard alphabet, "
                        "padded with '=')", rm_schema_name(s),
                        rm_field_name(s, field));
    push_tree(L, t);
  }
  lua_remove(L, -2);
}

/* The spec value for one key of the object: orm.null for null (a nil
 * on purpose), bytes for base64 text in a bytes field, else the plain
 * Lua value; true for unknown keys, which the constructor reports. */
static void push_spec_value(lua_State *L, const rm_schema *s, int field,
                            json_t *t, rm_diag *d) {
  if (field < 0) lua_pushboolean(L, 1);
  else if (rm_field_type(s, field) == RM_T_BYTES && json_is_string(t))
    push_bytes(L, s, field, t, d);
  else push_tree(L, t);
}

static const char *json_kind(const json_t *t) {
  switch (json_typeof(t)) {
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    default: return "an object";
  }
}

static int text_error(lua_State *L, json_box *b, const rm_schema *s,
                      const char *fmt, const char *what, const json_error_t *e) {
  rm_diag d;
  char msg[200];
  box_free(b);
  rm_diag_init(&d);
  snprintf(msg, sizeof msg, fmt, what);
  if (e != NULL)
    rm_diag_field_error(&d, "", "json", "%s: %s: %s (line %d, column %d, "
                        "position %d)", rm_schema_name(s), msg, e->text,
                        e->line, e->column, e->position);
  else
    rm_diag_field_error(&d, "", "json", "%s: %s", rm_schema_name(s), msg);
  return rml_raise(L, &d);
}

/* ------------------------------------------------ what jansson refuses */

#define LOAD_FLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY)
#define NO_BIG_INT ((size_t)-1)

/* jansson refuses an integer literal outside int64 ("too big integer") and
 * has no hook for one number; JSON_DECODE_INT_AS_REAL would read every
 * integer as a real, inexact past 2^53. So a text refused for a number is
 * read again from a copy where each such literal ends in ".0": a real,
 * which jansson reads with strtod as the nearest double (or refuses as
 * any real too big for one). Number and json fields then hold that float;
 * an integer field checks it as any float, so refuses it (the literals
 * from -2^63-1024 to -2^63-1 round to -2^63, which fits). Only such texts
 * are copied and scanned; the others are read once, as before. */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int in_number(char c) {
  return is_digit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

/* The offset just past the string opening at s[i] (len if unterminated). */
static size_t skip_string(const char *s, size_t len, size_t i) {
  for (i++; i < len && s[i] != '"'; i++)
    if (s[i] == '\\') i++;
  return i < len ? i + 1 : len;
}

/* The offset just past the next integer literal outside strings, from
 * offset i, that strtoll cannot hold (jansson's own test); NO_BIG_INT when
 * there is none. *line counts the newlines passed. s is a Lua string, so
 * strtoll stops at its terminating zero at the latest. */
static size_t next_big_int(const char *s, size_t len, size_t i, int *line) {
  size_t start;
  while (i < len) {
    if (s[i] == '"') {
      i = skip_string(s, len, i);
    } else if (s[i] != '-' && !is_digit(s[i])) {
      *line += s[i++] == '\n';
    } else {
      start = i;
      for (i++; i < len && is_digit(s[i]); i++) {}
      if (i < len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')) {
        while (i < len && in_number(s[i])) i++; /* a real */
        continue;
      }
      errno = 0;
      (void)strtoll(s + start, NULL, 10);
      if (errno == ERANGE) return i;
    }
  }
  return NO_BIG_INT;
}

/* Pushes the text with ".0" after each such literal; returns how many. */
static int push_widened(lua_State *L, const char *s, size_t len) {
  luaL_Buffer B;
  size_t i = 0, end;
  int line = 1, n = 0;
  luaL_buffinit(L, &B);
  while ((end = next_big_int(s, len, i, &line)) != NO_BIG_INT) {
    luaL_addlstring(&B, s + i, end - i);
    luaL_addstring(&B, ".0");
    i = end;
    n++;
  }
  luaL_addlstring(&B, s + i, len - i);
  luaL_pushresult(&B);
  return n;
}

/* An error found in the widened text, placed back in s: each ".0" before
 * it moved it by two bytes, and by two columns when on its line. */
static void unwiden_error(const char *s, size_t len, json_error_t *e) {
  size_t i = 0, end;
  int line = 1, n = 0, on_line = 0;
  while ((end = next_big_int(s, len, i, &line)) != NO_BIG_INT &&
         end + 2 * (size_t)n < (size_t)e->position) {
    on_line += line == e->line;
    n++;
    i = end;
  }
  e->position -= 2 * n;
  e->column -= 2 * on_line;
}

/* The tree of a text refused for a number, read again widened; NULL with
 * e (placed in text) when even that cannot be read. [-0, +0] */
static json_t *load_widened(lua_State *L, const char *text, size_t len,
                            json_error_t *e) {
  json_t *root = NULL;
  const char *wide;
  size_t wlen;
  if (push_widened(L, text, len) > 0) {
    wide = lua_tolstring(L, -1, &wlen);
    root = json_loadb(wide, wlen, LOAD_FLAGS, e);
    if (root == NULL) unwiden_error(text, len, e);
  }
  lua_pop(L, 1);
  return root;
}

/* The top-level key (as written, quotes included) whose value holds
 * offset pos of s, or the key ending at pos; NULL when there is none.
 * s is valid JSON up to pos. */
static const char *top_key_at(const char *s, size_t len, size_t pos,
                              size_t *klen) {
  const char *key = NULL;
  size_t i = 0, end, after;
  int depth = 0;
  while (i < pos && i < len) {
    if (s[i] == '"') {
      end = skip_string(s, len, i);
      for (after = end; after < len && is_space(s[after]); after++) {}
      if (depth == 1 && after < len && s[after] == ':') {
        key = s + i;
        *klen = end - i;
      }
      i = end;
      continue;
    }
    if (s[i] == '{' || s[i] == '[') depth++;
    if (s[i] == '}' || s[i] == ']') depth--;
    i++;
  }
  return key;
}

/* jansson's parser refuses object keys holding a zero byte (\u0000),
 * though to_json writes them from json fields. Reading them would mean
 * rewriting each such key to a stand-in and back in every object; they
 * are rare, so the text is refused with an error naming the top-level
 * key (the field) whose value holds one. The key, decoded by jansson,
 * sits in the box while the error is built. */
static int nul_key_error(lua_State *L, json_box *b, const rm_schema *s,
                         const char *text, size_t len, const json_error_t *e) {
  static const char what[] = "object keys holding a NUL byte (\\u0000) "
                             "cannot be read from JSON text";
  size_t klen = 0;
  const char *key = top_key_at(text, len, (size_t)e->position, &klen);
  const char *name = NULL;
  rm_diag d;
  rm_diag_init(&d);
  if (key != NULL) b->root = json_loadb(key, klen, LOAD_FLAGS, NULL);
  if (json_is_string(b->root) &&
      strlen(json_string_value(b->root)) == json_string_length(b->root))
    name = json_string_value(b->root);
  if (name != NULL)
    rm_diag_field_error(&d, name, "json", "%s.%s: %s (line %d, column %d, "
                        "position %d)", rm_schema_name(s), name, what,
                        e->line, e->column, e->position);
  else
    rm_diag_field_error(&d, "", "json", "%s: %s (line %d, column %d, "
                        "position %d)", rm_schema_name(s), what, e->line,
                        e->column, e->position);
  box_free(b);
  return rml_raise(L, &d);
}

/* core.from_json(model, text) -> new unsaved instance. */
static int l_from_json(lua_State *L) {
  const rm_schema *s = rml_checkmodel(L, 1)->schema;
  json_box *b;
  json_error_t err;
  const char *text, *key;
  size_t len, klen;
  json_t *v;
  rm_diag d;
  luaL_checktype(L, 2, LUA_TSTRING);
  text = lua_tolstring(L, 2, &len);
  lua_settop(L, 2);
  b = new_box(L);
  b->root = json_loadb(text, len, LOAD_FLAGS, &err);
  if (b->root == NULL && json_error_code(&err) == json_error_numeric_overflow)
    b->root = load_widened(L, text, len, &err);
  if (b->root == NULL && json_error_code(&err) == json_error_null_byte_in_key)
    return nul_key_error(L, b, s, text, len, &err);
  if (b->root == NULL) return text_error(L, b, s, "%s", "invalid JSON text", &err);
  if (!json_is_object(b->root))
    return text_error(L, b, s, "JSON text must hold an object of field "
                      "values, got %s", json_kind(b->root), NULL);
  lua_createtable(L, 0, (int)json_object_size(b->root));
  rm_diag_init(&d);
  json_object_keylen_foreach(b->root, key, klen, v) {
    lua_pushlstring(L, key, klen);
    push_spec_value(L, s, rm_schema_find(s, key, klen), v, &d);
    lua_rawset(L, 4);
  }
  box_free(b);
  rml_build_instance(L, 1, 4, &d, RML_NULL_IS_NIL);
  return 1;
}

void rml_open_jsontext(lua_State *L) {
  static const luaL_Reg meta[] = {{"__gc", box_gc}, {"__close", box_gc},
                                  {NULL, NULL}};
  static const luaL_Reg fns[] = {{"to_json", l_to_json},
                                 {"from_json", l_from_json},
                                 {NULL, NULL}};
  if (luaL_newmetatable(L, RM_JSONBOX_MT)) luaL_setfuncs(L, meta, 0);
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
  rml_pushnull(L);
  lua_setfield(L, -2, "null");
}
