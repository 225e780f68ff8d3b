/* One VM's books for callers above the checks (the browser): the same
 * dirty bitmaps, pending ring entries and VMM page-table walk the checks
 * judge by, so that what the browser shows is exactly what they see. */
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "kobj/books.h"
#include "mmu/host.h"

struct check_vm_books {
	struct books_layout L;
	struct vm_books b;
	struct host_walker hw;
};

struct err *check_vm_books_open(struct target *T, const struct kvm_host *H, const struct kvm_vm *vm,
				struct notes *notes, struct check_vm_books **out)
{
	struct check_vm_books *d = calloc(1, sizeof(*d));
	if (!d)
		return err_new(ERR_NOMEM, "out of memory");
	struct err *e = books_layout_load(T, H, &d->L, notes);
	if (e) {
		free(d);
		return e;
	}
	if ((e = books_load(T, &d->L, vm, &d->b, notes))) {
		check_vm_books_close(d);
		return e;
	}
	host_walker_init(&d->hw, T);
	*out = d;
	return NULL;
}

enum dirty_verdict check_vm_books_verdict(const struct check_vm_books *d, int as_id, uint64_t gfn,
					  const struct spte_bits *bt)
{
	const struct kvm_memslot *s = books_slot(&d->b, as_id, gfn);
	if (!s)
		return DIRTY_OFF;
	bool recorded = (s->flags & KVM_MEM_LOG_DIRTY_PAGES) && books_recorded(&d->b, s, gfn);
	return check_dirty_verdict(d->L.pml.in_use, s, bt, recorded);
}

bool check_vm_books_pml(const struct check_vm_books *d)
{
	return d->L.pml.in_use;
}

struct err *check_vm_books_host(struct check_vm_books *d, uint64_t hva, struct check_host_page *out)
{
	memset(out, 0, sizeof(*out));
	if (d->b.mm_gone)
		return err_new(ERR_NOTFOUND, "the VMM's mm is gone");
	struct host_map m;
	struct err *e = host_lookup(&d->hw, d->b.pgd_pa, hva, &m);
	if (e)
		return e;
	*out = (struct check_host_page){ m.present, m.writable, m.level, m.pfn, m.entry, m.entry_pa };
	return NULL;
}

void check_vm_books_close(struct check_vm_books *d)
{
	if (!d)
		return;
	books_fini(&d->b);
	free(d);
}
