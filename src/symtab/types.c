#define _GNU_SOURCE
#include "symtab/types.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/array.h"
#include "symtab/symtab.h"

/* Member paths deeper than this are not in any kernel struct we read. */
#define TYPES_MAX_DEPTH 16
#define TYPES_MAX_BTF (256u << 20)

struct types_index_ent {
	uint32_t name_off;	/* not the pointer: the strings move while a BTF is built */
	uint32_t id;
	uint32_t hash;		/* symtab_hash of the name */
	uint8_t kind;
};

struct types_btf_index {
	const struct btf *b;
	uint32_t cnt;			/* btf__type_cnt when built: BTF grows while built */
	struct types_index_ent *e;	/* this BTF's own types (not its base's) */
	size_t n;
	uint32_t *slot;			/* open addressing over e: index + 1, 0 = empty */
	size_t cap;
};

struct types_index {
	struct types_btf_index *v;
	size_t n;
};

void types_init(struct types *T)
{
	memset(T, 0, sizeof(*T));
	T->index = calloc(1, sizeof(*T->index)); /* without it lookups are only slower */
}

/* Whenever a BTF is replaced or freed: its address may come back. */
static void types_index_reset(struct types_index *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++) {
		free(x->v[i].e);
		free(x->v[i].slot);
	}
	free(x->v);
	x->v = NULL;
	x->n = 0;
}

static void types_index_free(struct types_index *x)
{
	types_index_reset(x);
	free(x);
}

void types_fini(struct types *T)
{
	types_index_free(T->index);
	for (size_t i = 0; i < T->nmods; i++) {
		btf__free(T->mods[i].btf);
		free(T->mods[i].source);
	}
	free(T->mods);
	btf__free(T->vmlinux);
	free(T->vmlinux_source);
	memset(T, 0, sizeof(*T));
}

struct err *types_set_vmlinux(struct types *T, const void *data, size_t size, const char *source)
{
	if (size > TYPES_MAX_BTF)
		return err_new(ERR_CORRUPT, "vmlinux BTF from %s: %zu bytes is not plausible", source, size);
	struct btf *b = btf__new(data, (uint32_t)size);
	if (!b)
		return err_new(ERR_FORMAT, "vmlinux BTF from %s: not valid BTF (%s)", source,
			       strerror(errno));
	return types_set_vmlinux_btf(T, b, source);
}

struct err *types_set_vmlinux_btf(struct types *T, struct btf *b, const char *source)
{
	types_index_reset(T->index);
	btf__free(T->vmlinux);
	free(T->vmlinux_source);
	T->vmlinux = b;
	T->vmlinux_source = strdup(source);
	return NULL;
}

/* Debian 12's libbpf 1.1.2 declares btf__new_split() but does not export
 * it; its btf__parse_raw_split() reads a path, so hand it the blob through an
 * anonymous memory file. */
static struct btf *types_new_split(const void *data, size_t size, struct btf *base)
{
	int fd = memfd_create("spte-inspect-btf", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct btf *b = NULL;
	if (write(fd, data, size) == (ssize_t)size) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		b = btf__parse_raw_split(path, base);
		if (libbpf_get_error(b))
			b = NULL;
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return b;
}

struct err *types_add_module(struct types *T, const char *name, const void *data, size_t size,
			     const char *source)
{
	if (!T->vmlinux)
		return err_new(ERR_NOTFOUND, "module %s BTF needs vmlinux BTF first", name);
	if (size > TYPES_MAX_BTF)
		return err_new(ERR_CORRUPT, "module %s BTF: %zu bytes is not plausible", name, size);
	struct btf *b = types_new_split(data, size, T->vmlinux);
	if (!b)
		return err_new(ERR_FORMAT, "module %s BTF from %s: not valid split BTF (%s)", name,
			       source, strerror(errno));
	return types_add_module_btf(T, name, b, source);
}

struct err *types_add_module_btf(struct types *T, const char *name, struct btf *b,
				 const char *source)
{
	for (size_t i = 0; i < T->nmods; i++)
		if (!strcmp(T->mods[i].name, name)) { /* a file given by the user wins */
			types_index_reset(T->index);
			btf__free(T->mods[i].btf);
			free(T->mods[i].source);
			T->mods[i].btf = b;
			T->mods[i].source = strdup(source);
			return NULL;
		}
	void *p = array_room(T->mods, T->nmods, sizeof(*T->mods));
	if (!p) {
		btf__free(b);
		return err_new(ERR_NOMEM, "out of memory");
	}
	T->mods = p;
	struct types_module *m = &T->mods[T->nmods++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->btf = b;
	m->source = strdup(source);
	return NULL;
}

void types_drop_module(struct types *T, const char *name)
{
	for (size_t i = 0; i < T->nmods; i++)
		if (!strcmp(T->mods[i].name, name)) {
			types_index_reset(T->index);
			btf__free(T->mods[i].btf);
			free(T->mods[i].source);
			T->mods[i] = T->mods[--T->nmods];
			return;
		}
}

bool types_have_module(const struct types *T, const char *name)
{
	for (size_t i = 0; i < T->nmods; i++)
		if (!strcmp(T->mods[i].name, name))
			return true;
	return false;
}

struct err *types_load_elf_btf(const char *path, void **data, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_new(ERR_OS, "%s: %s", path, strerror(errno));
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	struct err *e = NULL;
	size_t shstrndx;
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx)) {
		e = err_new(ERR_FORMAT, "%s: not an ELF file, so not a kernel module", path);
		goto out;
	}
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".BTF"))
			continue;
		Elf_Data *d = elf_rawdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size == 0) {
			e = err_new(ERR_FORMAT, "%s: empty .BTF section", path);
			goto out;
		}
		*data = malloc(d->d_size);
		if (!*data) {
			e = err_new(ERR_NOMEM, "out of memory");
			goto out;
		}
		memcpy(*data, d->d_buf, d->d_size);
		*size = d->d_size;
		goto out;
	}
	e = err_new(ERR_NOTFOUND, "%s: no .BTF section (kernel built without CONFIG_DEBUG_INFO_BTF?)",
		    path);
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return e;
}

