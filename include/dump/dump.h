/* Dump access: one open crash dump (kdump-compressed, ELF, flattened kdump,
 * /proc/kcore) and reads from its physical and kernel-virtual address spaces.
 * kdump and ELF files are read by libkdumpfile, after the checks of
 * validate.c; /proc/kcore's physical reads are pread(2)s. */
#ifndef DUMP_DUMP_H
#define DUMP_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "base/notes.h"

#define PAGE_SIZE 4096u
#define PAGE_SHIFT 12

struct dump;

struct err *dump_open(const char *path, struct dump **out);
/* The same, with JOBS threads checking what the file says of its pages (a
 * kdump's table of page descriptors: 24 bytes for every page it holds). */
struct err *dump_open_jobs(const char *path, unsigned jobs, struct dump **out);
void dump_close(struct dump *d);
/* dump_close() and libkdumpfile's context too, for fuzzers that open a
 * dump per input (dump_close leaves it to process exit: kdump.c says why). */
void dump_close_all(struct dump *d);

/* Reads fail with ERR_FILTERED when the dump left the page out. */
struct err *dump_read_phys(struct dump *d, uint64_t pa, void *buf, size_t len);
struct err *dump_read_virt(struct dump *d, uint64_t va, void *buf, size_t len);
struct err *dump_read_u64(struct dump *d, uint64_t va, uint64_t *val);
struct err *dump_read_u32(struct dump *d, uint64_t va, uint32_t *val);
struct err *dump_vtop(struct dump *d, uint64_t va, uint64_t *pa);
/* For reads whose failure only means "not known": true if it worked; the
 * error, if any, is dropped here (never leaked by the caller). */
bool dump_peek(struct dump *d, uint64_t va, void *buf, size_t len);
/* Kernel memory read once and kept for the next reader of the same range
 * (the kallsyms search's window holds the vmlinux BTF, read next): reads of
 * [VA, VA+LEN) whose pages are marked in PAGE_OK (a bit per page, from VA's
 * page) are served from BUF, observed as reads of the dump are.  D owns
 * ALLOC (holding BUF) and PAGE_OK until dump_stash_drop or close.  Not on a
 * live target (its memory changes): freed at once. */
void dump_stash_virt(struct dump *d, uint64_t va, uint64_t len, uint8_t *buf, void *alloc,
		     uint8_t *page_ok);
void dump_stash_drop(struct dump *d);
/* Reads served from a stash so far (tests). */
uint64_t dump_stash_served(const struct dump *d);

/* A page of kernel memory kept by one reader: runs of small reads in one
 * page (a per-gfn array read gfn after gfn) cost a compare and a copy
 * instead of a translation and a cache lookup each.  Zero-initialise; a
 * live target's pages are never kept. */
struct dump_window {
	uint64_t page;		/* va >> PAGE_SHIFT, plus 1; 0: none */
	uint8_t data[PAGE_SIZE];
};
bool dump_window_fill(struct dump *d, struct dump_window *w, uint64_t va, void *buf, size_t len);
/* dump_peek through W. */
static inline bool dump_window_peek(struct dump *d, struct dump_window *w, uint64_t va, void *buf,
				    size_t len)
{
	uint64_t at = va & (PAGE_SIZE - 1);
	if (w->page == (va >> PAGE_SHIFT) + 1 && at + len <= PAGE_SIZE) {
		memcpy(buf, w->data + at, len);
		return true;
	}
	return dump_window_fill(d, w, va, buf, len);
}

/* File-level facts, for `info`. */
const char *dump_path(const struct dump *d);
const char *dump_format(const struct dump *d);	/* "kdump", "elf", ... */
bool dump_is_flattened(const struct dump *d);
bool dump_is_live(const struct dump *d);

/* VMCOREINFO: the value of KEY (e.g. "OSRELEASE", "NUMBER(phys_base)") or
 * NULL; the string lives as long as the dump. */
const char *dump_vmcoreinfo(struct dump *d, const char *key);
/* Where VMCOREINFO came from: "dump", "kcore note" or "/sys/kernel/vmcoreinfo". */
const char *dump_vmcoreinfo_source(const struct dump *d);
/* VMCOREINFO SYMBOL(name), 0 if absent. */
uint64_t dump_vmcoreinfo_symbol(struct dump *d, const char *name);

/* Register REG ("rip", "rsp", ...) of CPU as the dump saved it (ELF
 * PRSTATUS notes, kdump headers); ERR_NOTFOUND if the dump has none. */
struct err *dump_cpu_reg(struct dump *d, unsigned cpu, const char *reg, uint64_t *val);

