/* The open dump: which backend reads it, and the read paths every layer above
 * uses (physical, kernel-virtual, stable re-reads on a live target).
 * Backends: kdump.c (libkdumpfile), kcore.c (/proc/kcore), flat.c (flattened
 * kdump files); overlay.c and cache.c sit between the reads and them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump/flat.h"
#include "dump_priv.h"

const char *dump_vmcoreinfo_source(const struct dump *d)
{
	return d->vmcoreinfo_source ? d->vmcoreinfo_source : d->live ? "kcore note" : "dump";
}

const char *dump_vmcoreinfo(struct dump *d, const char *key)
{
	return vmcoreinfo_get(&d->vmcoreinfo, key);
}

uint64_t dump_vmcoreinfo_symbol(struct dump *d, const char *name)
{
	char key[256];
	snprintf(key, sizeof(key), "SYMBOL(%s)", name);
	const char *v = dump_vmcoreinfo(d, key);
	return v ? strtoull(v, NULL, 16) : 0;
}

/* libkdumpfile reads pages on its own too (the kernel's page tables while it
 * sets up translation), where validate.c cannot stop it.  A descriptor
 * claiming more than a block would overflow its buffer there: such a file is
 * read from a private copy whose damaged descriptors say 0 bytes (an error
 * libkdumpfile reports); validate.c still calls those pages unreadable. */
ssize_t dump_file_pread(const struct dump *d, void *buf, size_t len, uint64_t off)
{
	if (d->flat)
		return flat_map_pread(d->flat, buf, len, off);
	return pread(d->fd, buf, len, (off_t)off);
}

/* Done reading a flattened dump in place; d->fd is then the caller's. */
static void dump_flat_close(struct dump *d)
{
	if (d->flat) {
		flat_map_unexpose(d->fd);
		flat_map_free(d->flat);
		d->flat = NULL;
	}
	if (d->flat_fd >= 0)
		close(d->flat_fd);
	d->flat_fd = -1;
}

static struct err *dump_defuse(struct dump *d)
{
	uint64_t *ats = NULL;
	size_t n = valid_overflowing(d, &ats);
	if (!n) {
		free(ats);
		return NULL;
	}
	int copy;
	/* a flattened dump's copy is the rearranged file: the only place
	 * those descriptors can be patched */
	struct err *e = d->flat ? flat_map_write(d->flat, d->path, &copy)
				: flat_copy(d->fd, d->path, &copy);
	for (size_t i = 0; !e && i < n; i++) {
		static const uint8_t zero[4];
		if (pwrite(copy, zero, sizeof(zero), (off_t)(ats[i] + 8)) != (ssize_t)sizeof(zero))
			e = err_new(ERR_OS, "%s: writing a private copy: %s", d->path, strerror(errno));
	}
	free(ats);
	if (e)
		return e;
	dump_flat_close(d);
	close(d->fd);
	d->fd = copy;
	return NULL;
}

static dump_observer observer;
static void *observer_arg;

static int observer_paused;

void dump_set_observer(dump_observer fn, void *arg)
{
	observer = fn;
	observer_arg = arg;
	observer_paused = 0;
}

void dump_observer_pause(void) { observer_paused++; }
void dump_observer_resume(void) { observer_paused -= observer_paused > 0; }

void dump_observe_touch(struct dump *d, uint64_t va, uint64_t len)
{
	if (!observer || observer_paused)
		return;
	uint8_t buf[PAGE_SIZE];
	while (len) { /* page by page: a page the dump lacks does not hide the next */
		uint64_t n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		if (n > len)
			n = len;
		(void)dump_peek(d, va, buf, (size_t)n);
		va += n;
		len -= n;
	}
}

struct err *dump_open(const char *path, struct dump **out)
{
	return dump_open_jobs(path, 1, out);
}