/* The slot of NAME (hash H) of KIND in SLOT/E (CAP a power of two): the
 * one holding it, or the empty one where it would go. */
static size_t index_probe(const struct btf *b, const struct types_index_ent *e, const uint32_t *slot,
			  size_t cap, const char *name, uint32_t h, int kind)
{
	size_t k = h & (cap - 1);
	for (; slot[k]; k = (k + 1) & (cap - 1)) {
		const struct types_index_ent *o = &e[slot[k] - 1];
		if (o->hash == h && o->kind == kind && !strcmp(btf__name_by_offset(b, o->name_off), name))
			break;
	}
	return k;
}

/* B's own structs and unions by name and kind, the lowest id of each
 * (hashed: sorting vmlinux's by name with strcmp was 15 M instructions of
 * opening); NULL if memory fails. */
static const struct types_btf_index *index_of(struct types_index *x, const struct btf *b)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->v[i].b == b) {
			if (x->v[i].cnt == btf__type_cnt(b))
				return &x->v[i];
			free(x->v[i].e);
			free(x->v[i].slot);
			x->v[i] = x->v[--x->n];
			break;
		}
	struct types_btf_index *v = realloc(x->v, (x->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	x->v = v;
	const struct btf *base = btf__base_btf(b);
	uint32_t lo = base ? btf__type_cnt(base) : 1, hi = btf__type_cnt(b), n = 0;
	size_t cap = 16;
	while (cap < 2 * (size_t)(hi > lo ? hi - lo : 1))
		cap *= 2;
	struct types_index_ent *e = malloc((hi > lo ? hi - lo : 1) * sizeof(*e));
	uint32_t *slot = calloc(cap, sizeof(*slot));
	if (!e || !slot) {
		free(e);
		free(slot);
		return NULL;
	}
	for (uint32_t id = lo; id < hi; id++) {
		const struct btf_type *t = btf__type_by_id(b, id);
		if (!t || (!btf_is_struct(t) && !btf_is_union(t)))
			continue;
		const char *name = btf__name_by_offset(b, t->name_off);
		if (!name || !*name)
			continue;
		uint32_t h = symtab_hash(name, strlen(name));
		uint8_t kind = (uint8_t)btf_kind(t);
		/* ids ascend: the first of a name and kind is the lowest */
		size_t k = index_probe(b, e, slot, cap, name, h, kind);
		if (slot[k])
			continue;
		e[n] = (struct types_index_ent){ t->name_off, id, h, kind };
		slot[k] = ++n;
	}
	v[x->n] = (struct types_btf_index){ b, hi, e, n, slot, cap };
	return &v[x->n++];
}

/* The lowest id of a KIND named NAME in B's own types, 0 if none, -1 if
 * there is no index. */
static int32_t index_find(struct types_index *x, const struct btf *b, const char *name, int kind)
{
	const struct types_btf_index *ix = index_of(x, b);
	if (!ix)
		return -1;
	size_t k = index_probe(b, ix->e, ix->slot, ix->cap, name, symtab_hash(name, strlen(name)), kind);
	return ix->slot[k] ? (int32_t)ix->e[ix->slot[k] - 1].id : 0;
}

/* btf__find_by_name_kind, through the index: a split BTF's base first (its
 * ids come first). */
static int32_t find_by_name_kind(struct types_index *x, const struct btf *b, const char *name,
				 int kind)
{
	if (!x)
		return btf__find_by_name_kind(b, name, kind);
	const struct btf *base = btf__base_btf(b);
	int32_t id = base ? find_by_name_kind(x, base, name, kind) : 0;
	if (id > 0)
		return id;
	id = index_find(x, b, name, kind);
	if (id < 0)
		return btf__find_by_name_kind(b, name, kind);
	return id > 0 ? id : -1;
}

static struct type_ref types_find_in(struct types_index *x, const struct btf *b, const char *name)
{
	struct type_ref r = { b, 0 };
	int32_t id = find_by_name_kind(x, b, name, BTF_KIND_STRUCT);
	if (id <= 0)
		id = find_by_name_kind(x, b, name, BTF_KIND_UNION);
	if (id > 0)
		r.id = id;
	return r;
}

struct type_ref types_struct(const struct types *T, const char *module, const char *name)
{
	struct type_ref r = { NULL, 0 };
	if (module)
		for (size_t i = 0; i < T->nmods; i++)
			if (!strcmp(T->mods[i].name, module) &&
			    (r = types_find_in(T->index, T->mods[i].btf, name)).id)
				return r;
	/* Split BTF searches its base too, so vmlinux types come back from any
	 * module; that is the same type. */
	for (size_t i = 0; i < T->nmods; i++)
		if ((r = types_find_in(T->index, T->mods[i].btf, name)).id)
			return r;
	if (T->vmlinux)
		r = types_find_in(T->index, T->vmlinux, name);
	return r;
}

/* Strip typedefs and qualifiers. */
static struct type_ref types_strip(struct type_ref t)
{
	for (int i = 0; i < 32 && t.id > 0; i++) {
		const struct btf_type *bt = btf__type_by_id(t.btf, (uint32_t)t.id);
		if (!bt)
			return (struct type_ref){ t.btf, 0 };
		switch (btf_kind(bt)) {
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			t.id = (int32_t)bt->type;
			break;
		default:
			return t;
		}
	}
	return t;
}

uint64_t types_size(struct type_ref t)
{
	if (t.id <= 0)
		return 0;
	int64_t s = btf__resolve_size(t.btf, (uint32_t)t.id);
	return s > 0 ? (uint64_t)s : 0;
}

static bool types_member_one(struct type_ref t, const char *name, size_t len, int depth,
			     struct member *out)
{
	if (depth > TYPES_MAX_DEPTH)
		return false;
	t = types_strip(t);
	const struct btf_type *bt = btf__type_by_id(t.btf, (uint32_t)t.id);
	if (!bt || !btf_is_composite(bt))
		return false;
	const struct btf_member *m = btf_members(bt);
	for (uint32_t i = 0; i < btf_vlen(bt); i++) {
		const char *mn = btf__name_by_offset(t.btf, m[i].name_off);
		uint64_t off = btf_member_bit_offset(bt, i);
		struct type_ref mt = types_strip((struct type_ref){ t.btf, (int32_t)m[i].type });
		if (mn && *mn) {
			if (strlen(mn) != len || strncmp(mn, name, len))
				continue;
			out->bit_off = off;
			out->bit_size = btf_member_bitfield_size(bt, i);
			out->type = mt;
			out->size = types_size(mt);
			return true;
		}
		/* Anonymous struct/union: its members belong to this one. */
		struct member inner;
		if (types_member_one(mt, name, len, depth + 1, &inner)) {
			inner.bit_off += off;
			*out = inner;
			return true;
		}
	}
	return false;
}

bool types_member(struct type_ref t, const char *path, struct member *out)
{
	if (t.id <= 0)
		return false;
	struct member acc = { 0, 0, 0, t };
	const char *p = path;
	for (int depth = 0; depth < TYPES_MAX_DEPTH; depth++) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		struct member m;
		if (!types_member_one(acc.type, p, len, 0, &m))
			return false;
		m.bit_off += acc.bit_off;
		acc = m;
		if (!dot) {
			*out = acc;
			return true;
		}
		p = dot + 1;
	}
	return false;
}

