/* Read-ahead: worker threads that read and decompress whole physical pages
 * the reader says it will read next (dump_prefetch_phys), beside it.
 *
 * Each worker has its own libkdumpfile context on the same file (contexts
 * are not shared between threads, and 0.5.1's clones share one page cache
 * whose in-flight entries another thread can meet half-read).  The caller's
 * thread stays the only one that decides anything: a page is taken from a
 * worker only if it read the page whole and without error, with the same
 * validation as the caller's own path would apply (validate.c); every other
 * read, and every read that failed there, is done again by the caller as
 * before, so errors, counters and bytes are the same with or without
 * workers.  Memory is bounded by the window of pages read ahead. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dump_priv.h"

/* Pages read ahead per worker: enough to keep one busy while the caller
 * decodes, small enough that a skipped list wastes little. */
#define RA_WINDOW_PER_WORKER 16
#define RA_MAX_WORKERS 64
#define RA_MEM_BUDGET (32ull << 20)
#define RA_CTX_CACHE_PAGES 16

enum ra_state { RA_EMPTY, RA_READING, RA_DONE, RA_FAILED };

struct ra_slot {
	uint64_t idx;		/* position in the list of generation GEN */
	uint32_t gen;
	uint8_t state;		/* enum ra_state */
	bool busy;		/* a worker writes PAGE: not to be claimed */
	uint8_t page[PAGE_SIZE];
};

struct ra_worker {
	struct dump_ra *ra;
	pthread_t th;
	bool started;
	kdump_ctx_t *ctx;	/* NULL: could not open the file: every read fails */
	kdump_bmp_t *pagemap;
};

struct dump_ra {
	struct dump *d;
	pthread_mutex_t mu;
	/* Wake-ups cost a system call and a switch each: workers are woken
	 * when half the window can be claimed (or the list ends there), the
	 * caller only when it waits for a page. */
	pthread_cond_t work;	/* workers: something to claim, or stop */
	pthread_cond_t done;	/* the caller: a slot finished */
	unsigned idle;		/* workers waiting on WORK */
	bool waiting;		/* the caller waits on DONE */
	uint64_t *list;		/* pages the caller will read, in its order */
	size_t n, cap;
	size_t c;		/* the caller's position in LIST */
	size_t w;		/* next position a worker claims */
	uint32_t gen;		/* bumped by every new list */
	bool stop;
	/* tests: every listed page is read by a worker, none by the caller
	 * (SPTE_INSPECT_TEST_READAHEAD=strict), so that what workers read is
	 * what the caller uses, whatever the scheduling */
	bool strict;
	size_t nslots;
	struct ra_slot *slot;	/* position i lives in slot[i % nslots] */
	unsigned nworkers;
	struct ra_worker *workers;
	struct dump_ra_stats stats;
};

/* The worker's own view of the file, set up as kdump.c sets up the
 * caller's; physical reads need the OS type for libkdumpfile to map them. */
static kdump_ctx_t *ra_ctx_open(const struct dump *d, kdump_bmp_t **pagemap)
{
	kdump_ctx_t *ctx = kdump_new();
	/* each page is read once here: a small cache only costs its search
	 * (but translation's set-up needs more than a few) */
	if (!ctx || kdump_ctx_open(ctx, d->fd, RA_CTX_CACHE_PAGES) != KDUMP_OK ||
	    kdump_set_string_attr(ctx, KDUMP_ATTR_OSTYPE, "linux") != KDUMP_OK)
		return NULL; /* kdump_free() of 0.5.1 is unsafe (kdump.c): left to exit */
	*pagemap = kdump_ctx_pagemap(ctx);
	return ctx;
}

/* The caller's checks before a read (dump_read_phys_uncached, valid_read),
 * without counting anything: a page that fails them is left to the caller. */
static bool ra_read(const struct dump *d, kdump_ctx_t *ctx, kdump_bmp_t *pagemap, uint64_t pa,
		    uint8_t *page)
{
	uint64_t pfn = pa >> PAGE_SHIFT;
	if (!ctx || (d->max_pfn && pfn >= d->max_pfn) || !valid_page_readable(d, pfn) ||
	    !kdump_pagemap_has(pagemap, pfn))
		return false;
	size_t got = PAGE_SIZE;
	return kdump_read(ctx, KDUMP_KPHYSADDR, pa, page, &got) == KDUMP_OK && got == PAGE_SIZE;
}

