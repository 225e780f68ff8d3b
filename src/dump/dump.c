#define _GNU_SOURCE
#include "dump/dump.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump/flat.h"
#include "dump/vmcoreinfo.h"

struct dump {
	char *path;
	int fd;
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
	bool extract;			/* a spte-inspect extract: absent pages were cut */
	char *vmcoreinfo_raw;
};

static dump_observer observer;
static void *observer_arg;

void dump_set_observer(dump_observer fn, void *arg)
{
	observer = fn;
	observer_arg = arg;
}

/* Small reads of kernel objects come in runs on the same few pages (a
 * per-leaf write-track counter, struct page, memslot arrays).  Through
 * libkdumpfile each costs a lock, a cache lookup and, for a virtual address,
 * a page-table walk in libaddrxlat: that was half of `check` on a
 * million-SPTE dump.  A dump file does not change, so recent translations
 * and pages are remembered here (direct-mapped); /proc/kcore gets neither. */
#define DUMP_TLB_SLOTS 256
#define DUMP_KDUMP_CACHE_PAGES 64
#define DUMP_PCACHE_SLOTS 16

struct dump_tlb {
	uint64_t vpage[DUMP_TLB_SLOTS];	/* va >> PAGE_SHIFT, plus 1; 0 = empty */
	uint64_t ppage[DUMP_TLB_SLOTS];	/* pa >> PAGE_SHIFT */
};

struct dump_pcache {
	uint64_t pfn[DUMP_PCACHE_SLOTS];	/* plus 1; 0 = empty */
	uint8_t page[DUMP_PCACHE_SLOTS][PAGE_SIZE];
};

#define DUMP_MAX_OVERLAYS 64

struct dump_kcore_seg {
	uint64_t pa, off, size;
};

/* A live target's physical reads go to /proc/kcore itself with pread(2):
 * libkdumpfile keeps the pages it read in a cache, which would answer every
 * re-read with the first read's bytes, and resizing that cache mid-session
 * breaks its address translation.  kcore's PT_LOADs give each RAM range's
 * physical address in p_paddr (-1 where there is none). */
