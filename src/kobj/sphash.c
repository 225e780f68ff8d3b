#include "kobj/sphash.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/u64set.h"
#include "kobj/shadow.h"

/* hash_64() on x86-64 (no arch override): the golden-ratio multiply. */
#define GOLDEN_RATIO_64 0x61C8864680B583EBull

uint32_t kvm_sp_hash_bucket(const struct kvm_sp_hash *h, uint64_t gfn)
{
	return h->shift ? (uint32_t)((gfn * GOLDEN_RATIO_64) >> (64 - h->shift)) : 0;
}

static void set_why(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t n, const char *fmt, ...)
{
	if (why[0])
		return; /* the first reason is the one worth reading */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
}

struct hash_layout {
	struct member gfn, level, invalid, root_count, tdp;
	bool have_tdp, have_fields;
	uint64_t sp_size;
};

/* The VM's shadow pages by kvm_mmu_page address. */
struct sp_by_addr {
	uint64_t sp;
	size_t page;
};

static int by_addr_cmp(const void *a, const void *b)
{
	const struct sp_by_addr *x = a, *y = b;
	return x->sp < y->sp ? -1 : x->sp > y->sp;
}

static size_t page_of(const struct sp_by_addr *v, size_t n, uint64_t sp)
{
	size_t lo = ARRAY_LOWER_BOUND(v, n, sp, sp);
	return lo < n && v[lo].sp == sp ? v[lo].page : SIZE_MAX;
}

/* hash_link's offset when the type info lacks it (5.10's kvm_mmu_page is
 * recovered from code, without it): the one offset at which most bucket
 * heads are kvm_mmu_pages the lists hold.  Two offsets cannot both fit: the
 * pages are slab objects at least the struct's size apart. */
static bool link_off_infer(const uint64_t *heads, uint32_t nb, const struct sp_by_addr *v,
			   size_t n, uint64_t sp_size, uint64_t *off, char *from, size_t fromlen)
{
	uint32_t nonempty = 0;
	for (uint32_t b = 0; b < nb; b++)
		nonempty += heads[b] != 0;
	uint64_t lim = sp_size && sp_size < 512 ? sp_size : 512;
	uint32_t best = 0;
	for (uint64_t o = 0; o + 16 <= lim; o += 8) {
		uint32_t hit = 0;
		for (uint32_t b = 0; b < nb; b++)
			hit += heads[b] && page_of(v, n, heads[b] - o) != SIZE_MAX;
		if (hit > best) {
			best = hit;
			*off = o;
		}
	}
	if (!best || 2 * best <= nonempty)
		return false;
	snprintf(from, fromlen, "not in the type info: found in the dump (%u of %u bucket heads are "
		 "shadow pages of the VM at offset %llu)", best, nonempty, (unsigned long long)*off);
	return true;
}

/* An entry that is no page of the VM: what its kvm_mmu_page says. */
static void foreign_read(struct target *T, const struct hash_layout *L, struct kvm_hash_entry *x)
{
	uint8_t *buf;
	if (!L->have_fields || !L->sp_size) /* nothing to read it by */
		return;
	struct err *e = target_read_obj(T, x->sp, L->sp_size, (void **)&buf);
	if (e) {
		err_free(e);
		return;
	}
	size_t n = L->sp_size;
	x->read = true;
	x->gfn = member_get(buf, n, &L->gfn);
	x->level = (int)member_get(buf, n, &L->level);
	x->invalid = member_get(buf, n, &L->invalid);
	x->root_count = (int32_t)member_get(buf, n, &L->root_count);
	x->tdp = L->have_tdp && member_get(buf, n, &L->tdp);
	free(buf);
}

