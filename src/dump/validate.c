/* What a dump file says about itself is checked here before libkdumpfile is
 * handed the file, and every page's place in the file before libkdumpfile
 * reads the page.  libkdumpfile 0.5.1 trusts its input: an ELF program
 * header size of 0, PAGESIZE=0 in VMCOREINFO or a kdump page descriptor
 * larger than a block crash it, a header size allocates what it says, and a
 * truncated ELF reads as zeros.  Sizes and offsets are bounded by the file's
 * size; a page whose bytes cannot be where the file says is unreadable (an
 * incomplete analysis), never handed on. */
#define _GNU_SOURCE
#include <elf.h>
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump_priv.h"

/* kdump (makedumpfile's diskdump_mod.h): main header fields */
#define KD_VERSION 8
#define KD_BLOCK_SIZE 428
#define KD_SUB_HDR_SIZE 432
#define KD_BITMAP_BLOCKS 436
#define KD_MAX_MAPNR 440
#define KD_NR_CPUS 460
#define KD_TASKS 464
/* ... and the kdump sub-header's, from the second block */
#define KS_OFF_VMCOREINFO 32
#define KS_OFF_NOTE 48
#define KS_OFF_ERASEINFO 64
#define KS_MAX_MAPNR_64 96
#define KS_SIZE 104

#define KD_DESC_SIZE 24	/* struct page_desc: offset, size, flags, page_flags */
#define KD_ZLIB 0x1
#define KD_LZO 0x2
#define KD_SNAPPY 0x4
#define KD_ZSTD 0x20
#define KD_COMPRESSION (KD_ZLIB | KD_LZO | KD_SNAPPY | KD_ZSTD)
/* bitmap bits per entry of the rank index */
#define RANK_BITS 4096

/* notes and VMCOREINFO: more than this is not a kernel's */
#define NOTES_MAX_BYTES (64u << 20)

struct valid_bad {
	uint64_t pfn, at, off;	/* the descriptor's place and what it says */
	uint32_t size, flags;
};

struct dump_valid_load {
	uint64_t pa, off, filesz;
};

struct dump_valid {
	uint64_t size;		/* of the file */
	/* kdump */
	uint64_t desc_off, data_off, max_mapnr;
	uint64_t desc_span;	/* bytes of the file from desc_off on */
	uint8_t *bm2;		/* pages with a descriptor */
	uint64_t bm_len;	/* bytes */
	uint64_t *rank;		/* set bits of bm2 before each RANK_BITS */
	uint64_t ndesc;
	uint64_t nread;		/* descriptors inside the file */
	struct valid_bad *bad;	/* damaged descriptors, by pfn */
	size_t nbad, noverflow;	/* ... of which larger than a block */
	/* ELF */
	struct dump_valid_load *loads;
	size_t nloads;
};

static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* [off, off+len) inside a file of SIZE bytes, without overflow */
static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static struct err *truncated(const struct dump *d, const char *what, uint64_t end)
{
	return err_new(ERR_FORMAT, "%s: truncated at byte %llu of %llu: %s", d->path,
		       (unsigned long long)d->valid->size, (unsigned long long)end, what);
}

static bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* A key as the kernel writes one: NAME or NAME(ARG), NAME letters, digits,
 * '_' and '-' from a letter on, ARG the same plus '.' between parts.
 * libkdumpfile files each key under an attribute path split at '.': a '.'
 * outside the parentheses, or an empty part, crashed it. */
