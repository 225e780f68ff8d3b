/* Writing a kdump-compressed file (makedumpfile's format, kdump_format.h)
 * holding a chosen set of physical pages: `spte-inspect extract`. */
#ifndef DUMP_KDUMP_WRITE_H
#define DUMP_KDUMP_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct kdump_write_info {
	const char *release;		/* utsname.release */
	uint64_t max_pfn;		/* pages 0 .. max_pfn-1 exist */
	uint64_t phys_base;
	uint32_t nr_cpus;
	const char *vmcoreinfo;		/* text, written as the sub header's VMCOREINFO */
	const void *notes;		/* ELF notes (PRSTATUS), may be NULL */
	size_t notes_len;
	int64_t time;			/* the header's timestamp (seconds) */
};

/* Fill PAGE with pfn's 4096 bytes; ERR_FILTERED (or any error) leaves the
 * page out: counted in SKIPPED, the error message kept in the first note. */
typedef struct err *(*kdump_page_fn)(void *arg, uint64_t pfn, uint8_t *page);

struct kdump_write_stats {
	uint64_t pages, skipped, bytes;
};

/* Streamed: begin (the host's page count and at most how many pages will
 * be stored), page after page in increasing pfn order, then finish with
 * the headers, whose VMCOREINFO and notes may say what happened while the
 * pages were written (they go after the pages, where the sub header points).
 * Written to PATH.tmp, renamed over PATH by finish only; abort removes it.
 * finish and abort free W. */
struct kdump_writer;
struct err *kdump_write_begin(const char *path, uint64_t max_pfn, uint64_t max_pages,
			      struct kdump_writer **out);
struct err *kdump_write_page(struct kdump_writer *w, uint64_t pfn, const uint8_t *page);
struct err *kdump_write_finish(struct kdump_writer *w, const struct kdump_write_info *info,
			       struct kdump_write_stats *st);
void kdump_write_abort(struct kdump_writer *w);

/* Write PATH (through PATH.tmp, renamed when complete) with the pages whose
 * bits are set in BITMAP (bit per pfn, LSB first, max_pfn bits), zlib
 * compressed where that shrinks them. */
struct err *kdump_write(const char *path, const struct kdump_write_info *info, const uint8_t *bitmap,
			kdump_page_fn fn, void *arg, struct kdump_write_stats *st);

#endif
