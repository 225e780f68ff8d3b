/* The flattened-format map against a naive rearrangement: records that
 * overlap (the later one wins, as makedumpfile -R writes them), holes (zeros),
 * reads across segments, the stand-in descriptor, and damaged files. */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dump/flat.h"
#include "tap.h"

#define SPACE 4096	/* rearranged bytes the random files cover */

struct rec {
	int64_t off, size;
	uint8_t fill;
};

/* A flattened file of R[0..N) in a memfd; END: write the end marker. */
static int make_flat(const struct rec *r, size_t n, bool end)
{
	static uint8_t file[4096 + 24 * (16 + 512) + 16];
	size_t len = 4096;
	memset(file, 0, len);
	memcpy(file, "makedumpfile", 12);
	uint64_t be = htobe64(1);
	memcpy(file + 16, &be, 8);
	memcpy(file + 24, &be, 8);
	for (size_t i = 0; i < n; i++) {
		uint64_t h[2] = { htobe64((uint64_t)r[i].off), htobe64((uint64_t)r[i].size) };
		memcpy(file + len, h, sizeof(h));
		len += sizeof(h);
		for (int64_t k = 0; k < r[i].size; k++)
			file[len++] = (uint8_t)(r[i].fill + k);	/* position-dependent bytes */
	}
	if (end) {
		memset(file + len, 0xff, 16);
		len += 16;
	}
	int fd = memfd_create("test-flat", MFD_CLOEXEC);
	return fd >= 0 && write(fd, file, len) == (ssize_t)len ? fd : -1;
}

/* What makedumpfile -R would write: each record in turn, over a zeroed file. */
static size_t naive(const struct rec *r, size_t n, uint8_t *out, size_t cap)
{
	memset(out, 0, cap);
	size_t size = 0;
	for (size_t i = 0; i < n; i++) {
		for (int64_t k = 0; k < r[i].size; k++)
			out[r[i].off + k] = (uint8_t)(r[i].fill + k);
		if (r[i].size && (size_t)(r[i].off + r[i].size) > size)
			size = (size_t)(r[i].off + r[i].size);
	}
	return size;
}

/* Every read of M agrees with WANT (SIZE bytes): whole, and from a grid of
 * offsets and lengths (short at the end, empty past it). */
static bool agrees(const struct flat_map *m, const uint8_t *want, size_t size)
{
	static uint8_t buf[SPACE + 64];
	if (flat_map_size(m) != size)
		return false;
	for (size_t off = 0; off <= size + 8; off += 13) {
		for (size_t len = 0; len < 600; len += 61) {
			memset(buf, 0xa5, len);
			ssize_t got = flat_map_pread(m, buf, len, off);
			size_t exp = off >= size ? 0 : (size - off < len ? size - off : len);
			if (got != (ssize_t)exp || (exp && memcmp(buf, want + off, exp)))
				return false;
		}
	}
	return true;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

int main(void)
{
	static uint8_t want[SPACE + 1024];
	struct flat_map *m;

	/* overlaps in every way, a hole, an empty record */
	const struct rec fixed[] = {
		{ 0, 100, 0x10 },	/* A */
		{ 50, 20, 0x40 },	/* inside A: wins there */
		{ 10, 10, 0x70 },	/* inside A, before the last one */
		{ 300, 10, 0x90 },	/* after a hole of 100..300 */
		{ 60, 100, 0xb0 },	/* over the end of A, into the hole */
		{ 5, 0, 0xff },		/* empty */
		{ 0, 3, 0xd0 },		/* at the very start, last of all */
	};
	size_t nf = sizeof(fixed) / sizeof(fixed[0]);
	int fd = make_flat(fixed, nf, true);
	struct err *e = flat_map_build(fd, "fixed", &m);
	CHECK("a file with overlaps and a hole is indexed", !e);
	if (!e) {
		size_t size = naive(fixed, nf, want, sizeof(want));
		CHECK("its size is where the last byte lands (310)", flat_map_size(m) == 310);
		CHECK("every read equals makedumpfile -R's file", agrees(m, want, size));

		int sfd;
		struct err *xe = flat_map_expose(m, "fixed", &sfd);
		CHECK("a stand-in descriptor is handed out", !xe);
		if (!xe) {
			uint8_t a[128], b[128];
			ssize_t na = pread(sfd, a, sizeof(a), 40), nb = flat_map_pread(m, b, sizeof(b), 40);
			CHECK("pread(2) on the stand-in reads the map", na == nb && na == 128 &&
			      !memcmp(a, b, 128));
			flat_map_unexpose(sfd);
			errno = 0;
			CHECK("after unexpose, pread(2) on it fails (ESPIPE), no other bytes",
			      pread(sfd, a, sizeof(a), 40) == -1 && errno == ESPIPE);
			close(sfd);
		}
		err_free(xe);
		flat_map_free(m);
	}
	err_free(e);
	close(fd);

	/* random files: 300 of them, up to 24 records each */
	int bad = 0;
	for (int t = 0; t < 300; t++) {
		struct rec r[24];
		size_t n = 1 + next_rand() % 24;
		for (size_t i = 0; i < n; i++) {
			r[i].off = next_rand() % (SPACE - 512);
			r[i].size = next_rand() % 4 == 0 ? next_rand() % 8 : next_rand() % 512;
			r[i].fill = (uint8_t)next_rand();
		}
		fd = make_flat(r, n, true);
		e = flat_map_build(fd, "random", &m);
		if (e) {
			bad++;
		} else {
			size_t size = naive(r, n, want, sizeof(want));
			bad += !agrees(m, want, size);
			flat_map_free(m);
		}
		err_free(e);
		close(fd);
	}
	CHECK("300 random files with overlaps read as makedumpfile -R writes them", bad == 0);

	/* damage: no end marker, a record past the end, a negative offset */
	const struct rec one[] = { { 0, 64, 1 } };
	fd = make_flat(one, 1, false);
	e = flat_map_build(fd, "noend", &m);
	CHECK("no end marker: an error naming truncation",
	      e && strstr(e->msg, "truncated") && strstr(e->msg, "noend"));
	err_free(e);
	close(fd);
	fd = make_flat(one, 1, true);
	if (ftruncate(fd, 4096 + 16 + 10) == 0) {
		e = flat_map_build(fd, "short", &m);
		CHECK("a record cut short: an error naming where",
		      e && strstr(e->msg, "truncated in the record at offset 0x1000"));
		err_free(e);
	}
	close(fd);
	const struct rec neg[] = { { -4096, 8, 1 } };
	fd = make_flat(neg, 1, true);
	e = flat_map_build(fd, "neg", &m);
	CHECK("a negative offset: corrupt", e && strstr(e->msg, "corrupt"));
	err_free(e);
	close(fd);
	return tap_done();
}