static bool valid_key(const char *p, const char *eq)
{
	if (p == eq || !((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
		return false;
	while (p < eq && name_char(*p))
		p++;
	if (p == eq)
		return true;
	if (*p++ != '(' || eq[-1] != ')' || p >= eq - 1)
		return false;
	for (const char *a = p; a < eq - 1; a++)
		if (!(name_char(*a) || (*a == '.' && a > p && a[-1] != '.' && a + 1 < eq - 1)))
			return false;
	return true;
}

/* VMCOREINFO as the kernel writes it: "KEY=VALUE" lines of printable text
 * (libkdumpfile crashes on a line without '=' or a NUL inside), and the
 * values libkdumpfile divides by or sizes pages with. */
static struct err *valid_vmcoreinfo(const struct dump *d, const char *text, size_t len)
{
	while (len && text[len - 1] == '\0')	/* a terminating NUL is allowed */
		len--;
	unsigned line = 1;
	for (const char *p = text, *end = text + len; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *eq = memchr(p, '=', (size_t)(le - p));
		/* no empty line before the end; printable values */
		bool ok = eq && valid_key(p, eq);
		for (const char *c = eq; ok && c < le; c++)
			ok = c == eq || (*c >= 0x20 && *c < 0x7f);
		if (!ok)
			return err_new(ERR_FORMAT, "%s: VMCOREINFO line %u is not KEY=VALUE text (damaged "
				       "dump)", d->path, line);
		if ((size_t)(le - p) > 9 && !memcmp(p, "PAGESIZE=", 9)) {
			char v[32] = "";
			size_t n = (size_t)(le - p) - 9;
			memcpy(v, p + 9, n < sizeof(v) - 1 ? n : sizeof(v) - 1);
			char *rest;
			unsigned long long ps = strtoull(v, &rest, 10);
			if (ps != PAGE_SIZE || *rest)
				return err_new(ERR_FORMAT, "%s: VMCOREINFO says PAGESIZE=%s, not x86-64's %u "
					       "(damaged dump)", d->path, v, PAGE_SIZE);
		}
		p = le + 1;
	}
	return NULL;
}

/* ELF notes in BUF: each inside, and VMCOREINFO's values as above. */
static struct err *valid_notes(const struct dump *d, const uint8_t *buf, uint64_t len, const char *where)
{
	uint64_t pos = 0;
	while (pos + 12 <= len) {
		uint32_t namesz = rd32(buf + pos), descsz = rd32(buf + pos + 4);
		uint64_t name = pos + 12, desc = name + (((uint64_t)namesz + 3) & ~3ull);
		uint64_t next = desc + (((uint64_t)descsz + 3) & ~3ull);
		if (desc > len || (uint64_t)descsz > len - desc)
			return err_new(ERR_FORMAT, "%s: %s: the note at byte %llu says %u+%u bytes, more "
				       "than the %llu its segment holds (damaged dump)", d->path, where,
				       (unsigned long long)pos, namesz, descsz, (unsigned long long)len);
		if (namesz >= 10 && !memcmp(buf + name, "VMCOREINFO", 10)) {
			struct err *e = valid_vmcoreinfo(d, (const char *)buf + desc, descsz);
			if (e)
				return e;
		}
		pos = next;
	}
	return NULL;
}

static struct err *read_exact(const struct dump *d, void *buf, uint64_t len, uint64_t off)
{
	ssize_t n = dump_file_pread(d, buf, len, off);
	if (n == (ssize_t)len)
		return NULL;
	return err_new(ERR_OS, "%s: reading %llu bytes at %llu: %s", d->path, (unsigned long long)len,
		       (unsigned long long)off, n < 0 ? strerror(errno) : "short read");
}

/* Reads [off, off+len) of the file (checked to be inside) and validates its notes. */
static struct err *valid_note_region(const struct dump *d, uint64_t off, uint64_t len, const char *what)
{
	if (!len)
		return NULL;
	if (!in_file(off, len, d->valid->size))
		return err_new(ERR_FORMAT, "%s: the header puts %s at bytes %llu..%llu, beyond the "
			       "file's %llu (damaged or truncated dump)", d->path, what,
			       (unsigned long long)off, (unsigned long long)(off + len),
			       (unsigned long long)d->valid->size);
	if (len > NOTES_MAX_BYTES)
		return err_new(ERR_FORMAT, "%s: %s of %llu bytes is not a kernel's (damaged dump)",
			       d->path, what, (unsigned long long)len);
	uint8_t *buf = malloc(len);
	if (!buf)
		return err_new(ERR_NOMEM, "out of memory");
	struct err *e = read_exact(d, buf, len, off);
	if (!e)
		e = strstr(what, "VMCOREINFO") ? valid_vmcoreinfo(d, (char *)buf, len)
						: valid_notes(d, buf, len, what);
	free(buf);
	return e;
}

static struct err *valid_descriptors(struct dump *d, unsigned threads);
static const char *desc_fault(const struct dump_valid *v, uint64_t off, uint32_t size, uint32_t flags,
			      char *buf, size_t len);

static struct err *valid_kdump(struct dump *d, unsigned threads)
{
	struct dump_valid *v = d->valid;
	uint8_t h[PAGE_SIZE], s[KS_SIZE];
	struct err *e;
	if (v->size < 2 * PAGE_SIZE)
		return err_new(ERR_FORMAT, "%s: kdump file truncated to %llu bytes (its headers alone "
			       "need %u)", d->path, (unsigned long long)v->size, 2 * PAGE_SIZE);
	if ((e = read_exact(d, h, sizeof(h), 0)))
		return e;
	int32_t version = (int32_t)rd32(h + KD_VERSION);
	uint32_t bs = rd32(h + KD_BLOCK_SIZE), sub = rd32(h + KD_SUB_HDR_SIZE);
	uint32_t bmp = rd32(h + KD_BITMAP_BLOCKS), nr_cpus = rd32(h + KD_NR_CPUS);
	if (bs != PAGE_SIZE)
		return err_new(ERR_FORMAT, "%s: kdump block size %u, not x86-64's %u (damaged header)",
			       d->path, bs, PAGE_SIZE);
	if (version < 1 || version > 16)
		return err_new(ERR_FORMAT, "%s: kdump header version %d (damaged header)", d->path, version);
	if ((uint64_t)KD_TASKS + 8ull * nr_cpus > bs)
		return err_new(ERR_FORMAT, "%s: kdump header claims %u CPUs, more than its block "
			       "holds (damaged header)", d->path, nr_cpus);
	if (sub == 0 || bmp == 0 || bmp % 2)
		return err_new(ERR_FORMAT, "%s: kdump header: %u sub-header and %u bitmap blocks "
			       "(damaged header)", d->path, sub, bmp);
	uint64_t hdr_end = (1ull + sub + bmp) * bs;
	if (hdr_end > v->size)
		return truncated(d, "the kdump headers and bitmaps say they need more", hdr_end);
	if ((e = read_exact(d, s, sizeof(s), bs)))
		return e;
	v->max_mapnr = rd32(h + KD_MAX_MAPNR);
	if (version >= 6 && rd64(s + KS_MAX_MAPNR_64))
		v->max_mapnr = rd64(s + KS_MAX_MAPNR_64);
	v->bm_len = (uint64_t)bmp / 2 * bs;
	if (v->max_mapnr > v->bm_len * 8)
		return err_new(ERR_FORMAT, "%s: kdump header: max_mapnr %llu, more pages than its "
			       "bitmaps (%llu bits) describe (damaged header)", d->path,
			       (unsigned long long)v->max_mapnr, (unsigned long long)(v->bm_len * 8));
	/* sub-header regions, by the version that introduced each */
	static const struct { int version, off; const char *what; } regions[] = {
		{ 3, KS_OFF_VMCOREINFO, "VMCOREINFO" },
		{ 4, KS_OFF_NOTE, "the ELF notes" },
		{ 5, KS_OFF_ERASEINFO, "the erase information" },
	};
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		if (version < regions[i].version)
			continue;
		uint64_t off = rd64(s + regions[i].off), len = rd64(s + regions[i].off + 8);
		if (regions[i].off == KS_OFF_ERASEINFO) {
			if (len && !in_file(off, len, v->size))
				return err_new(ERR_FORMAT, "%s: the header puts %s at bytes %llu..%llu, "
					       "beyond the file's %llu (damaged or truncated dump)", d->path,
					       regions[i].what, (unsigned long long)off,
					       (unsigned long long)(off + len), (unsigned long long)v->size);
			continue;
		}
		if ((e = valid_note_region(d, off, len, regions[i].what)))
			return e;
	}
	/* the second bitmap: pages with a descriptor, in pfn order */
	v->desc_off = hdr_end;
	v->desc_span = v->size - hdr_end; /* hdr_end <= size: checked above */
	v->data_off = hdr_end;
	v->bm2 = malloc(v->bm_len);
	v->rank = malloc((v->bm_len * 8 / RANK_BITS + 1) * sizeof(*v->rank));
	if (!v->bm2 || !v->rank)
		return err_new(ERR_NOMEM, "out of memory");
	if ((e = read_exact(d, v->bm2, v->bm_len, (1ull + sub) * bs + v->bm_len)))
		return e;
	uint64_t n = 0;
	for (uint64_t i = 0; i < v->bm_len; i += RANK_BITS / 8) {
		v->rank[i / (RANK_BITS / 8)] = n;
		uint64_t end = v->bm_len - i < RANK_BITS / 8 ? v->bm_len : i + RANK_BITS / 8, k = i;
		for (uint64_t w; k + 8 <= end; k += 8) { /* a word at a time: 1 bit a page */
			memcpy(&w, v->bm2 + k, 8);
			n += (uint64_t)__builtin_popcountll(w);
		}
		for (; k < end; k++)
			n += (uint64_t)__builtin_popcount(v->bm2[k]);
	}
	v->ndesc = n;
	v->data_off = v->desc_off + n * KD_DESC_SIZE;
	if ((e = valid_descriptors(d, threads)))
		return e;
	/* what is lost, said once: pages stored past the end, damaged descriptors */
	uint64_t past = 0, want = 0;
	const struct valid_bad *first = NULL;
	for (size_t i = 0; i < v->nbad; i++) {
		const struct valid_bad *b = &v->bad[i];
		bool beyond = b->size <= PAGE_SIZE && b->off >= v->desc_off && b->off + b->size > v->size &&
			      b->off + b->size > b->off && !(b->flags & ~KD_COMPRESSION);
		if (beyond) {
			past++;
			want = b->off + b->size > want ? b->off + b->size : want;
		} else if (!first) {
			first = b;
		}
	}
	if (past)
		notes_add(&d->notes, "%s: truncated at byte %llu of at least %llu: %llu stored pages lie "
			  "past the end and are unreadable", d->path, (unsigned long long)v->size,
			  (unsigned long long)want, (unsigned long long)past);
	if (first) {
		char why[160];
		desc_fault(v, first->off, first->size, first->flags, why, sizeof(why));
		notes_add(&d->notes, "%s: %llu damaged page descriptors (the first at byte %llu, pfn 0x%llx: "
			  "%s); those pages are unreadable", d->path, (unsigned long long)(v->nbad - past),
			  (unsigned long long)first->at, (unsigned long long)first->pfn, why);
	}
	if (v->data_off > v->size) {
		/* not fatal: the pages whose descriptors are there can be read */
		notes_add(&d->notes, "%s: truncated at byte %llu: the table of %llu page descriptors "
			  "ends at byte %llu; pages past its end are unreadable", d->path,
			  (unsigned long long)v->size, (unsigned long long)n,
			  (unsigned long long)v->data_off);
	}
	return NULL;
}

static struct err *valid_elf(struct dump *d)
{
	struct dump_valid *v = d->valid;
	Elf64_Ehdr eh;
	struct err *e;
	if (v->size < sizeof(eh))
		return truncated(d, "the ELF header needs more", sizeof(eh));
	if ((e = read_exact(d, &eh, sizeof(eh), 0)))
		return e;
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return err_new(ERR_FORMAT, "%s: an ELF file, but not 64-bit little-endian (not an x86-64 "
			       "crash dump)", d->path);
	if (eh.e_type != ET_CORE)
		return err_new(ERR_FORMAT, "%s: an ELF file, but not a core file (type %u): not a crash "
			       "dump", d->path, eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
		return err_new(ERR_FORMAT, "%s: ELF header: %u program headers of %u bytes (damaged "
			       "header; %zu-byte headers expected)", d->path, eh.e_phnum, eh.e_phentsize,
			       sizeof(Elf64_Phdr));
	uint64_t phlen = (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	if (!in_file(eh.e_phoff, phlen, v->size))
		return err_new(ERR_FORMAT, "%s: ELF program headers lie beyond the end of the file "
			       "(truncated at %llu bytes)", d->path, (unsigned long long)v->size);
	/* no sections (e_shoff 0), or sections that fit; e_shnum 0 with an
	 * offset (extended numbering) is no vmcore's */
	if ((eh.e_shoff || eh.e_shnum) &&
	    (!eh.e_shoff || !eh.e_shnum || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	     !in_file(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), v->size) ||
	     (eh.e_shstrndx != SHN_UNDEF && eh.e_shstrndx >= eh.e_shnum)))
		return err_new(ERR_FORMAT, "%s: ELF section headers (%u of %u bytes at %llu, names in "
			       "%u) do not fit in the file (damaged header)", d->path, eh.e_shnum,
			       eh.e_shentsize, (unsigned long long)eh.e_shoff, eh.e_shstrndx);
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		if ((e = read_exact(d, &sh, sizeof(sh), eh.e_shoff + (uint64_t)i * sizeof(sh))))
			return e;
		if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL && !in_file(sh.sh_offset, sh.sh_size, v->size))
			return err_new(ERR_FORMAT, "%s: ELF section %u (bytes %llu..%llu) does not fit in the "
				       "file's %llu (damaged header)", d->path, i,
				       (unsigned long long)sh.sh_offset,
				       (unsigned long long)(sh.sh_offset + sh.sh_size), (unsigned long long)v->size);
	}
	Elf64_Phdr *ph = malloc(phlen);
	v->loads = calloc(eh.e_phnum, sizeof(*v->loads));
	if (!ph || !v->loads) {
		free(ph);
		return err_new(ERR_NOMEM, "out of memory");
	}
	if ((e = read_exact(d, ph, phlen, eh.e_phoff))) {
		free(ph);
		return e;
	}
	uint64_t missing = 0, claimed = 0;
	size_t nshort = 0;
	for (size_t i = 0; i < eh.e_phnum && !e; i++) {
		const Elf64_Phdr *p = &ph[i];
		if (p->p_type == PT_NOTE) {
			char what[48];
			snprintf(what, sizeof(what), "the notes of program header %zu", i);
			e = valid_note_region(d, p->p_offset, p->p_filesz, what);
		} else if (p->p_type == PT_LOAD) {
			if (p->p_filesz > p->p_memsz || p->p_paddr + p->p_memsz < p->p_paddr ||
			    p->p_offset + p->p_filesz < p->p_offset) {
				e = err_new(ERR_FORMAT, "%s: ELF program header %zu: %llu bytes in the file "
					    "for %llu in memory at physical 0x%llx (damaged header)", d->path, i,
					    (unsigned long long)p->p_filesz, (unsigned long long)p->p_memsz,
					    (unsigned long long)p->p_paddr);
				break;
			}
			v->loads[v->nloads++] = (struct dump_valid_load){ p->p_paddr, p->p_offset,
									  p->p_filesz };
			claimed += p->p_filesz;
			uint64_t end = p->p_offset + p->p_filesz;
			if (end > v->size) {
				nshort++;
				missing += p->p_offset >= v->size ? p->p_filesz : end - v->size;
			}
		}
	}
	free(ph);
	if (!e && missing)
		notes_add(&d->notes, "%s: truncated at byte %llu: %zu of its memory segments end "
			  "past it, %llu of %llu bytes of memory are missing and unreadable", d->path,
			  (unsigned long long)v->size, nshort, (unsigned long long)missing,
			  (unsigned long long)claimed);
	return e;
}

struct err *valid_open(struct dump *d, uint64_t size, unsigned threads)
{
	d->valid = calloc(1, sizeof(*d->valid));
	if (!d->valid)
		return err_new(ERR_NOMEM, "out of memory");
	d->valid->size = size;
	unsigned char m[8] = { 0 };
	ssize_t n = dump_file_pread(d, m, sizeof(m), 0);
	if (n < 0)
		return err_new(ERR_OS, "%s: %s", d->path, strerror(errno));
	if (n == 8 && (!memcmp(m, "KDUMP   ", 8) || !memcmp(m, "DISKDUMP", 8))) {
		d->kind = DUMP_KDUMP;
		return valid_kdump(d, threads);
	}
	if (n >= 4 && !memcmp(m, ELFMAG, SELFMAG)) {
		d->kind = DUMP_ELF;
		return valid_elf(d);
	}
	return err_new(ERR_FORMAT, "%s: not a crash dump (neither kdump nor ELF)", d->path);
}

void valid_close(struct dump *d)
{
	if (!d->valid)
		return;
	free(d->valid->bm2);
	free(d->valid->rank);
	free(d->valid->loads);
	free(d->valid->bad);
	free(d->valid);
	d->valid = NULL;
}

/* The flags of a compressed page, as bits of a word: one compression. */
#define KD_ONE_COMPRESSION ((1ull << KD_ZLIB) | (1ull << KD_LZO) | (1ull << KD_SNAPPY) | \
			    (1ull << KD_ZSTD))