/* Overlays: later reads of physical page PA (page aligned) return PAGE
 * instead of the dump's bytes.  For fuzzing the parsers above this layer
 * with real dumps around the fuzzed bytes; the file is never written. */
struct err *dump_overlay_page(struct dump *d, uint64_t pa, const void *page);
void dump_overlay_clear(struct dump *d);

/* A live target (/proc/kcore) changes while it is read.  A stable read reads
 * twice and again, at most DUMP_LIVE_TRIES times, until two consecutive reads
 * agree, and fails with ERR_CHANGED if they never do; on a dump it is one
 * plain read.  For words and small objects read as a whole. */
#define DUMP_LIVE_TRIES 4
struct err *dump_read_virt_stable(struct dump *d, uint64_t va, void *buf, size_t len);
struct err *dump_read_phys_stable(struct dump *d, uint64_t pa, void *buf, size_t len);

/* Stable reads of this layer that needed a retry, and those that never
 * settled; the layers above count their own (base/live.h). */
struct dump_live_stats {
	uint64_t reads_retried;		/* stable reads whose first two copies differed */
	uint64_t reads_changed;		/* ... that never settled (ERR_CHANGED) */
};
const struct dump_live_stats *dump_live_stats(const struct dump *d);

/* For tests of the live paths on a real, fixed dump: treat D as live and
 * call HOOK after every physical read (it may overlay pages, as a running
 * host changes them between two reads).  HOOK NULL: only the live flag. */
typedef void (*dump_read_hook)(void *arg, struct dump *d, uint64_t pa, size_t len);
void dump_test_live(struct dump *d, dump_read_hook hook, void *arg);

/* Observer (spte-inspect extract): FN sees every physical range read
 * successfully (VIRT false; BUF holds the bytes read, as the reader got them)
 * and every virtual address translated (VIRT true, LEN 1, BUF NULL) by every
 * dump of this process, after the read; NULL turns it off. */
typedef void (*dump_observer)(void *arg, struct dump *d, bool virt, uint64_t addr, const void *buf,
			      size_t len);
void dump_set_observer(dump_observer fn, void *arg);
/* Reads that only search (a scan of the kernel image for kallsyms) are not
 * observed between pause and resume (they nest): what the search rejected is
 * not needed again; the caller re-reads what it found with dump_observe_touch
 * (VA..VA+LEN, kernel-virtual: a no-op without an observer). */
void dump_observer_pause(void);
void dump_observer_resume(void);
void dump_observe_touch(struct dump *d, uint64_t va, uint64_t len);
/* The raw VMCOREINFO text (NULL if none) and the host's page count (0 if
 * the dump does not say), for writing an extract of this dump. */
const char *dump_vmcoreinfo_raw(struct dump *d);
uint64_t dump_max_pfn(const struct dump *d);

/* Read-ahead (spte-inspect -J): WORKERS threads, each with its own
 * libkdumpfile context on the file, read whole physical pages the caller
 * announces with dump_prefetch_phys, in that order, a bounded window ahead
 * of it; a later whole-page read of one of them takes the worker's copy.
 * The caller's thread keeps every decision: a page a worker could not read
 * whole is read again as without workers, so bytes, errors and counts do not
 * depend on them.  No workers on a live target.  0 workers: nothing. */
struct err *dump_readahead_start(struct dump *d, unsigned workers);
void dump_readahead_stop(struct dump *d);
bool dump_prefetching(const struct dump *d);
/* The pages (physical addresses, page aligned) about to be read, replacing
 * the previous list; only from the thread that reads D. */
void dump_prefetch_phys(struct dump *d, const uint64_t *pa, size_t n);
struct dump_ra_stats {
	uint64_t hinted;	/* pages announced */
	uint64_t taken;		/* read by a worker and used */
	uint64_t failed;	/* a worker could not read it: read again */
	uint64_t missed;	/* announced, not started when it was read */
	uint64_t unlisted;	/* whole-page reads not in the window */
	uint64_t helped;	/* read ahead by the caller while it waited */
};
struct dump_ra_stats dump_readahead_stats(const struct dump *d);

/* Count of reads that found no page: filtered out, or unreadable (a damaged
 * page descriptor, bytes past the end of a truncated file); for the
 * "incomplete" exit bit. */
uint64_t dump_filtered_reads(const struct dump *d);
/* What the file itself lacks (a truncated ELF's missing bytes, a kdump's
 * missing descriptors), found when it was opened: the analysis is incomplete. */
const struct notes *dump_notes(const struct dump *d);

#endif
