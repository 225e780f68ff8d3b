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

#include "flat_priv.h"

#define FLAT_SIGNATURE "makedumpfile"
#define FLAT_HEADER_SIZE 4096
#define FLAT_TYPE 1
#define FLAT_END (-1)
/* A record larger than this is not something makedumpfile or QEMU writes;
 * it bounds what one bogus header can make us index. */
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

/* One range of the rearranged file and where its bytes are in the
 * flattened one.  Sorted by OFF, disjoint. */
struct flat_seg {
	uint64_t off, src, len;
};

struct flat_map {
	int fd;		/* the flattened file (not ours to close) */
	uint64_t size;	/* of the rearranged file */
	size_t n;
	struct flat_seg *seg;
};

/* A record while building: its place in the file order decides overlaps. */
struct flat_rec {
	uint64_t off, src, len;
	size_t seq;
};

bool flat_detect(int fd)
{
	struct flat_header h;
	if (flat_sys_pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return false;
	return memcmp(h.signature, FLAT_SIGNATURE, sizeof(FLAT_SIGNATURE)) == 0 &&
	       (int64_t)be64toh((uint64_t)h.type) == FLAT_TYPE;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct flat_rec *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Every record of the file, checked, in file order.  Each costs at least 17
 * bytes of file, so *N is bounded by the file's size. */
static struct err *flat_scan(int fd, const char *what, uint64_t fsize, struct flat_rec **out,
			     size_t *n)
{
	struct flat_rec *r = NULL;
	size_t cap = 0, cnt = 0;
	uint64_t pos = FLAT_HEADER_SIZE;
	struct err *e = NULL;
	for (;;) {
		struct flat_record h;
		if (flat_sys_pread(fd, &h, sizeof(h), (off_t)pos) != (ssize_t)sizeof(h)) {
			e = err_new(ERR_FORMAT, "%s: flattened dump truncated at offset 0x%llx (no end marker)",
				    what, (unsigned long long)pos);
			break;
		}
		int64_t off = (int64_t)be64toh((uint64_t)h.offset);
		int64_t size = (int64_t)be64toh((uint64_t)h.size);
		if (off == FLAT_END)
			break;
		if (off >= 0 && size >= 0 && (uint64_t)size <= FLAT_MAX_RECORD &&
		    pos + sizeof(h) + (uint64_t)size > fsize) {
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
		if (size) {
			if (cnt == cap) {
				size_t ncap = cap ? 2 * cap : 1024;
				struct flat_rec *nr = realloc(r, ncap * sizeof(*r));
				if (!nr) {
					e = err_new(ERR_NOMEM, "%s: out of memory indexing the flattened dump", what);
					break;
				}
				r = nr;
				cap = ncap;
			}
			r[cnt] = (struct flat_rec){ (uint64_t)off, pos + sizeof(h), (uint64_t)size, cnt };
			cnt++;
		}
		pos += sizeof(h) + (uint64_t)size;
	}
	if (e) {
		free(r);
		return e;
	}
	*out = r;
	*n = cnt;
	return NULL;
}

/* A max-heap of record indexes by seq: the records covering the sweep point. */
struct flat_heap {
	size_t *v, n;
	const struct flat_rec *r;
};

static void heap_push(struct flat_heap *h, size_t i)
{
	size_t k = h->n++;
	while (k && h->r[h->v[(k - 1) / 2]].seq < h->r[i].seq) {
		h->v[k] = h->v[(k - 1) / 2];
		k = (k - 1) / 2;
	}
	h->v[k] = i;
}

static void heap_pop(struct flat_heap *h)
{
	size_t last = h->v[--h->n], k = 0;
	for (;;) {
		size_t c = 2 * k + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->r[h->v[c + 1]].seq > h->r[h->v[c]].seq)
			c++;
		if (h->r[h->v[c]].seq <= h->r[last].seq)
			break;
		h->v[k] = h->v[c];
		k = c;
	}
	if (h->n)
		h->v[k] = last;
}

static void seg_add(struct flat_map *m, uint64_t off, uint64_t src, uint64_t len)
{
	struct flat_seg *p = m->n ? &m->seg[m->n - 1] : NULL;
	if (p && p->off + p->len == off && p->src + p->len == src)
		p->len += len;
	else
		m->seg[m->n++] = (struct flat_seg){ off, src, len };
}

/* R (N records sorted by offset, then seq) as disjoint segments, the latest
 * record winning each byte: a sweep over the records' starts and ends with
 * the covering records in a heap (ended ones leave it lazily). */
static struct err *flat_resolve(struct flat_map *m, const struct flat_rec *r, size_t n,
				const char *what)
{
	/* each record adds at most two segments: its own, and the rest of the
	 * one it interrupts */
	m->seg = malloc((2 * n + 1) * sizeof(*m->seg));
	struct flat_heap h = { malloc((n + 1) * sizeof(size_t)), 0, r };
	if (!m->seg || !h.v) {
		free(h.v);
		return err_new(ERR_NOMEM, "%s: out of memory indexing the flattened dump", what);
	}
	size_t i = 0;
	uint64_t x = n ? r[0].off : 0;
	while (i < n || h.n) {
		while (i < n && r[i].off <= x)
			heap_push(&h, i++);
		while (h.n && r[h.v[0]].off + r[h.v[0]].len <= x)
			heap_pop(&h);
		if (!h.n) {
			if (i < n)
				x = r[i].off;
			continue;
		}
		const struct flat_rec *top = &r[h.v[0]];
		uint64_t next = top->off + top->len;
		if (i < n && r[i].off < next)
			next = r[i].off;
		seg_add(m, x, top->src + (x - top->off), next - x);
		x = next;
	}
	free(h.v);
	return NULL;
}

struct err *flat_map_build(int fd, const char *what, struct flat_map **out)
{
	struct stat st;
	if (fstat(fd, &st))
		return err_new(ERR_OS, "%s: stat: %s", what, strerror(errno));
	struct flat_rec *r;
	size_t n;
	struct err *e = flat_scan(fd, what, (uint64_t)st.st_size, &r, &n);
	if (e)
		return e;
	qsort(r, n, sizeof(*r), rec_cmp);
	struct flat_map *m = calloc(1, sizeof(*m));
	if (!m) {
		free(r);
		return err_new(ERR_NOMEM, "%s: out of memory", what);
	}
	m->fd = fd;
	e = flat_resolve(m, r, n, what);
	free(r);
	if (e) {
		flat_map_free(m);
		return e;
	}
	m->size = m->n ? m->seg[m->n - 1].off + m->seg[m->n - 1].len : 0;
	/* give back what overlaps and merges saved */
	struct flat_seg *s = realloc(m->seg, (m->n ? m->n : 1) * sizeof(*s));
	if (s)
		m->seg = s;
	*out = m;
	return NULL;
}

void flat_map_free(struct flat_map *m)
{
	if (!m)
		return;
	free(m->seg);
	free(m);
}

uint64_t flat_map_size(const struct flat_map *m) { return m->size; }

/* The first segment that ends after OFF (m->n if none). */
static size_t seg_find(const struct flat_map *m, uint64_t off)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->seg[mid].off + m->seg[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

ssize_t flat_map_pread(const struct flat_map *m, void *buf, size_t len, uint64_t off)
{
	if (off >= m->size)
		return 0;
	if (len > m->size - off)
		len = (size_t)(m->size - off);
	uint8_t *p = buf;
	size_t done = 0, i = seg_find(m, off);
	while (done < len) {
		uint64_t at = off + done;
		size_t want = len - done;
		const struct flat_seg *s = i < m->n ? &m->seg[i] : NULL;
		if (!s || at < s->off) { /* a hole: zeros, as in the rearranged file */
			size_t z = !s || s->off - at > want ? want : (size_t)(s->off - at);
			memset(p + done, 0, z);
			done += z;
			continue;
		}
		size_t k = s->off + s->len - at > want ? want : (size_t)(s->off + s->len - at);
		ssize_t got = flat_sys_pread(m->fd, p + done, k, (off_t)(s->src + (at - s->off)));
		if (got != (ssize_t)k) {
			if (got >= 0)	/* the file shrank under us */
				errno = EIO;
			return -1;
		}
		done += k;
		i++;
	}
	return (ssize_t)len;
}

struct err *flat_map_expose(struct flat_map *m, const char *what, int *out_fd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return err_new(ERR_OS, "%s: pipe: %s", what, strerror(errno));
	close(p[1]);
	if (!flat_register(p[0], m)) {
		close(p[0]);
		return err_new(ERR_OS, "%s: too many flattened dumps open at once", what);
	}
	*out_fd = p[0];
	return NULL;
}

void flat_map_unexpose(int fd) { flat_unregister(fd); }

/* A fresh temporary: disk-backed keeps RAM free for large dumps; memfd is
 * the fallback where TMPDIR has no O_TMPFILE support. */
static struct err *flat_tmpfile(const char *what, int *out)
{
	const char *dir = getenv("TMPDIR");
	*out = open(dir && *dir ? dir : "/var/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*out < 0)
		*out = memfd_create("spte-inspect-flat", MFD_CLOEXEC);
	if (*out < 0)
		return err_new(ERR_OS, "%s: cannot create a temporary file: %s", what, strerror(errno));
	return NULL;
}

struct err *flat_map_write(const struct flat_map *m, const char *what, int *out_fd)
{
	int out;
	struct err *e = flat_tmpfile(what, &out);
	if (e)
		return e;
	if (ftruncate(out, (off_t)m->size)) {
		e = err_new(ERR_OS, "%s: writing a private copy: %s", what, strerror(errno));
		close(out);
		return e;
	}
	for (size_t i = 0; i < m->n && !e; i++) {
		loff_t in_off = (loff_t)m->seg[i].src, out_off = (loff_t)m->seg[i].off;
		uint64_t left = m->seg[i].len;
		while (left && !e) {
			ssize_t n = copy_file_range(m->fd, &in_off, out, &out_off, (size_t)left, 0);
			if (n <= 0)
				e = err_new(ERR_OS, "%s: writing a private copy: %s", what,
					    n < 0 ? strerror(errno) : "short read");
			else
				left -= (uint64_t)n;
		}
	}
	if (e) {
		close(out);
		return e;
	}
	*out_fd = out;
	return NULL;
}

struct err *flat_copy(int fd, const char *what, int *out_fd)
{
	struct stat st;
	if (fstat(fd, &st))
		return err_new(ERR_OS, "%s: stat: %s", what, strerror(errno));
	int out;
	struct err *e = flat_tmpfile(what, &out);
	if (e)
		return e;
	loff_t in_off = 0, out_off = 0;
	while (in_off < st.st_size) {
		ssize_t n = copy_file_range(fd, &in_off, out, &out_off, (size_t)(st.st_size - in_off), 0);
		if (n <= 0) {
			close(out);
			return err_new(ERR_OS, "%s: copying: %s", what, n < 0 ? strerror(errno) : "short");
		}
	}
	*out_fd = out;
	return NULL;
}
