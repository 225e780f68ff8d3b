/* A kdump-compressed writer: header, sub header, both bitmaps, one
 * descriptor per stored page, zlib page data, then the ELF notes with
 * VMCOREINFO (the sub header points to them: they can say what happened
 * while the pages were written).  Pages stream in pfn order: the room for
 * the descriptors is reserved for the most pages the caller announced.  The
 * file is written beside PATH and renamed over it only when complete, so a
 * failed extract never leaves a half-written dump that looks whole. */
#define _GNU_SOURCE
#include "dump/kdump_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "dump/kdump_format.h"

#define BLOCK 4096u

static struct err *put(int fd, const char *path, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n <= 0)
			return err_new(ERR_OS, "%s: %s", path, n < 0 ? strerror(errno) : "short write");
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return NULL;
}

static uint64_t round_up(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

struct kdump_writer {
	char *path, *tmp;
	int fd;
	uint64_t max_pfn, max_pages, bm_bytes, bm_off, desc_off, pos, nd, last_pfn;
	uint8_t *bm2, *descs, *cbuf;
	uLongf cap;
	bool any;
};

void kdump_write_abort(struct kdump_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		close(w->fd);
		unlink(w->tmp);
	}
	free(w->path);
	free(w->tmp);
	free(w->bm2);
	free(w->descs);
	free(w->cbuf);
	free(w);
}

struct err *kdump_write_begin(const char *path, uint64_t max_pfn, uint64_t max_pages,
			      struct kdump_writer **out)
{
	*out = NULL;
	if (!max_pfn || max_pfn > (1ull << 40))
		return err_new(ERR_FORMAT, "%s: host of %llu pages cannot be written", path,
			       (unsigned long long)max_pfn);
	if (max_pages > max_pfn)
		max_pages = max_pfn;
	struct kdump_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return err_new(ERR_NOMEM, "out of memory");
	w->fd = -1;
	w->max_pfn = max_pfn;
	w->max_pages = max_pages;
	w->bm_bytes = round_up((max_pfn + 7) / 8, BLOCK);
	w->bm_off = 2 * BLOCK; /* the header, the sub header alone (notes go last) */
	w->desc_off = w->bm_off + 2 * w->bm_bytes;
	w->pos = round_up(w->desc_off + max_pages * KDUMP_DESC_SIZE, BLOCK);
	w->cap = compressBound(BLOCK);
	w->path = strdup(path);
	w->bm2 = calloc(1, (size_t)w->bm_bytes);
	w->descs = calloc(max_pages ? max_pages : 1, KDUMP_DESC_SIZE);
	w->cbuf = malloc(w->cap);
	if (asprintf(&w->tmp, "%s.tmp", path) < 0)
		w->tmp = NULL;
	if (!w->path || !w->tmp || !w->bm2 || !w->descs || !w->cbuf) {
		kdump_write_abort(w);
		return err_new(ERR_NOMEM, "out of memory");
	}
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		struct err *e = err_new(ERR_OS, "%s: %s", w->tmp, strerror(errno));
		kdump_write_abort(w);
		return e;
	}
	*out = w;
	return NULL;
}

struct err *kdump_write_page(struct kdump_writer *w, uint64_t pfn, const uint8_t *page)
{
	if (pfn >= w->max_pfn || (w->any && pfn <= w->last_pfn) || w->nd >= w->max_pages)
		return err_new(ERR_FORMAT, "%s: page 0x%llx out of order or beyond the %llu announced",
			       w->tmp, (unsigned long long)pfn, (unsigned long long)w->max_pages);
	uLongf n = w->cap;
	bool z = compress2(w->cbuf, &n, page, BLOCK, Z_DEFAULT_COMPRESSION) == Z_OK && n < BLOCK;
	uint32_t size = z ? (uint32_t)n : BLOCK;
	struct err *e = put(w->fd, w->tmp, z ? w->cbuf : page, size, w->pos);
	if (e)
		return e;
	uint8_t *d = w->descs + w->nd++ * KDUMP_DESC_SIZE;
	kdump_put64(d, w->pos);
	kdump_put32(d + 8, size);
	kdump_put32(d + 12, z ? KDUMP_F_ZLIB : 0);
	kdump_put64(d + 16, 0);
	w->bm2[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
	w->pos += size;
	w->last_pfn = pfn;
	w->any = true;
	return NULL;
}

struct err *kdump_write_finish(struct kdump_writer *w, const struct kdump_write_info *info,
			       struct kdump_write_stats *st)
{
	st->pages = w->nd;
	st->bytes = 0;
	size_t vlen = info->vmcoreinfo ? strlen(info->vmcoreinfo) : 0;
	/* VMCOREINFO goes in as an ELF note after the caller's notes (where
	 * libkdumpfile looks for it), and the sub header points into it too */
	size_t vnote = 12 + 12 + (vlen + 3) / 4 * 4;
	size_t nlen = info->notes_len + vnote;
	uint8_t *head = calloc(1, (size_t)w->bm_off), *bm1 = calloc(1, (size_t)w->bm_bytes);
	uint8_t *notes = calloc(1, nlen);
	struct err *e = NULL;
	if (!head || !bm1 || !notes) {
		e = err_new(ERR_NOMEM, "out of memory");
		goto out;
	}
	/* every page below max_pfn exists; only those written are stored */
	memset(bm1, 0xff, (size_t)(w->max_pfn / 8));
	for (uint64_t p = w->max_pfn / 8 * 8; p < w->max_pfn; p++)
		bm1[p / 8] |= (uint8_t)(1u << (p % 8));
	if (info->notes_len)
		memcpy(notes, info->notes, info->notes_len);
	uint8_t *vn = notes + info->notes_len;
	kdump_put32(vn, 11);
	kdump_put32(vn + 4, (uint32_t)vlen);
	kdump_put32(vn + 8, 0);
	memcpy(vn + 12, "VMCOREINFO", 11);
	if (vlen)
		memcpy(vn + 24, info->vmcoreinfo, vlen);
	uint64_t note_off = w->pos;

