/* PML (D-bit) dirty logging: where each vCPU's PML page is and what it holds. */
#include "kobj/pml.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

/* vcpu->mode values (ABI of KVM's own code, stable since 2011). */
#define VCPU_IN_GUEST_MODE 1
#define VCPU_EXITING_GUEST_MODE 2

void pml_layout_types(const struct types *ty, struct pml_layout *L)
{
	L->have_count = types_member(types_struct(ty, "kvm", "kvm"), "arch.cpu_dirty_logging_count",
				     &L->count) && L->count.size == 4;
	L->page_size = types_size(types_struct(ty, NULL, "page"));
	/* The page moved from vcpu_vmx.pml_pg to vcpu->arch.pml_page (shared
	 * with SVM's PML) in 2025; vcpu_vmx embeds struct kvm_vcpu as vcpu. */
	struct member pg, vcpu;
	if (types_member(types_struct(ty, "kvm", "kvm_vcpu"), "arch.pml_page", &pg) &&
	    types_is_pointer(pg.type)) {
		L->have_page = true;
		L->page_off = member_off(&pg);
		L->page_field = "kvm_vcpu.arch.pml_page";
		return;
	}
	struct type_ref vmx = types_struct(ty, "kvm_intel", "vcpu_vmx");
	if (types_member(vmx, "vcpu", &vcpu) && types_is_struct(vcpu.type) &&
	    types_member(vmx, "pml_pg", &pg) && types_is_pointer(pg.type) &&
	    member_off(&pg) >= member_off(&vcpu)) {
		L->have_page = true;
		L->page_off = member_off(&pg) - member_off(&vcpu);
		L->page_field = "vcpu_vmx.pml_pg";
	}
}

void pml_layout(struct target *T, struct pml_layout *L, struct notes *notes)
{
	const struct types *ty = &T->types;
	memset(L, 0, sizeof(*L));
	struct type_ref ops = types_struct(ty, "kvm", "kvm_x86_ops");
	struct member m;
	uint64_t a;
	if (types_member(ops, "cpu_dirty_log_size", &m) && target_symbol(T, "kvm", "kvm_x86_ops", &a)) {
		uint32_t sz = 0;
		dump_peek(T->dump, a + member_off(&m), &sz, sizeof(sz));
		L->in_use = sz != 0;
	} else if (types_member(types_struct(ty, "kvm", "kvm"), "arch.cpu_dirty_log_size",
				&L->vm_size) && L->vm_size.size == 4) {
		L->per_vm = true; /* 7.x: the size moved into struct kvm_arch */
	}
	if (!L->in_use && !L->per_vm)
		return;
	pml_layout_types(ty, L);
	uint64_t base;
	if (!target_symbol(T, "vmlinux", "vmemmap_base", &a) || !dump_peek(T->dump, a, &base, 8) ||
	    !L->page_size) {
		L->have_page = false;
		if (!L->per_vm) /* per VM: the vCPUs' pages are noted unread where PML is used */
			notes_add(notes, "PML dirty logging is in use but vmemmap_base or struct page "
				  "is unknown: PML pages not read, D3 only inconclusive");
		return;
	}
	L->vmemmap_base = base;
	if (!L->have_page && !L->per_vm)
		notes_add(notes, "PML dirty logging is in use but neither kvm_vcpu.arch.pml_page nor "
			  "vcpu_vmx.pml_pg is in type info: PML pages not read, D3 only inconclusive");
}

bool pml_page_pfn(uint64_t vmemmap_base, uint64_t page_size, uint64_t page, uint64_t *pfn)
{
	if (!page_size || page < vmemmap_base || (page - vmemmap_base) % page_size)
		return false;
	*pfn = (page - vmemmap_base) / page_size;
	return *pfn < 1ull << (52 - 12);
}

int pml_reserve(struct pml_books *p, size_t nvcpus)
{
	free(p->e);
	p->n = 0;
	p->cap = (nvcpus ? nvcpus : 1) * PML_ENTRIES;
	p->e = malloc(p->cap * sizeof(*p->e));
	if (!p->e)
		p->cap = 0;
	return p->e ? 0 : -1;
}

void pml_add_page(struct pml_books *p, int vcpu, uint64_t pa, const uint64_t page[PML_ENTRIES])
{
	/* Every slot: the index (VMCS GUEST_PML_INDEX) is not readable, and
	 * stale GPAs only hide losses, never invent them. */
	if (p->cap - p->n < PML_ENTRIES)
		return; /* more pages than reserved: a caller's bug, never an overrun */
	for (int i = 0; i < PML_ENTRIES; i++)
		p->e[p->n++] = (struct pml_entry){ .gfn = page[i] >> 12, .vcpu = vcpu, .slot = i };
	if (p->nread++ < 4)
		text_append(p->read_ev, sizeof(p->read_ev), "%s%d (PA 0x%" PRIx64 ")",
			  p->nread > 1 ? ", " : "", vcpu, pa);
	else if (p->nread == 5)
		text_append(p->read_ev, sizeof(p->read_ev), ", ...");
}

