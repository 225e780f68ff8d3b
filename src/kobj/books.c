#include "kobj/books.h"
#include "symtab/recover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING_MAX_ENTRIES 65536	/* KVM_DIRTY_RING_MAX_ENTRIES */

struct err *books_layout_load(struct target *T, const struct kvm_host *H, struct books_layout *L,
			      struct notes *notes)
{
	const struct types *ty = &T->types;
	const struct kvm_layout *K = &H->layout;
	struct type_ref kvm = K->kvm;
	struct type_ref vcpu = K->vcpu;
	struct type_ref ring = types_struct(ty, "kvm", "kvm_dirty_ring");
	struct type_ref page = types_struct(ty, NULL, "page");
	struct type_ref mm = K->mm;
	struct type_ref slot = K->slot;
	memset(L, 0, sizeof(*L));
	L->K = K;
	/* The qrwlock's counter: writer byte 0xff, readers from bit 9. */
	/* an rwlock (5.12+), or a spinlock before: held when its word is non-zero */
	L->have_lock = types_member(kvm, "mmu_lock.raw_lock.cnts.counter", &L->mmu_lock) ||
		       types_member(kvm, "mmu_lock.raw_lock.cnts", &L->mmu_lock) ||
		       types_member(kvm, "mmu_lock.rlock.raw_lock.val.counter", &L->mmu_lock) ||
		       (types_member(kvm, "mmu_lock", &L->mmu_lock) && L->mmu_lock.size == 4);
	L->have_slots_lock = types_member(kvm, "slots_lock.owner.counter", &L->slots_lock);
	L->have_inval = (types_member(kvm, "mmu_invalidate_in_progress", &L->inval) &&
			 types_member(kvm, "mmu_invalidate_range_start", &L->inval_start) &&
			 types_member(kvm, "mmu_invalidate_range_end", &L->inval_end)) ||
			(types_member(kvm, "mmu_notifier_count", &L->inval) &&
			 types_member(kvm, "mmu_notifier_range_start", &L->inval_start) &&
			 types_member(kvm, "mmu_notifier_range_end", &L->inval_end));
	/* guest_memfd (6.8) came with gfn-based invalidation ranges. */
	struct member probe;
	L->inval_is_gfn = types_member(slot, "gmem", &probe);
	/* Offsets recovered from code: the code said which (recover.h). */
	if (T->recovered.used && L->have_inval) {
		L->inval_is_gfn = T->recovered.inval_gfn == 1;
		if (T->recovered.inval_gfn < 0)
			L->have_inval = false;
	}
	L->have_nr_logging = types_member(kvm, "nr_memslots_dirty_logging.counter", &L->nr_logging);
	L->have_disable_nx = types_member(kvm, "arch.disable_nx_huge_pages", &L->disable_nx);
	L->have_gen = K->has_ms_generation && K->ms_generation.size == 8;
	struct type_ref dg = types_struct(ty, "kvm", "kvm_dirty_gfn");
	L->gfn_entry_size = types_size(dg);
	L->have_ring = types_member(dg, "slot", &L->gfn_slot) &&
		       types_member(dg, "offset", &L->gfn_offset) && L->gfn_entry_size &&
		       L->gfn_entry_size <= 64 &&
		       types_member(vcpu, "dirty_ring", &L->vcpu_ring) &&
		       types_member(ring, "dirty_gfns", &L->ring_gfns) &&
		       types_member(ring, "reset_index", &L->ring_reset) &&
		       types_member(ring, "dirty_index", &L->ring_dirty) &&
		       types_member(ring, "size", &L->ring_size);
	L->page_size = types_size(page);
	L->have_sp_check = K->has_sp_tdp && types_member(page, "private", &L->page_private) &&
			   L->page_size && target_symbol(T, "vmlinux", "vmemmap_base", &L->vmemmap_base);
	if (L->have_sp_check) {
		uint64_t base;
		struct err *e = dump_read_u64(T->dump, L->vmemmap_base, &base);
		if (e) {
			notes_add_err(notes, e, "S6 not run: vmemmap_base");
			L->have_sp_check = false;
		} else {
			L->vmemmap_base = base;
		}
	} else {
		notes_add(notes, "S6 not run: no page->private or kvm_mmu_page fields in type info");
	}
	/* lpage_info[KVM_NR_PAGE_SIZES - 1]; gfn_track[1] (<= 6.6) or the
	 * single gfn_write_track pointer (later) */
	L->have_lpage = types_member(slot, "arch.lpage_info", &L->s_lpage);
	L->lpage_info_size = types_size(types_struct(ty, "kvm", "kvm_lpage_info"));
	if (!L->lpage_info_size)
		L->have_lpage = false;
	L->have_track = types_member(slot, "arch.gfn_write_track", &L->s_track) ||
			types_member(slot, "arch.gfn_track", &L->s_track);
	L->have_pgd = types_member(mm, "pgd", &L->mm_pgd);
	L->have_mm_users = types_member(mm, "mm_users.counter", &L->mm_users);
	if (!L->have_pgd)
		notes_add(notes, "H1-H5 not run: mm_struct has no pgd in type info");
	pml_layout(T, &L->pml, notes);
	uint64_t a;
	bool found;
	if (target_symbol(T, "vmlinux", "empty_zero_page", &a)) {
		struct err *ze = dump_vtop(T->dump, a, &a);
		if (!ze) /* untranslatable: no zero page known */
			L->zero_pfn = a >> 12;
		err_free(ze);
	}
	uint64_t hz = kvm_read_global(T, "huge_zero_pfn", 8, &found);
	L->huge_zero_pfn = found && hz != UINT64_MAX ? hz : 0;
	L->nx_huge_pages = (int)(int32_t)kvm_read_global(T, "nx_huge_pages", 4, &found);
	L->ad_always = target_symbol(T, "kvm", "kvm_ad_enabled", &a);
	/* 5.10's aging clears D and leaves W: W=1, D=0, A=1 is then what a
	 * re-touch after aging looks like, not a race's fingerprint */
	struct recover_input in = target_recover_input(T);
	L->aging_clears_dirty = recover_code_clears(&in, "kvm", "age_gfn_range", "shadow_dirty_mask");
	return NULL;
}