struct err *dump_open_jobs(const char *path, unsigned jobs, struct dump **out)
{
	struct dump *d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(path))) {
		free(d);
		return err_new(ERR_NOMEM, "out of memory");
	}
	d->fd = d->flat_fd = -1;
	struct err *e = NULL;
	/* O_NONBLOCK: a FIFO would block open(2) until a writer came */
	d->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (d->fd < 0) {
		bool proc = !strncmp(path, "/proc/", 6);
		e = err_new(ERR_OS, "%s: %s%s", path, strerror(errno),
			    proc && errno == EACCES ? " (live analysis needs root)"
			    : proc && errno == EPERM ? " (live analysis needs root with CAP_SYS_RAWIO, and "
						       "a kernel not in lockdown)" : "");
		goto fail;
	}
	struct stat st;
	if (fstat(d->fd, &st)) {
		e = err_new(ERR_OS, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		e = err_new(ERR_FORMAT, "%s: not a regular file (%s): a crash dump is a file, or "
			    "/proc/kcore", path, S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISDIR(st.st_mode) ?
			    "a directory" : S_ISCHR(st.st_mode) ? "a character device" :
			    S_ISBLK(st.st_mode) ? "a block device" : S_ISSOCK(st.st_mode) ? "a socket" :
			    "not a file");
		goto fail;
	}
	fcntl(d->fd, F_SETFL, 0); /* a regular file: blocking reads again */
	d->live = !strcmp(path, "/proc/kcore");
	if (d->live && (e = kcore_segments(d)))
		goto fail;
	if (!d->live && st.st_size == 0) {
		e = err_new(ERR_FORMAT, "%s: empty file, not a crash dump", path);
		goto fail;
	}
	if (!d->live && !flat_detect(d->fd) && (e = valid_open(d, (uint64_t)st.st_size, jobs)))
		goto fail;
	if (!d->live && flat_detect(d->fd)) {
		/* read in place: libkdumpfile gets flat.c's stand-in descriptor */
		d->flat_fd = d->fd;
		d->fd = -1;
		if ((e = flat_map_build(d->flat_fd, path, &d->flat)) ||
		    (e = flat_map_expose(d->flat, path, &d->fd)))
			goto fail;
		d->flattened = true;
		if ((e = valid_open(d, flat_map_size(d->flat), jobs)))
			goto fail;
	}
	if (!d->live && (e = dump_defuse(d)))
		goto fail;
	if ((e = kdump_backend_open(d)))
		goto fail;
	if (!d->live)
		cache_init(d);
	d->extract = dump_vmcoreinfo(d, "SPTE_INSPECT_EXTRACT") != NULL;
	*out = d;
	return NULL;
fail:
	dump_close(d);
	return e;
}

void dump_close(struct dump *d)
{
	if (!d)
		return;
	dump_readahead_stop(d); /* its workers read the file */
	dump_stash_drop(d);
	kdump_backend_close(d);
	int fd = d->fd;
	dump_flat_close(d);
	if (fd >= 0)
		close(fd);
	free(d->overlays);
	cache_fini(d);
	free(d->kcore);
	valid_close(d);
	notes_fini(&d->notes);
	vmcoreinfo_fini(&d->vmcoreinfo);
	free(d->vmcoreinfo_raw);
	free(d->path);
	free(d);
}

void dump_stash_drop(struct dump *d)
{
	free(d->stash_alloc);
	free(d->stash_ok);
	d->stash = d->stash_alloc = d->stash_ok = NULL;
	d->stash_len = 0;
}

void dump_stash_virt(struct dump *d, uint64_t va, uint64_t len, uint8_t *buf, void *alloc,
		     uint8_t *page_ok)
{
	dump_stash_drop(d);
	if (d->live || d->hook || !len || va + len < va) {
		free(alloc);
		free(page_ok);
		return;
	}
	d->stash = buf;
	d->stash_alloc = alloc;
	d->stash_ok = page_ok;
	d->stash_lo = va;
	d->stash_len = len;
}

uint64_t dump_stash_served(const struct dump *d) { return d->stash_served; }

/* [VA, VA+LEN), within one page, from the stash: false if not all there. */
static bool stash_covers(const struct dump *d, uint64_t va, size_t len)
{
	if (!d->stash || va < d->stash_lo || va - d->stash_lo > d->stash_len ||
	    len > d->stash_len - (va - d->stash_lo))
		return false;
	uint64_t page = (va >> PAGE_SHIFT) - (d->stash_lo >> PAGE_SHIFT);
	return d->stash_ok[page / 8] >> (page % 8) & 1;
}

/* Read-ahead for a read of many pages (BTF, kallsyms tables, module
 * symbols): its whole pages' physical addresses, as far as they translate,
 * announced before they are read. */
#define DUMP_PREFETCH_MIN_PAGES 3
#define DUMP_PREFETCH_MAX_PAGES 4096

