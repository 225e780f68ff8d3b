/* The dirty-log judgements: D2's evidence, D3, D5's PML half, and the
 * verdict on one leaf that the browser shows in D2's words. */
#include "check/dirty.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/text.h"

void dirty_missed_evidence(const struct vm_books *b, const struct kvm_memslot *s, uint64_t gfn,
			   char *ev, size_t evlen)
{
	uint64_t rel = gfn - s->base_gfn;
	const uint64_t *bm = books_bitmap(b, s);
	if (bm)
		text_append(ev, evlen, "slot %d dirty bitmap 0x%" PRIx64 ": word %" PRIu64 " at 0x%" PRIx64
			    " = 0x%016" PRIx64 ", bit %" PRIu64 " clear%s", s->id, s->dirty_bitmap,
			    rel / 64, s->dirty_bitmap + rel / 64 * 8, bm[rel / 64], rel % 64,
			    b->ring_mode ? "; no pending dirty-ring entry" : "");
	else
		text_append(ev, evlen, "slot %d (as %d) offset 0x%" PRIx64 ": %s", s->id, s->as_id, rel,
			    b->ring_mode ? "no pending entry in any vCPU's dirty ring"
					 : "slot has no dirty bitmap");
}

enum dirty_verdict check_dirty_verdict(bool pml, const struct kvm_memslot *s,
				       const struct spte_bits *bt, bool recorded)
{
	if (!(s->flags & KVM_MEM_LOG_DIRTY_PAGES))
		return DIRTY_OFF;
	if (bt->kind != SPTE_PRESENT)
		return DIRTY_NOT_LEAF;
	if (!bt->writable)
		return DIRTY_WRPROT;
	if (recorded)
		return DIRTY_RECORDED;
	/* W-mode logging: every SPTE on AMD and without PML, and the A/D
	 * types that never use the D bit for logging. */
	if (pml && bt->ad_type == SPTE_AD_ENABLED)
		return DIRTY_DBIT;
	return DIRTY_MISSED;
}

enum d3_verdict d3_judge(const struct vm_books *b, const struct kvm_memslot *s, int level,
			 uint64_t gfn, const struct spte_bits *bt, bool pml, char *ev, size_t evlen)
{
	if (evlen)
		ev[0] = 0;
	/* D-mode leaves only: type 10/01 and every SPTE without PML are W-mode
	 * (D2); huge leaves are write-protected while logging (D1). */
	if (!pml || level != 1 || bt->ad_type != SPTE_AD_ENABLED || !bt->dirty ||
	    !(s->flags & KVM_MEM_LOG_DIRTY_PAGES))
		return D3_NONE;
	if (books_recorded(b, s, gfn) || pml_find(&b->pml, gfn))
		return D3_NONE;
	dirty_missed_evidence(b, s, gfn, ev, evlen);
	const struct pml_books *p = &b->pml;
	if (p->nread)
		text_append(ev, evlen, "; GPA 0x%" PRIx64 " not in the PML pages of vCPUs %s (all %d slots)",
			  gfn << 12, p->read_ev, PML_ENTRIES);
	else
		text_append(ev, evlen, "; no vCPU's PML page read");
	/* Reasons KVM may legitimately be between D=1 and the record. */
	const char *why = NULL;
	char buf[160];
	if (b->mmu_lock_held)
		why = "mmu_lock held (a harvest may be clearing D)";
	else if (b->slots_lock_held || b->gen_updating)
		why = "slots_lock held (logging may be being enabled, D not yet cleared)";
	else if (p->in_guest) {
		snprintf(buf, sizeof(buf), "vCPU %d in guest mode (its PML buffer may hold unflushed "
			 "GPAs)", p->in_guest_idx);
		why = buf;
	} else if (!p->loaded) {
		why = "PML pages not read";
	} else if (p->nunread) {
		snprintf(buf, sizeof(buf), "the PML page of %d vCPU%s not read", p->nunread,
			 p->nunread == 1 ? "" : "s");
		why = buf;
	} else if (b->ring_mode && b->ring_unread)
		why = "a vCPU's dirty ring could not be read";
	if (why) {
		text_append(ev, evlen, "; inconclusive: %s", why);
		return D3_INCONCLUSIVE;
	}
	return D3_FOUND;
}

bool pml_count_judge(int32_t count, uint64_t at, size_t logged, char *ev, size_t evlen)
{
	if (count >= 0 && (size_t)count == logged)
		return false;
	snprintf(ev, evlen, "kvm->arch.cpu_dirty_logging_count at 0x%" PRIx64 " = %d, %zu slots have "
		 "LOG_DIRTY_PAGES", at, count, logged);
	return true;
}
