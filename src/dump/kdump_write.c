/* A kdump-compressed writer: header, sub header with VMCOREINFO and notes,
 * both bitmaps, one descriptor per stored page, zlib page data.  The file is
 * written beside PATH and renamed over it only when complete, so a failed
 * extract never leaves a half-written dump that looks whole. */
#define _GNU_SOURCE
#include "dump/kdump_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
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

struct err *kdump_write(const char *path, const struct kdump_write_info *info, const uint8_t *bitmap,
			kdump_page_fn fn, void *arg, struct kdump_write_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!info->max_pfn || info->max_pfn > (1ull << 40))
		return err_new(ERR_FORMAT, "%s: host of %llu pages cannot be written", path,
			       (unsigned long long)info->max_pfn);
	size_t vlen = info->vmcoreinfo ? strlen(info->vmcoreinfo) : 0;
	/* VMCOREINFO goes in as an ELF note after the caller's notes (where
	 * libkdumpfile looks for it), and the sub header points into it too */
	size_t vnote = 12 + 12 + (vlen + 3) / 4 * 4;
	uint64_t sub_bytes = KDUMP_SUB_SIZE + info->notes_len + vnote;
	uint64_t sub_blocks = round_up(sub_bytes, BLOCK) / BLOCK;
	uint64_t bm_bytes = round_up((info->max_pfn + 7) / 8, BLOCK);
	uint64_t npages = 0;
	for (uint64_t i = 0; i < (info->max_pfn + 7) / 8; i++)
		npages += (uint64_t)__builtin_popcount(bitmap[i]);
	uint64_t bm_off = (1 + sub_blocks) * BLOCK;
	uint64_t desc_off = bm_off + 2 * bm_bytes;
	uint64_t data_off = round_up(desc_off + npages * KDUMP_DESC_SIZE, BLOCK);

	char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return err_new(ERR_NOMEM, "out of memory");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		struct err *e = err_new(ERR_OS, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return e;
	}
	uint8_t *head = calloc(1, (size_t)bm_off);
	uint8_t *bm1 = calloc(1, (size_t)bm_bytes), *bm2 = calloc(1, (size_t)bm_bytes);
	uint8_t *descs = calloc(npages ? npages : 1, KDUMP_DESC_SIZE);
	uint8_t *page = malloc(BLOCK);
	uLongf cap = compressBound(BLOCK);
	uint8_t *cbuf = malloc(cap);
	struct err *e = NULL, *first_skip = NULL;
	if (!head || !bm1 || !bm2 || !descs || !page || !cbuf) {
		e = err_new(ERR_NOMEM, "out of memory");
		goto out;
	}
	/* every page below max_pfn exists; only those written are stored */
	memset(bm1, 0xff, (size_t)(info->max_pfn / 8));
	for (uint64_t p = info->max_pfn / 8 * 8; p < info->max_pfn; p++)
		bm1[p / 8] |= (uint8_t)(1u << (p % 8));

	uint64_t pos = data_off, nd = 0;
	for (uint64_t pfn = 0; pfn < info->max_pfn && !e; pfn++) {
		if (!(bitmap[pfn / 8] >> (pfn % 8) & 1))
			continue;
		struct err *pe = fn(arg, pfn, page);
		if (pe) {
			st->skipped++;
			if (!first_skip)
				first_skip = pe;
			else
				err_free(pe);
			continue;
		}
		uLongf n = cap;
		bool z = compress2(cbuf, &n, page, BLOCK, Z_DEFAULT_COMPRESSION) == Z_OK && n < BLOCK;
		uint32_t size = z ? (uint32_t)n : BLOCK;
		if ((e = put(fd, tmp, z ? cbuf : page, size, pos)))
			break;
		uint8_t *d = descs + nd++ * KDUMP_DESC_SIZE;
		kdump_put64(d, pos);
		kdump_put32(d + 8, size);
		kdump_put32(d + 12, z ? KDUMP_F_ZLIB : 0);
		kdump_put64(d + 16, 0);
		bm2[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
		pos += size;
		st->pages++;
	}
	if (e)
		goto out;

	memcpy(head + KDUMP_HDR_SIGNATURE, KDUMP_SIGNATURE, 8);
	kdump_put32(head + KDUMP_HDR_VERSION, KDUMP_HEADER_VERSION);
	static const size_t uts_field[] = { 0, 2, 4 }; /* sysname, release, machine */
	const char *uts_val[] = { "Linux", info->release ? info->release : "", "x86_64" };
	for (int i = 0; i < 3; i++)
		snprintf((char *)head + KDUMP_HDR_UTSNAME + uts_field[i] * KDUMP_UTS_LEN, KDUMP_UTS_LEN,
			 "%s", uts_val[i]);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	kdump_put64(head + KDUMP_HDR_TIMESTAMP, (uint64_t)tv.tv_sec);
	kdump_put64(head + KDUMP_HDR_TIMESTAMP + 8, (uint64_t)tv.tv_usec);
	kdump_put32(head + KDUMP_HDR_STATUS, KDUMP_F_ZLIB);
	kdump_put32(head + KDUMP_HDR_BLOCK_SIZE, BLOCK);
	kdump_put32(head + KDUMP_HDR_SUB_HDR_SIZE, (uint32_t)sub_blocks);
	kdump_put32(head + KDUMP_HDR_BITMAP_BLOCKS, (uint32_t)(2 * bm_bytes / BLOCK));
	kdump_put32(head + KDUMP_HDR_MAX_MAPNR,
		    info->max_pfn > UINT32_MAX ? UINT32_MAX : (uint32_t)info->max_pfn);
	kdump_put32(head + KDUMP_HDR_NR_CPUS, info->nr_cpus);
	uint8_t *sub = head + BLOCK;
	kdump_put64(sub + KDUMP_SUB_PHYS_BASE, info->phys_base);
	kdump_put32(sub + KDUMP_SUB_DUMP_LEVEL, 31);
	uint8_t *note = sub + KDUMP_SUB_SIZE;
	if (info->notes_len)
		memcpy(note, info->notes, info->notes_len);
	uint8_t *vn = note + info->notes_len;
	kdump_put32(vn, 11);
	kdump_put32(vn + 4, (uint32_t)vlen);
	kdump_put32(vn + 8, 0);
	memcpy(vn + 12, "VMCOREINFO", 11);
	memcpy(vn + 24, info->vmcoreinfo, vlen);
	kdump_put64(sub + KDUMP_SUB_OFFSET_NOTE, BLOCK + KDUMP_SUB_SIZE);
	kdump_put64(sub + KDUMP_SUB_SIZE_NOTE, info->notes_len + vnote);
	kdump_put64(sub + KDUMP_SUB_OFFSET_VMCOREINFO, BLOCK + KDUMP_SUB_SIZE + info->notes_len + 24);
	kdump_put64(sub + KDUMP_SUB_SIZE_VMCOREINFO, vlen);
	kdump_put64(sub + KDUMP_SUB_END_PFN_64, info->max_pfn);
	kdump_put64(sub + KDUMP_SUB_MAX_MAPNR_64, info->max_pfn);
	if ((e = put(fd, tmp, head, (size_t)bm_off, 0)) || (e = put(fd, tmp, bm1, (size_t)bm_bytes, bm_off)) ||
	    (e = put(fd, tmp, bm2, (size_t)bm_bytes, bm_off + bm_bytes)) ||
	    (e = put(fd, tmp, descs, (size_t)(nd * KDUMP_DESC_SIZE), desc_off)))
		goto out;
	if (ftruncate(fd, (off_t)pos) || fsync(fd)) {
		e = err_new(ERR_OS, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	st->bytes = pos;
out:
	if (close(fd) && !e)
		e = err_new(ERR_OS, "%s: %s", tmp, strerror(errno));
	if (!e && rename(tmp, path))
		e = err_new(ERR_OS, "%s: %s", path, strerror(errno));
	if (e)
		unlink(tmp);
	free(tmp);
	free(head);
	free(bm1);
	free(bm2);
	free(descs);
	free(page);
	free(cbuf);
	err_free(first_skip); /* the caller records what it left out */
	return e;
}