/* A sound descriptor: one compression or none, a page's bytes at most (all
 * of it uncompressed), after the headers and inside the file.  Inline: it
 * runs once per page of the dump; desc_fault names what fails. */
static inline bool desc_sound(const struct dump_valid *v, uint64_t off, uint32_t size, uint32_t flags)
{
	/* one compression (a bit of KD_ONE_COMPRESSION), or none and the page
	 * whole; then after the headers and inside the file in one compare:
	 * an offset before desc_off wraps to more than any span */
	bool one = flags < 64 && ((KD_ONE_COMPRESSION >> flags) & 1);
	return (one ? size - 1u < PAGE_SIZE : flags == 0 && size == PAGE_SIZE) &&
	       size <= v->desc_span && off - v->desc_off <= v->desc_span - size;
}

/* A descriptor's fault, or NULL; BUF for the words. */
static const char *desc_fault(const struct dump_valid *v, uint64_t off, uint32_t size, uint32_t flags,
			      char *buf, size_t len)
{
	if (desc_sound(v, off, size, flags))
		return NULL;
	uint32_t comp = flags & KD_COMPRESSION;
	if (flags & ~KD_COMPRESSION)
		snprintf(buf, len, "unknown flags 0x%x", flags);
	else if (comp & (comp - 1))
		snprintf(buf, len, "two compressions at once (flags 0x%x)", flags);
	else if (size == 0 || size > PAGE_SIZE || (!comp && size != PAGE_SIZE))
		snprintf(buf, len, "%u bytes for a %u-byte page%s", size, PAGE_SIZE,
			 comp ? "" : " stored uncompressed");
	else if (off < v->desc_off)
		snprintf(buf, len, "page data at byte %llu, inside the headers", (unsigned long long)off);
	else
		snprintf(buf, len, "its bytes %llu..%llu are past the end of the file (truncated at "
			 "byte %llu)", (unsigned long long)off, (unsigned long long)(off + size),
			 (unsigned long long)v->size);
	return buf;
}

