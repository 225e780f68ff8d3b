/* `extract OUT` (cmd/extract.c), and its seam for tests of the live path. */
#ifndef CMD_EXTRACT_H
#define CMD_EXTRACT_H

#include "cmd/session.h"
#include "dump/dump.h"

/* For tests: open the source again as if it were a live host (dump_test_live
 * with HOOK, which may change pages between reads): pages are copied when
 * the analysis reads them, and what does not hold still is recorded. */
struct extract_as_live {
	dump_read_hook hook;
	void *arg;
};

/* Write the KVM-only extract of S's dump to OUT; AS_LIVE NULL: as the dump is. */
struct err *extract_write(struct session *s, const char *out, const struct extract_as_live *as_live);

#endif
