/* kdump-recompress: rewrite a kdump-compressed dump with another page compression.
 *
 *   kdump-recompress IN OUT zlib|lzo|snappy|zstd|none
 *
 * Every compression libkdumpfile reads, both ways: Debian's makedumpfile is
 * built without snappy and zstd, so this is how the tests get real dumps in
 * those two.  Header, sub header (VMCOREINFO, notes), bitmaps and page flags
 * are copied as they are; each page is decompressed, recompressed and stored
 * with its descriptor's flag, or raw (flags 0) when it does not shrink, as
 * makedumpfile does.  Pages shared by several descriptors (makedumpfile's one
 * zero page) stay shared.  The status word in the header names the new
 * compression.  The input is untrusted: every count and offset is checked
 * against the file before use.  Flattened input: run makedumpfile -R first. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

/* the format's layout, shared with spte-inspect's extract writer */
#include "dump/kdump_format.h"
#define HDR_VERSION KDUMP_HDR_VERSION
#define HDR_STATUS KDUMP_HDR_STATUS
#define HDR_BLOCK_SIZE KDUMP_HDR_BLOCK_SIZE
#define HDR_SUB_HDR_SIZE KDUMP_HDR_SUB_HDR_SIZE
#define HDR_BITMAP_BLOCKS KDUMP_HDR_BITMAP_BLOCKS
#define SUB_OFFSET_ERASEINFO KDUMP_SUB_OFFSET_ERASEINFO
#define SUB_SIZE_ERASEINFO KDUMP_SUB_SIZE_ERASEINFO
#define F_ZLIB KDUMP_F_ZLIB
#define F_LZO KDUMP_F_LZO
#define F_SNAPPY KDUMP_F_SNAPPY
#define F_ZSTD KDUMP_F_ZSTD
#define F_ALL KDUMP_F_ALL
#define DESC_SIZE KDUMP_DESC_SIZE

static const char *in_name;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "kdump-recompress: %s: ", in_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

#define get32 kdump_get32
#define get64 kdump_get64
#define put32 kdump_put32
#define put64 kdump_put64