/* The pfn of descriptor I: the I-th set bit of the bitmap (through the rank
 * index; there are ndesc set bits).  Only damaged descriptors ask. */
static uint64_t desc_pfn(const struct dump_valid *v, uint64_t i)
{
	/* the last block of the rank index (one per RANK_BITS) with rank <= i */
	size_t lo = 0, hi = (v->bm_len + RANK_BITS / 8 - 1) / (RANK_BITS / 8);
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (v->rank[mid] <= i)
			lo = mid;
		else
			hi = mid;
	}
	uint64_t r = v->rank[lo], byte = (uint64_t)lo * (RANK_BITS / 8);
	for (;; byte++) {
		unsigned c = (unsigned)__builtin_popcount(v->bm2[byte]);
		if (r + c > i)
			break;
		r += c;
	}
	uint8_t b = v->bm2[byte];
	for (; r < i; r++)
		b &= (uint8_t)(b - 1);
	return byte * 8 + (uint64_t)__builtin_ctz(b);
}

/* Descriptor I (at P) is damaged: remembered by pfn in BAD (N of CAP). */
static struct err *valid_bad_add(const struct dump_valid *v, struct valid_bad **bad, size_t *n,
				 size_t *cap, uint64_t i, const uint8_t *p)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *q = realloc(*bad, ncap * sizeof(**bad));
		if (!q)
			return err_new(ERR_NOMEM, "out of memory");
		*bad = q;
		*cap = ncap;
	}
	uint64_t off = rd64(p);
	uint32_t size = rd32(p + 8), flags = rd32(p + 12);
	(*bad)[(*n)++] = (struct valid_bad){ desc_pfn(v, i), v->desc_off + i * KD_DESC_SIZE, off,
					      size, flags };
	return NULL;
}

