/* The recovered members as BTF (libbpf's writer), installed as type info. */
#define _GNU_SOURCE
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

/* ---- BTF synthesis ------------------------------------------------------- */

struct rec_btf {
	struct btf *b;
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
		return btf__add_struct(bt->b, NULL, it->size);
	case K_CHARS:
		return btf__add_array(bt->b, bt->u[4], bt->u[1], m->count);
	case K_SHORTS:
		return btf__add_array(bt->b, bt->u[4], bt->s[2], m->count);
	case K_LONGS:
		return btf__add_array(bt->b, bt->u[4], bt->u[8], m->count);
	case K_SIZE:
		return -1;
	case K_ROOTARRAY: {
		int el = btf__add_struct(bt->b, NULL, m->stride);
		if (el < 0 || btf__add_field(bt->b, "pgd", bt->u[8], 0, 0) < 0 ||
		    btf__add_field(bt->b, "hpa", bt->u[8], 64, 0) < 0)
			return -1;
		return btf__add_array(bt->b, bt->u[4], el, m->count);
	}
	case K_MUTEX:
		return bt->mutex;
	case K_RWLOCK:
		return bt->rwlock;
	case K_SPINLOCK:
		return bt->spinlock > 0 ? bt->spinlock : bt->s[4]; /* its one word */
	case K_PTRARRAY:
		return btf__add_array(bt->b, bt->u[4], bt->ptr, m->count);
	case K_NODEARRAY: {
		int node = btf__add_struct(bt->b, NULL, m->stride);
		return node < 0 ? node : btf__add_array(bt->b, bt->u[4], node, m->count);
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
	int id = btf__add_struct(bt->b, *prefix ? NULL : sname, (uint32_t)size);
	if (id < 0)
		return id;
	for (size_t k = 0; k < n; k++) {
		const struct recover_item *it = &r->R->items[idx[k]];
		uint64_t abs = nested[k] ? cbits[k] : it->off * 8 + it->bit;
		if (abs < base_bits ||
		    btf__add_field(bt->b, names[k], ids[k], (uint32_t)(abs - base_bits),
				   nested[k] ? 0 : it->bits) < 0)
			return -1;
	}
	return id;
}

/* Build STRUCTS from the recovered items into B (base ids from BASE). */
static struct err *rec_fill(struct rec *r, struct btf *b, const struct btf *base,
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
		bt.u[s] = btf__add_int(b, un[s], s, 0);
		bt.s[s] = btf__add_int(b, sn[s], s, BTF_INT_SIGNED);
	}
	bt.ptr = btf__add_ptr(b, 0);
	if (!base) /* vmlinux itself: a list is two pointers */
		bt.list = btf__add_struct(b, NULL, 16);
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

struct err *rec_install(struct rec *r)
{
	struct btf *b = btf__new_empty_split(r->in->types->vmlinux);
	if (libbpf_get_error(b))
		return err_new(ERR_NOMEM, "cannot create BTF");
	struct err *e = rec_fill(r, b, r->in->types->vmlinux, kvm_structs,
				 sizeof(kvm_structs) / sizeof(kvm_structs[0]));
	if (e) {
		btf__free(b);
		return e;
	}
	return types_add_module_btf(r->in->types, "kvm", b,
				    "none (offsets recovered heuristically from kvm.ko machine code)");
}

/* The vmlinux types recovered so far, as vmlinux type info. */
struct err *rec_install_vmlinux(struct rec *r)
{
	struct btf *b = btf__new_empty();
	if (libbpf_get_error(b))
		return err_new(ERR_NOMEM, "cannot create BTF");
	struct err *e = rec_fill(r, b, NULL, vmlinux_structs,
				 sizeof(vmlinux_structs) / sizeof(vmlinux_structs[0]));
	if (e) {
		btf__free(b);
		return e;
	}
	return types_set_vmlinux_btf(r->in->types, b,
				     "none (offsets recovered heuristically from vmlinux machine code)");
}
