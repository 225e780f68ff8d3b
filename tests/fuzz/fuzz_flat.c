/* The flattened-format reader over arbitrary files: indexing, then reads of
 * the rearranged file at places the input also picks. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dump/flat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-flat", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size && flat_detect(fd)) {
		struct flat_map *m;
		struct err *e = flat_map_build(fd, "fuzz", &m);
		if (!e) {
			uint64_t sz = flat_map_size(m);
			uint8_t buf[8192];
			/* offsets from the input's tail: spans across segments and holes */
			for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
				uint64_t off;
				memcpy(&off, data + size - 8 - i, 8);
				off = sz ? off % (sz + 4096) : off % 4096;
				(void)flat_map_pread(m, buf, sizeof(buf), off);
			}
			flat_map_free(m);
		}
		err_free(e);
	}
	close(fd);
	return 0;
}