/* One share of the descriptor table: [FIRST, END), its damaged ones. */
struct valid_share {
	struct dump *d;
	uint64_t first, end;
	struct valid_bad *bad;
	size_t nbad, cap;
	struct err *err;
	uint8_t *buf;
};

/* Descriptors FIRST.. (N of them, at P): sound ones cost a few compares,
 * counted without a branch a block at a time; a block with a damaged one
 * is gone through again. */
static struct err *valid_desc_run(struct valid_share *sh, uint64_t first, const uint8_t *p,
				  uint64_t n)
{
	const struct dump_valid *v = sh->d->valid;
	enum { BLOCK = 64 };
	for (uint64_t k = 0; k < n; k += BLOCK) {
		uint64_t m = n - k < BLOCK ? n - k : BLOCK;
		const uint8_t *q = p + k * KD_DESC_SIZE;
		unsigned sound = 0;
		for (uint64_t j = 0; j < m; j++, q += KD_DESC_SIZE)
			sound += desc_sound(v, rd64(q), rd32(q + 8), rd32(q + 12));
		if (sound == m)
			continue;
		q = p + k * KD_DESC_SIZE;
		for (uint64_t j = 0; j < m; j++, q += KD_DESC_SIZE) {
			struct err *e;
			if (!desc_sound(v, rd64(q), rd32(q + 8), rd32(q + 12)) &&
			    (e = valid_bad_add(v, &sh->bad, &sh->nbad, &sh->cap, first + k + j, q)))
				return e;
		}
	}
	return NULL;
}

