/* ELF vmcores: the ELF header, program headers and notes (VMCOREINFO, CPU
 * registers) of an ELF made at start-up from the fixture's memory, laid out
 * as QEMU's dump-guest-memory does (tools/kdump-to-elf.py) -- all of it what
 * validate.c checks before libkdumpfile sees it. */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_file.h"

static struct fuzz_file F;

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

#define MAX_RUNS 64

static void setup(void)
{
	const char *path = getenv("SPTE_FUZZ_DUMP");
	struct fuzz_file k;
	fuzz_file_init(&k, path);
	uint8_t h[PAGE_SIZE], s[PAGE_SIZE];
	if (pread(k.fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) || memcmp(h, "KDUMP   ", 8))
		abort();
	uint64_t bs = rd32(h + 428), sub = rd32(h + 432), bmp = rd32(h + 436);
	uint64_t bm_len = bmp / 2 * bs;
	if (pread(k.fd, s, sizeof(s), (off_t)bs) != (ssize_t)sizeof(s))
		abort();
	uint64_t note_off = rd64(s + 48), note_len = rd64(s + 56);
	uint8_t *notes = malloc(note_len), *bm1 = malloc(bm_len);
	if (!notes || !bm1 || pread(k.fd, notes, note_len, (off_t)note_off) != (ssize_t)note_len ||
	    pread(k.fd, bm1, bm_len, (off_t)((1 + sub) * bs)) != (ssize_t)bm_len)
		abort();
	/* runs of RAM from the first bitmap */
	uint64_t rs[MAX_RUNS], re[MAX_RUNS];
	size_t nruns = 0;
	for (uint64_t pfn = 0; pfn < bm_len * 8 && nruns < MAX_RUNS; pfn++) {
		bool ram = bm1[pfn / 8] >> (pfn % 8) & 1;
		if (ram && (!nruns || re[nruns - 1] != pfn)) {
			rs[nruns] = pfn;
			re[nruns++] = pfn + 1;
		} else if (ram) {
			re[nruns - 1]++;
		}
	}
	struct dump *d;
	struct err *e = dump_open(path, &d);
	if (e) {
		fprintf(stderr, "fuzz: %s\n", e->msg);
		abort();
	}
	size_t nph = 1 + nruns;
	uint64_t hdr = sizeof(Elf64_Ehdr) + nph * sizeof(Elf64_Phdr);
	uint64_t data = (hdr + note_len + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE, pos = data;
	fuzz_file_init_mem(&F, 0);
	Elf64_Ehdr eh = { .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
				       EV_CURRENT }, .e_type = ET_CORE, .e_machine = EM_X86_64,
			  .e_version = EV_CURRENT, .e_phoff = sizeof(eh), .e_ehsize = sizeof(eh),
			  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = (uint16_t)nph };
	Elf64_Phdr ph = { .p_type = PT_NOTE, .p_offset = hdr, .p_filesz = note_len, .p_memsz = note_len };
	if (pwrite(F.fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    pwrite(F.fd, &ph, sizeof(ph), sizeof(eh)) != sizeof(ph) ||
	    pwrite(F.fd, notes, note_len, (off_t)hdr) != (ssize_t)note_len)
		abort();
	static uint8_t page[PAGE_SIZE];
	for (size_t i = 0; i < nruns; i++) {
		uint64_t size = (re[i] - rs[i]) * PAGE_SIZE;
		ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = 7, .p_offset = pos,
				   .p_vaddr = rs[i] * PAGE_SIZE, .p_paddr = rs[i] * PAGE_SIZE,
				   .p_filesz = size, .p_memsz = size };
		if (pwrite(F.fd, &ph, sizeof(ph), (off_t)(sizeof(eh) + (1 + i) * sizeof(ph))) != sizeof(ph))
			abort();
		for (uint64_t pfn = rs[i]; pfn < re[i]; pfn++) {
			struct err *re_ = dump_read_phys(d, pfn * PAGE_SIZE, page, PAGE_SIZE);
			if (re_) {
				err_free(re_);
				continue;
			}
			static const uint8_t zero[PAGE_SIZE];
			if (memcmp(page, zero, PAGE_SIZE) &&
			    pwrite(F.fd, page, PAGE_SIZE, (off_t)(pos + (pfn - rs[i]) * PAGE_SIZE)) != PAGE_SIZE)
				abort();
		}
		pos += size;
		/* a page at each end of every run, until the list is full */
		if (F.npfns + 2 <= FUZZ_FILE_REGIONS) {
			F.pfns[F.npfns++] = rs[i];
			F.pfns[F.npfns++] = re[i] - 1;
		}
	}
	if (ftruncate(F.fd, (off_t)pos))
		abort();
	dump_close_all(d);
	free(notes);
	free(bm1);
	close(k.fd);
	fuzz_file_region(&F, 0, sizeof(eh));
	fuzz_file_region(&F, sizeof(eh), nph * sizeof(Elf64_Phdr));
	fuzz_file_region(&F, hdr, note_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_file_run(&F, setup, data, size);
	return 0;
}
