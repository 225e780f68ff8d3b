/* VMCOREINFO text ("KEY=value" lines) split into a lookup table. */
#ifndef DUMP_VMCOREINFO_H
#define DUMP_VMCOREINFO_H

#include <stddef.h>

/* VMCOREINFO is a few KiB; more lines than this are not a kernel's. */
#define VMCOREINFO_MAX_LINES 4096

struct vmcoreinfo_line {
	char *key, *value;
};

struct vmcoreinfo {
	char *raw;	/* owned; split in place */
	struct vmcoreinfo_line *lines;
	size_t n;
};

/* Takes ownership of RAW (malloc'ed, NUL-terminated). */
void vmcoreinfo_parse(struct vmcoreinfo *v, char *raw);
const char *vmcoreinfo_get(const struct vmcoreinfo *v, const char *key);
void vmcoreinfo_fini(struct vmcoreinfo *v);

#endif
