/* The C unit tests' one TAP helper: CHECK(name, cond) prints a numbered
 * "ok" / "not ok" line (naming the condition that failed); tap_done()
 * prints the plan and gives the exit status. */
#ifndef TESTS_UNIT_TAP_H
#define TESTS_UNIT_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define CHECK(name, cond)                                                            \
	do {                                                                         \
		tap_n++;                                                             \
		if (cond) {                                                          \
			printf("ok %d - %s\n", tap_n, name);                         \
		} else {                                                             \
			printf("not ok %d - %s (%s)\n", tap_n, name, #cond);         \
			tap_failed++;                                                \
		}                                                                    \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