	memcpy(head + KDUMP_HDR_SIGNATURE, KDUMP_SIGNATURE, 8);
	kdump_put32(head + KDUMP_HDR_VERSION, KDUMP_HEADER_VERSION);
	static const size_t uts_field[] = { 0, 2, 4 }; /* sysname, release, machine */
	const char *uts_val[] = { "Linux", info->release ? info->release : "", "x86_64" };
	for (int i = 0; i < 3; i++)
		snprintf((char *)head + KDUMP_HDR_UTSNAME + uts_field[i] * KDUMP_UTS_LEN, KDUMP_UTS_LEN,
			 "%s", uts_val[i]);
	kdump_put64(head + KDUMP_HDR_TIMESTAMP, (uint64_t)info->time);
	kdump_put64(head + KDUMP_HDR_TIMESTAMP + 8, 0);
	kdump_put32(head + KDUMP_HDR_STATUS, KDUMP_F_ZLIB);
	kdump_put32(head + KDUMP_HDR_BLOCK_SIZE, BLOCK);
	kdump_put32(head + KDUMP_HDR_SUB_HDR_SIZE, (uint32_t)(w->bm_off / BLOCK - 1));
	kdump_put32(head + KDUMP_HDR_BITMAP_BLOCKS, (uint32_t)(2 * w->bm_bytes / BLOCK));
	kdump_put32(head + KDUMP_HDR_MAX_MAPNR,
		    w->max_pfn > UINT32_MAX ? UINT32_MAX : (uint32_t)w->max_pfn);
	kdump_put32(head + KDUMP_HDR_NR_CPUS, info->nr_cpus);
	uint8_t *sub = head + BLOCK;
	kdump_put64(sub + KDUMP_SUB_PHYS_BASE, info->phys_base);
	kdump_put32(sub + KDUMP_SUB_DUMP_LEVEL, 31);
	kdump_put64(sub + KDUMP_SUB_OFFSET_NOTE, note_off);
	kdump_put64(sub + KDUMP_SUB_SIZE_NOTE, nlen);
	kdump_put64(sub + KDUMP_SUB_OFFSET_VMCOREINFO, note_off + info->notes_len + 24);
	kdump_put64(sub + KDUMP_SUB_SIZE_VMCOREINFO, vlen);
	kdump_put64(sub + KDUMP_SUB_END_PFN_64, w->max_pfn);
	kdump_put64(sub + KDUMP_SUB_MAX_MAPNR_64, w->max_pfn);
	if ((e = put(w->fd, w->tmp, notes, nlen, note_off)) ||
	    (e = put(w->fd, w->tmp, head, (size_t)w->bm_off, 0)) ||
	    (e = put(w->fd, w->tmp, bm1, (size_t)w->bm_bytes, w->bm_off)) ||
	    (e = put(w->fd, w->tmp, w->bm2, (size_t)w->bm_bytes, w->bm_off + w->bm_bytes)) ||
	    (e = put(w->fd, w->tmp, w->descs, (size_t)(w->nd * KDUMP_DESC_SIZE), w->desc_off)))
		goto out;
	if (ftruncate(w->fd, (off_t)(note_off + nlen)) || fsync(w->fd)) {
		e = err_new(ERR_OS, "%s: %s", w->tmp, strerror(errno));
		goto out;
	}
	if (close(w->fd))
		e = err_new(ERR_OS, "%s: %s", w->tmp, strerror(errno));
	w->fd = -1;
	if (!e && rename(w->tmp, w->path))
		e = err_new(ERR_OS, "%s: %s", w->path, strerror(errno));
	if (e)
		unlink(w->tmp);
	else
		st->bytes = note_off + nlen;
out:
	free(head);
	free(bm1);
	free(notes);
	kdump_write_abort(w);
	return e;
}

struct err *kdump_write(const char *path, const struct kdump_write_info *info, const uint8_t *bitmap,
			kdump_page_fn fn, void *arg, struct kdump_write_stats *st)
{
	memset(st, 0, sizeof(*st));
	uint64_t npages = 0;
	for (uint64_t i = 0; info->max_pfn <= (1ull << 40) && i < (info->max_pfn + 7) / 8; i++)
		npages += (uint64_t)__builtin_popcount(bitmap[i]);
	struct kdump_writer *w;
	struct err *e = kdump_write_begin(path, info->max_pfn, npages, &w);
	if (e)
		return e;
	uint8_t *page = malloc(BLOCK);
	if (!page) {
		kdump_write_abort(w);
		return err_new(ERR_NOMEM, "out of memory");
	}
	uint64_t skipped = 0;
	for (uint64_t pfn = 0; pfn < info->max_pfn && !e; pfn++) {
		if (!(bitmap[pfn / 8] >> (pfn % 8) & 1))
			continue;
		struct err *pe = fn(arg, pfn, page);
		if (pe) { /* the caller records what it left out */
			skipped++;
			err_free(pe);
			continue;
		}
		e = kdump_write_page(w, pfn, page);
	}
	free(page);
	if (e) {
		kdump_write_abort(w);
		return e;
	}
	e = kdump_write_finish(w, info, st);
	st->skipped = skipped;
	return e;
}