static struct err *hash_walk(struct target *T, const struct kvm_vm *vm, const struct hash_layout *L,
			     const uint64_t *heads, const struct sp_by_addr *v, size_t nv,
			     struct kvm_sp_hash *h)
{
	struct u64set seen = { 0 };
	struct err *e = NULL;
	size_t budget = KVM_MAX_SHADOW_PAGES;
	for (uint32_t b = 0; b < h->nbuckets && !e; b++) {
		uint64_t from = h->addr + (uint64_t)b * 8; /* the link that led to the node */
		uint64_t node = heads[b];
		for (uint32_t pos = 0; node; pos++) {
			const char *stop = NULL;
			uint64_t hn[2] = { 0, 0 }; /* hlist_node: next, pprev */
			int added = u64set_add(&seen, node);
			if (added < 0) {
				e = err_new(ERR_NOMEM, "out of memory");
				break;
			}
			if (!added) {
				h->cut[b] = 1;
				h->ncut++;
				set_why(h->cut_why, sizeof(h->cut_why), "bucket %u: hash_link 0x%llx met twice "
					"(a loop)", b, (unsigned long long)node);
				break;
			}
			if (!budget) {
				h->cut[b] = 1;
				h->ncut++;
				set_why(h->cut_why, sizeof(h->cut_why), "bucket %u: more than %d entries in "
					"the hash (loop?)", b, KVM_MAX_SHADOW_PAGES);
				break;
			}
			budget--;
			void *grown = array_room(h->e, h->n, sizeof(*h->e));
			if (!grown) {
				e = err_new(ERR_NOMEM, "out of memory");
				break;
			}
			h->e = grown;
			struct kvm_hash_entry *x = &h->e[h->n++];
			memset(x, 0, sizeof(*x));
			x->node = node;
			x->sp = node - h->link_off;
			x->bucket = b;
			x->pos = pos;
			x->page = page_of(v, nv, x->sp);
			struct err *re = dump_read_virt(T->dump, node, hn, sizeof(hn));
			if (re) {
				err_free(re);
				stop = "unreadable";
			} else {
				x->pprev = hn[1];
				x->pprev_ok = hn[1] == from;
			}
			if (x->page == SIZE_MAX) {
				if (!re)
					foreign_read(T, L, x);
				/* Beyond a node that does not link back, the chain is
				 * not this bucket's (another VM's, or garbage). */
				if (!stop && !x->pprev_ok)
					stop = "does not point back";
			}
			if (stop) {
				h->cut[b] = 1;
				h->ncut++;
				set_why(h->cut_why, sizeof(h->cut_why), "bucket %u: walk stopped at hash_link "
					"0x%llx (%s)", b, (unsigned long long)node, stop);
				break;
			}
			from = node;
			node = hn[0];
		}
	}
	(void)vm;
	u64set_fini(&seen);
	return e;
}

/* The pointer era's bucket count from the allocation itself: 32 KiB is
 * beyond kmalloc's caches, so kvcalloc takes a compound page of 2^order
 * pages (page-aligned, its first tail page's compound_head pointing back at
 * the head with bit 0 set, the order in the folio's _flags_1 low byte), and
 * a power-of-two array fills it.  0 when it is not such a page (vmalloc's
 * fallback, a layout without these members): then the count is assumed. */
static uint32_t count_from_page(struct target *T, uint64_t addr, char *from, size_t fromlen)
{
	const struct types *ty = &T->types;
	struct type_ref page = types_struct(ty, NULL, "page"), folio = types_struct(ty, NULL, "folio");
	struct member head_m, flags1;
	uint64_t psize = types_size(page), vb, pa, head;
	uint8_t order;
	struct err *e;
	if (addr & 0xfff || !psize || !types_member(page, "compound_head", &head_m) ||
	    !types_member(folio, "_flags_1", &flags1) || member_off(&flags1) < psize ||
	    !target_symbol(T, "vmlinux", "vmemmap_base", &vb) || !dump_peek(T->dump, vb, &vb, 8))
		return 0;
	if ((e = dump_vtop(T->dump, addr, &pa))) {
		err_free(e);
		return 0;
	}
	uint64_t pg = vb + (pa >> 12) * psize;
	if (!dump_peek(T->dump, pg + psize + member_off(&head_m), &head, 8) || head != (pg | 1) ||
	    !dump_peek(T->dump, pg + member_off(&flags1), &order, 1) || order < 1 || order > 10)
		return 0;
	snprintf(from, fromlen, "the allocation: an order-%u compound page (pfn 0x%llx, %u bytes)", order,
		 (unsigned long long)(pa >> 12), 4096u << order);
	return (4096u << order) / 8;
}