static void dump_prefetch_virt(struct dump *d, uint64_t va, size_t len)
{
	uint64_t first = (va + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
	if (len < (size_t)DUMP_PREFETCH_MIN_PAGES * PAGE_SIZE || va + len < first)
		return;
	size_t n = (size_t)((va + len - first) / PAGE_SIZE);
	if (n > DUMP_PREFETCH_MAX_PAGES)
		n = DUMP_PREFETCH_MAX_PAGES;
	uint64_t *pa = malloc(n * sizeof(*pa));
	if (!pa)
		return;
	size_t k = 0;
	/* the translations the read will ask for, as it would (observed and
	 * cached alike); it meets the same failure, if any, itself */
	for (; k < n; k++) {
		struct err *e = dump_vtop(d, first + (uint64_t)k * PAGE_SIZE, &pa[k]);
		if (e) {
			err_free(e);
			break;
		}
	}
	dump_prefetch_phys(d, pa, k);
	free(pa);
}

/* Virtual reads go page by page through the physical path: the pagemap
 * check there keeps libkdumpfile 0.5.1 away from reads of pages the file does
 * not hold (its cache crashes after a run of such failed reads), and
 * overlaid pages are seen.  Translation itself is libkdumpfile's. */
static struct err *dump_read_virt_paged(struct dump *d, uint64_t va, void *buf, size_t len)
{
	uint8_t *out = buf;
	if (d->ra && !(stash_covers(d, va, 1) && stash_covers(d, va + len - 1, 1)))
		dump_prefetch_virt(d, va, len);
	while (len) {
		size_t chunk = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		uint64_t pa;
		struct err *e = dump_vtop(d, va, &pa);
		if (!e && stash_covers(d, va, chunk)) {
			memcpy(out, d->stash + (va - d->stash_lo), chunk);
			d->stash_served++;
			if (observer && !observer_paused)
				observer(observer_arg, d, false, pa, out, chunk);
		} else if (!e) {
			e = dump_read_phys(d, pa, out, chunk);
		}
		if (e)
			return e;
		va += chunk;
		out += chunk;
		len -= chunk;
	}
	return NULL;
}

static struct err *dump_backend_read(struct dump *d, uint64_t pa, void *buf, size_t len)
{
	if (d->nkcore)
		return kcore_read(d, pa, buf, len);
	if (d->ra && len == PAGE_SIZE && !(pa & (PAGE_SIZE - 1)) && ra_take(d, pa, buf))
		return NULL;
	struct err *e = valid_read(d, pa, len);
	if (e)
		return e;
	return kdump_backend_read(d, KDUMP_KPHYSADDR, pa, buf, len);
}

static struct err *dump_read_phys_uncached(struct dump *d, uint64_t pa, void *buf, size_t len)
{
	/* Beyond the host's memory is not "filtered": no such page existed. */
	if (d->max_pfn && ((pa + len - 1) >> PAGE_SHIFT) >= d->max_pfn)
		return err_new(ERR_READ, "physical address 0x%llx: beyond the end of the host's "
			       "memory (max pfn 0x%llx)", (unsigned long long)pa,
			       (unsigned long long)d->max_pfn);
	for (uint64_t pfn = pa >> PAGE_SHIFT; d->pagemap && pfn <= (pa + len - 1) >> PAGE_SHIFT; pfn++) {
		struct err *e = overlay_has_page(d, pfn) ? NULL : kdump_backend_page_stored(d, pfn);
		if (e)
			return e;
	}
	if (d->noverlays) {
		/* An overlaid page is readable even where the dump has nothing. */
		if (!overlay_covers(d, pa, len)) {
			struct err *e = dump_backend_read(d, pa, buf, len);
			if (e)
				return e;
		}
		overlay_apply(d, pa, buf, len);
		return NULL;
	}
	return dump_backend_read(d, pa, buf, len);
}

struct err *dump_read_phys(struct dump *d, uint64_t pa, void *buf, size_t len)
{
	struct err *e = cache_read_phys(d, pa, buf, len, dump_read_phys_uncached);
	if (d->hook)
		d->hook(d->hook_arg, d, pa, len);
	if (observer && !observer_paused && !e) /* what was read; a page the dump lacks cannot be copied */
		observer(observer_arg, d, false, pa, buf, len);
	return e;
}

struct err *dump_read_virt(struct dump *d, uint64_t va, void *buf, size_t len)
{
	return dump_read_virt_paged(d, va, buf, len);
}

struct err *dump_read_u64(struct dump *d, uint64_t va, uint64_t *val)
{
	return dump_read_virt(d, va, val, sizeof(*val));
}

struct err *dump_read_u32(struct dump *d, uint64_t va, uint32_t *val)
{
	return dump_read_virt(d, va, val, sizeof(*val));
}

struct err *dump_vtop(struct dump *d, uint64_t va, uint64_t *pa)
{
	if (cache_vtop(d, va, pa))
		return NULL;
	struct err *e = kdump_backend_vtop(d, va, pa);
	if (!e)
		cache_vtop_add(d, va, *pa);
	if (observer && !observer_paused)
		observer(observer_arg, d, true, va, NULL, 1);
	return e;
}

const char *dump_path(const struct dump *d) { return d->path; }
const char *dump_format(const struct dump *d) { return d->format ? d->format : "unknown"; }
const char *dump_vmcoreinfo_raw(struct dump *d) { return d->vmcoreinfo_raw; }
uint64_t dump_max_pfn(const struct dump *d) { return d->max_pfn; }
bool dump_is_flattened(const struct dump *d) { return d->flattened; }
bool dump_is_live(const struct dump *d) { return d->live; }
uint64_t dump_filtered_reads(const struct dump *d) { return d->filtered_reads; }
const struct notes *dump_notes(const struct dump *d) { return &d->notes; }

static struct err *dump_read_stable(struct dump *d, bool phys, uint64_t addr, void *buf, size_t len)
{
	struct err *(*rd)(struct dump *, uint64_t, void *, size_t) = phys ? dump_read_phys : dump_read_virt;
	struct err *e = rd(d, addr, buf, len);
	if (e || !d->live)
		return e;
	uint8_t *again = len <= sizeof(d->again) ? d->again : malloc(len);
	if (!again)
		return err_new(ERR_NOMEM, "out of memory");
	for (int tries = 2;; tries++) {
		if ((e = rd(d, addr, again, len)) || !memcmp(buf, again, len))
			break;
		if (tries == 2)
			d->live_stats.reads_retried++;
		memcpy(buf, again, len);
		if (tries == DUMP_LIVE_TRIES) {
			d->live_stats.reads_changed++;
			e = err_new(ERR_CHANGED, "%s address 0x%llx: %zu bytes changed under us on each of "
				    "%d reads", phys ? "physical" : "virtual", (unsigned long long)addr, len,
				    DUMP_LIVE_TRIES);
			break;
		}
	}
	if (again != d->again)
		free(again);
	return e;
}

struct err *dump_read_virt_stable(struct dump *d, uint64_t va, void *buf, size_t len)
{
	return dump_read_stable(d, false, va, buf, len);
}

struct err *dump_read_phys_stable(struct dump *d, uint64_t pa, void *buf, size_t len)
{
	return dump_read_stable(d, true, pa, buf, len);
}

const struct dump_live_stats *dump_live_stats(const struct dump *d) { return &d->live_stats; }

void dump_test_live(struct dump *d, dump_read_hook hook, void *arg)
{
	d->live = true;
	dump_readahead_stop(d);
	dump_stash_drop(d);
	/* a live target gets no caching of pages or translations */
	cache_fini(d);
	d->hook = hook;
	d->hook_arg = arg;
}

/* A probe (a search, a best-effort name): a page it finds missing is not a
 * gap in the analysis, so it does not count toward the incomplete bit. */
bool dump_peek(struct dump *d, uint64_t va, void *buf, size_t len)
{
	uint64_t filtered = d->filtered_reads;
	struct err *e = dump_read_virt(d, va, buf, len);
	if (e)
		d->filtered_reads = filtered;
	err_free(e);
	return !e;
}

/* dump_window_peek's other page (kept unless live), or read across pages. */
bool dump_window_fill(struct dump *d, struct dump_window *w, uint64_t va, void *buf, size_t len)
{
	uint64_t page = va >> PAGE_SHIFT, at = va & (PAGE_SIZE - 1);
	if (at + len > PAGE_SIZE || d->live)
		return dump_peek(d, va, buf, len);
	if (w->page != page + 1) {
		w->page = 0;
		if (!dump_peek(d, page << PAGE_SHIFT, w->data, PAGE_SIZE))
			return dump_peek(d, va, buf, len); /* says which bytes are missing */
		w->page = page + 1;
	}
	memcpy(buf, w->data + at, len);
	return true;
}