static struct err *dump_kcore_segments(struct dump *d)
{
	Elf64_Ehdr eh;
	if (pread(d->fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
		return err_new(ERR_FORMAT, "%s: not an ELF core with program headers", d->path);
	Elf64_Phdr *ph = calloc(eh.e_phnum, sizeof(*ph));
	d->kcore = calloc(eh.e_phnum, sizeof(*d->kcore));
	if (!ph || !d->kcore) {
		free(ph);
		return err_new(ERR_NOMEM, "out of memory");
	}
	size_t want = (size_t)eh.e_phnum * sizeof(*ph);
	if (pread(d->fd, ph, want, (off_t)eh.e_phoff) != (ssize_t)want) {
		free(ph);
		return err_new(ERR_FORMAT, "%s: program headers cannot be read", d->path);
	}
	for (size_t i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_paddr != UINT64_MAX && ph[i].p_filesz)
			d->kcore[d->nkcore++] = (struct dump_kcore_seg){ ph[i].p_paddr, ph[i].p_offset,
									 ph[i].p_filesz };
	free(ph);
	return NULL;
}

static struct err *dump_kcore_read(struct dump *d, uint64_t pa, void *buf, size_t len)
{
	for (size_t i = 0; i < d->nkcore; i++) {
		const struct dump_kcore_seg *s = &d->kcore[i];
		if (pa < s->pa || pa - s->pa >= s->size || len > s->size - (pa - s->pa))
			continue;
		ssize_t n = pread(d->fd, buf, len, (off_t)(s->off + (pa - s->pa)));
		if (n == (ssize_t)len)
			return NULL;
		return err_new(ERR_READ, "physical address 0x%llx: %s", (unsigned long long)pa,
			       n < 0 ? strerror(errno) : "short read from /proc/kcore");
	}
	return err_new(ERR_READ, "physical address 0x%llx: not in a RAM range of %s",
		       (unsigned long long)pa, d->path);
}

struct dump_overlay {
	uint64_t pa;
	uint8_t page[PAGE_SIZE];
};

static void dump_load_vmcoreinfo(struct dump *d)
{
	char *raw = NULL;
	if (kdump_vmcoreinfo_raw(d->ctx, &raw) == KDUMP_OK && raw) {
		free(d->vmcoreinfo_raw);
		d->vmcoreinfo_raw = strdup(raw);
		vmcoreinfo_parse(&d->vmcoreinfo, raw);
	}
}

#define DUMP_SYS_VMCOREINFO "/sys/kernel/vmcoreinfo"
#define DUMP_VMCOREINFO_MAX (1u << 20)

/* /proc/kcore carries VMCOREINFO as a note (since 4.19); without it,
 * /sys/kernel/vmcoreinfo says where the kernel keeps that note in physical
 * memory ("ADDRESS SIZE", hex), and it is read from there. */
static struct err *dump_sys_vmcoreinfo(struct dump *d, bool tell_libkdumpfile)
{
	FILE *f = fopen(DUMP_SYS_VMCOREINFO, "r");
	if (!f)
		return err_new(ERR_OS, "%s: %s", DUMP_SYS_VMCOREINFO, strerror(errno));
	unsigned long long pa, size;
	int n = fscanf(f, "%llx %llx", &pa, &size);
	fclose(f);
	if (n != 2 || size < 12 || size > DUMP_VMCOREINFO_MAX)
		return err_new(ERR_FORMAT, "%s: not \"ADDRESS SIZE\"", DUMP_SYS_VMCOREINFO);
	uint8_t *note = malloc(size + 1);
	if (!note)
		return err_new(ERR_NOMEM, "out of memory");
	struct err *e = dump_read_phys(d, pa, note, size);
	if (e) {
		free(note);
		return err_wrap(e, "%s: the note at physical 0x%llx", DUMP_SYS_VMCOREINFO, pa);
	}
	uint32_t namesz, descsz;
	memcpy(&namesz, note, 4);
	memcpy(&descsz, note + 4, 4);
	uint64_t desc = 12 + (((uint64_t)namesz + 3) & ~3ull);
	if (namesz != sizeof("VMCOREINFO") || memcmp(note + 12, "VMCOREINFO", namesz) ||
	    desc + descsz > size) {
		free(note);
		return err_new(ERR_FORMAT, "%s: physical 0x%llx holds no VMCOREINFO note",
			       DUMP_SYS_VMCOREINFO, pa);
	}
	char *text = strndup((char *)note + desc, descsz);
	free(note);
	if (!text)
		return err_new(ERR_NOMEM, "out of memory");
	if (tell_libkdumpfile) { /* its address translation needs it too */
		kdump_attr_t a = { .type = KDUMP_BLOB,
				   .val.blob = kdump_blob_new_dup(text, strlen(text)) };
		if (a.val.blob)
			kdump_set_attr(d->ctx, "linux.vmcoreinfo.raw", &a);
	}
	vmcoreinfo_fini(&d->vmcoreinfo);
	free(d->vmcoreinfo_raw);
	d->vmcoreinfo_raw = strdup(text);
	vmcoreinfo_parse(&d->vmcoreinfo, text);
	d->vmcoreinfo_source = DUMP_SYS_VMCOREINFO;
	return NULL;
}

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

static struct err *dump_kdump_err(struct dump *d, kdump_status st, const char *what)
{
	return err_new(st == KDUMP_ERR_NODATA ? ERR_FILTERED : ERR_FORMAT, "%s: %s: %s", d->path,
		       what, kdump_get_err(d->ctx));
}

/* libkdumpfile 0.5.1 crashes on some truncated headers (and frees a context
 * twice after failing on them), so headers too short to hold what their
 * format promises are refused here first. */
static struct err *dump_check_header(int fd, const char *path, uint64_t size)
{
	unsigned char h[64];
	ssize_t n = pread(fd, h, sizeof(h), 0);
	if (n < 0)
		return err_new(ERR_OS, "%s: %s", path, strerror(errno));
	if (n >= 8 && (!memcmp(h, "KDUMP   ", 8) || !memcmp(h, "DISKDUMP", 8))) {
		/* main header block + sub-header block at the least */
		if (size < 2 * PAGE_SIZE)
			return err_new(ERR_FORMAT, "%s: kdump file truncated to %llu bytes (its headers "
				       "alone need %u)", path, (unsigned long long)size, 2 * PAGE_SIZE);
	} else if (n >= 4 && !memcmp(h, "\177ELF", 4)) {
		if (n < 64 || h[4] != 2)
			return err_new(ERR_FORMAT, "%s: ELF file truncated or not 64-bit", path);
		uint64_t phoff;
		uint16_t phentsize, phnum;
		memcpy(&phoff, h + 32, 8);
		memcpy(&phentsize, h + 54, 2);
		memcpy(&phnum, h + 56, 2);
		if (phoff > size || (uint64_t)phentsize * phnum > size - phoff)
			return err_new(ERR_FORMAT, "%s: ELF program headers lie beyond the end of the "
				       "file (truncated at %llu bytes)", path, (unsigned long long)size);
	}
	return NULL;
}

struct err *dump_open(const char *path, struct dump **out)
{
	struct dump *d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(path))) {
		free(d);
		return err_new(ERR_NOMEM, "out of memory");
	}
	d->fd = -1;
	struct err *e = NULL;
	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		bool proc = !strncmp(path, "/proc/", 6);
		e = err_new(ERR_OS, "%s: %s%s", path, strerror(errno),
			    proc && errno == EACCES ? " (live analysis needs root)"
			    : proc && errno == EPERM ? " (live analysis needs root with CAP_SYS_RAWIO, and "
						       "a kernel not in lockdown)" : "");
		goto fail;
	}
	struct stat st;
	if (fstat(d->fd, &st) || !S_ISREG(st.st_mode)) {
		e = err_new(ERR_FORMAT, "%s: not a regular file", path);
		goto fail;
	}
	d->live = !strcmp(path, "/proc/kcore");
	if (d->live && (e = dump_kcore_segments(d)))
		goto fail;
	if (!d->live && st.st_size == 0) {
		e = err_new(ERR_FORMAT, "%s: empty file, not a crash dump", path);
		goto fail;
	}
	if (!d->live && (e = dump_check_header(d->fd, path, (uint64_t)st.st_size)))
		goto fail;
	if (flat_detect(d->fd)) {
		int nfd;
		if ((e = flat_rearrange(d->fd, path, &nfd)))
			goto fail;
		close(d->fd);
		d->fd = nfd;
		d->flattened = true;
		struct stat fst;
		if (fstat(d->fd, &fst) || (e = dump_check_header(d->fd, path, (uint64_t)fst.st_size)))
			goto fail;
	}
	d->ctx = kdump_new();
	if (!d->ctx) {
		e = err_new(ERR_NOMEM, "out of memory");
		goto fail;
	}
	/* QEMU's kdump header fills in only utsname.machine, and libkdumpfile
	 * 0.5.1 then cannot translate anything; we only analyse x86-64 hosts. */
	kdump_set_string_attr(d->ctx, KDUMP_ATTR_ARCH_NAME, "x86_64");
	/* mmap(2) of a truncated dump turns a short file into SIGBUS inside
	 * libkdumpfile; read(2) turns it into an error we can report. */
	kdump_attr_t pol = { .type = KDUMP_NUMBER, .val.number = KDUMP_MMAP_NEVER };
	kdump_set_attr(d->ctx, KDUMP_ATTR_FILE_MMAP_POLICY, &pol);
	kdump_status ks = kdump_open_fd(d->ctx, d->fd);
	if (ks != KDUMP_OK) {
		e = err_new(ERR_FORMAT, "%s: not a readable crash dump: %s", path, kdump_get_err(d->ctx));
		goto fail;
	}
	kdump_get_string_attr(d->ctx, KDUMP_ATTR_FILE_FORMAT, &d->format);
	/* libkdumpfile 0.5.1 searches its page cache linearly on every read:
	 * at the default 1024 pages that search was 8% of a million-SPTE
	 * summary.  Tables are read once per walk and small reads are cached
	 * above (dump_read_phys), so a small cache loses no hits that matter. */
	kdump_attr_t cs = { .type = KDUMP_NUMBER, .val.number = DUMP_KDUMP_CACHE_PAGES };
	kdump_set_attr(d->ctx, "cache.size", &cs);
	/* libkdumpfile files VMCOREINFO under the OS type, so say it first. */
	ks = kdump_set_string_attr(d->ctx, KDUMP_ATTR_OSTYPE, "linux");
	char xlat_err[256];
	snprintf(xlat_err, sizeof(xlat_err), "%s", ks == KDUMP_OK ? "" : kdump_get_err(d->ctx) ?: "");
	/* SPTE_INSPECT_TEST_SYS_VMCOREINFO (tests only): a live run takes its
	 * VMCOREINFO from /sys/kernel/vmcoreinfo even when kcore has the note. */
	bool sys_first = d->live && getenv("SPTE_INSPECT_TEST_SYS_VMCOREINFO");
	char vwhy[256] = "";
	if (!sys_first)
		dump_load_vmcoreinfo(d);
	if (d->live && !dump_vmcoreinfo(d, "OSRELEASE")) {
		struct err *ve = dump_sys_vmcoreinfo(d, !sys_first);
		if (ve && sys_first)
			dump_load_vmcoreinfo(d);
		if (!ve && !sys_first) {
			ks = kdump_set_string_attr(d->ctx, KDUMP_ATTR_OSTYPE, "linux");
			snprintf(xlat_err, sizeof(xlat_err), "%s",
				 ks == KDUMP_OK ? "" : kdump_get_err(d->ctx) ?: "");
		}
		snprintf(vwhy, sizeof(vwhy), "%s", ve ? ve->msg : "");
		err_free(ve);
	}
	if (!dump_vmcoreinfo(d, "OSRELEASE")) {
		if (d->live)
			e = err_new(ERR_FORMAT, "%s: no VMCOREINFO note in kcore, and %s", path, vwhy);
		else
			e = err_new(ERR_FORMAT, "%s: no VMCOREINFO in the %s dump (QEMU needs -device "
				    "vmcoreinfo; kdump dumps always carry it)", path, d->format ? d->format : "");
		goto fail;
	}
	if (ks != KDUMP_OK) {
		e = err_new(ERR_FORMAT, "%s: cannot set up kernel address translation (truncated or "
			    "damaged dump?)%s%s", path, *xlat_err ? ": " : "", xlat_err);
		goto fail;
	}
	d->extract = dump_vmcoreinfo(d, "SPTE_INSPECT_EXTRACT") != NULL;
	kdump_num_t max_pfn;
	if (kdump_get_number_attr(d->ctx, "max_pfn", &max_pfn) == KDUMP_OK)
		d->max_pfn = max_pfn;
	kdump_attr_t pm;
	if (kdump_get_attr(d->ctx, KDUMP_ATTR_FILE_PAGEMAP, &pm) == KDUMP_OK && pm.type == KDUMP_BITMAP) {
		d->pagemap = pm.val.bitmap;
		kdump_bmp_incref(d->pagemap); /* kdump_get_attr() lends, we keep */
	}
	ks = kdump_get_addrxlat(d->ctx, &d->axctx, &d->axsys);
	if (ks != KDUMP_OK) {
		e = dump_kdump_err(d, ks, "address translation");
		goto fail;
	}
	if (!d->live) { /* without them reads are only slower */
		d->tlb = calloc(1, sizeof(*d->tlb));
		d->pcache = calloc(1, sizeof(*d->pcache));
	}
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
	if (d->axctx)
		addrxlat_ctx_decref(d->axctx);
	if (d->axsys)
		addrxlat_sys_decref(d->axsys);
	if (d->pagemap)
		kdump_bmp_decref(d->pagemap);
	/* kdump_free() of libkdumpfile 0.5.1 reads memory it has just freed
	 * (any context, even right after kdump_new(); MALLOC_PERTURB_ turns it
	 * into a crash).  A dump is closed once, at the end: the context is
	 * left to process exit, and LSan is told about it (tests/lsan.supp). */
	(void)d->ctx;
	if (d->fd >= 0)
		close(d->fd);
	free(d->overlays);
	free(d->tlb);
	free(d->pcache);
	free(d->kcore);
	vmcoreinfo_fini(&d->vmcoreinfo);
	free(d->vmcoreinfo_raw);
	free(d->path);
	free(d);
}

