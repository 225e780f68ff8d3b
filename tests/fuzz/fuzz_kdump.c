/* kdump-compressed files: the main header, the sub-header with VMCOREINFO and
 * the ELF notes, the bitmaps, and the page descriptors of pages then read --
 * all of it what validate.c checks before libkdumpfile sees it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_file.h"

static struct fuzz_file F;

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static void setup(void)
{
	fuzz_file_init(&F, getenv("SPTE_FUZZ_DUMP"));
	uint8_t h[PAGE_SIZE];
	if (pread(F.fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) || memcmp(h, "KDUMP   ", 8))
		abort();
	uint64_t bs = rd32(h + 428), sub = rd32(h + 432), bmp = rd32(h + 436);
	uint64_t bm_len = bmp / 2 * bs, bm2 = (1 + sub) * bs + bm_len, desc = (1 + sub + bmp) * bs;
	fuzz_file_region(&F, 0, bs);			/* main header */
	fuzz_file_region(&F, bs, sub * bs);		/* sub-header, VMCOREINFO, notes */
	fuzz_file_region(&F, (1 + sub) * bs, 2 * bm_len); /* bitmaps */
	/* descriptors of stored pages spread over memory, each a region */
	uint8_t *bm = malloc(bm_len);
	if (!bm || pread(F.fd, bm, bm_len, (off_t)bm2) != (ssize_t)bm_len)
		abort();
	uint64_t n = 0, total = 0;
	for (uint64_t i = 0; i < bm_len; i++)
		total += (uint64_t)__builtin_popcount(bm[i]);
	uint64_t step = total / (FUZZ_FILE_REGIONS - 4) + 1;
	for (uint64_t pfn = 0; pfn < bm_len * 8; pfn++) {
		if (!(bm[pfn / 8] >> (pfn % 8) & 1))
			continue;
		if (n % step == 0 && F.nregions < FUZZ_FILE_REGIONS) {
			fuzz_file_region(&F, desc + n * 24, 24);
			F.pfns[F.npfns++] = pfn;
		}
		n++;
	}
	free(bm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_file_run(&F, setup, data, size);
	return 0;
}
