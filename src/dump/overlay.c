/* Test overlays: pages whose reads return given bytes instead of the dump's,
 * for fuzzing and testing the layers above with a real dump around the
 * changed bytes.  The file is never written. */
#include <stdlib.h>
#include <string.h>

#include "dump_priv.h"

#define DUMP_MAX_OVERLAYS 64

struct dump_overlay {
	uint64_t pa;
	uint8_t page[PAGE_SIZE];
};

bool overlay_has_page(const struct dump *d, uint64_t pfn)
{
	bool overlaid = false;
	for (size_t i = 0; i < d->noverlays; i++)
		overlaid |= d->overlays[i].pa >> PAGE_SHIFT == pfn;
	return overlaid;
}

bool overlay_covers(const struct dump *d, uint64_t pa, size_t len)
{
	bool covered = false;
	for (size_t i = 0; i < d->noverlays; i++)
		covered |= d->overlays[i].pa <= pa && pa + len <= d->overlays[i].pa + PAGE_SIZE;
	return covered;
}

void overlay_apply(const struct dump *d, uint64_t pa, void *buf, size_t len)
{
	for (size_t i = 0; i < d->noverlays; i++) {
		const struct dump_overlay *o = &d->overlays[i];
		uint64_t lo = pa > o->pa ? pa : o->pa;
		uint64_t hi = pa + len < o->pa + PAGE_SIZE ? pa + len : o->pa + PAGE_SIZE;
		if (lo < hi)
			memcpy((uint8_t *)buf + (lo - pa), o->page + (lo - o->pa), hi - lo);
	}
}

struct err *dump_overlay_page(struct dump *d, uint64_t pa, const void *page)
{
	if (pa & (PAGE_SIZE - 1))
		return err_new(ERR_USAGE, "overlay at 0x%llx is not page aligned", (unsigned long long)pa);
	cache_pages_flush(d);
	dump_stash_drop(d); /* read before the overlay */
	for (size_t i = 0; i < d->noverlays; i++)
		if (d->overlays[i].pa == pa) {
			memcpy(d->overlays[i].page, page, PAGE_SIZE);
			return NULL;
		}
	if (d->noverlays == DUMP_MAX_OVERLAYS)
		return err_new(ERR_USAGE, "more than %d overlay pages", DUMP_MAX_OVERLAYS);
	if (!d->overlays && !(d->overlays = malloc(DUMP_MAX_OVERLAYS * sizeof(*d->overlays))))
		return err_new(ERR_NOMEM, "out of memory");
	d->overlays[d->noverlays].pa = pa;
	memcpy(d->overlays[d->noverlays++].page, page, PAGE_SIZE);
	return NULL;
}

void dump_overlay_clear(struct dump *d)
{
	cache_pages_flush(d);
	dump_stash_drop(d);
	d->noverlays = 0;
}