static struct err *dump_read(struct dump *d, kdump_addrspace_t as, uint64_t addr, void *buf,
			     size_t len)
{
	if (d->nkcore && as == KDUMP_KPHYSADDR)
		return dump_kcore_read(d, addr, buf, len);
	size_t got = len;
	kdump_status ks = kdump_read(d->ctx, as, addr, buf, &got);
	if (ks == KDUMP_OK && got == len)
		return NULL;
	const char *space = as == KDUMP_KPHYSADDR ? "physical" : "virtual";
	if (ks == KDUMP_ERR_NODATA) {
		d->filtered_reads++;
		return err_new(ERR_FILTERED, "%s address 0x%llx: page not in the dump (%s)",
			       space, (unsigned long long)(addr + got),
			       d->extract ? "not in this extract" : "filtered out");
	}
	if (ks == KDUMP_OK)
		return err_new(ERR_READ, "%s address 0x%llx: short read", space,
			       (unsigned long long)(addr + got));
	return err_new(ERR_READ, "%s address 0x%llx: %s", space, (unsigned long long)addr,
		       kdump_get_err(d->ctx));
}

static void dump_apply_overlays(const struct dump *d, uint64_t pa, void *buf, size_t len)
{
	for (size_t i = 0; i < d->noverlays; i++) {
		const struct dump_overlay *o = &d->overlays[i];
		uint64_t lo = pa > o->pa ? pa : o->pa;
		uint64_t hi = pa + len < o->pa + PAGE_SIZE ? pa + len : o->pa + PAGE_SIZE;
		if (lo < hi)
			memcpy((uint8_t *)buf + (lo - pa), o->page + (lo - o->pa), hi - lo);
	}
}