static uint8_t *read_file(const char *name, size_t *len)
{
	FILE *f = fopen(name, "rb");
	if (!f)
		die("%s", strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0)
		die("not seekable");
	long n = ftell(f);
	if (n < 0 || fseek(f, 0, SEEK_SET) != 0)
		die("not seekable");
	uint8_t *buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		die("read failed");
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* old data offset -> new descriptor, open addressing; sized for every descriptor */
struct slot { uint64_t old, off; uint32_t old_size, old_flags, size, flags; int used; };

static struct slot *slot_find(struct slot *t, size_t cap, uint64_t old)
{
	size_t i = (size_t)((old >> 3) * 0x9e3779b97f4a7c15ull) & (cap - 1);
	while (t[i].used && t[i].old != old)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

static void page_decompress(uint32_t flags, const uint8_t *src, uint32_t size,
			    uint8_t *dst, size_t bs, uint64_t idx)
{
	size_t n = bs;
	switch (flags & F_ALL) {
	case 0:
		if (size != bs)
			die("descriptor %" PRIu64 ": raw page of %" PRIu32 " bytes", idx, size);
		memcpy(dst, src, bs);
		return;
	case F_ZLIB: {
		uLongf zn = bs;
		if (uncompress(dst, &zn, src, size) != Z_OK)
			die("descriptor %" PRIu64 ": bad zlib data", idx);
		n = zn;
		break;
	}
	case F_LZO: {
		lzo_uint ln = bs;
		if (lzo1x_decompress_safe(src, size, dst, &ln, NULL) != LZO_E_OK)
			die("descriptor %" PRIu64 ": bad lzo data", idx);
		n = ln;
		break;
	}
	case F_SNAPPY:
		if (snappy_uncompress((const char *)src, size, (char *)dst, &n) != SNAPPY_OK)
			die("descriptor %" PRIu64 ": bad snappy data", idx);
		break;
	case F_ZSTD:
		n = ZSTD_decompress(dst, bs, src, size);
		if (ZSTD_isError(n))
			die("descriptor %" PRIu64 ": bad zstd data: %s", idx, ZSTD_getErrorName(n));
		break;
	default:
		die("descriptor %" PRIu64 ": flags %#" PRIx32 " name two compressions", idx, flags);
	}
	if (n != bs)
		die("descriptor %" PRIu64 ": page decompressed to %zu bytes, not %zu", idx, n, bs);
}

/* Compressed length, or 0 when the page does not shrink (then stored raw). */
static size_t page_compress(uint32_t flag, const uint8_t *src, size_t bs, uint8_t *dst,
			    size_t cap, void *lzo_work)
{
	size_t n = 0;
	switch (flag) {
	case F_ZLIB: {
		uLongf zn = cap;
		if (compress2(dst, &zn, src, bs, 1) != Z_OK)
			return 0;
		n = zn;
		break;
	}
	case F_LZO: {
		lzo_uint ln = cap;
		if (lzo1x_1_compress(src, bs, dst, &ln, lzo_work) != LZO_E_OK)
			return 0;
		n = ln;
		break;
	}
	case F_SNAPPY:
		n = cap;
		if (snappy_compress((const char *)src, bs, (char *)dst, &n) != SNAPPY_OK)
			return 0;
		break;
	case F_ZSTD:
		n = ZSTD_compress(dst, cap, src, bs, 1);
		if (ZSTD_isError(n))
			return 0;
		break;
	}
	return n < bs ? n : 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: kdump-recompress IN OUT zlib|lzo|snappy|zstd|none\n");
		return 2;
	}
	in_name = argv[1];
	static const struct { const char *name; uint32_t flag; } algs[] = {
		{ "zlib", F_ZLIB }, { "lzo", F_LZO }, { "snappy", F_SNAPPY },
		{ "zstd", F_ZSTD }, { "none", 0 },
	};
	int a = -1;
	for (int i = 0; i < 5; i++)
		if (strcmp(argv[3], algs[i].name) == 0)
			a = i;
	if (a < 0) {
		fprintf(stderr, "kdump-recompress: unknown compression '%s'\n", argv[3]);
		return 2;
	}
	uint32_t flag = algs[a].flag;
	if (lzo_init() != LZO_E_OK)
		die("lzo_init failed");

	size_t len;
	uint8_t *in = read_file(argv[1], &len);
	if (len < 4096 || (memcmp(in, "KDUMP   ", 8) != 0 && memcmp(in, "DISKDUMP", 8) != 0))
		die("not a kdump-compressed file (flattened? run makedumpfile -R first)");
	int32_t version = (int32_t)get32(in + HDR_VERSION);
	uint32_t bs = get32(in + HDR_BLOCK_SIZE);
	uint32_t sub_blocks = get32(in + HDR_SUB_HDR_SIZE);
	uint32_t bitmap_blocks = get32(in + HDR_BITMAP_BLOCKS);
	if (bs < 512 || bs > 65536 || (bs & (bs - 1)))
		die("block size %" PRIu32 " not supported", bs);
	if (sub_blocks > 1024 || bitmap_blocks == 0 || bitmap_blocks % 2 ||
	    (uint64_t)(1 + sub_blocks + bitmap_blocks) * bs > len)
		die("sub header (%" PRIu32 " blocks) or bitmaps (%" PRIu32 " blocks) do not fit the file",
		    sub_blocks, bitmap_blocks);
	size_t bitmap_len = (size_t)bitmap_blocks * bs / 2;
	const uint8_t *bm2 = in + (size_t)(1 + sub_blocks) * bs + bitmap_len;
	size_t desc_off = (size_t)(1 + sub_blocks + bitmap_blocks) * bs;
	uint64_t ndesc = 0;
	for (size_t i = 0; i < bitmap_len; i++)
		ndesc += (uint64_t)__builtin_popcount(bm2[i]);
	if (ndesc > (len - desc_off) / DESC_SIZE)
		die("%" PRIu64 " page descriptors do not fit the file", ndesc);
	size_t data_off = desc_off + (size_t)ndesc * DESC_SIZE;

	/* eraseinfo (header version 5 on) lives after the pages: moved to the new end */
	uint64_t erase_off = 0, erase_size = 0;
	if (version >= 5 && sub_blocks > 0) {
		erase_off = get64(in + bs + SUB_OFFSET_ERASEINFO);
		erase_size = get64(in + bs + SUB_SIZE_ERASEINFO);
		if (erase_size && (erase_off < data_off || erase_off > len || erase_size > len - erase_off))
			die("eraseinfo at %#" PRIx64 " (%" PRIu64 " bytes) outside the file", erase_off, erase_size);
	}

	size_t cap = bs * 2 + 1024; /* above every library's bound for one page */
	if (cap < compressBound(bs) || cap < snappy_max_compressed_length(bs) ||
	    cap < ZSTD_compressBound(bs))
		die("page buffer too small");
	uint8_t *page = malloc(bs), *cbuf = malloc(cap);
	void *lzo_work = malloc(LZO1X_1_MEM_COMPRESS);
	size_t tcap = 16;
	while (tcap < ndesc * 2)
		tcap *= 2;
	struct slot *tab = calloc(tcap, sizeof *tab);
	uint8_t *descs = malloc(ndesc ? (size_t)ndesc * DESC_SIZE : 1);
	if (!page || !cbuf || !lzo_work || !tab || !descs)
		die("out of memory");
	memcpy(descs, in + desc_off, (size_t)ndesc * DESC_SIZE);

	FILE *out = fopen(argv[2], "wb");
	if (!out)
		die("%s: %s", argv[2], strerror(errno));
	if (fseek(out, (long)data_off, SEEK_SET) != 0)
		die("%s: seek failed", argv[2]);
	uint64_t pos = data_off, ncomp = 0, nraw = 0, nshared = 0;
	for (uint64_t i = 0; i < ndesc; i++) {
		uint8_t *d = descs + i * DESC_SIZE;
		uint64_t off = get64(d);
		uint32_t size = get32(d + 8), flags = get32(d + 12);
		if (off < data_off || off > len || size > len - off || size > cap)
			die("descriptor %" PRIu64 ": %" PRIu32 " bytes at %#" PRIx64 " outside the file",
			    i, size, off);
		struct slot *s = slot_find(tab, tcap, off);
		if (!s->used) {
			page_decompress(flags, in + off, size, page, bs, i);
			size_t n = flag ? page_compress(flag, page, bs, cbuf, cap, lzo_work) : 0;
			const uint8_t *w = n ? cbuf : page;
			s->used = 1;
			s->old = off;
			s->old_size = size;
			s->old_flags = flags;
			s->off = pos;
			s->size = n ? (uint32_t)n : bs;
			s->flags = (flags & ~F_ALL) | (n ? flag : 0);
			if (fwrite(w, 1, s->size, out) != s->size)
				die("%s: write failed", argv[2]);
			pos += s->size;
			n ? ncomp++ : nraw++;
		} else if (s->old_size != size || s->old_flags != flags) {
			die("descriptor %" PRIu64 ": shares offset %#" PRIx64 " with another page but not its size or flags",
			    i, off);
		} else {
			nshared++;
		}
		put64(d, s->off);
		put32(d + 8, s->size);
		put32(d + 12, s->flags);
	}

	/* header, sub header with VMCOREINFO and notes, bitmaps: as they were */
	uint8_t *head = malloc(desc_off);
	if (!head)
		die("out of memory");
	memcpy(head, in, desc_off);
	put32(head + HDR_STATUS, (get32(head + HDR_STATUS) & ~F_ALL) | flag);
	if (erase_size) {
		if (fwrite(in + erase_off, 1, erase_size, out) != erase_size)
			die("%s: write failed", argv[2]);
		put64(head + bs + SUB_OFFSET_ERASEINFO, pos);
		pos += erase_size;
	}
	if (fseek(out, 0, SEEK_SET) != 0 || fwrite(head, 1, desc_off, out) != desc_off ||
	    fwrite(descs, DESC_SIZE, ndesc, out) != ndesc || fclose(out) != 0)
		die("%s: write failed", argv[2]);
	printf("%" PRIu64 " descriptors: %" PRIu64 " pages %s, %" PRIu64 " raw, %" PRIu64 " shared\n",
	       ndesc, ncomp, algs[a].name, nraw, nshared);
	free(head);
	free(descs);
	free(tab);
	free(lzo_work);
	free(cbuf);
	free(page);
	free(in);
	return 0;
}
