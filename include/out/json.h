/* A streaming JSON writer: values go straight to the stream, so output of
 * any size needs no memory beyond the nesting stack. */
#ifndef OUT_JSON_H
#define OUT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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
	size_t len;
	char buf[JSON_BUF];
};

void json_init(struct json *j, FILE *f, bool pretty);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_hex(struct json *j, uint64_t v);	/* "0x..." string */
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Finish the document with a newline and write out what is buffered. */
void json_end(struct json *j);

/* key + value shorthands */
void json_kstr(struct json *j, const char *k, const char *v);
void json_ku64(struct json *j, const char *k, uint64_t v);
void json_ki64(struct json *j, const char *k, int64_t v);
void json_khex(struct json *j, const char *k, uint64_t v);
void json_kbool(struct json *j, const char *k, bool v);

#endif