static void dump_pcache_flush(struct dump *d)
{
	if (d->pcache)
		memset(d->pcache->pfn, 0, sizeof(d->pcache->pfn));
}

struct err *dump_overlay_page(struct dump *d, uint64_t pa, const void *page)
{
	if (pa & (PAGE_SIZE - 1))
		return err_new(ERR_USAGE, "overlay at 0x%llx is not page aligned", (unsigned long long)pa);
	dump_pcache_flush(d);
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
	dump_pcache_flush(d);
	d->noverlays = 0;
}

/* Virtual reads go page by page through the physical path: the pagemap
 * check there keeps libkdumpfile 0.5.1 away from reads of pages the file does
 * not hold (its cache crashes after a run of such failed reads), and
 * overlaid pages are seen.  Translation itself is libkdumpfile's. */
static struct err *dump_read_virt_paged(struct dump *d, uint64_t va, void *buf, size_t len)
{
	uint8_t *out = buf;
	while (len) {
		size_t chunk = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		uint64_t pa;
		struct err *e = dump_vtop(d, va, &pa);
		if (!e)
			e = dump_read_phys(d, pa, out, chunk);
		if (e)
			return e;
		va += chunk;
		out += chunk;
		len -= chunk;
	}
	return NULL;
}

static struct err *dump_read_phys_cached(struct dump *d, uint64_t pa, void *buf, size_t len);

