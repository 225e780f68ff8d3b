/* Shared by the file-format fuzz targets (kdump, elf): a real dump's bytes in
 * a memfd, fuzz input patched onto chosen regions of it (headers, notes, page
 * descriptors) and undone after each run, and the dump opened through
 * /proc/self/fd as any file is. */
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "dump/dump.h"

#define FUZZ_FILE_REGIONS 48

struct fuzz_file {
	int fd;
	char path[64];
	uint64_t start[FUZZ_FILE_REGIONS], len[FUZZ_FILE_REGIONS];
	uint8_t *orig[FUZZ_FILE_REGIONS];
	size_t nregions;
	uint64_t pfns[FUZZ_FILE_REGIONS];	/* pages to read after opening */
	size_t npfns;
};

/* Copies the file at PATH into a memfd. */
void fuzz_file_init(struct fuzz_file *f, const char *path);
/* Copies LEN bytes of DATA to a new memfd of SIZE bytes (sparse elsewhere). */
void fuzz_file_init_mem(struct fuzz_file *f, uint64_t size);
void fuzz_file_region(struct fuzz_file *f, uint64_t start, uint64_t len);
/* Records {u8 region, u32 offset, u8 len, bytes}: both taken modulo. */
void fuzz_file_patch(struct fuzz_file *f, const uint8_t *data, size_t size);
void fuzz_file_restore(struct fuzz_file *f);
/* Opens the patched file, reads the pages in PFNS and a few words, closes all. */
void fuzz_file_exercise(struct fuzz_file *f);
/* One fuzz run: SETUP on the first (it chooses the regions), then patch,
 * exercise and restore. */
void fuzz_file_run(struct fuzz_file *f, void (*setup)(void), const uint8_t *data, size_t size);

#endif