struct err *kvm_sp_hash_load(struct target *T, const struct kvm_vm *vm, struct kvm_sp_hash *h)
{
	const struct types *ty = &T->types;
	memset(h, 0, sizeof(*h));
	struct type_ref kvm = types_struct(ty, "kvm", "kvm");
	struct type_ref spt = types_struct(ty, "kvm", "kvm_mmu_page");
	struct member m, link;
	struct type_ref elem;
	uint32_t count = 0;
	if (!types_member(kvm, "arch.mmu_page_hash", &m)) {
		snprintf(h->why, sizeof(h->why), "no kvm_arch.mmu_page_hash in the type info");
		return NULL;
	}
	/* the array in struct kvm, or a pointer to one: by the member's type */
	if (types_array(m.type, &elem, &count)) {
		h->addr = vm->addr + member_off(&m);
		snprintf(h->count_from, sizeof(h->count_from), "the array's length in the type info");
	} else if (types_is_pointer(m.type)) {
		struct err *e = dump_read_u64(T->dump, vm->addr + member_off(&m), &h->addr);
		if (e) {
			snprintf(h->why, sizeof(h->why), "kvm->arch.mmu_page_hash: %s", e->msg);
			err_free(e);
			return NULL;
		}
		if (!h->addr) {
			h->state = HASH_NULL;
			return NULL;
		}
		count = count_from_page(T, h->addr, h->count_from, sizeof(h->count_from));
		if (!count) {
			count = KVM_HASH_DEFAULT_BUCKETS;
			snprintf(h->count_from, sizeof(h->count_from), "assumed: KVM_NUM_MMU_PAGES, the "
				 "kvcalloc count (a #define; the array is not in a compound page)");
		}
	} else {
		snprintf(h->why, sizeof(h->why), "kvm_arch.mmu_page_hash is neither an array nor a pointer");
		return NULL;
	}
	if (count < 2 || count > KVM_HASH_MAX_BUCKETS || (count & (count - 1))) {
		snprintf(h->why, sizeof(h->why), "mmu_page_hash has %u buckets (not a power of two "
			 "up to %u)", count, KVM_HASH_MAX_BUCKETS);
		return NULL;
	}
	h->nbuckets = count;
	while ((1u << h->shift) < count)
		h->shift++;

	struct hash_layout L;
	memset(&L, 0, sizeof(L));
	L.sp_size = types_size(spt);
	L.have_fields = types_member(spt, "gfn", &L.gfn) && types_member(spt, "role.level", &L.level) &&
			types_member(spt, "role.invalid", &L.invalid) &&
			types_member(spt, "root_count", &L.root_count);
	L.have_tdp = types_member(spt, "tdp_mmu_page", &L.tdp);

	uint64_t *heads = malloc((size_t)count * 8);
	struct sp_by_addr *v = malloc((vm->shadow.npages ? vm->shadow.npages : 1) * sizeof(*v));
	h->cut = calloc(count, 1);
	struct err *e = NULL;
	if (!heads || !v || !h->cut) {
		e = err_new(ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < vm->shadow.npages; i++)
		v[i] = (struct sp_by_addr){ vm->shadow.pages[i].sp, i };
	if (vm->shadow.npages > 1)
		qsort(v, vm->shadow.npages, sizeof(*v), by_addr_cmp);
	if ((e = dump_read_virt(T->dump, h->addr, heads, (size_t)count * 8))) {
		snprintf(h->why, sizeof(h->why), "mmu_page_hash at 0x%llx (%u buckets): %s",
			 (unsigned long long)h->addr, count, e->msg);
		err_free(e);
		e = NULL;
		goto out;
	}
	for (uint32_t b = 0; b < count && !h->any; b++)
		h->any = heads[b] != 0;
	if (types_member(spt, "hash_link", &link)) {
		h->link_off = member_off(&link);
		snprintf(h->off_from, sizeof(h->off_from), "the type info");
	} else {
		if (h->any && !link_off_infer(heads, count, v, vm->shadow.npages, L.sp_size, &h->link_off,
					   h->off_from, sizeof(h->off_from))) {
			snprintf(h->why, sizeof(h->why), "kvm_mmu_page.hash_link is not in the type info, "
				 "and no offset makes most bucket heads shadow pages of the VM");
			goto out;
		}
		if (!h->any)
			snprintf(h->off_from, sizeof(h->off_from), "not needed (every bucket is empty)");
	}
	h->state = HASH_READ;
	e = hash_walk(T, vm, &L, heads, v, vm->shadow.npages, h);
out:
	free(heads);
	free(v);
	return e;
}

void kvm_sp_hash_free(struct kvm_sp_hash *h)
{
	free(h->e);
	free(h->cut);
	memset(h, 0, sizeof(*h));
}