static bool ra_can_claim(const struct dump_ra *ra)
{
	return ra->w < ra->n && ra->w < ra->c + ra->nslots && !ra->slot[ra->w % ra->nslots].busy;
}

/* Claim the next position and read it, the lock dropped while reading. */
static void ra_claim_read(struct dump_ra *ra, kdump_ctx_t *ctx, kdump_bmp_t *pagemap)
{
	size_t i = ra->w++;
	struct ra_slot *s = &ra->slot[i % ra->nslots];
	s->busy = true;
	s->gen = ra->gen;
	s->idx = i;
	s->state = RA_READING;
	uint64_t pa = ra->list[i];
	pthread_mutex_unlock(&ra->mu);
	bool ok = ra_read(ra->d, ctx, pagemap, pa, s->page);
	pthread_mutex_lock(&ra->mu);
	s->state = ok ? RA_DONE : RA_FAILED;
	s->busy = false;
	if (ra->waiting)
		pthread_cond_signal(&ra->done);
	/* a slot no longer busy may be the one an idle worker waits for */
	if (ra->idle && ra_can_claim(ra))
		pthread_cond_signal(&ra->work);
}

/* Wake idle workers if enough can be claimed to be worth a wake-up
 * (FORCE: any; the caller is about to wait for one). */
static void ra_wake_workers(struct dump_ra *ra, bool force)
{
	if (!ra->idle || !ra_can_claim(ra))
		return;
	size_t lim = ra->n < ra->c + ra->nslots ? ra->n : ra->c + ra->nslots;
	if (force || lim - ra->w >= ra->nslots / 2 || lim == ra->n)
		pthread_cond_broadcast(&ra->work);
}

static void *ra_worker_main(void *arg)
{
	struct ra_worker *wk = arg;
	struct dump_ra *ra = wk->ra;
	wk->ctx = ra_ctx_open(ra->d, &wk->pagemap);
	pthread_mutex_lock(&ra->mu);
	for (;;) {
		while (!ra->stop && !ra_can_claim(ra)) {
			ra->idle++;
			pthread_cond_wait(&ra->work, &ra->mu);
			ra->idle--;
		}
		if (ra->stop)
			break;
		ra_claim_read(ra, wk->ctx, wk->pagemap);
	}
	pthread_mutex_unlock(&ra->mu);
	if (wk->pagemap)
		kdump_bmp_decref(wk->pagemap);
	return NULL;
}

static void ra_free(struct dump_ra *ra)
{
	pthread_mutex_lock(&ra->mu);
	ra->stop = true;
	pthread_cond_broadcast(&ra->work);
	pthread_mutex_unlock(&ra->mu);
	for (unsigned i = 0; i < ra->nworkers; i++)
		if (ra->workers[i].started)
			pthread_join(ra->workers[i].th, NULL);
	pthread_cond_destroy(&ra->work);
	pthread_cond_destroy(&ra->done);
	pthread_mutex_destroy(&ra->mu);
	free(ra->workers);
	free(ra->slot);
	free(ra->list);
	free(ra);
}

struct err *dump_readahead_start(struct dump *d, unsigned workers)
{
	/* a live host's memory changes between two reads: the caller reads
	 * it twice and compares, which a worker's copy would defeat */
	if (!workers || d->live || d->nkcore || d->ra || !d->ctx)
		return NULL;
	if (workers > RA_MAX_WORKERS)
		workers = RA_MAX_WORKERS;
	/* Each worker's libkdumpfile view keeps a bit per host page (its
	 * bitmap of the file): on a host of terabytes, tens of MiB each.  The
	 * workers together keep at most RA_MEM_BUDGET of it (one always). */
	uint64_t each = d->max_pfn / 8 + (uint64_t)RA_WINDOW_PER_WORKER * PAGE_SIZE;
	if (each && (uint64_t)workers * each > RA_MEM_BUDGET)
		workers = RA_MEM_BUDGET / each > 1 ? (unsigned)(RA_MEM_BUDGET / each) : 1;
	struct dump_ra *ra = calloc(1, sizeof(*ra));
	if (!ra)
		return err_new(ERR_NOMEM, "out of memory");
	ra->d = d;
	ra->nslots = (size_t)workers * RA_WINDOW_PER_WORKER;
	ra->slot = calloc(ra->nslots, sizeof(*ra->slot));
	ra->workers = calloc(workers, sizeof(*ra->workers));
	if (!ra->slot || !ra->workers || pthread_mutex_init(&ra->mu, NULL)) {
		free(ra->slot);
		free(ra->workers);
		free(ra);
		return err_new(ERR_NOMEM, "out of memory");
	}
	pthread_cond_init(&ra->work, NULL);
	pthread_cond_init(&ra->done, NULL);
	ra->nworkers = workers;
	unsigned started = 0;
	for (unsigned i = 0; i < workers; i++) {
		ra->workers[i].ra = ra;
		/* fewer threads than asked only read less ahead */
		ra->workers[i].started = !pthread_create(&ra->workers[i].th, NULL, ra_worker_main,
							 &ra->workers[i]);
		started += ra->workers[i].started;
	}
	const char *t = getenv("SPTE_INSPECT_TEST_READAHEAD");
	ra->strict = started && t && !strcmp(t, "strict");
	d->ra = ra;
	return NULL;
}