static int slot_cmp(const void *a, const void *b)
{
	const struct kvm_memslot *x = a, *y = b;
	if (x->as_id != y->as_id)
		return x->as_id < y->as_id ? -1 : 1;
	return x->base_gfn < y->base_gfn ? -1 : x->base_gfn > y->base_gfn;
}

static uint64_t ring_key(uint32_t slot, uint64_t offset)
{
	return ((uint64_t)slot << 44) ^ offset;
}

int books_ring_add(struct vm_books *b, uint32_t slot, uint64_t offset)
{
	return u64set_add(&b->ring, ring_key(slot, offset)) < 0 ? -1 : 0;
}

static struct err *books_ring(struct target *T, const struct books_layout *L,
			      const struct kvm_vm *vm, struct vm_books *b, struct notes *notes)
{
	/* vCPUs kobj could not read have rings nobody looked at. */
	if (vm->online_vcpus > 0 && (size_t)vm->online_vcpus > vm->nvcpus)
		b->ring_unread = true;
	for (size_t i = 0; i < vm->nvcpus; i++) {
		uint64_t base = vm->vcpus[i].addr + member_off(&L->vcpu_ring);
		uint64_t gfns;
		uint32_t reset, dirty, size;
		struct err *e;
		if ((e = dump_read_u64(T->dump, base + member_off(&L->ring_gfns), &gfns)) ||
		    (e = dump_read_u32(T->dump, base + member_off(&L->ring_reset), &reset)) ||
		    (e = dump_read_u32(T->dump, base + member_off(&L->ring_dirty), &dirty)) ||
		    (e = dump_read_u32(T->dump, base + member_off(&L->ring_size), &size)))
			return err_wrap(e, "vCPU %d dirty ring", vm->vcpus[i].idx);
		uint32_t pending = dirty - reset; /* free-running u32 indexes */
		if (!size || size > RING_MAX_ENTRIES || (size & (size - 1)) || pending > size) {
			if (b->nring_bad < 4)
				snprintf(b->ring_bad[b->nring_bad++], sizeof(b->ring_bad[0]),
					 "vCPU %d dirty ring at 0x%llx: size %u, reset_index %u, dirty_index %u "
					 "(%u pending)", vm->vcpus[i].idx, (unsigned long long)base, size, reset,
					 dirty, pending);
			notes_add(notes, "VM %d vCPU %d: dirty ring size %u, reset %u, dirty %u: ring "
				  "not read", vm->pid, vm->vcpus[i].idx, size, reset, dirty);
			b->ring_unread = true;
			continue;
		}
		for (uint32_t k = 0; k < pending; k++) {
			uint32_t idx = (reset + k) & (size - 1);
			uint8_t ent[64];
			size_t esz = L->gfn_entry_size;
			if ((e = dump_read_virt(T->dump, gfns + (uint64_t)idx * esz, ent, esz)))
				return err_wrap(e, "vCPU %d dirty ring entry %u", vm->vcpus[i].idx, idx);
			uint32_t slot = (uint32_t)member_get(ent, esz, &L->gfn_slot);
			uint64_t offset = member_get(ent, esz, &L->gfn_offset);
			bool known = false;
			for (size_t k = 0; k < vm->nslots && !known; k++)
				known = ((uint32_t)vm->slots[k].as_id << 16 | (uint16_t)vm->slots[k].id) == slot &&
					offset < vm->slots[k].npages;
			if (!known && b->nring_bad < 4)
				snprintf(b->ring_bad[b->nring_bad++], sizeof(b->ring_bad[0]),
					 "vCPU %d dirty ring entry %u at 0x%llx: slot 0x%x offset 0x%llx is in no "
					 "memslot", vm->vcpus[i].idx, idx,
					 (unsigned long long)(gfns + (uint64_t)idx * esz), slot,
					 (unsigned long long)offset);
			if (books_ring_add(b, slot, offset) < 0)
				return err_new(ERR_NOMEM, "out of memory");
		}
	}
	return NULL;
}

