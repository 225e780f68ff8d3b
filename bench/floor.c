/* The floor: read exactly the page-table pages a full walk needs, through
 * libkdumpfile in a minimal loop (and, for an ELF dump, with plain pread), so
 * that spte-inspect's own cost can be stated against it.
 *   floor DUMP TABLES.txt [elf]
 * TABLES.txt: one physical address per line (hex), e.g. from
 *   spte-inspect -j DUMP roots / sptes (non-leaf entries' children). */
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: floor DUMP TABLES.txt [elf]\n");
		return 2;
	}
	FILE *f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	size_t n = 0, cap = 1024;
	uint64_t *pa = malloc(cap * sizeof(*pa));
	char line[64];
	while (pa && fgets(line, sizeof(line), f)) {
		if (n == cap)
			pa = realloc(pa, (cap *= 2) * sizeof(*pa));
		if (pa)
			pa[n++] = strtoull(line, NULL, 16);
	}
	fclose(f);
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0 || !pa) {
		perror(argv[1]);
		return 1;
	}
	static uint64_t page[512];
	uint64_t sum = 0;
	double t0 = now();
	if (argc > 3 && !strcmp(argv[3], "elf")) {
		/* plain pread through the PT_LOAD table */
		Elf64_Ehdr eh;
		if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh))
			return 1;
		Elf64_Phdr *ph = calloc(eh.e_phnum, sizeof(*ph));
		if (!ph || pread(fd, ph, eh.e_phnum * sizeof(*ph), (off_t)eh.e_phoff) < 0)
			return 1;
		for (size_t i = 0; i < n; i++)
			for (int k = 0; k < eh.e_phnum; k++)
				if (ph[k].p_type == PT_LOAD && pa[i] >= ph[k].p_paddr &&
				    pa[i] + 4096 <= ph[k].p_paddr + ph[k].p_filesz) {
					if (pread(fd, page, 4096, (off_t)(ph[k].p_offset + pa[i] - ph[k].p_paddr)) != 4096)
						return 1;
					sum += page[0];
					break;
				}
	} else {
		kdump_ctx_t *ctx = kdump_new();
		kdump_set_string_attr(ctx, KDUMP_ATTR_ARCH_NAME, "x86_64");
		if (kdump_open_fd(ctx, fd) != KDUMP_OK) {
			fprintf(stderr, "%s\n", kdump_get_err(ctx));
			return 1;
		}
		/* what spte-inspect does too: Linux address translation */
		kdump_set_string_attr(ctx, KDUMP_ATTR_OSTYPE, "linux");
		for (size_t i = 0; i < n; i++) {
			size_t len = 4096;
			if (kdump_read(ctx, KDUMP_KPHYSADDR, pa[i], page, &len) != KDUMP_OK) {
				fprintf(stderr, "0x%" PRIx64 ": %s\n", pa[i], kdump_get_err(ctx));
				return 1;
			}
			sum += page[0];
		}
		kdump_free(ctx);
	}
	double t = now() - t0;
	printf("%zu tables in %.3f s (%.0f tables/s) checksum %" PRIx64 "\n", n, t, (double)n / t, sum);
	return 0;
}