void dump_readahead_stop(struct dump *d)
{
	if (d && d->ra) {
		ra_free(d->ra);
		d->ra = NULL;
	}
}

bool dump_prefetching(const struct dump *d)
{
	return d->ra != NULL;
}

void dump_prefetch_phys(struct dump *d, const uint64_t *pa, size_t n)
{
	struct dump_ra *ra = d->ra;
	if (!ra || !n)
		return;
	pthread_mutex_lock(&ra->mu);
	if (n > ra->cap) {
		uint64_t *l = realloc(ra->list, n * sizeof(*l));
		if (!l) { /* only no read-ahead */
			pthread_mutex_unlock(&ra->mu);
			return;
		}
		ra->list = l;
		ra->cap = n;
	}
	/* the old list is dropped: pages of it still being read land in
	 * slots of an old generation, which nobody takes */
	memcpy(ra->list, pa, n * sizeof(*pa));
	ra->n = n;
	ra->c = ra->w = 0;
	ra->gen++;
	ra->stats.hinted += n;
	ra_wake_workers(ra, true);
	pthread_mutex_unlock(&ra->mu);
}

bool ra_take(struct dump *d, uint64_t pa, void *buf)
{
	struct dump_ra *ra = d->ra;
	pthread_mutex_lock(&ra->mu);
	size_t end = ra->n < ra->c + ra->nslots ? ra->n : ra->c + ra->nslots, i = ra->c;
	while (i < end && ra->list[i] != pa)
		i++;
	if (i == end) {
		ra->stats.unlisted++;
		pthread_mutex_unlock(&ra->mu);
		return false;
	}
	if (i >= ra->w && !ra->strict) { /* nobody started it: the caller reads it now */
		ra->c = i + 1;
		ra->w = ra->c;
		ra->stats.missed++;
		ra_wake_workers(ra, false);
		pthread_mutex_unlock(&ra->mu);
		return false;
	}
	/* Claimed under this generation (W is reset with the list), so a
	 * worker is reading it or has; its slot cannot be reclaimed while the
	 * caller's position is not past it. */
	struct ra_slot *s = &ra->slot[i % ra->nslots];
	/* While it is being read, the caller reads the next unclaimed page
	 * itself rather than wait (a run of pages with nothing to decode
	 * between them, as BTF, is read by every thread at once); with its own
	 * context, which no other thread uses. */
	while (s->gen != ra->gen || s->idx != i || (s->state != RA_DONE && s->state != RA_FAILED)) {
		if (!ra->strict && ra_can_claim(ra)) {
			ra_claim_read(ra, ra->d->ctx, ra->d->pagemap);
			ra->stats.helped++;
		} else {
			ra_wake_workers(ra, true);
			ra->waiting = true;
			pthread_cond_wait(&ra->done, &ra->mu);
			ra->waiting = false;
		}
	}
	bool ok = s->state == RA_DONE;
	if (ok) /* under the lock: one round trip per page, and 4 KiB is quick */
		memcpy(buf, s->page, PAGE_SIZE);
	ra->c = i + 1;
	if (ok)
		ra->stats.taken++;
	else
		ra->stats.failed++;
	ra_wake_workers(ra, false);
	pthread_mutex_unlock(&ra->mu);
	return ok;
}

struct dump_ra_stats dump_readahead_stats(const struct dump *d)
{
	struct dump_ra_stats st = { 0 };
	if (d->ra) {
		pthread_mutex_lock(&d->ra->mu);
		st = d->ra->stats;
		pthread_mutex_unlock(&d->ra->mu);
	}
	return st;
}
