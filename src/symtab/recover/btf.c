/* The recovered members as BTF, installed as type info through libbpf's
 * parser.  Written here, not with libbpf's writer: adding a string to a
 * split BTF makes libbpf 1.1 convert the whole base into its modifiable
 * form first (a copy and a hash of every vmlinux string: with its freeing
 * 75 M instructions, 15% of opening a 5.10 dump), for the few hundred
 * names of the recovered structs.  Only the kinds the recovery makes are written:
 * INT, PTR, ARRAY and STRUCT; libbpf validates the result when it parses. */
#define _GNU_SOURCE
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

/* ---- a BTF writer -------------------------------------------------------- */

struct btf_out {
	uint32_t *types;	/* the type section, in words */
	size_t nwords, cap;
	char *strs;		/* the string section */
	size_t nstrs, strcap;
	uint32_t next_id;	/* of the next type: after the base's */
	uint32_t str_base;	/* the base's string bytes: ours follow them */
	size_t last_struct;	/* word of the last struct: fields append to it */
	bool failed;
};

static void bo_init(struct btf_out *o, const struct btf *base)
{
	memset(o, 0, sizeof(*o));
	o->next_id = base ? btf__type_cnt(base) : 1;
	o->last_struct = SIZE_MAX;
	if (base) {
		uint32_t len;
		const struct btf_header *h = btf__raw_data(base, &len);
		o->str_base = h ? h->str_len : 0;
		o->failed = !h;
	}
}

static void bo_fini(struct btf_out *o)
{
	free(o->types);
	free(o->strs);
}

