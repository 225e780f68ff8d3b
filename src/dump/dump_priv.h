/* Inside src/dump: the open dump shared by its backends (kdump.c:
 * libkdumpfile; kcore.c: /proc/kcore by pread; flat.c: flattened files),
 * the test overlays (overlay.c) and the read caches (cache.c).  Nothing
 * outside src/dump includes this. */
#ifndef DUMP_DUMP_PRIV_H
#define DUMP_DUMP_PRIV_H

#include <libkdumpfile/kdumpfile.h>

#include "base/notes.h"
#include "dump/dump.h"
#include "dump/vmcoreinfo.h"

struct dump_overlay;
struct dump_tlb;
struct dump_pcache;
struct dump_kcore_seg;
struct dump_valid;
struct dump_ra;

enum dump_kind { DUMP_OTHER, DUMP_KDUMP, DUMP_ELF };

struct dump {
	char *path;
	int fd;			/* the file; for a flattened dump, flat.c's stand-in */
	int flat_fd;		/* a flattened dump's own file, else -1 */
	struct flat_map *flat;	/* how to read it in place, else NULL */
	bool flattened, live;
	kdump_ctx_t *ctx;
	addrxlat_ctx_t *axctx;
	addrxlat_sys_t *axsys;
	const char *format;
	struct vmcoreinfo vmcoreinfo;
	uint64_t filtered_reads;
	uint64_t max_pfn;	/* 0 if the dump does not say */
	struct dump_overlay *overlays;
	size_t noverlays;
	kdump_bmp_t *pagemap;	/* pages stored in the file; NULL if unknown */
	struct dump_tlb *tlb;	/* NULL: no caching (live memory changes) */
	struct dump_pcache *pcache;
	struct dump_live_stats live_stats;
	const char *vmcoreinfo_source;
	struct dump_kcore_seg *kcore;	/* live: /proc/kcore's physical segments */
	size_t nkcore;
	dump_read_hook hook;	/* tests only */
	void *hook_arg;
	uint8_t again[PAGE_SIZE];	/* second copy of a stable read */
	enum dump_kind kind;
	struct dump_valid *valid;	/* what validate.c learnt of the file */
	struct notes notes;	/* what the file lacks (truncation), for "incomplete" */
	bool extract;		/* a spte-inspect extract: absent pages were cut */
	char *vmcoreinfo_raw;	/* the text, for writing an extract */
	struct dump_ra *ra;	/* read-ahead workers, or NULL */
	/* dump_stash_virt: [stash_lo, stash_lo + stash_len) as read once */
	uint8_t *stash, *stash_alloc, *stash_ok;	/* ok: a bit per page from stash_lo's */
	uint64_t stash_lo, stash_len;
	uint64_t stash_served;	/* page pieces read from it (tests) */
};

/* pread(2) of the dump file as libkdumpfile sees it (rearranged, if
 * flattened). */
ssize_t dump_file_pread(const struct dump *d, void *buf, size_t len, uint64_t off);

/* kdump.c: the libkdumpfile backend (kdump, ELF, and kcore's translation). */
/* CTX set up on FD as every context of ours is (x86-64, no mmap, a cache of
 * CACHE_PAGES), opened. */
kdump_status kdump_ctx_open(kdump_ctx_t *ctx, int fd, unsigned cache_pages);
/* CTX's bitmap of the pages the file holds (a reference), or NULL. */
kdump_bmp_t *kdump_ctx_pagemap(kdump_ctx_t *ctx);
/* Whether PAGEMAP (NULL: unknown, so yes) holds PFN; counts nothing. */
bool kdump_pagemap_has(kdump_bmp_t *pagemap, uint64_t pfn);
struct err *kdump_backend_open(struct dump *d);
struct err *kdump_backend_read(struct dump *d, kdump_addrspace_t as, uint64_t addr, void *buf,
			       size_t len);
/* ERR_FILTERED if the file does not hold page PFN (counted). */
struct err *kdump_backend_page_stored(struct dump *d, uint64_t pfn);
struct err *kdump_backend_vtop(struct dump *d, uint64_t va, uint64_t *pa);
void kdump_backend_load_vmcoreinfo(struct dump *d);
void kdump_backend_close(struct dump *d);

/* kcore.c: /proc/kcore's physical segments, read with pread(2). */
struct err *kcore_segments(struct dump *d);
struct err *kcore_read(struct dump *d, uint64_t pa, void *buf, size_t len);
/* VMCOREINFO from /sys/kernel/vmcoreinfo; TELL_LIBKDUMPFILE: give it too. */
struct err *kcore_sys_vmcoreinfo(struct dump *d, bool tell_libkdumpfile);
#define DUMP_SYS_VMCOREINFO "/sys/kernel/vmcoreinfo"

/* validate.c: the file's headers checked before libkdumpfile opens it
 * (SIZE: the file's), and each page's place in the file before it reads it. */
struct err *valid_open(struct dump *d, uint64_t size, unsigned threads);
void valid_close(struct dump *d);
/* ERR_READ (counted as a read that found no page) if [PA, PA+LEN) cannot be
 * read from the file as its headers describe it. */
struct err *valid_read(struct dump *d, uint64_t pa, size_t len);
/* Descriptors (their file offsets, in *ATS, malloc'ed) that claim more
 * bytes than a block: libkdumpfile would overflow its buffer reading them. */
size_t valid_overflowing(const struct dump *d, uint64_t **ats);
/* Whether valid_read would let page PFN be read; counts nothing (any thread). */
bool valid_page_readable(const struct dump *d, uint64_t pfn);

/* readahead.c: true if a worker read page PA (aligned) whole into BUF. */
bool ra_take(struct dump *d, uint64_t pa, void *buf);

/* overlay.c */
bool overlay_has_page(const struct dump *d, uint64_t pfn);
bool overlay_covers(const struct dump *d, uint64_t pa, size_t len);
void overlay_apply(const struct dump *d, uint64_t pa, void *buf, size_t len);

/* cache.c: recent translations and small-read pages of a dump file. */
struct err *cache_init(struct dump *d);
void cache_fini(struct dump *d);
void cache_pages_flush(struct dump *d);
bool cache_vtop(struct dump *d, uint64_t va, uint64_t *pa);
void cache_vtop_add(struct dump *d, uint64_t va, uint64_t pa);
/* Reads through the page cache with READ for misses. */
struct err *cache_read_phys(struct dump *d, uint64_t pa, void *buf, size_t len,
			    struct err *(*read)(struct dump *, uint64_t, void *, size_t));

#endif