struct err *dump_read_phys(struct dump *d, uint64_t pa, void *buf, size_t len)
{
	struct err *e = dump_read_phys_cached(d, pa, buf, len);
	if (d->hook)
		d->hook(d->hook_arg, d, pa, len);
	if (observer && !e) /* what was read; a page the dump lacks cannot be copied */
		observer(observer_arg, false, pa, len);
	return e;
}

static struct err *dump_read_phys_uncached(struct dump *d, uint64_t pa, void *buf, size_t len);

static struct err *dump_read_phys_cached(struct dump *d, uint64_t pa, void *buf, size_t len)
{
	/* Whole-page reads (tables) are read once each: only small ones are
	 * cached, and only within one page. */
	uint64_t off = pa & (PAGE_SIZE - 1);
	if (!d->pcache || len >= PAGE_SIZE || off + len > PAGE_SIZE || !len)
		return dump_read_phys_uncached(d, pa, buf, len);
	struct dump_pcache *c = d->pcache;
	uint64_t pfn = pa >> PAGE_SHIFT;
	size_t slot = (size_t)(pfn % DUMP_PCACHE_SLOTS);
	if (c->pfn[slot] != pfn + 1) {
		/* The same checks and the same error as an uncached read: a page
		 * that cannot be read whole (an ELF segment ending inside it) is
		 * read as asked, uncounted twice. */
		uint64_t filtered = d->filtered_reads;
		struct err *e = dump_read_phys_uncached(d, pa - off, c->page[slot], PAGE_SIZE);
		if (e) {
			c->pfn[slot] = 0;
			err_free(e);
			d->filtered_reads = filtered;
			return dump_read_phys_uncached(d, pa, buf, len);
		}
		c->pfn[slot] = pfn + 1;
	}
	memcpy(buf, c->page[slot] + off, len);
	return NULL;
}