enum { VALID_CHUNK = 4096 };	/* descriptors read at once */

static void *valid_share_run(void *arg)
{
	struct valid_share *sh = arg;
	for (uint64_t i = sh->first; !sh->err && i < sh->end; i += VALID_CHUNK) {
		uint64_t n = sh->end - i < VALID_CHUNK ? sh->end - i : VALID_CHUNK;
		if (!(sh->err = read_exact(sh->d, sh->buf, n * KD_DESC_SIZE,
					   sh->d->valid->desc_off + i * KD_DESC_SIZE)))
			sh->err = valid_desc_run(sh, i, sh->buf, n);
	}
	return NULL;
}

/* Every descriptor the file holds, judged once at open (a table of 24-byte
 * entries, bounded by the file): the damaged ones are remembered by pfn.
 * libkdumpfile reads pages on its own (see dump_defuse), so none can be left
 * for later: 1.6 M of them (38 MB) on a 6 GiB dump, 7 ms on one thread.
 * THREADS share the table in order (only reads and compares: each its own
 * buffer and list, joined in pfn order). */
static struct err *valid_descriptors(struct dump *d, unsigned threads)
{
	struct dump_valid *v = d->valid;
	uint64_t fit = v->size > v->desc_off ? (v->size - v->desc_off) / KD_DESC_SIZE : 0;
	v->nread = v->ndesc < fit ? v->ndesc : fit;
	enum { MAX_THREADS = 8, MIN_SHARE = 4 * VALID_CHUNK }; /* a thread is worth ~16 k */
	uint64_t most = v->nread / MIN_SHARE + 1;
	unsigned n = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
	if (n > most)
		n = (unsigned)most;
	struct valid_share sh[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	bool started[MAX_THREADS] = { false };
	memset(sh, 0, sizeof(sh));
	struct err *e = NULL;
	for (unsigned t = 0; t < n; t++) {
		sh[t] = (struct valid_share){ .d = d, .first = v->nread * t / n, .end = v->nread * (t + 1) / n };
		if (!(sh[t].buf = malloc(VALID_CHUNK * KD_DESC_SIZE)))
			e = err_new(ERR_NOMEM, "out of memory");
	}
	/* the caller's thread takes the first share; one that cannot start
	 * runs on it too */
	for (unsigned t = 1; !e && t < n; t++)
		started[t] = !pthread_create(&th[t], NULL, valid_share_run, &sh[t]);
	if (!e)
		valid_share_run(&sh[0]);
	for (unsigned t = 1; t < n; t++) {
		if (started[t])
			pthread_join(th[t], NULL);
		else if (!e)
			valid_share_run(&sh[t]);
	}
	size_t total = 0;
	for (unsigned t = 0; t < n; t++) {
		if (!e && sh[t].err) {
			e = sh[t].err;
			sh[t].err = NULL;
		}
		total += sh[t].nbad;
	}
	if (!e && total && !(v->bad = malloc(total * sizeof(*v->bad))))
		e = err_new(ERR_NOMEM, "out of memory");
	for (unsigned t = 0; t < n; t++) {
		for (size_t k = 0; !e && k < sh[t].nbad; k++) {
			v->bad[v->nbad++] = sh[t].bad[k];
			v->noverflow += sh[t].bad[k].size > PAGE_SIZE;
		}
		err_free(sh[t].err);
		free(sh[t].bad);
		free(sh[t].buf);
	}
	return e;
}

static struct err *valid_kdump_page(const struct dump *d, uint64_t pfn)
{
	const struct dump_valid *v = d->valid;
	uint64_t pa = pfn << PAGE_SHIFT;
	if (pfn >= v->bm_len * 8 || !(v->bm2[pfn / 8] >> (pfn % 8) & 1))
		return NULL;	/* not stored: libkdumpfile's pagemap says so */
	if (v->nread < v->ndesc) {
		uint64_t r = v->rank[pfn / RANK_BITS];
		for (uint64_t i = pfn / RANK_BITS * (RANK_BITS / 8); i < pfn / 8; i++)
			r += (uint64_t)__builtin_popcount(v->bm2[i]);
		r += (uint64_t)__builtin_popcount(v->bm2[pfn / 8] & ((1u << (pfn % 8)) - 1));
		if (r >= v->nread)
			return err_new(ERR_READ, "physical address 0x%llx: unreadable, its page descriptor "
				       "(byte %llu) is past the end of the file (truncated at byte %llu)",
				       (unsigned long long)pa,
				       (unsigned long long)(v->desc_off + r * KD_DESC_SIZE),
				       (unsigned long long)v->size);
	}
	size_t lo = 0, hi = v->nbad;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v->bad[mid].pfn < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == v->nbad || v->bad[lo].pfn != pfn)
		return NULL;
	const struct valid_bad *b = &v->bad[lo];
	char why[160];
	desc_fault(v, b->off, b->size, b->flags, why, sizeof(why));
	return err_new(ERR_READ, "physical address 0x%llx: unreadable, damaged page descriptor at "
		       "byte %llu: %s", (unsigned long long)pa, (unsigned long long)b->at, why);
}

