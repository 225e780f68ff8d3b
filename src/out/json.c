#include "out/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void json_flush(struct json *j)
{
	if (j->len)
		fwrite(j->buf, 1, j->len, j->f);
	j->len = 0;
}

static void json_put(struct json *j, const char *s, size_t n)
{
	if (j->len + n > sizeof(j->buf)) {
		json_flush(j);
		if (n > sizeof(j->buf)) {
			fwrite(s, 1, n, j->f);
			return;
		}
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static void json_putc(struct json *j, char c)
{
	if (j->len == sizeof(j->buf))
		json_flush(j);
	j->buf[j->len++] = c;
}

static void json_puts(struct json *j, const char *s)
{
	json_put(j, s, strlen(s));
}

/* Digits of V in BASE, written backwards from END; returns the start. */
static char *json_utoa(uint64_t v, unsigned base, char *end)
{
	static const char digits[] = "0123456789abcdef";
	*--end = '\0';
	do {
		*--end = digits[v % base];
		v /= base;
	} while (v);
	return end;
}

void json_init(struct json *j, FILE *f, bool pretty)
{
	j->f = f;
	j->pretty = pretty;
	j->depth = 0;
	j->first[0] = true;
	j->after_key = false;
	j->len = 0;
}

static void json_indent(struct json *j)
{
	if (!j->pretty)
		return;
	json_putc(j, '\n');
	for (int i = 0; i < j->depth; i++)
		json_put(j, "  ", 2);
}

/* Separator before a value (or key) at the current depth. */
static void json_sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		json_putc(j, ',');
	j->first[j->depth] = false;
	if (j->depth > 0)
		json_indent(j);
}

static void json_open(struct json *j, char c)
{
	json_sep(j);
	json_putc(j, c);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct json *j, char c)
{
	bool empty = j->first[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (!empty)
		json_indent(j);
	json_putc(j, c);
}

void json_obj_begin(struct json *j) { json_open(j, '{'); }
void json_obj_end(struct json *j) { json_close(j, '}'); }
void json_arr_begin(struct json *j) { json_open(j, '['); }
void json_arr_end(struct json *j) { json_close(j, ']'); }

static void json_raw_str(struct json *j, const char *s)
{
	json_putc(j, '"');
	const unsigned char *p = (const unsigned char *)s, *run = p;
	for (; *p; p++) {
		/* Dump strings are untrusted bytes: escape quotes, backslashes,
		 * controls and non-ASCII so the output is always valid JSON. */
		if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
			continue;
		json_put(j, (const char *)run, (size_t)(p - run));
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			json_put(j, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			json_put(j, esc, 6);
		}
		run = p + 1;
	}
	json_put(j, (const char *)run, (size_t)(p - run));
	json_putc(j, '"');
}

void json_key(struct json *j, const char *key)
{
	json_sep(j);
	json_raw_str(j, key);
	json_puts(j, j->pretty ? ": " : ":");
	j->after_key = true;
}

void json_str(struct json *j, const char *s)
{
	json_sep(j);
	json_raw_str(j, s);
}

void json_u64(struct json *j, uint64_t v)
{
	char buf[24];
	json_sep(j);
	json_puts(j, json_utoa(v, 10, buf + sizeof(buf)));
}

void json_i64(struct json *j, int64_t v)
{
	char buf[24];
	json_sep(j);
	if (v < 0) {
		json_putc(j, '-');
		json_puts(j, json_utoa(-(uint64_t)v, 10, buf + sizeof(buf)));
	} else {
		json_puts(j, json_utoa((uint64_t)v, 10, buf + sizeof(buf)));
	}
}

void json_hex(struct json *j, uint64_t v)
{
	char buf[24];
	json_sep(j);
	json_put(j, "\"0x", 3);
	json_puts(j, json_utoa(v, 16, buf + sizeof(buf)));
	json_putc(j, '"');
}

void json_bool(struct json *j, bool v)
{
	json_sep(j);
	json_puts(j, v ? "true" : "false");
}

void json_null(struct json *j)
{
	json_sep(j);
	json_put(j, "null", 4);
}

void json_end(struct json *j)
{
	json_putc(j, '\n');
	json_flush(j);
}

void json_kstr(struct json *j, const char *k, const char *v)
{
	json_key(j, k);
	if (v)
		json_str(j, v);
	else
		json_null(j);
}
void json_ku64(struct json *j, const char *k, uint64_t v) { json_key(j, k); json_u64(j, v); }
void json_ki64(struct json *j, const char *k, int64_t v) { json_key(j, k); json_i64(j, v); }
void json_khex(struct json *j, const char *k, uint64_t v) { json_key(j, k); json_hex(j, v); }
void json_kbool(struct json *j, const char *k, bool v) { json_key(j, k); json_bool(j, v); }