void pml_vcpu_mode(struct pml_books *p, int vcpu, int mode)
{
	/* EXITING: kicked, but possibly still running the guest. */
	if ((mode == VCPU_IN_GUEST_MODE || mode == VCPU_EXITING_GUEST_MODE) && !p->in_guest++)
		p->in_guest_idx = vcpu;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct pml_entry *x = a, *y = b;
	if (x->gfn != y->gfn)
		return x->gfn < y->gfn ? -1 : 1;
	if (x->vcpu != y->vcpu)
		return x->vcpu < y->vcpu ? -1 : 1;
	return x->slot - y->slot;
}

void pml_finish(struct pml_books *p)
{
	if (p->n)
		qsort(p->e, p->n, sizeof(*p->e), entry_cmp);
}

const struct pml_entry *pml_find(const struct pml_books *p, uint64_t gfn)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) { /* first entry with gfn >= GFN */
		size_t mid = (lo + hi) / 2;
		if (p->e[mid].gfn < gfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->n && p->e[lo].gfn == gfn ? &p->e[lo] : NULL;
}

static void pml_unread(struct pml_books *p, int idx, const char *why)
{
	if (p->nunread++ >= 2)
		return;
	if (idx < 0)
		text_append(p->unread_ev, sizeof(p->unread_ev), "%s%s", p->nunread > 1 ? "; " : "", why);
	else
		text_append(p->unread_ev, sizeof(p->unread_ev), "%svCPU %d: %s",
			  p->nunread > 1 ? "; " : "", idx, why);
}

struct err *pml_load(struct target *T, const struct pml_layout *L, const struct kvm_vm *vm,
		     struct pml_books *p, struct notes *notes)
{
	memset(p, 0, sizeof(*p));
	p->in_use = L->in_use;
	if (L->per_vm) {
		uint32_t sz = 0;
		struct err *e = dump_read_virt(T->dump, vm->addr + member_off(&L->vm_size), &sz, 4);
		if (e)
			return err_wrap(e, "kvm->arch.cpu_dirty_log_size");
		p->in_use = sz != 0;
		if (p->in_use && !L->have_page)
			notes_add(notes, "VM %d logs dirty pages with PML but neither kvm_vcpu.arch."
				  "pml_page nor vcpu_vmx.pml_pg (or vmemmap_base) is known: PML pages "
				  "not read, D3 only inconclusive", vm->pid);
	}
	if (!p->in_use)
		return NULL;
	if (L->have_count) {
		p->count_at = vm->addr + member_off(&L->count);
		p->have_count = dump_peek(T->dump, p->count_at, &p->count, sizeof(p->count));
	}
	bool logs = false;
	for (size_t i = 0; i < vm->nslots; i++)
		logs |= (vm->slots[i].flags & KVM_MEM_LOG_DIRTY_PAGES) != 0;
	if (!logs)
		return NULL; /* D3 needs a logged slot; spare the reads */
	p->loaded = true;
	p->in_guest_idx = -1;
	if (pml_reserve(p, vm->nvcpus) < 0) /* nvcpus is bounded by kobj */
		return err_new(ERR_NOMEM, "out of memory");
	uint64_t page[PML_ENTRIES];
	for (size_t i = 0; i < vm->nvcpus; i++) {
		const struct kvm_vcpu_info *v = &vm->vcpus[i];
		pml_vcpu_mode(p, v->idx, v->mode);
		if (!L->have_page) {
			pml_unread(p, v->idx, "PML page field unknown");
			continue;
		}
		uint64_t pg = 0, pfn;
		char why[120];
		if (!dump_peek(T->dump, v->addr + L->page_off, &pg, sizeof(pg))) {
			snprintf(why, sizeof(why), "%s at 0x%" PRIx64 " unreadable", L->page_field,
				 v->addr + L->page_off);
			pml_unread(p, v->idx, why);
			continue;
		}
		if (!pml_page_pfn(L->vmemmap_base, L->page_size, pg, &pfn)) {
			snprintf(why, sizeof(why), "%s = 0x%" PRIx64 " is not a struct page", L->page_field, pg);
			pml_unread(p, v->idx, why);
			continue;
		}
		struct err *e = dump_read_phys(T->dump, pfn << 12, page, sizeof(page));
		if (e) {
			snprintf(why, sizeof(why), "PML page at PA 0x%" PRIx64 ": %s", pfn << 12, e->msg);
			err_free(e);
			pml_unread(p, v->idx, why);
			continue;
		}
		pml_add_page(p, v->idx, pfn << 12, page);
	}
	pml_finish(p);
	if (vm->online_vcpus > 0 && (size_t)vm->online_vcpus > vm->nvcpus) {
		/* vCPUs kobj could not read: their pages (and modes) are unknown */
		char why[80];
		snprintf(why, sizeof(why), "%zu of %d online vCPUs not read", vm->online_vcpus - vm->nvcpus,
			 vm->online_vcpus);
		int missing = vm->online_vcpus - (int)vm->nvcpus;
		pml_unread(p, -1, why);
		p->nunread += missing - 1;
	}
	if (p->nunread)
		notes_add(notes, "VM %d: PML pages of %d of %zu vCPUs not read (%s): D3 inconclusive "
			  "for dirty leaves the others do not explain", vm->pid, p->nunread, vm->nvcpus,
			  p->unread_ev);
	return NULL;
}

void pml_fini(struct pml_books *p)
{
	free(p->e);
	memset(p, 0, sizeof(*p));
}