size_t valid_overflowing(const struct dump *d, uint64_t **ats)
{
	const struct dump_valid *v = d->valid;
	if (!v || !v->noverflow)
		return 0;
	*ats = malloc(v->noverflow * sizeof(**ats));
	size_t n = 0;
	for (size_t i = 0; *ats && i < v->nbad; i++)
		if (v->bad[i].size > PAGE_SIZE)
			(*ats)[n++] = v->bad[i].at;
	return *ats ? n : 0;
}

static struct err *valid_elf_range(const struct dump *d, uint64_t pa, size_t len)
{
	const struct dump_valid *v = d->valid;
	/* libkdumpfile reads from the first segment that holds the address */
	for (size_t i = 0; i < v->nloads; i++) {
		const struct dump_valid_load *l = &v->loads[i];
		if (pa < l->pa || pa - l->pa >= l->filesz)
			continue;
		uint64_t need = pa - l->pa + (len < l->filesz - (pa - l->pa) ? len : l->filesz - (pa - l->pa));
		if (l->off + need > v->size)
			return err_new(ERR_READ, "physical address 0x%llx: unreadable, its bytes are past "
				       "the end of the truncated file (byte %llu of %llu)",
				       (unsigned long long)pa, (unsigned long long)(l->off + need),
				       (unsigned long long)v->size);
		return NULL;
	}
	return NULL;
}

/* Whether [PA, PA+LEN) can be read as the file's headers describe it;
 * OVERLAYS: an overlaid page needs nothing of the file (the reading thread
 * only: other threads must not look at the overlays it changes). */
static struct err *valid_check(const struct dump *d, uint64_t pa, size_t len, bool overlays)
{
	if (!d->valid || !len)
		return NULL;
	struct err *e = NULL;
	if (d->kind == DUMP_KDUMP)
		for (uint64_t pfn = pa >> PAGE_SHIFT; !e && pfn <= (pa + len - 1) >> PAGE_SHIFT; pfn++)
			e = overlays && overlay_has_page(d, pfn) ? NULL : valid_kdump_page(d, pfn);
	else if (d->kind == DUMP_ELF)
		e = valid_elf_range(d, pa, len);
	return e;
}

struct err *valid_read(struct dump *d, uint64_t pa, size_t len)
{
	struct err *e = valid_check(d, pa, len, true);
	if (e)
		d->filtered_reads++;
	return e;
}

bool valid_page_readable(const struct dump *d, uint64_t pfn)
{
	struct err *e = valid_check(d, pfn << PAGE_SHIFT, PAGE_SIZE, false);
	err_free(e);
	return !e;
}