bool types_is_pointer(struct type_ref t)
{
	t = types_strip(t);
	const struct btf_type *bt = t.id > 0 ? btf__type_by_id(t.btf, (uint32_t)t.id) : NULL;
	return bt && btf_is_ptr(bt);
}

bool types_is_struct(struct type_ref t)
{
	t = types_strip(t);
	const struct btf_type *bt = t.id > 0 ? btf__type_by_id(t.btf, (uint32_t)t.id) : NULL;
	return bt && btf_is_composite(bt);
}

bool types_array(struct type_ref t, struct type_ref *elem, uint32_t *count)
{
	t = types_strip(t);
	const struct btf_type *bt = t.id > 0 ? btf__type_by_id(t.btf, (uint32_t)t.id) : NULL;
	if (!bt || !btf_is_array(bt))
		return false;
	const struct btf_array *a = btf_array(bt);
	*elem = types_strip((struct type_ref){ t.btf, (int32_t)a->type });
	*count = a->nelems;
	return true;
}

uint64_t member_get(const void *buf, size_t buflen, const struct member *m)
{
	const uint8_t *b = buf;
	if (m->bit_size) {
		uint64_t first = m->bit_off / 8, last = (m->bit_off + m->bit_size - 1) / 8;
		if (last >= buflen || m->bit_size > 57)
			return 0;
		uint64_t v = 0;
		for (uint64_t i = last + 1; i-- > first;) /* little-endian */
			v = (v << 8) | b[i];
		v >>= m->bit_off % 8;
		return v & ((1ull << m->bit_size) - 1);
	}
	uint64_t off = m->bit_off / 8;
	if (m->size == 0 || m->size > 8 || off + m->size > buflen)
		return 0;
	uint64_t v = 0;
	memcpy(&v, b + off, m->size); /* x86-64 is little-endian, as is the host */
	return v;
}