/* Quiescence signals: KVM mid-operation makes a violation inconclusive. */
static void books_signals(struct target *T, const struct books_layout *L, const struct kvm_vm *vm,
			  struct vm_books *b)
{
	uint8_t buf[8];
	if (L->have_lock && dump_peek(T->dump, vm->addr + member_off(&L->mmu_lock), buf, 4)) {
		uint32_t cnts;
		memcpy(&cnts, buf, 4);
		b->mmu_lock_held = cnts != 0;
		b->mmu_lock_known = true;
		b->mmu_lock_cnts = cnts;
		b->mmu_lock_addr = vm->addr + member_off(&L->mmu_lock);
	}
	if (L->have_slots_lock) {
		uint64_t owner = 0;
		if (dump_peek(T->dump, vm->addr + member_off(&L->slots_lock), &owner, sizeof(owner)))
			b->slots_lock_held = (owner & ~7ull) != 0;
	}
	if (L->have_inval) {
		uint32_t cnt = 0;
		b->inval_count = 0;
		if (dump_peek(T->dump, vm->addr + member_off(&L->inval), &cnt, sizeof(cnt)) && cnt) {
			b->inval_count = cnt;
			dump_peek(T->dump, vm->addr + member_off(&L->inval_start), &b->inval_start, 8);
			dump_peek(T->dump, vm->addr + member_off(&L->inval_end), &b->inval_end, 8);
		}
	}
	/* KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS: a memslot update is being published */
	b->gen_updating = false;
	for (uint32_t as = 0; L->have_gen && as < L->K->nas && !b->gen_updating; as++) {
		uint64_t ms = 0, gen = 0;
		if (dump_peek(T->dump, vm->addr + member_off(&L->K->memslots_arr) + 8 * as, &ms, 8) && ms &&
		    dump_peek(T->dump, ms + member_off(&L->K->ms_generation), &gen, 8))
			b->gen_updating = gen >> 63;
	}
}

