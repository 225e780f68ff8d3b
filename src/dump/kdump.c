/* The libkdumpfile backend: kdump-compressed and ELF files (and the address
 * translation of /proc/kcore).  libkdumpfile reads, decompresses and
 * translates; what it is handed has been validated first (validate.c). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump_priv.h"

/* libkdumpfile 0.5.1 searches its page cache linearly on every read: at the
 * default 1024 pages that search was 8% of a million-SPTE summary.  Tables are
 * read once per walk and small reads are cached above (cache.c), so a small
 * cache loses no hits that matter. */
#define DUMP_KDUMP_CACHE_PAGES 64

void kdump_backend_load_vmcoreinfo(struct dump *d)
{
	char *raw = NULL;
	if (kdump_vmcoreinfo_raw(d->ctx, &raw) == KDUMP_OK && raw) {
		free(d->vmcoreinfo_raw);
		d->vmcoreinfo_raw = strdup(raw);
		vmcoreinfo_parse(&d->vmcoreinfo, raw);
	}
}

static struct err *kdump_backend_err(struct dump *d, kdump_status st, const char *what)
{
	return err_new(st == KDUMP_ERR_NODATA ? ERR_FILTERED : ERR_FORMAT, "%s: %s: %s", d->path,
		       what, kdump_get_err(d->ctx));
}

kdump_status kdump_ctx_open(kdump_ctx_t *ctx, int fd, unsigned cache_pages)
{
	/* QEMU's kdump header fills in only utsname.machine, and libkdumpfile
	 * 0.5.1 then cannot translate anything; we only analyse x86-64 hosts. */
	kdump_set_string_attr(ctx, KDUMP_ATTR_ARCH_NAME, "x86_64");
	/* mmap(2) of a truncated dump turns a short file into SIGBUS inside
	 * libkdumpfile; read(2) turns it into an error we can report. */
	kdump_attr_t pol = { .type = KDUMP_NUMBER, .val.number = KDUMP_MMAP_NEVER };
	kdump_set_attr(ctx, KDUMP_ATTR_FILE_MMAP_POLICY, &pol);
	kdump_status ks = kdump_open_fd(ctx, fd);
	if (ks != KDUMP_OK)
		return ks;
	/* a size it refuses only costs speed */
	kdump_attr_t cs = { .type = KDUMP_NUMBER, .val.number = cache_pages };
	kdump_set_attr(ctx, "cache.size", &cs);
	return KDUMP_OK;
}

kdump_bmp_t *kdump_ctx_pagemap(kdump_ctx_t *ctx)
{
	kdump_attr_t pm;
	if (kdump_get_attr(ctx, KDUMP_ATTR_FILE_PAGEMAP, &pm) != KDUMP_OK || pm.type != KDUMP_BITMAP)
		return NULL;
	kdump_bmp_incref(pm.val.bitmap); /* kdump_get_attr() lends, we keep */
	return pm.val.bitmap;
}

bool kdump_pagemap_has(kdump_bmp_t *pagemap, uint64_t pfn)
{
	unsigned char bit = 0;
	return !pagemap || (kdump_bmp_get_bits(pagemap, pfn, pfn, &bit) == KDUMP_OK && (bit & 1));
}

