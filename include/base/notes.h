/* Things the analysis could not do (filtered pages, skipped objects): they
 * set exit bit 2 and are printed, never silently dropped. */
#ifndef BASE_NOTES_H
#define BASE_NOTES_H

#include <stddef.h>

#include "base/err.h"

#define NOTES_MAX 1000

struct notes {
	char **msg;
	size_t n, dropped;
};

void notes_add(struct notes *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record an error's message as a note and free it. */
void notes_add_err(struct notes *n, struct err *e, const char *context);
void notes_fini(struct notes *n);

#endif