static struct err *dump_read_phys_uncached(struct dump *d, uint64_t pa, void *buf, size_t len)
{
	/* Beyond the host's memory is not "filtered": no such page existed. */
	if (d->max_pfn && ((pa + len - 1) >> PAGE_SHIFT) >= d->max_pfn)
		return err_new(ERR_READ, "physical address 0x%llx: beyond the end of the host's "
			       "memory (max pfn 0x%llx)", (unsigned long long)pa,
			       (unsigned long long)d->max_pfn);
	if (d->pagemap) {
		for (uint64_t pfn = pa >> PAGE_SHIFT; pfn <= (pa + len - 1) >> PAGE_SHIFT; pfn++) {
			unsigned char bit = 0;
			bool overlaid = false;
			for (size_t i = 0; i < d->noverlays; i++)
				overlaid |= d->overlays[i].pa >> PAGE_SHIFT == pfn;
			if (overlaid)
				continue;
			if (kdump_bmp_get_bits(d->pagemap, pfn, pfn, &bit) != KDUMP_OK || !(bit & 1)) {
				d->filtered_reads++;
				return err_new(ERR_FILTERED, "physical address 0x%llx: page not in the dump "
					       "(%s)", (unsigned long long)(pfn << PAGE_SHIFT),
					       d->extract ? "not in this extract" : "filtered out");
			}
		}
	}
	if (d->noverlays) {
		/* An overlaid page is readable even where the dump has nothing. */
		bool covered = false;
		for (size_t i = 0; i < d->noverlays; i++)
			covered |= d->overlays[i].pa <= pa && pa + len <= d->overlays[i].pa + PAGE_SIZE;
		if (!covered) {
			struct err *e = dump_read(d, KDUMP_KPHYSADDR, pa, buf, len);
			if (e)
				return e;
		}
		dump_apply_overlays(d, pa, buf, len);
		return NULL;
	}
	return dump_read(d, KDUMP_KPHYSADDR, pa, buf, len);
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
	uint64_t vpage = va >> PAGE_SHIFT;
	size_t slot = (size_t)(vpage % DUMP_TLB_SLOTS);
	if (observer)
		observer(observer_arg, true, va, 1);
	if (d->tlb && d->tlb->vpage[slot] == vpage + 1) {
		*pa = d->tlb->ppage[slot] << PAGE_SHIFT | (va & (PAGE_SIZE - 1));
		return NULL;
	}
	addrxlat_fulladdr_t fa = { .addr = va, .as = ADDRXLAT_KVADDR };
	addrxlat_status st = addrxlat_fulladdr_conv(&fa, ADDRXLAT_KPHYSADDR, d->axctx, d->axsys);
	if (st != ADDRXLAT_OK)
		return err_new(ERR_READ, "virtual address 0x%llx: cannot translate: %s",
			       (unsigned long long)va, addrxlat_ctx_get_err(d->axctx));
	*pa = fa.addr;
	if (d->tlb) { /* pages map pages: one translation holds for all of it */
		d->tlb->vpage[slot] = vpage + 1;
		d->tlb->ppage[slot] = fa.addr >> PAGE_SHIFT;
	}
	return NULL;
}

const char *dump_path(const struct dump *d) { return d->path; }
const char *dump_format(const struct dump *d) { return d->format ? d->format : "unknown"; }
bool dump_is_flattened(const struct dump *d) { return d->flattened; }
bool dump_is_live(const struct dump *d) { return d->live; }
uint64_t dump_filtered_reads(const struct dump *d) { return d->filtered_reads; }
const char *dump_vmcoreinfo_raw(struct dump *d) { return d->vmcoreinfo_raw; }
uint64_t dump_max_pfn(const struct dump *d) { return d->max_pfn; }

struct err *dump_cpu_reg(struct dump *d, unsigned cpu, const char *reg, uint64_t *val)
{
	char key[64];
	snprintf(key, sizeof(key), "cpu.%u.reg.%s", cpu, reg);
	kdump_num_t n;
	if (kdump_get_number_attr(d->ctx, key, &n) != KDUMP_OK)
		return err_new(ERR_NOTFOUND, "the dump has no saved %s for CPU %u", reg, cpu);
	*val = n;
	return NULL;
}

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

struct dump_live_stats *dump_live_stats(struct dump *d) { return &d->live_stats; }

void dump_test_live(struct dump *d, dump_read_hook hook, void *arg)
{
	d->live = true;
	/* a live target gets no caching of pages or translations */
	free(d->tlb);
	free(d->pcache);
	d->tlb = NULL;
	d->pcache = NULL;
	d->hook = hook;
	d->hook_arg = arg;
}

bool dump_peek(struct dump *d, uint64_t va, void *buf, size_t len)
{
	struct err *e = dump_read_virt(d, va, buf, len);
	err_free(e);
	return !e;
}
