#include "kobj/rmap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/u64set.h"

/* Offsets by member presence: pte_list_desc is { sptes[3]; more } up to
 * 5.x (filled from the front, NULL-terminated), { more; spte_count;
 * sptes[14] } from 6.1 (u32 spte_count and tail_count from 6.4). */
struct rmap_layout {
	struct member s_rmap, d_more, d_sptes, d_count, sp_parents, sp_bitmap;
	uint32_t nlevels, nsptes;
	uint64_t desc_size;
	bool have_rmap, have_desc, have_count, have_parents, have_bitmap;
	char why[160];
};

static void rmap_layout_load(struct target *T, struct rmap_layout *L)
{
	const struct types *ty = &T->types;
	memset(L, 0, sizeof(*L));
	struct type_ref slot = types_struct(ty, "kvm", "kvm_memory_slot");
	struct type_ref elem;
	L->have_rmap = types_member(slot, "arch.rmap", &L->s_rmap) &&
		       types_array(L->s_rmap.type, &elem, &L->nlevels) && L->nlevels >= 1;
	if (L->nlevels > 4)
		L->nlevels = 4;
	struct type_ref d = types_struct(ty, "kvm", "pte_list_desc");
	L->desc_size = types_size(d);
	L->have_desc = L->desc_size && types_member(d, "more", &L->d_more) &&
		       types_member(d, "sptes", &L->d_sptes) &&
		       types_array(L->d_sptes.type, &elem, &L->nsptes) && L->nsptes >= 1 &&
		       L->nsptes <= 64;
	L->have_count = L->have_desc && types_member(d, "spte_count", &L->d_count);
	struct type_ref sp = types_struct(ty, "kvm", "kvm_mmu_page");
	L->have_parents = types_member(sp, "parent_ptes.val", &L->sp_parents);
	L->have_bitmap = types_member(sp, "unsync_child_bitmap", &L->sp_bitmap) &&
			 L->sp_bitmap.size == 64;
	snprintf(L->why, sizeof(L->why), "%s%s%s",
		 !L->have_rmap ? "no kvm_memory_slot.arch.rmap in the type info; " : "",
		 !L->have_desc ? "no usable struct pte_list_desc in the type info; " : "",
		 !L->have_parents ? "no kvm_mmu_page.parent_ptes in the type info" : "");
}

