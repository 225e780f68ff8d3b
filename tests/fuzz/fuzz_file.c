#define _GNU_SOURCE
#include "fuzz_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "fuzz: %s\n", what);
	abort();
}

void fuzz_file_init_mem(struct fuzz_file *f, uint64_t size)
{
	memset(f, 0, sizeof(*f));
	f->fd = memfd_create("fuzz-dump", MFD_CLOEXEC);
	if (f->fd < 0 || ftruncate(f->fd, (off_t)size))
		die("memfd");
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

void fuzz_file_init(struct fuzz_file *f, const char *path)
{
	int in = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	struct stat st;
	if (in < 0 || fstat(in, &st))
		die("set SPTE_FUZZ_DUMP to a fixture's vmcore.kdump");
	fuzz_file_init_mem(f, 0);
	off_t off = 0;
	while (off < st.st_size)
		if (sendfile(f->fd, in, &off, (size_t)(st.st_size - off)) <= 0)
			die("copying the dump");
	close(in);
}

void fuzz_file_region(struct fuzz_file *f, uint64_t start, uint64_t len)
{
	if (f->nregions == FUZZ_FILE_REGIONS || !len)
		return;
	size_t i = f->nregions++;
	f->start[i] = start;
	f->len[i] = len;
	f->orig[i] = malloc(len);
	if (!f->orig[i] || pread(f->fd, f->orig[i], len, (off_t)start) != (ssize_t)len)
		die("reading a region of the dump");
}

void fuzz_file_patch(struct fuzz_file *f, const uint8_t *data, size_t size)
{
	while (size >= 6 && f->nregions) {
		size_t r = data[0] % f->nregions;
		uint32_t off;
		memcpy(&off, data + 1, 4);
		size_t len = data[5];
		data += 6;
		size -= 6;
		off = (uint32_t)(off % f->len[r]);
		if (len > size)
			len = size;
		if (len > f->len[r] - off)
			len = f->len[r] - off;
		if (pwrite(f->fd, data, len, (off_t)(f->start[r] + off)) != (ssize_t)len)
			abort();
		data += len;
		size -= len;
	}
}

void fuzz_file_restore(struct fuzz_file *f)
{
	for (size_t i = 0; i < f->nregions; i++)
		if (pwrite(f->fd, f->orig[i], f->len[i], (off_t)f->start[i]) != (ssize_t)f->len[i])
			abort();
}

void fuzz_file_exercise(struct fuzz_file *f)
{
	struct dump *d;
	struct err *e = dump_open(f->path, &d);
	if (e) {
		err_free(e);
		return;
	}
	static uint8_t page[PAGE_SIZE];
	for (size_t i = 0; i < f->npfns; i++) {
		err_free(dump_read_phys(d, f->pfns[i] << PAGE_SHIFT, page, PAGE_SIZE));
		err_free(dump_read_phys(d, (f->pfns[i] << PAGE_SHIFT) + 8, page, 16));
	}
	/* a virtual read: translation through the dump's own page tables */
	uint64_t va = dump_vmcoreinfo_symbol(d, "init_uts_ns");
	if (va)
		err_free(dump_read_virt(d, va, page, 64));
	uint64_t reg;
	err_free(dump_cpu_reg(d, 0, "rip", &reg));
	dump_close_all(d);
}

void fuzz_file_run(struct fuzz_file *f, void (*setup)(void), const uint8_t *data, size_t size)
{
	if (!f->nregions)
		setup();
	fuzz_file_patch(f, data, size);
	fuzz_file_exercise(f);
	fuzz_file_restore(f);
}