struct err *kdump_backend_open(struct dump *d)
{
	const char *path = d->path;
	d->ctx = kdump_new();
	if (!d->ctx)
		return err_new(ERR_NOMEM, "out of memory");
	kdump_status ks = kdump_ctx_open(d->ctx, d->fd, DUMP_KDUMP_CACHE_PAGES);
	if (ks != KDUMP_OK)
		return err_new(ERR_FORMAT, "%s: not a readable crash dump: %s", path, kdump_get_err(d->ctx));
	kdump_get_string_attr(d->ctx, KDUMP_ATTR_FILE_FORMAT, &d->format);
	/* libkdumpfile files VMCOREINFO under the OS type, so say it first. */
	ks = kdump_set_string_attr(d->ctx, KDUMP_ATTR_OSTYPE, "linux");
	char xlat_err[256];
	snprintf(xlat_err, sizeof(xlat_err), "%s", ks == KDUMP_OK ? "" : kdump_get_err(d->ctx) ?: "");
	/* SPTE_INSPECT_TEST_SYS_VMCOREINFO (tests only): a live run takes its
	 * VMCOREINFO from /sys/kernel/vmcoreinfo even when kcore has the note. */
	bool sys_first = d->live && getenv("SPTE_INSPECT_TEST_SYS_VMCOREINFO");
	char vwhy[256] = "";
	if (!sys_first)
		kdump_backend_load_vmcoreinfo(d);
	if (d->live && !dump_vmcoreinfo(d, "OSRELEASE")) {
		struct err *ve = kcore_sys_vmcoreinfo(d, !sys_first);
		if (ve && sys_first)
			kdump_backend_load_vmcoreinfo(d);
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
			return err_new(ERR_FORMAT, "%s: no VMCOREINFO note in kcore, and %s", path, vwhy);
		return err_new(ERR_FORMAT, "%s: no VMCOREINFO in the %s dump (QEMU needs -device "
			       "vmcoreinfo; kdump dumps always carry it)", path, d->format ? d->format : "");
	}
	/* the file's own damage explains it better than libkdumpfile's words */
	if (ks != KDUMP_OK && d->notes.n)
		return err_new(ERR_FORMAT, "cannot translate kernel addresses, the kernel's page tables "
			       "are not readable: %s", d->notes.msg[0]);
	if (ks != KDUMP_OK)
		return err_new(ERR_FORMAT, "%s: cannot set up kernel address translation (truncated or "
			       "damaged dump?)%s%s", path, *xlat_err ? ": " : "", xlat_err);
	kdump_num_t max_pfn;
	if (kdump_get_number_attr(d->ctx, "max_pfn", &max_pfn) == KDUMP_OK)
		d->max_pfn = max_pfn;
	d->pagemap = kdump_ctx_pagemap(d->ctx);
	ks = kdump_get_addrxlat(d->ctx, &d->axctx, &d->axsys);
	if (ks != KDUMP_OK)
		return kdump_backend_err(d, ks, "address translation");
	return NULL;
}

void kdump_backend_close(struct dump *d)
{
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
}

void dump_close_all(struct dump *d)
{
	kdump_ctx_t *ctx = d ? d->ctx : NULL;
	dump_close(d);
	if (ctx)
		kdump_free(ctx);
}

struct err *kdump_backend_page_stored(struct dump *d, uint64_t pfn)
{
	if (!kdump_pagemap_has(d->pagemap, pfn)) {
		d->filtered_reads++;
		return err_new(ERR_FILTERED, "physical address 0x%llx: page not in the dump "
			       "(%s)", (unsigned long long)(pfn << PAGE_SHIFT),
			       d->extract ? "not in this extract" : "filtered out");
	}
	return NULL;
}

struct err *kdump_backend_read(struct dump *d, kdump_addrspace_t as, uint64_t addr, void *buf,
			       size_t len)
{
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

struct err *kdump_backend_vtop(struct dump *d, uint64_t va, uint64_t *pa)
{
	addrxlat_fulladdr_t fa = { .addr = va, .as = ADDRXLAT_KVADDR };
	addrxlat_status st = addrxlat_fulladdr_conv(&fa, ADDRXLAT_KPHYSADDR, d->axctx, d->axsys);
	if (st != ADDRXLAT_OK && d->notes.n) /* page tables lost with the file's end */
		return err_new(ERR_READ, "virtual address 0x%llx: cannot translate (%s): %s",
			       (unsigned long long)va, addrxlat_ctx_get_err(d->axctx), d->notes.msg[0]);
	if (st != ADDRXLAT_OK)
		return err_new(ERR_READ, "virtual address 0x%llx: cannot translate: %s",
			       (unsigned long long)va, addrxlat_ctx_get_err(d->axctx));
	*pa = fa.addr;
	return NULL;
}

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