static bool bo_room(void **p, size_t *cap, size_t need, size_t unit)
{
	if (need <= *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 256;
	while (ncap < need)
		ncap *= 2;
	void *q = realloc(*p, ncap * unit);
	if (!q)
		return false;
	*p = q;
	*cap = ncap;
	return true;
}

/* NAME's offset (0 for none); a standalone section starts with "". */
static uint32_t bo_str(struct btf_out *o, const char *name)
{
	if (!name || !*name)
		return 0;
	bool first = !o->nstrs && !o->str_base;
	size_t n = strlen(name) + 1;
	if (!bo_room((void **)&o->strs, &o->strcap, o->nstrs + first + n, 1)) {
		o->failed = true;
		return 0;
	}
	if (first)
		o->strs[o->nstrs++] = '\0';
	uint32_t off = o->str_base + (uint32_t)o->nstrs;
	memcpy(o->strs + o->nstrs, name, n);
	o->nstrs += n;
	return off;
}

/* Append N words; the id of the type they begin, or -1. */
static int bo_words(struct btf_out *o, const uint32_t *w, size_t n, bool is_type)
{
	if (o->failed || !bo_room((void **)&o->types, &o->cap, o->nwords + n, sizeof(*w))) {
		o->failed = true;
		return -1;
	}
	memcpy(o->types + o->nwords, w, n * sizeof(*w));
	o->nwords += n;
	return is_type ? (int)o->next_id++ : 0;
}

static uint32_t bo_info(int kind, int vlen, bool kflag)
{
	return (uint32_t)vlen | (uint32_t)kind << 24 | (uint32_t)kflag << 31;
}

static int bo_int(struct btf_out *o, const char *name, uint32_t size, uint32_t encoding)
{
	uint32_t w[4] = { bo_str(o, name), bo_info(BTF_KIND_INT, 0, false), size,
			  encoding << 24 | size * 8 };
	o->last_struct = SIZE_MAX;
	return bo_words(o, w, 4, true);
}

static int bo_ptr(struct btf_out *o, int ref)
{
	uint32_t w[3] = { 0, bo_info(BTF_KIND_PTR, 0, false), (uint32_t)ref };
	o->last_struct = SIZE_MAX;
	return ref < 0 ? -1 : bo_words(o, w, 3, true);
}

static int bo_array(struct btf_out *o, int index_type, int elem_type, uint32_t nelems)
{
	uint32_t w[6] = { 0, bo_info(BTF_KIND_ARRAY, 0, false), 0, (uint32_t)elem_type,
			  (uint32_t)index_type, nelems };
	o->last_struct = SIZE_MAX;
	return index_type < 0 || elem_type < 0 ? -1 : bo_words(o, w, 6, true);
}

static int bo_struct(struct btf_out *o, const char *name, uint32_t size)
{
	uint32_t w[3] = { bo_str(o, name), bo_info(BTF_KIND_STRUCT, 0, false), size };
	size_t at = o->nwords;
	int id = bo_words(o, w, 3, true);
	o->last_struct = id < 0 ? SIZE_MAX : at;
	return id;
}

/* A member of the last struct added (BIT_SIZE 0: not a bitfield). */
static int bo_field(struct btf_out *o, const char *name, int type, uint32_t bit_off, uint32_t bit_size)
{
	if (o->last_struct == SIZE_MAX || type < 0 || bit_size > 255 || bit_off > 0xffffff)
		return -1;
	uint32_t w[3] = { bo_str(o, name), (uint32_t)type, bit_size << 24 | bit_off };
	if (bo_words(o, w, 3, false) < 0)
		return -1;
	uint32_t *info = &o->types[o->last_struct + 1];
	bool kflag = (*info >> 31) || bit_size || bit_off % 8;
	*info = bo_info(BTF_KIND_STRUCT, (int)(*info & 0xffff) + 1, kflag);
	return 0;
}

/* The whole BTF (header, types, strings) in a new buffer. */
static void *bo_raw(const struct btf_out *o, size_t *size)
{
	struct btf_header h = { .magic = BTF_MAGIC, .version = BTF_VERSION,
				.hdr_len = sizeof(h), .type_off = 0,
				.type_len = (uint32_t)(o->nwords * 4),
				.str_off = (uint32_t)(o->nwords * 4), .str_len = (uint32_t)o->nstrs };
	*size = sizeof(h) + h.type_len + h.str_len;
	uint8_t *b = o->failed ? NULL : malloc(*size);
	if (!b)
		return NULL;
	memcpy(b, &h, sizeof(h));
	memcpy(b + sizeof(h), o->types, h.type_len);
	memcpy(b + sizeof(h) + h.type_len, o->strs, h.str_len);
	return b;
}

/* ---- BTF synthesis ------------------------------------------------------- */

struct rec_btf {
	struct btf_out *b;
	int u[9], s[9];	/* ints by size */
	int ptr, list, xarray, mutex, rwlock, spinlock;
};

static int rec_leaf_type(struct rec_btf *bt, const struct recover_item *it)
{
	uint32_t sz = it->bits ? 4 : it->size;
	const struct recover_item *m = it;
	switch ((enum rec_kind)it->kind) {
	case K_INT:
		return sz <= 8 ? bt->u[sz] : -1;
	case K_SINT:
		return sz <= 8 ? bt->s[sz] : -1;
	case K_PTR:
		return bt->ptr;
	case K_LIST:
		return bt->list;
	case K_XARRAY:
		return bt->xarray;
	case K_BLOB: /* a member only its offset is known of */
		return bo_struct(bt->b, NULL, it->size);
	case K_CHARS:
		return bo_array(bt->b, bt->u[4], bt->u[1], m->count);
	case K_SHORTS:
		return bo_array(bt->b, bt->u[4], bt->s[2], m->count);
	case K_LONGS:
		return bo_array(bt->b, bt->u[4], bt->u[8], m->count);
	case K_SIZE:
		return -1;
	case K_ROOTARRAY: {
		int el = bo_struct(bt->b, NULL, m->stride);
		if (el < 0 || bo_field(bt->b, "pgd", bt->u[8], 0, 0) < 0 ||
		    bo_field(bt->b, "hpa", bt->u[8], 64, 0) < 0)
			return -1;
		return bo_array(bt->b, bt->u[4], el, m->count);
	}
	case K_MUTEX:
		return bt->mutex;
	case K_RWLOCK:
		return bt->rwlock;
	case K_SPINLOCK:
		return bt->spinlock > 0 ? bt->spinlock : bt->s[4]; /* its one word */
	case K_PTRARRAY:
		return bo_array(bt->b, bt->u[4], bt->ptr, m->count);
	case K_NODEARRAY: {
		int node = bo_struct(bt->b, NULL, m->stride);
		return node < 0 ? node : bo_array(bt->b, bt->u[4], node, m->count);
	}
	}
	return -1;
}

/* Containers whose offset is that of one member: the role union is its
 * word, refcount_t and atomic_t hold nothing else. */
static const char *const rec_same_offset[][2] = {
	{ "kvm_mmu_page.role", "kvm_mmu_page.role.word" },
	{ "kvm_mmu_page.tdp_mmu_root_count", "kvm_mmu_page.tdp_mmu_root_count.refs.counter" },
	{ "kvm_mmu_page.parent_ptes", "kvm_mmu_page.parent_ptes.val" },
	{ "kvm_mmu_page.tdp_mmu_root_count.refs", "kvm_mmu_page.tdp_mmu_root_count.refs.counter" },
	{ "kvm.nr_memslots_dirty_logging", "kvm.nr_memslots_dirty_logging.counter" },
};

/* Bit offset of container PATH ("kvm.arch"): known for the ones above,
 * else the start of the outer struct (only full paths are meaningful). */
static uint64_t rec_container_bits(struct rec *r, const char *path)
{
	for (size_t i = 0; i < sizeof(rec_same_offset) / sizeof(rec_same_offset[0]); i++) {
		uint64_t off;
		if (!strcmp(rec_same_offset[i][0], path) && rec_get(r, rec_same_offset[i][1], &off))
			return off * 8;
	}
	return 0;
}

/* Struct SNAME's members under PREFIX ("" or "arch."), whose container
 * starts at bit BASE of the outer struct: nested prefixes become anonymous
 * structs holding their members, so paths resolve to the same totals as
 * real BTF. */
static int rec_build(struct rec *r, struct rec_btf *bt, const char *sname, const char *prefix,
		     uint64_t size, uint64_t base_bits, int depth)
{
	if (depth > 4)
		return -1;
	char base[96];
	snprintf(base, sizeof(base), "%s.%s", sname, prefix);
	size_t bl = strlen(base);
	int ids[RECOVER_MAX_ITEMS];
	char names[RECOVER_MAX_ITEMS][64];
	bool nested[RECOVER_MAX_ITEMS];
	size_t idx[RECOVER_MAX_ITEMS], n = 0;
	for (size_t i = 0; i < r->R->nitems; i++) {
		const struct recover_item *it = &r->R->items[i];
		if (it->conflict || strncmp(it->path, base, bl))
			continue;
		const char *rest = it->path + bl, *dot = strchr(rest, '.');
		size_t len = dot ? (size_t)(dot - rest) : strlen(rest);
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			if (strlen(names[k]) == len && !strncmp(names[k], rest, len))
				dup = true;
		if (dup || len >= 64)
			continue;
		snprintf(names[n], sizeof(names[n]), "%.*s", (int)len, rest);
		nested[n] = dot != NULL;
		idx[n] = i;
		n++;
	}
	/* types first: libbpf appends fields to the last type added */
	uint64_t cbits[RECOVER_MAX_ITEMS];
	for (size_t k = 0; k < n; k++) {
		if (nested[k]) {
			char sub[96], cpath[160];
			snprintf(sub, sizeof(sub), "%s%s.", prefix, names[k]);
			snprintf(cpath, sizeof(cpath), "%s%s", base, names[k]);
			cbits[k] = rec_container_bits(r, cpath);
			if (cbits[k] < base_bits)
				cbits[k] = base_bits;
			/* the container ends with its last known member */
			uint64_t end = 0;
			char full[200];
			snprintf(full, sizeof(full), "%s.", cpath);
			for (size_t i = 0; i < r->R->nitems; i++) {
				const struct recover_item *it = &r->R->items[i];
				if (!it->conflict && !strncmp(it->path, full, strlen(full)) &&
				    it->off + it->size > end)
					end = it->off + it->size;
			}
			if (end * 8 <= cbits[k])
				return -1;
			ids[k] = rec_build(r, bt, sname, sub, end - cbits[k] / 8, cbits[k], depth + 1);
		} else {
			ids[k] = rec_leaf_type(bt, &r->R->items[idx[k]]);
		}
		if (ids[k] < 0)
			return -1;
	}
	int id = bo_struct(bt->b, *prefix ? NULL : sname, (uint32_t)size);
	if (id < 0)
		return id;
	for (size_t k = 0; k < n; k++) {
		const struct recover_item *it = &r->R->items[idx[k]];
		uint64_t abs = nested[k] ? cbits[k] : it->off * 8 + it->bit;
		if (abs < base_bits ||
		    bo_field(bt->b, names[k], ids[k], (uint32_t)(abs - base_bits),
				   nested[k] ? 0 : it->bits) < 0)
			return -1;
	}
	return id;
}

/* Build STRUCTS from the recovered items into B (base ids from BASE). */
static struct err *rec_fill(struct rec *r, struct btf_out *b, const struct btf *base,
			    const char *const *structs, size_t nstructs)
{
	struct rec_btf bt = { .b = b };
	if (base) {
		bt.list = btf__find_by_name_kind(base, "list_head", BTF_KIND_STRUCT);
		bt.xarray = btf__find_by_name_kind(base, "xarray", BTF_KIND_STRUCT);
		bt.mutex = btf__find_by_name_kind(base, "mutex", BTF_KIND_STRUCT);
		bt.spinlock = btf__find_by_name_kind(base, "spinlock_t", BTF_KIND_TYPEDEF);
		bt.rwlock = btf__find_by_name_kind(base, "rwlock_t", BTF_KIND_TYPEDEF);
		if (bt.rwlock <= 0)
			bt.rwlock = btf__find_by_name_kind(base, "rwlock_t", BTF_KIND_STRUCT);
		if (bt.list <= 0 || bt.xarray <= 0 || bt.mutex <= 0 || bt.rwlock <= 0)
			return err_new(ERR_LAYOUT, "vmlinux type info has no list_head, xarray, mutex or "
				       "rwlock_t");
	}
	static const char *const un[9] = { 0, "u8", "u16", 0, "u32", 0, 0, 0, "u64" };
	static const char *const sn[9] = { 0, "s8", "s16", 0, "s32", 0, 0, 0, "s64" };
	for (int s = 1; s <= 8; s *= 2) {
		bt.u[s] = bo_int(b, un[s], s, 0);
		bt.s[s] = bo_int(b, sn[s], s, BTF_INT_SIGNED);
	}
	bt.ptr = bo_ptr(b, 0);
	if (!base) /* vmlinux itself: a list is two pointers */
		bt.list = bo_struct(b, NULL, 16);
	for (size_t s = 0; s < nstructs; s++) {
		char pre[64];
		snprintf(pre, sizeof(pre), "%s.", structs[s]);
		uint64_t size = 0, fixed = 0;
		for (size_t i = 0; i < r->R->nitems; i++) {
			const struct recover_item *it = &r->R->items[i];
			if (it->conflict)
				continue;
			if (it->kind == K_SIZE && !strcmp(it->path, structs[s]))
				fixed = it->size;
			else if (!strncmp(it->path, pre, strlen(pre)) && it->off + it->size > size)
				size = it->off + it->size;
		}
		if (!size)
			continue;
		size = (size + 7) & ~7ull;
		if (fixed && fixed >= size)
			size = fixed;
		if (rec_build(r, &bt, structs[s], "", size, 0, 0) < 0)
			return err_new(ERR_LAYOUT, "cannot build type info for struct %s", structs[s]);
	}
	return NULL;
}

static const char *const kvm_structs[] = { "kvm", "kvm_memslots", "kvm_memory_slot", "kvm_mmu_page",
					   "kvm_vcpu", "kvm_mmu", "kvm_dirty_ring", "kvm_dirty_gfn",
					   "kvm_lpage_info", "kvm_x86_ops", "pte_list_desc" };
static const char *const vmlinux_structs[] = { "module", "mod_kallsyms", "list_head", "rb_node",
					       "xa_node", "xarray", "mm_struct", "task_struct",
					       "page", "mutex", "rwlock_t" };

/* STRUCTS as BTF, split on BASE or (NULL) standalone, in *RAW. */
static struct err *rec_write(struct rec *r, const struct btf *base, const char *const *structs,
			     size_t nstructs, void **raw, size_t *size)
{
	struct btf_out o;
	bo_init(&o, base);
	struct err *e = rec_fill(r, &o, base, structs, nstructs);
	if (!e && !(*raw = bo_raw(&o, size)))
		e = err_new(ERR_NOMEM, "cannot write the recovered type info");
	bo_fini(&o);
	return e;
}

struct err *rec_install(struct rec *r)
{
	void *raw;
	size_t size;
	struct err *e = rec_write(r, r->in->types->vmlinux, kvm_structs,
				  sizeof(kvm_structs) / sizeof(kvm_structs[0]), &raw, &size);
	if (e)
		return e;
	e = types_add_module(r->in->types, "kvm", raw, size,
			     "none (offsets recovered heuristically from kvm.ko machine code)");
	free(raw);
	return e;
}

/* The vmlinux types recovered so far, as vmlinux type info. */
struct err *rec_install_vmlinux(struct rec *r)
{
	void *raw;
	size_t size;
	struct err *e = rec_write(r, NULL, vmlinux_structs,
				  sizeof(vmlinux_structs) / sizeof(vmlinux_structs[0]), &raw, &size);
	if (e)
		return e;
	e = types_set_vmlinux(r->in->types, raw, size,
			      "none (offsets recovered heuristically from vmlinux machine code)");
	free(raw);
	return e;
}
