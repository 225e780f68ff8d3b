/* Small reads of kernel objects come in runs on the same few pages (a
 * per-leaf write-track counter, struct page, memslot arrays).  Through
 * libkdumpfile each costs a lock, a cache lookup and, for a virtual address,
 * a page-table walk in libaddrxlat: that was half of `check` on a
 * million-SPTE dump.  A dump file does not change, so recent translations
 * and pages are remembered here (direct-mapped); /proc/kcore gets neither. */
#include <stdlib.h>
#include <string.h>

#include "dump_priv.h"

#define DUMP_TLB_SLOTS 256
#define DUMP_PCACHE_SLOTS 16

struct dump_tlb {
	uint64_t vpage[DUMP_TLB_SLOTS];	/* va >> PAGE_SHIFT, plus 1; 0 = empty */
	uint64_t ppage[DUMP_TLB_SLOTS];	/* pa >> PAGE_SHIFT */
};

struct dump_pcache {
	uint64_t pfn[DUMP_PCACHE_SLOTS];	/* plus 1; 0 = empty */
	uint8_t page[DUMP_PCACHE_SLOTS][PAGE_SIZE];
};

struct err *cache_init(struct dump *d)
{
	/* without them reads are only slower */
	d->tlb = calloc(1, sizeof(*d->tlb));
	d->pcache = calloc(1, sizeof(*d->pcache));
	return NULL;
}

void cache_fini(struct dump *d)
{
	free(d->tlb);
	free(d->pcache);
	d->tlb = NULL;
	d->pcache = NULL;
}

void cache_pages_flush(struct dump *d)
{
	if (d->pcache)
		memset(d->pcache->pfn, 0, sizeof(d->pcache->pfn));
}

bool cache_vtop(struct dump *d, uint64_t va, uint64_t *pa)
{
	uint64_t vpage = va >> PAGE_SHIFT;
	size_t slot = (size_t)(vpage % DUMP_TLB_SLOTS);
	if (!d->tlb || d->tlb->vpage[slot] != vpage + 1)
		return false;
	*pa = d->tlb->ppage[slot] << PAGE_SHIFT | (va & (PAGE_SIZE - 1));
	return true;
}

void cache_vtop_add(struct dump *d, uint64_t va, uint64_t pa)
{
	if (!d->tlb) /* pages map pages: one translation holds for all of it */
		return;
	uint64_t vpage = va >> PAGE_SHIFT;
	size_t slot = (size_t)(vpage % DUMP_TLB_SLOTS);
	d->tlb->vpage[slot] = vpage + 1;
	d->tlb->ppage[slot] = pa >> PAGE_SHIFT;
}

struct err *cache_read_phys(struct dump *d, uint64_t pa, void *buf, size_t len,
			    struct err *(*read)(struct dump *, uint64_t, void *, size_t))
{
	/* Whole-page reads (tables) are read once each: only small ones are
	 * cached, and only within one page. */
	uint64_t off = pa & (PAGE_SIZE - 1);
	if (!d->pcache || len >= PAGE_SIZE || off + len > PAGE_SIZE || !len)
		return read(d, pa, buf, len);
	struct dump_pcache *c = d->pcache;
	uint64_t pfn = pa >> PAGE_SHIFT;
	size_t slot = (size_t)(pfn % DUMP_PCACHE_SLOTS);
	if (c->pfn[slot] != pfn + 1) {
		/* The same checks and the same error as an uncached read: a page
		 * that cannot be read whole (an ELF segment ending inside it) is
		 * read as asked, uncounted twice. */
		uint64_t filtered = d->filtered_reads;
		struct err *e = read(d, pa - off, c->page[slot], PAGE_SIZE);
		if (e) {
			c->pfn[slot] = 0;
			err_free(e);
			d->filtered_reads = filtered;
			return read(d, pa, buf, len);
		}
		c->pfn[slot] = pfn + 1;
	}
	memcpy(buf, c->page[slot] + off, len);
	return NULL;
}
