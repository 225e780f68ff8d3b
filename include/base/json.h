/* A streaming JSON writer: values go straight to the stream, so output of
 * any size needs no memory beyond the nesting stack. */
#ifndef OUT_JSON_H
#define OUT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define JSON_MAX_DEPTH 32

#define JSON_BUF 65536

/* Output is collected in BUF and written in large blocks: per-character
 * stdio calls were most of the cost of a million-SPTE listing. */
struct json {
	FILE *f;
	bool pretty;
	int depth;
	bool first[JSON_MAX_DEPTH];
	bool after_key;
	/* JSON Lines: top-level values one per line; each top-level object
	 * starts with "record": RECORD when RECORD is set. */
	bool lines;
	const char *record;
	size_t len;
	char buf[JSON_BUF];
};

void json_init(struct json *j, FILE *f, bool pretty);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
/* json_key() below: any key, escaped as needed; a string literal is the
 * program's own identifier and is copied as it is (a million-SPTE listing
 * writes 15 million keys). */
void json_key_any(struct json *j, const char *key);
void json_key_lit_slow(struct json *j, const char *key, size_t len);
static inline void json_key_lit(struct json *j, const char *key, size_t len)
{
	/* compact output, room in the buffer: a comma, the key, its quotes */
	if (j->pretty || j->after_key || len > 200 || j->len + len + 4 > JSON_BUF) {
		json_key_lit_slow(j, key, len);
		return;
	}
	char *o = j->buf + j->len;
	if (!j->first[j->depth])
		*o++ = ',';
	j->first[j->depth] = false;
	*o++ = '"';
	memcpy(o, key, len);
	o += len;
	*o++ = '"';
	*o++ = ':';
	j->len = (size_t)(o - j->buf);
	j->after_key = true;
}
#define json_key(j, k) \
	(__builtin_constant_p(k) ? json_key_lit((j), (k), __builtin_strlen(k)) : json_key_any((j), (k)))
void json_str(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_hex(struct json *j, uint64_t v);	/* "0x..." string */
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Finish the document with a newline and write out what is buffered. */
void json_flush_out(struct json *j);	/* write out what is buffered */
void json_end(struct json *j);

/* A string, or null for NULL. */
void json_str_or_null(struct json *j, const char *s);

/* key + value shorthands */
#define json_kstr(j, k, v) (json_key(j, k), json_str_or_null(j, v))
#define json_ku64(j, k, v) (json_key(j, k), json_u64(j, v))
#define json_ki64(j, k, v) (json_key(j, k), json_i64(j, v))
#define json_khex(j, k, v) (json_key(j, k), json_hex(j, v))
#define json_kbool(j, k, v) (json_key(j, k), json_bool(j, v))

#endif
