#define _GNU_SOURCE
#include "base/notes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"

void notes_add(struct notes *n, const char *fmt, ...)
{
	/* A damaged dump can produce a note per entry; keep a bounded sample. */
	if (n->n >= NOTES_MAX) {
		n->dropped++;
		return;
	}
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		n->dropped++;
		return;
	}
	/* The same damage is met by every pass (summary walk, checks): once. */
	for (size_t i = 0; i < n->n; i++)
		if (!strcmp(n->msg[i], s)) {
			free(s);
			return;
		}
	char **p = array_room(n->msg, n->n, sizeof(*p));
	if (!p) {
		free(s);
		n->dropped++;
		return;
	}
	n->msg = p;
	n->msg[n->n++] = s;
}

void notes_add_err(struct notes *n, struct err *e, const char *context)
{
	notes_add(n, "%s: %s", context, e->msg);
	err_free(e);
}

void notes_fini(struct notes *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->msg[i]);
	free(n->msg);
	n->msg = NULL;
	n->n = n->dropped = 0;
}