struct err *books_load(struct target *T, const struct books_layout *L, const struct kvm_vm *vm,
		       struct vm_books *b, struct notes *notes)
{
	memset(b, 0, sizeof(*b));
	b->vm = vm;
	b->ring_mode = vm->dirty_ring_size != 0;
	b->slots = malloc((vm->nslots ? vm->nslots : 1) * sizeof(*b->slots));
	b->bitmaps = calloc(vm->nslots ? vm->nslots : 1, sizeof(*b->bitmaps));
	b->arch = calloc(vm->nslots ? vm->nslots : 1, sizeof(*b->arch));
	if (!b->slots || !b->bitmaps || !b->arch)
		return err_new(ERR_NOMEM, "out of memory");
	if (vm->nslots) { /* a VM whose memslots could not be read has none */
		memcpy(b->slots, vm->slots, vm->nslots * sizeof(*b->slots));
		qsort(b->slots, vm->nslots, sizeof(*b->slots), slot_cmp);
	}
	struct err *e;
	for (size_t i = 0; i < vm->nslots; i++) {
		size_t n;
		if ((e = kvm_slot_bitmap(T, &b->slots[i], &b->bitmaps[i], &n)))
			return e;
		uint64_t a = b->slots[i].addr;
		if (L->have_lpage)
			dump_peek(T->dump, a + member_off(&L->s_lpage), b->arch[i].lpage,
				  sizeof(b->arch[i].lpage));
		if (L->have_track)
			dump_peek(T->dump, a + member_off(&L->s_track), &b->arch[i].track,
				  sizeof(b->arch[i].track));
	}
	books_signals(T, L, vm, b);
	if (L->have_disable_nx) {
		uint8_t v = 0;
		if (dump_peek(T->dump, vm->addr + member_off(&L->disable_nx), &v, 1))
			b->disable_nx = v & 1;
	}
	if (L->have_nr_logging)
		b->have_nr_logging = dump_peek(T->dump, vm->addr + member_off(&L->nr_logging),
					       &b->nr_logging, sizeof(b->nr_logging));
	if (b->ring_mode && L->have_ring && (e = books_ring(T, L, vm, b, notes)))
		return e;
	if ((e = pml_load(T, &L->pml, vm, &b->pml, notes)))
		return e;
	if (L->have_pgd && vm->mm) {
		uint32_t users = 1;
		if (L->have_mm_users)
			dump_peek(T->dump, vm->mm + member_off(&L->mm_users), &users, sizeof(users));
		uint64_t pgd;
		if (users == 0) {
			b->mm_gone = true;
		} else if (!(e = dump_read_u64(T->dump, vm->mm + member_off(&L->mm_pgd), &pgd))) {
			if ((e = dump_vtop(T->dump, pgd, &b->pgd_pa)))
				return err_wrap(e, "VMM pgd");
		} else {
			return err_wrap(e, "VMM mm_struct");
		}
	} else {
		b->mm_gone = true;
	}
	return NULL;
}

bool books_live_refresh(struct target *T, const struct books_layout *L, struct vm_books *b,
			const struct kvm_memslot *s, uint64_t gfn, uint64_t npages)
{
	bool changed = false;
	const struct kvm_vm *vm = b->vm;
	struct vm_books was = *b;
	books_signals(T, L, vm, b);
	changed |= was.mmu_lock_held != b->mmu_lock_held || was.slots_lock_held != b->slots_lock_held ||
		   was.inval_count != b->inval_count || was.inval_start != b->inval_start ||
		   was.inval_end != b->inval_end;
	if (s && s >= b->slots && s < b->slots + vm->nslots && b->bitmaps[s - b->slots] && npages) {
		uint64_t *bm = b->bitmaps[s - b->slots];
		uint64_t rel = gfn - s->base_gfn, nwords = (s->npages + 63) / 64;
		for (uint64_t w = rel / 64; w <= (rel + npages - 1) / 64 && w < nwords; w++) {
			uint64_t v;
			struct err *e = dump_read_virt_stable(T->dump, s->dirty_bitmap + w * 8, &v, 8);
			if (e && e->kind != ERR_CHANGED) {
				err_free(e);
				continue;
			}
			err_free(e);
			changed |= v != bm[w];
			bm[w] = v;
		}
	}
	if (b->ring_mode && L->have_ring) {
		/* Entries pushed since: added (the set keeps what it had). */
		size_t n = u64set_count(&b->ring);
		int nbad = b->nring_bad;
		struct notes scratch = { 0 };
		err_free(books_ring(T, L, vm, b, &scratch));
		notes_fini(&scratch);
		b->nring_bad = nbad;
		changed |= u64set_count(&b->ring) != n;
	}
	return changed;
}

