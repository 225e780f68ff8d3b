#define _GNU_SOURCE
#include "dump/flat.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define FLAT_SIGNATURE "makedumpfile"
#define FLAT_HEADER_SIZE 4096
#define FLAT_TYPE 1
#define FLAT_END (-1)
/* A record larger than this is not something makedumpfile or QEMU writes;
 * it bounds what one bogus header can make us copy. */
#define FLAT_MAX_RECORD (1ull << 30)
/* Rebuilt dumps cannot be larger than this (16 TiB of dump file). */
#define FLAT_MAX_OFFSET (1ull << 44)

struct flat_header {
	char signature[16];
	int64_t type;
	int64_t version;
};

struct flat_record {
	int64_t offset;
	int64_t size;
};

bool flat_detect(int fd)
{
	struct flat_header h;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return false;
	return memcmp(h.signature, FLAT_SIGNATURE, sizeof(FLAT_SIGNATURE)) == 0 &&
	       (int64_t)be64toh((uint64_t)h.type) == FLAT_TYPE;
}

/* FD's size and a fresh temporary for the copy (see flat_tmpfile). */
static struct err *flat_open_copy(int fd, const char *what, off_t *size, int *out)
{
	struct stat st;
	if (fstat(fd, &st))
		return err_new(ERR_OS, "%s: stat: %s", what, strerror(errno));
	/* A disk-backed temporary keeps RAM free for large dumps; memfd is the
	 * fallback where TMPDIR has no O_TMPFILE support. */
	const char *dir = getenv("TMPDIR");
	*out = open(dir && *dir ? dir : "/var/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*out < 0)
		*out = memfd_create("spte-inspect-flat", MFD_CLOEXEC);
	if (*out < 0)
		return err_new(ERR_OS, "%s: cannot create a temporary file: %s", what, strerror(errno));
	*size = st.st_size;
	return NULL;
}

struct err *flat_copy(int fd, const char *what, int *out_fd)
{
	off_t size;
	int out;
	struct err *oe = flat_open_copy(fd, what, &size, &out);
	if (oe)
		return oe;
	loff_t in_off = 0, out_off = 0;
	while (in_off < size) {
		ssize_t n = copy_file_range(fd, &in_off, out, &out_off, (size_t)(size - in_off), 0);
		if (n <= 0) {
			close(out);
			return err_new(ERR_OS, "%s: copying: %s", what, n < 0 ? strerror(errno) : "short");
		}
	}
	*out_fd = out;
	return NULL;
}

struct err *flat_rearrange(int fd, const char *what, int *out_fd)
{
	off_t fsize;
	int out;
	struct err *oe = flat_open_copy(fd, what, &fsize, &out);
	if (oe)
		return oe;

	const size_t bufsize = 1 << 20;
	char *buf = malloc(bufsize);
	if (!buf) {
		close(out);
		return err_new(ERR_NOMEM, "%s: out of memory", what);
	}
	struct err *e = NULL;
	uint64_t pos = FLAT_HEADER_SIZE;
	bool ended = false;
	while (!ended) {
		struct flat_record r;
		ssize_t n = pread(fd, &r, sizeof(r), (off_t)pos);
		if (n != (ssize_t)sizeof(r)) {
			e = err_new(ERR_FORMAT, "%s: flattened dump truncated at offset 0x%llx (no end marker)",
				    what, (unsigned long long)pos);
			break;
		}
		int64_t off = (int64_t)be64toh((uint64_t)r.offset);
		int64_t size = (int64_t)be64toh((uint64_t)r.size);
		if (off == FLAT_END) {
			ended = true;
			break;
		}
		if (off >= 0 && size >= 0 && (uint64_t)size <= FLAT_MAX_RECORD &&
		    pos + sizeof(r) + (uint64_t)size > (uint64_t)fsize) {
			e = err_new(ERR_FORMAT, "%s: flattened dump truncated in the record at offset 0x%llx",
				    what, (unsigned long long)pos);
			break;
		}
		if (off < 0 || size < 0 || (uint64_t)size > FLAT_MAX_RECORD ||
		    (uint64_t)off + (uint64_t)size > FLAT_MAX_OFFSET) {
			e = err_new(ERR_FORMAT,
				    "%s: flattened record at offset 0x%llx is corrupt (offset %lld, size %lld)",
				    what, (unsigned long long)pos, (long long)off, (long long)size);
			break;
		}
		pos += sizeof(r);
		uint64_t left = (uint64_t)size, dst = (uint64_t)off;
		while (left) {
			size_t chunk = left < bufsize ? left : bufsize;
			n = pread(fd, buf, chunk, (off_t)pos);
			if (n != (ssize_t)chunk) {
				e = err_new(ERR_FORMAT, "%s: flattened dump truncated at offset 0x%llx",
					    what, (unsigned long long)pos);
				break;
			}
			if (pwrite(out, buf, chunk, (off_t)dst) != (ssize_t)chunk) {
				e = err_new(ERR_OS, "%s: writing the rearranged dump: %s", what,
					    strerror(errno));
				break;
			}
			pos += chunk;
			dst += chunk;
			left -= chunk;
		}
		if (e)
			break;
	}
	free(buf);
	if (e) {
		close(out);
		return e;
	}
	*out_fd = out;
	return NULL;
}
