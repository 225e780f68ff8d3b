/* Errors as returned values: a kind (which decides the exit code) and a
 * one-line message that names what failed and where.  NULL means success. */
#ifndef BASE_ERR_H
#define BASE_ERR_H

#include <stdarg.h>

enum err_kind {
	ERR_USAGE,	/* the command line is wrong */
	ERR_OS,		/* a system call failed (errno in the message) */
	ERR_NOMEM,	/* out of memory */
	ERR_FORMAT,	/* not a dump we can read, or its headers are broken */
	ERR_FILTERED,	/* the page is not stored in the dump (filtered out) */
	ERR_READ,	/* the dump has no data there, or decompression failed */
	ERR_CORRUPT,	/* dump contents contradict themselves (loops, bad counts) */
	ERR_NOTFOUND,	/* a symbol, type or object the analysis needs is missing */
	ERR_LAYOUT,	/* type info does not explain a layout we rely on */
	ERR_CHANGED,	/* a live target kept changing under every bounded re-read */
};

struct err {
	enum err_kind kind;
	char *msg;
};

struct err *err_new(enum err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct err *err_newv(enum err_kind kind, const char *fmt, va_list ap);
/* Prefix context ("kvm 0xffff...: ") to an error; consumes and returns it. */
struct err *err_wrap(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void err_free(struct err *e);
const char *err_kind_name(enum err_kind kind);

#endif