void books_fini(struct vm_books *b)
{
	if (b->bitmaps)
		for (size_t i = 0; i < b->vm->nslots; i++)
			free(b->bitmaps[i]);
	free(b->bitmaps);
	free(b->arch);
	free(b->slots);
	u64set_fini(&b->ring);
	pml_fini(&b->pml);
	memset(b, 0, sizeof(*b));
}

const struct kvm_memslot *books_slot(const struct vm_books *b, int as_id, uint64_t gfn)
{
	size_t lo = 0, hi = b->vm->nslots;
	while (lo < hi) { /* last slot starting at or below gfn */
		size_t mid = (lo + hi) / 2;
		const struct kvm_memslot *s = &b->slots[mid];
		if (s->as_id < as_id || (s->as_id == as_id && s->base_gfn <= gfn))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	const struct kvm_memslot *s = &b->slots[lo - 1];
	return s->as_id == as_id && gfn - s->base_gfn < s->npages ? s : NULL;
}

bool books_recorded(const struct vm_books *b, const struct kvm_memslot *s, uint64_t gfn)
{
	uint64_t rel = gfn - s->base_gfn;
	const uint64_t *bm = books_bitmap(b, s);
	if (bm && (bm[rel / 64] >> (rel % 64) & 1))
		return true;
	return u64set_has(&b->ring, ring_key(((uint32_t)s->as_id << 16) | (uint16_t)s->id, rel));
}

struct err *books_child_sp(struct target *T, const struct books_layout *L, uint64_t table_pa,
			   struct books_sp *out)
{
	const struct kvm_layout *K = L->K;
	uint8_t small[512], *buf = small;
	memset(out, 0, sizeof(*out));
	out->page = L->vmemmap_base + (table_pa >> 12) * L->page_size;
	size_t n = K->sp_size ? K->sp_size : 1;
	if (n > sizeof(small) && !(buf = malloc(n)))
		return err_new(ERR_NOMEM, "out of memory");
	struct err *e = dump_read_u64(T->dump, out->page + member_off(&L->page_private), &out->sp);
	if (!e)
		e = dump_read_virt(T->dump, out->sp, buf, n);
	if (e) {
		if (buf != small)
			free(buf);
		return e;
	}
	out->spt = member_get(buf, n, &K->sp_spt);
	out->tdp = member_get(buf, n, &K->sp_tdp);
	out->level = member_get(buf, n, &K->sp_level);
	out->gfn = member_get(buf, n, &K->sp_gfn);
	out->role = (uint32_t)member_get(buf, n, &K->sp_role);
	out->level_mask = (uint32_t)(((1ull << K->sp_level.bit_size) - 1)
				     << (K->sp_level.bit_off - K->sp_role.bit_off));
	out->have_ptep = K->has_sp_ptep;
	if (out->have_ptep)
		out->ptep = member_get(buf, n, &K->sp_ptep);
	if (buf != small)
		free(buf);
	return NULL;
}

bool books_lpage_disallow(struct target *T, const struct books_layout *L, const struct vm_books *b,
			  const struct kvm_memslot *s, int level, uint64_t gfn, int32_t *value,
			  uint64_t *at, uint64_t *idx)
{
	const struct slot_arch *sa = books_arch(b, s);
	if (level < 2 || level > 3 || !sa->lpage[level - 2])
		return false;
	int shift = 9 * (level - 1);
	*idx = (gfn >> shift) - (s->base_gfn >> shift);
	*at = sa->lpage[level - 2] + *idx * L->lpage_info_size;
	*value = 0;
	return dump_peek(T->dump, *at, value, sizeof(*value));
}
