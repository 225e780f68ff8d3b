#define _GNU_SOURCE
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returned when even the error cannot be allocated; never freed. */
static struct err err_oom = { ERR_NOMEM, "out of memory" };

struct err *err_newv(enum err_kind kind, const char *fmt, va_list ap)
{
	struct err *e = malloc(sizeof(*e));
	if (!e)
		return &err_oom;
	e->kind = kind;
	if (vasprintf(&e->msg, fmt, ap) < 0) {
		free(e);
		return &err_oom;
	}
	return e;
}

struct err *err_new(enum err_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct err *e = err_newv(kind, fmt, ap);
	va_end(ap);
	return e;
}

struct err *err_wrap(struct err *e, const char *fmt, ...)
{
	if (!e || e == &err_oom)
		return e;
	char *prefix, *msg;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&prefix, fmt, ap);
	va_end(ap);
	if (n < 0)
		return e;
	if (asprintf(&msg, "%s: %s", prefix, e->msg) >= 0) {
		free(e->msg);
		e->msg = msg;
	}
	free(prefix);
	return e;
}

void err_free(struct err *e)
{
	if (!e || e == &err_oom)
		return;
	free(e->msg);
	free(e);
}

const char *err_kind_name(enum err_kind kind)
{
	switch (kind) {
	case ERR_USAGE: return "usage";
	case ERR_OS: return "system";
	case ERR_NOMEM: return "memory";
	case ERR_FORMAT: return "format";
	case ERR_FILTERED: return "filtered";
	case ERR_READ: return "read";
	case ERR_CORRUPT: return "corrupt";
	case ERR_NOTFOUND: return "not-found";
	case ERR_LAYOUT: return "layout";
	case ERR_CHANGED: return "changed";
	}
	return "unknown";
}
