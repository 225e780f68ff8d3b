/* The dirty-log books of one VM for callers above the checks (the browser):
 * the same bitmaps and pending ring entries D2 judges by, so that what the
 * browser calls "recorded" is exactly what the checks do. */
#include <stdlib.h>

#include "books.h"

struct check_dirty_log {
	struct vm_books b;
};

struct err *check_dirty_log_open(struct target *T, const struct kvm_vm *vm, struct notes *notes,
				 struct check_dirty_log **out)
{
	struct check_layout L;
	struct err *e = books_layout(T, &L, notes);
	if (e)
		return e;
	struct check_dirty_log *d = calloc(1, sizeof(*d));
	if (!d)
		return err_new(ERR_NOMEM, "out of memory");
	if ((e = books_load(T, &L, vm, &d->b, notes))) {
		check_dirty_log_close(d);
		return e;
	}
	*out = d;
	return NULL;
}

enum dirty_log_state check_dirty_log_state(const struct check_dirty_log *d, int as_id, uint64_t gfn,
					   const struct kvm_memslot **slot)
{
	const struct kvm_memslot *s = books_slot(&d->b, as_id, gfn);
	if (slot)
		*slot = s;
	if (!s || !(s->flags & KVM_MEM_LOG_DIRTY_PAGES))
		return DIRTY_LOG_OFF;
	return books_recorded(&d->b, s, gfn) ? DIRTY_LOG_RECORDED : DIRTY_LOG_NOT_RECORDED;
}

void check_dirty_log_close(struct check_dirty_log *d)
{
	if (!d)
		return;
	books_fini(&d->b);
	free(d);
}