static void why_set(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void why_set(char *why, size_t n, const char *fmt, ...)
{
	if (why[0])
		return; /* the first reason is the one worth reading */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
}

typedef int (*sptep_fn)(void *arg, uint64_t sptep);

/* The spteps a kvm_rmap_head value holds (pte_list_add's encoding): bit 0
 * clear, VAL itself is the one sptep; bit 0 set, VAL & ~1 is a
 * pte_list_desc chain.  Bit 1 is a lock bit on newer kernels.  SEEN holds
 * every desc of the VM's books: a desc met twice is a loop or two heads
 * sharing a chain, damage either way.  *BUDGET bounds the entries. */
static struct err *rmap_head_walk(struct target *T, const struct rmap_layout *L, uint64_t val,
				  struct u64set *seen, size_t *budget, sptep_fn fn, void *arg)
{
	if (!val)
		return NULL;
	if (!(val & 1)) {
		if (!*budget)
			return err_new(ERR_CORRUPT, "more than %u rmap entries", KVM_MAX_RMAP_ENTRIES);
		--*budget;
		return fn(arg, val & ~3ull) ? err_new(ERR_NOMEM, "out of memory") : NULL;
	}
	if (!L->have_desc)
		return err_new(ERR_LAYOUT, "no usable struct pte_list_desc in the type info");
	for (uint64_t desc = val & ~3ull; desc;) {
		if (u64set_has(seen, desc))
			return err_new(ERR_CORRUPT, "pte_list_desc 0x%llx met twice (a loop)",
				       (unsigned long long)desc);
		if (u64set_add(seen, desc) < 0)
			return err_new(ERR_NOMEM, "out of memory");
		uint8_t *buf;
		struct err *e = target_read_obj(T, desc, L->desc_size, (void **)&buf);
		if (e)
			return err_wrap(e, "pte_list_desc 0x%llx", (unsigned long long)desc);
		uint64_t more = member_get(buf, L->desc_size, &L->d_more);
		uint64_t n = L->nsptes;
		if (L->have_count) {
			n = member_get(buf, L->desc_size, &L->d_count);
			if (n > L->nsptes || n == 0) {
				free(buf);
				return err_new(ERR_CORRUPT, "pte_list_desc 0x%llx: spte_count %llu of %u",
					       (unsigned long long)desc, (unsigned long long)n, L->nsptes);
			}
		}
		for (uint64_t i = 0; i < n && !e; i++) {
			uint64_t p;
			memcpy(&p, buf + member_off(&L->d_sptes) + i * 8, 8);
			if (!p) {
				if (L->have_count)
					e = err_new(ERR_CORRUPT, "pte_list_desc 0x%llx: NULL entry %llu of %llu",
						    (unsigned long long)desc, (unsigned long long)i,
						    (unsigned long long)n);
				break; /* before spte_count: the rest of the array is empty */
			}
			if (!*budget)
				e = err_new(ERR_CORRUPT, "more than %u rmap entries", KVM_MAX_RMAP_ENTRIES);
			else if (--*budget, fn(arg, p))
				e = err_new(ERR_NOMEM, "out of memory");
		}
		free(buf);
		if (e)
			return e;
		desc = more;
	}
	return NULL;
}

struct rmap_ctx {
	struct kvm_shadow_books *B;
	struct kvm_rmap_entry cur;
	size_t cap;
};

static int rmap_add(void *arg, uint64_t sptep)
{
	struct rmap_ctx *c = arg;
	struct kvm_shadow_books *B = c->B;
	if (B->nrmap == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		void *p = realloc(B->rmap, cap * sizeof(*B->rmap));
		if (!p)
			return -1;
		B->rmap = p;
		c->cap = cap;
	}
	c->cur.sptep = sptep;
	B->rmap[B->nrmap++] = c->cur;
	return 0;
}

struct parent_ctx {
	struct kvm_shadow_books *B;
	size_t page, cap;
};

static int parent_add(void *arg, uint64_t sptep)
{
	struct parent_ctx *c = arg;
	struct kvm_shadow_books *B = c->B;
	if (B->nparents == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		void *p = realloc(B->parents, cap * sizeof(*B->parents));
		if (!p)
			return -1;
		B->parents = p;
		c->cap = cap;
	}
	B->parents[B->nparents++] = (struct kvm_parent_pte){ sptep, c->page };
	B->nparents_of[c->page]++;
	return 0;
}

static int rmap_cmp(const void *a, const void *b)
{
	const struct kvm_rmap_entry *x = a, *y = b;
	return x->sptep < y->sptep ? -1 : x->sptep > y->sptep;
}

static int parent_cmp(const void *a, const void *b)
{
	const struct kvm_parent_pte *x = a, *y = b;
	if (x->sptep != y->sptep)
		return x->sptep < y->sptep ? -1 : 1;
	return x->page < y->page ? -1 : x->page > y->page;
}

/* The rmaps of every memslot: arrays of kvm_rmap_head, one per gfn index at
 * each level; NULL while only the TDP MMU ran (rmaps are allocated with the
 * first shadow root). */
static struct err *rmaps_read(struct target *T, const struct rmap_layout *L, const struct kvm_vm *vm,
			      struct kvm_shadow_books *B, struct u64set *seen)
{
	struct rmap_ctx c = { .B = B };
	size_t budget = KVM_MAX_RMAP_ENTRIES;
	for (size_t i = 0; i < vm->nslots; i++) {
		const struct kvm_memslot *s = &vm->slots[i];
		struct kvm_rmap_slot *rs = &B->slots[i];
		rs->nlevels = (int)L->nlevels;
		struct err *e = dump_read_virt(T->dump, s->addr + member_off(&L->s_rmap), rs->arr,
					       L->nlevels * 8);
		if (e) {
			why_set(B->rmap_why, sizeof(B->rmap_why), "slot %d: rmap pointers: %s", s->id, e->msg);
			err_free(e);
			memset(rs->arr, 0, sizeof(rs->arr));
			B->rmap_ok = false;
			continue;
		}
		for (uint32_t li = 0; li < L->nlevels; li++) {
			if (!rs->arr[li] || !s->npages)
				continue;
			unsigned shift = 9 * li;
			uint64_t first = s->base_gfn >> shift;
			uint64_t n = ((s->base_gfn + s->npages - 1) >> shift) - first + 1;
			if (n > KVM_MAX_RMAP_ENTRIES) {
				why_set(B->rmap_why, sizeof(B->rmap_why), "slot %d: %llu rmap heads at level %u",
					s->id, (unsigned long long)n, li + 1);
				B->rmap_ok = false;
				continue;
			}
			uint64_t *heads = malloc(n * 8);
			if (!heads)
				return err_new(ERR_NOMEM, "out of memory");
			if ((e = dump_read_virt(T->dump, rs->arr[li], heads, n * 8))) {
				why_set(B->rmap_why, sizeof(B->rmap_why), "slot %d level %u rmap at 0x%llx: %s",
					s->id, li + 1, (unsigned long long)rs->arr[li], e->msg);
				err_free(e);
				free(heads);
				B->rmap_ok = false;
				continue;
			}
			for (uint64_t k = 0; k < n; k++) {
				if (!heads[k])
					continue;
				c.cur = (struct kvm_rmap_entry){ 0, (first + k) << shift, rs->arr[li] + k * 8,
								 (int)li + 1, s->as_id, s->id };
				e = rmap_head_walk(T, L, heads[k], seen, &budget, rmap_add, &c);
				if (e && e->kind == ERR_NOMEM) {
					free(heads);
					return e;
				}
				if (e) {
					why_set(B->rmap_why, sizeof(B->rmap_why),
						"slot %d level %u gfn 0x%llx (head 0x%llx = 0x%llx): %s", s->id,
						li + 1, (unsigned long long)c.cur.gfn,
						(unsigned long long)c.cur.head, (unsigned long long)heads[k],
						e->msg);
					err_free(e);
					B->rmap_ok = false;
				}
			}
			free(heads);
		}
	}
	if (B->nrmap > 1)
		qsort(B->rmap, B->nrmap, sizeof(*B->rmap), rmap_cmp);
	return NULL;
}

struct err *kvm_shadow_books_load(struct target *T, const struct kvm_vm *vm,
				  struct kvm_shadow_books *B)
{
	memset(B, 0, sizeof(*B));
	const struct kvm_shadow *S = &vm->shadow;
	struct rmap_layout L;
	rmap_layout_load(T, &L);
	B->slots = calloc(vm->nslots ? vm->nslots : 1, sizeof(*B->slots));
	B->nparents_of = calloc(S->npages ? S->npages : 1, sizeof(*B->nparents_of));
	B->bitmap = calloc(S->npages ? S->npages : 1, sizeof(*B->bitmap));
	if (!B->slots || !B->nparents_of || !B->bitmap)
		return err_new(ERR_NOMEM, "out of memory");
	struct u64set seen = { 0 };
	struct err *e = NULL;
	B->rmap_ok = L.have_rmap;
	if (!L.have_rmap)
		why_set(B->rmap_why, sizeof(B->rmap_why), "%s", L.why);
	else if ((e = rmaps_read(T, &L, vm, B, &seen)))
		goto out;
	B->parents_ok = L.have_parents;
	B->bitmap_ok = L.have_bitmap;
	if (!L.have_parents)
		why_set(B->parents_why, sizeof(B->parents_why), "%s", L.why);
	struct parent_ctx pc = { .B = B };
	size_t budget = KVM_MAX_RMAP_ENTRIES;
	for (size_t i = 0; i < S->npages && (L.have_parents || L.have_bitmap); i++) {
		const struct kvm_shadow_page *sp = &S->pages[i];
		uint64_t val = 0;
		if (L.have_bitmap &&
		    (e = dump_read_virt(T->dump, sp->sp + member_off(&L.sp_bitmap), B->bitmap[i], 64))) {
			err_free(e);
			e = NULL;
			B->bitmap_ok = false;
		}
		if (!L.have_parents)
			continue;
		if ((e = dump_read_u64(T->dump, sp->sp + member_off(&L.sp_parents), &val))) {
			why_set(B->parents_why, sizeof(B->parents_why), "shadow page 0x%llx: %s",
				(unsigned long long)sp->sp, e->msg);
			err_free(e);
			e = NULL;
			B->parents_ok = false;
			continue;
		}
		pc.page = i;
		e = rmap_head_walk(T, &L, val, &seen, &budget, parent_add, &pc);
		if (e && e->kind == ERR_NOMEM)
			goto out;
		if (e) {
			why_set(B->parents_why, sizeof(B->parents_why),
				"parent_ptes of shadow page 0x%llx (0x%llx): %s", (unsigned long long)sp->sp,
				(unsigned long long)val, e->msg);
			err_free(e);
			e = NULL;
			B->parents_ok = false;
		}
	}
	if (B->nparents > 1)
		qsort(B->parents, B->nparents, sizeof(*B->parents), parent_cmp);
out:
	u64set_fini(&seen);
	return e;
}

void kvm_shadow_books_free(struct kvm_shadow_books *B)
{
	free(B->rmap);
	free(B->slots);
	free(B->parents);
	free(B->nparents_of);
	free(B->bitmap);
	memset(B, 0, sizeof(*B));
}

size_t kvm_rmap_find(const struct kvm_shadow_books *B, uint64_t sptep, size_t *n)
{
	size_t lo = ARRAY_LOWER_BOUND(B->rmap, B->nrmap, sptep, sptep);
	size_t k = lo;
	while (k < B->nrmap && B->rmap[k].sptep == sptep)
		k++;
	*n = k - lo;
	return lo;
}

bool kvm_parent_has(const struct kvm_shadow_books *B, size_t page, uint64_t sptep)
{
	size_t lo = 0, hi = B->nparents;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct kvm_parent_pte *p = &B->parents[mid];
		if (p->sptep < sptep || (p->sptep == sptep && p->page < page))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < B->nparents && B->parents[lo].sptep == sptep && B->parents[lo].page == page;
}
