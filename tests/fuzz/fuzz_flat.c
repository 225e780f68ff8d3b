/* The flattened-format reader over arbitrary files. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dump/flat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-flat", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size && flat_detect(fd)) {
		int out;
		struct err *e = flat_rearrange(fd, "fuzz", &out);
		if (!e)
			close(out);
		err_free(e);
	}
	close(fd);
	return 0;
}
