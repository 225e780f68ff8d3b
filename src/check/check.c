/* The runner: for each VM gather its books, stream every SPTE of every root
 * through the structural, dirty-log and host checks, then the VM-level ones. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "check/check.h"
#include "check/dirty.h"
#include "kobj/books.h"
#include "kobj/sphash.h"
#include "kobj/rmap.h"
#include "kobj/shadow.h"
#include "mmu/host.h"
#include "mmu/walk.h"

struct sbooks;

struct run {
	struct target *T;
	struct kvm_host *H;
	const struct check_opts *o;
	const struct books_layout *L;
	finding_fn fn;
	void *arg;
	struct check_stats *st;
	struct vm_books *b;
	struct host_walker hw;
	bool pml;		/* PML dirty logging */
	/* S6: how a child table's role.level relates to the entry above it,
	 * per root: one below it, or (5.10's TDP MMU) the entry's own level.
	 * The root's first child decides; every other must agree. */
	const struct kvm_root *lvl_root;
	int lvl_delta;
	/* Live hosts: a finding is re-read before it is reported. */
	bool live;
	struct walker *w;
	bool dry;		/* count would-be findings, report nothing */
	int dry_hits;
	const char *changed;	/* report as inconclusive: changed while reading */
	int vm_changed;		/* VM-level findings: -1 not yet asked */
	char vm_why[256];
	/* S15: the gfns sync, live shadow pages shadow, key gfn * 2 + as_id, sorted */
	struct shadowed { uint64_t key; const struct kvm_shadow_page *sp; } *shadowed;
	size_t nshadowed;
	/* S16-S18 and D2's evidence: the VM's shadow-MMU books, NULL if none */
	const struct kvm_shadow_books *sbk;
	struct sbooks *sb;		/* S16-S18 collecting from the walk, or NULL */
	const struct check_tap *tap;	/* NULL: nobody looks on */
	const struct kvm_vm *vm;	/* the VM being walked, for the tap */
	struct dump_window track;	/* S11: the write-track counters' page */
	const struct kvm_root *root;	/* being checked (NULL: only tapped) */
	const struct kvm_memslot *slot_hint;	/* books_slot_near's, per VM */
};

/* SEV < 0: the check's own severity. */
static void emit_sev(struct run *r, enum check_id id, int sev, const struct walk_entry *e,
		     bool inconclusive, const char *msg, const char *evidence_fmt, ...)
	__attribute__((format(printf, 7, 8)));

static void emit_sev(struct run *r, enum check_id id, int sev, const struct walk_entry *e,
		     bool inconclusive, const char *msg, const char *evidence_fmt, ...)
{
	const struct check_def *c = &check_catalog[id];
	if (!r->o->enabled[id])
		return;
	struct finding f;
	memset(&f, 0, sizeof(f));
	f.check = c;
	f.severity = sev < 0 ? c->severity : (enum severity)sev;
	if (id == CHK_D7 && r->L->ad_always && !r->pml)
		f.severity = SEV_ERROR; /* 6.13+ never makes W=1,D=0 without PML */
	if (f.severity < r->o->floor)
		return;
	if (r->dry) {
		r->dry_hits++;
		return;
	}
	if (r->live && !e && r->vm_changed < 0) {
		r->T->live.findings_rechecked++;
		r->vm_changed = kvm_vm_changed(r->T, r->H, r->b->vm, r->vm_why, sizeof(r->vm_why));
		if (r->vm_changed)
			r->T->live.findings_changed++;
	}
	const char *changed = e ? r->changed : r->live && r->vm_changed > 0 ? r->vm_why : NULL;
	f.inconclusive = inconclusive || changed;
	f.vm = r->b->vm;
	if (e) {
		f.root = e->root;
		f.has_spte = true;
		f.level = e->level;
		f.gfn = e->gfn;
		f.spte = e->spte;
		f.bits = *walk_bits(e);
	}
	snprintf(f.message, sizeof(f.message), "%s", msg);
	va_list ap;
	va_start(ap, evidence_fmt);
	vsnprintf(f.evidence, sizeof(f.evidence), evidence_fmt, ap);
	va_end(ap);
	if (changed) {
		size_t n = strlen(f.evidence);
		snprintf(f.evidence + n, sizeof(f.evidence) - n, "; live host: changed while reading (%s)",
			 changed);
	}
	if (f.inconclusive)
		r->st->inconclusive++;
	else
		r->st->findings[f.severity]++;
	r->fn(r->arg, &f);
}

#define emit(r, id, e, incon, ...) emit_sev(r, id, -1, e, incon, __VA_ARGS__)

/* S6: the child table's own kvm_mmu_page, found through page->private. */
static void check_child(struct run *r, const struct walk_entry *e)
{
	uint64_t child = e->spte & r->H->masks.address;
	struct books_sp sp;
	struct err *err = books_child_sp(r->T, r->L, child, &sp);
	if (err) {
		emit(r, CHK_S6, e, false, "cannot read the child table's kvm_mmu_page",
		     "child table 0x%" PRIx64 ", struct page 0x%" PRIx64 ": %s", child, sp.page, err->msg);
		err_free(err);
		return;
	}
	const char *what = NULL;
	if (sp.spt != r->T->page_offset_base + child)
		what = "spt is not this table";
	else if (!sp.tdp)
		what = "tdp_mmu_page is clear";
	else if (r->lvl_root != e->root && ((int)sp.level == e->level - 1 || (int)sp.level == e->level)) {
		r->lvl_root = e->root;
		r->lvl_delta = e->level - (int)sp.level;
	}
	if (what)
		;
	else if ((int)sp.level != e->level - r->lvl_delta)
		what = r->lvl_delta ? "level is not one below the parent entry"
				    : "level differs from the parent entry's (this root's children carry it)";
	else if (sp.gfn != e->gfn)
		what = "gfn differs from the parent entry's first gfn";
	else if ((sp.role & ~sp.level_mask) != (e->root->role & ~sp.level_mask))
		what = "role differs from the root's";
	else if (sp.have_ptep && sp.ptep != r->T->page_offset_base + e->table_pa + (uint64_t)e->index * 8)
		what = "ptep does not point at the parent entry";
	if (what)
		emit(r, CHK_S6, e, false, what,
		     "page->private of pfn 0x%" PRIx64 " = sp 0x%" PRIx64 ": spt 0x%" PRIx64
		     ", tdp_mmu_page %" PRIu64 ", level %" PRIu64 ", gfn 0x%" PRIx64 ", role 0x%x "
		     "(root role 0x%x)", child >> 12, sp.sp, sp.spt, sp.tdp, sp.level, sp.gfn, sp.role,
		     e->root->role);
}

static bool inval_covers(const struct run *r, const struct kvm_memslot *s, uint64_t gfn,
			 uint64_t npages)
{
	const struct vm_books *b = r->b;
	if (!b->inval_count)
		return false;
	uint64_t lo = gfn, hi = gfn + npages;
	if (!r->L->inval_is_gfn) { /* HVA ranges before 6.8 */
		lo = s->userspace_addr + (gfn - s->base_gfn) * PAGE_SIZE;
		hi = lo + npages * PAGE_SIZE;
	}
	return lo < b->inval_end && b->inval_start < hi;
}

static void check_host(struct run *r, const struct walk_entry *e, const struct kvm_memslot *s,
		       uint64_t npages)
{
	const struct spte_bits *bt = walk_bits(e);
	uint64_t hva = s->userspace_addr + (e->gfn - s->base_gfn) * PAGE_SIZE;
	struct host_map hm;
	struct err *err = host_lookup(&r->hw, r->b->pgd_pa, hva, &hm);
	if (err) {
		notes_add(&r->H->notes, "VM %d gfn 0x%" PRIx64 ": host checks skipped: %s",
			  r->b->vm->pid, e->gfn, err->msg);
		err_free(err);
		return;
	}
	r->st->host_checked++;
	bool incon = inval_covers(r, s, e->gfn, npages);
	bool spte_zero = bt->pfn == r->L->zero_pfn || bt->pfn == r->L->huge_zero_pfn;
	bool host_zero = hm.present && (hm.pfn == r->L->zero_pfn ||
					(r->L->huge_zero_pfn && hm.pfn >> 9 == r->L->huge_zero_pfn >> 9));
	/* Granularity first: a PTE table under a huge SPTE is wrong whether or
	 * not the first page is mapped. */
	if (e->level > hm.level)
		emit(r, CHK_H3, e, incon, "huge SPTE over smaller host pages",
		     "SPTE level %d; the VMM maps hva 0x%" PRIx64 " at level %d (entry 0x%" PRIx64
		     " at PA 0x%" PRIx64 ")", e->level, hva, hm.level, hm.entry, hm.entry_pa);
	if (!hm.present) {
		if (hm.protnone)
			return; /* NUMA hinting keeps the page; not every kernel zaps */
		emit(r, CHK_H2, e, incon, "the VMM's page tables map nothing at this gfn's hva",
		     "hva 0x%" PRIx64 ": level-%d host entry 0x%" PRIx64 " at PA 0x%" PRIx64
		     " is not present", hva, hm.level, hm.entry, hm.entry_pa);
		return;
	}
	if (spte_zero != host_zero) {
		emit(r, CHK_H5, e, incon, spte_zero ? "SPTE maps the zero page, the VMM a real page"
						    : "VMM maps the zero page, the SPTE a real page",
		     "hva 0x%" PRIx64 ": host entry 0x%" PRIx64 " at PA 0x%" PRIx64 " (pfn 0x%" PRIx64
		     "), SPTE pfn 0x%" PRIx64 ", zero pfn 0x%" PRIx64, hva, hm.entry, hm.entry_pa,
		     hm.pfn, bt->pfn, r->L->zero_pfn);
		return;
	}
	if (hm.pfn != bt->pfn && !(spte_zero && host_zero))
		emit(r, CHK_H1, e, incon, "SPTE and VMM map different pages",
		     "hva 0x%" PRIx64 ": host level-%d entry 0x%" PRIx64 " at PA 0x%" PRIx64
		     " maps pfn 0x%" PRIx64 ", SPTE maps pfn 0x%" PRIx64, hva, hm.level, hm.entry,
		     hm.entry_pa, hm.pfn, bt->pfn);
	if (!hm.writable && bt->writable)
		emit(r, CHK_H4, e, incon, "writable SPTE over a read-only host page",
		     "hva 0x%" PRIx64 ": host entry 0x%" PRIx64 " at PA 0x%" PRIx64 " is read-only",
		     hva, hm.entry, hm.entry_pa);
	else if (!hm.writable && bt->host_writable)
		emit_sev(r, CHK_H4, SEV_WARNING, e, incon,
			 "host-writable SPTE over a read-only host page (could be made writable "
			 "without a fault)", "hva 0x%" PRIx64 ": host entry 0x%" PRIx64 " at PA 0x%"
			 PRIx64 " is read-only", hva, hm.entry, hm.entry_pa);
}

/* D3: D-bit dirty logging (PML); the judgement lives in dirty.c. */
static void check_d3(struct run *r, const struct walk_entry *e, const struct kvm_memslot *s)
{
	char ev[512];
	enum d3_verdict v = d3_judge(r->b, s, e->level, e->gfn, walk_bits(e), r->pml, ev, sizeof(ev));
	if (v != D3_NONE)
		emit(r, CHK_D3, e, v == D3_INCONCLUSIVE, check_catalog[CHK_D3].title, "%s", ev);
}

/* D2 under the shadow MMU: logging is enabled and harvested by write
 * protection through the rmaps, so whether the leaf is on its gfn's rmap
 * says whether that protection could have reached it. */
static void d2_rmap_fact(const struct run *r, const struct walk_entry *e, const struct kvm_memslot *s,
			 char *out, size_t n)
{
	const struct kvm_shadow_books *B = r->sbk;
	uint64_t sptep = e->sp->spt + (uint64_t)e->index * 8;
	if (!B || !B->rmap_ok) {
		snprintf(out, n, "; shadow MMU: rmaps not read");
		return;
	}
	size_t k, cnt;
	k = kvm_rmap_find(B, sptep, &cnt);
	unsigned shift = 9 * (unsigned)(e->level - 1);
	for (size_t m = k; m < k + cnt; m++)
		if (B->rmap[m].slot == s->id && B->rmap[m].as_id == s->as_id &&
		    B->rmap[m].level == e->level && B->rmap[m].gfn >> shift == e->gfn >> shift) {
			snprintf(out, n, "; shadow MMU: sptep 0x%" PRIx64 " is on the rmap (head 0x%" PRIx64
				 "), where write protection would have found it", sptep, B->rmap[m].head);
			return;
		}
	snprintf(out, n, "; shadow MMU: sptep 0x%" PRIx64 " is on no rmap of its gfn: write "
		 "protection through the rmap cannot reach it (S16)", sptep);
}

static void check_leaf(struct run *r, const struct walk_entry *e)
{
	const struct spte_bits *bt = walk_bits(e);
	const struct spte_masks *m = &r->H->masks;
	const struct kvm_root *root = e->root;
	const struct vm_books *b = r->b;
	uint64_t npages = walk_level_pages(e->level);
	r->st->leaves++;

	if (bt->writable && !bt->mmu_writable)
		emit(r, CHK_S2, e, false, "W=1 without MMU-writable", "spte 0x%" PRIx64 ": W set, "
		     "MMU-writable mask 0x%" PRIx64 " clear", e->spte, m->mmu_writable);
	else if (bt->mmu_writable && !bt->host_writable)
		emit(r, CHK_S2, e, false, "MMU-writable without host-writable", "spte 0x%" PRIx64
		     ": MMU-writable set, host-writable mask 0x%" PRIx64 " clear", e->spte,
		     m->host_writable);
	enum spte_ad_type want = root->ad_disabled ? SPTE_AD_DISABLED : SPTE_AD_ENABLED;
	/* wrprot-only A/D under L2's roots: with PML (6.x: guest_mode pages),
	 * or wherever the vCPU ran on guest_mmu (5.10's rule; its L2 pages
	 * have guest_mode 0) */
	bool wrprot_ok = kvm_root_l2(root) && (r->pml || !root->guest_mode);
	if (bt->ad_type == SPTE_AD_INVALID ||
	    (bt->ad_type != want && !(bt->ad_type == SPTE_AD_WRPROT_ONLY && wrprot_ok)))
		emit(r, CHK_S3, e, false, "A/D type does not fit the root",
		     "spte bits %d-%d = %d (%s); root role 0x%x has ad_disabled=%d guest_mode=%d",
		     m->ad_shift, m->ad_shift + 1, bt->ad_type, spte_ad_type_name(bt->ad_type), root->role, root->ad_disabled,
		     root->guest_mode);
	if (bt->access_tracked && (!m->ept || bt->ad_type != SPTE_AD_DISABLED || bt->writable))
		emit(r, CHK_S4, e, false, "access-tracked form where it cannot be",
		     "spte 0x%" PRIx64 ", A/D type %s, ept=%d", e->spte, spte_ad_type_name(bt->ad_type), m->ept);
	else if (!bt->access_tracked && (bt->saved_r || bt->saved_x || bt->saved_xu))
		emit(r, CHK_S4, e, false, "saved R/X bits on an SPTE that is not access-tracked",
		     "spte 0x%" PRIx64 ": bit %d=%d bit %d=%d%s", e->spte, m->saved_shift, bt->saved_r,
		     m->saved_shift + 2, bt->saved_x, bt->saved_xu ? " (saved XU set)" : "");
	if (bt->huge && (e->level >= 4 || e->level > r->H->max_huge_page_level))
		emit(r, CHK_S5, e, false, "huge page bit at an impossible level",
		     "PS at level %d; max_huge_page_level %d", e->level, r->H->max_huge_page_level);
	if (bt->huge && bt->executable && r->L->nx_huge_pages > 0 && !b->disable_nx)
		emit(r, CHK_S8, e, false, "executable huge page with nx_huge_pages on",
		     "nx_huge_pages=%d, kvm->arch.disable_nx_huge_pages=0", r->L->nx_huge_pages);
	if (bt->pfn == r->L->zero_pfn || (r->L->huge_zero_pfn && bt->pfn == r->L->huge_zero_pfn))
		if (bt->writable || bt->host_writable)
			emit(r, CHK_S13, e, false, "zero page mapped writable",
			     "pfn 0x%" PRIx64 " is the %s zero page; W=%d host-writable=%d", bt->pfn,
			     bt->pfn == r->L->zero_pfn ? "shared" : "huge", bt->writable, bt->host_writable);
	if (root->invalid)
		return; /* dirty logging and the host only care about valid roots */

	const struct kvm_memslot *s = books_slot_near(b, root->smm, e->gfn, &r->slot_hint);
	/* a memslot update in flight, or memslots that could not all be read */
	bool slots_busy = b->slots_lock_held || b->gen_updating || b->vm->slots_incomplete;
	if (!s) {
		emit(r, CHK_S9, e, slots_busy, "leaf outside every memslot",
		     "no memslot of address space %d contains gfn 0x%" PRIx64, root->smm, e->gfn);
		return;
	}
	if (e->gfn + npages - s->base_gfn > s->npages || (s->flags & KVM_MEMSLOT_INVALID)) {
		emit(r, CHK_S9, e, slots_busy, "leaf crosses the end of its memslot, or the slot is "
		     "being deleted", "slot %d: base_gfn 0x%" PRIx64 ", npages %" PRIu64 ", flags 0x%x; "
		     "leaf covers %" PRIu64 " pages", s->id, s->base_gfn, s->npages, s->flags, npages);
		return;
	}
	int32_t disallow;
	uint64_t at, idx;
	if (bt->huge && books_lpage_disallow(r->T, r->L, b, s, e->level, e->gfn, &disallow, &at, &idx) &&
	    disallow)
		emit(r, CHK_S10, e, false, "huge leaf where huge pages are disallowed",
		     "slot %d lpage_info[%d][%" PRIu64 "] at 0x%" PRIx64 ": disallow_lpage = 0x%x",
		     s->id, e->level - 2, idx, at, (uint32_t)disallow);
	uint16_t count;
	if ((bt->writable || bt->mmu_writable) &&
	    books_write_track(r->T, b, s, e->gfn, &r->track, &count, &at) && count)
		emit(r, CHK_S11, e, false, "writable leaf over a write-tracked gfn",
		     "slot %d write-track counter at 0x%" PRIx64 " = %u; W=%d MMU-writable=%d",
		     s->id, at, count, bt->writable, bt->mmu_writable);
	if ((s->flags & KVM_MEM_READONLY) && (bt->writable || bt->host_writable))
		emit(r, CHK_S12, e, false, "writable leaf in a read-only memslot",
		     "slot %d flags 0x%x (KVM_MEM_READONLY); W=%d host-writable=%d", s->id, s->flags,
		     bt->writable, bt->host_writable);

	bool logged = s->flags & KVM_MEM_LOG_DIRTY_PAGES;
	bool busy = b->mmu_lock_held || b->slots_lock_held;
	const uint64_t *bm = books_bitmap(b, s);
	uint64_t rel = e->gfn - s->base_gfn;
	if (logged && bt->huge && bt->writable) {
		bool all_set = bm && (r->b->vm->manual_dirty_log_protect & 2);
		for (uint64_t i = 0; all_set && i < npages; i++)
			all_set = bm[(rel + i) / 64] >> ((rel + i) % 64) & 1;
		if (!all_set)
			emit(r, CHK_D1, e, busy, "writable huge leaf in a dirty-logged slot",
			     "slot %d is logged (flags 0x%x); leaf covers %" PRIu64 " pages", s->id,
			     s->flags, npages);
	}
	/* Without every vCPU's ring, "not recorded" cannot be known in ring mode. */
	bool d2_unsure = busy || (b->ring_mode && b->ring_unread);
	if (logged && e->level == 1 && bt->writable &&
	    check_dirty_verdict(r->pml, s, bt, books_recorded(b, s, e->gfn)) == DIRTY_MISSED) {
		char ev[256] = "", rm[160] = "";
		dirty_missed_evidence(b, s, e->gfn, ev, sizeof(ev));
		if (root->mmu == KVM_MMU_SHADOW && e->sp)
			d2_rmap_fact(r, e, s, rm, sizeof(rm));
		emit(r, CHK_D2, e, d2_unsure, "writable leaf whose gfn the dirty log missed", "%s%s", ev, rm);
	}
	if (logged && r->pml)
		check_d3(r, e, s);
	if (e->level == 1 && bt->ad_type == SPTE_AD_ENABLED && bt->writable && !bt->dirty &&
	    bt->accessed && !r->L->aging_clears_dirty)
		emit(r, CHK_D7, e, false, "W=1, D=0, A=1: make_spte overwrite race fingerprint",
		     "spte 0x%" PRIx64 "; gfn %s in the dirty log", e->spte,
		     logged && books_recorded(b, s, e->gfn) ? "is" : "is not");

	if (!b->mm_gone && !(s->flags & KVM_MEM_GUEST_MEMFD))
		check_host(r, e, s, npages);
}

static int check_entry_once(struct run *r, const struct walk_entry *e);

/* Live hosts: an entry with findings is read again, with the path to it and
 * the evidence (dirty-bitmap words, rings, the VMM's page tables, the
 * quiescence signals), before anything is reported.  Unchanged: reported as
 * judged.  The entry or its evidence changed: judged again on the new values
 * (bounded).  The path changed, or it never held still: reported as
 * inconclusive, changed while reading, never as a plain finding. */
static int check_entry_live(struct run *r, const struct walk_entry *e)
{
	struct live_stats *ls = &r->T->live;
	struct walk_entry cur = *e;
	for (int tries = 1;; tries++) {
		/* The judgement without its findings: with none, it stands as
		 * it is (counts and notes included); with some, it is undone. */
		struct check_stats saved = *r->st;
		size_t nnotes = r->H->notes.n;
		r->dry = true;
		r->dry_hits = 0;
		check_entry_once(r, &cur);
		r->dry = false;
		if (!r->dry_hits)
			return 0;
		*r->st = saved;
		while (r->H->notes.n > nnotes)
			free(r->H->notes.msg[--r->H->notes.n]);
		if (tries == 1)
			ls->findings_rechecked++;
		uint64_t now;
		enum walk_recheck rc = walker_recheck(r->w, &cur, &now);
		const struct kvm_memslot *s = cur.kind == SPTE_PRESENT && walk_bits(&cur)->leaf
			? books_slot(r->b, cur.root->smm, cur.gfn) : NULL;
		bool books = books_live_refresh(r->T, r->L, r->b, s, cur.gfn,
						walk_level_pages(cur.level));
		host_walker_reset(&r->hw);
		if (rc == WALK_SAME && !books)
			return check_entry_once(r, &cur);
		if (tries == 1)
			ls->findings_reevaluated++;
		if (rc == WALK_PATH_CHANGED || tries == DUMP_LIVE_TRIES) {
			ls->findings_changed++;
			r->changed = rc == WALK_PATH_CHANGED ? "a table above the entry changed"
				     : "the entry or its evidence changed on every re-read";
			check_entry_once(r, &cur);
			r->changed = NULL;
			return 0;
		}
		walk_entry_set_spte(&cur, &r->H->masks, now, cur.level);
	}
}

static int shadowed_cmp(const void *a, const void *b)
{
	const struct shadowed *x = a, *y = b;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* S15's books: which gfns the VM's shadow pages write-protect. */
static void shadowed_load(struct run *r, const struct kvm_vm *vm)
{
	r->nshadowed = 0;
	free(r->shadowed);
	r->shadowed = NULL;
	const struct kvm_shadow *S = &vm->shadow;
	if (!S->npages || !(r->shadowed = calloc(S->npages, sizeof(*r->shadowed))))
		return;
	for (size_t i = 0; i < S->npages; i++) {
		const struct kvm_shadow_page *sp = &S->pages[i];
		if (sp->direct || sp->unsync || sp->obsolete || sp->invalid || sp->smm < 0 || sp->smm > 1)
			continue;
		r->shadowed[r->nshadowed++] = (struct shadowed){ sp->gfn * 2 + (uint64_t)sp->smm, sp };
	}
	if (r->nshadowed > 1)
		qsort(r->shadowed, r->nshadowed, sizeof(*r->shadowed), shadowed_cmp);
}

/* S15: a writable leaf over a gfn that a sync shadow page shadows. */
static void check_shadowed(struct run *r, const struct walk_entry *e)
{
	const struct kvm_root *root = e->root;
	if (!r->nshadowed || !walk_bits(e)->writable || root->invalid || root->obsolete)
		return;
	uint64_t n = walk_level_pages(e->level);
	uint64_t lo = e->gfn * 2 + (uint64_t)root->smm, hi = (e->gfn + n - 1) * 2 + (uint64_t)root->smm;
	for (size_t a = ARRAY_LOWER_BOUND(r->shadowed, r->nshadowed, key, lo); a < r->nshadowed && r->shadowed[a].key <= hi; a++) {
		const struct kvm_shadow_page *sp = r->shadowed[a].sp;
		if ((r->shadowed[a].key & 1) != (uint64_t)root->smm)
			continue;
		emit(r, CHK_S15, e, false, "writable leaf over a gfn a shadow page shadows",
		     "shadow page 0x%" PRIx64 " (level %d, role 0x%x, %s) shadows gfn 0x%" PRIx64
		     ", not unsync; spte 0x%" PRIx64 " W=1", sp->sp, sp->level, sp->role,
		     sp->guest_mode ? "nested guest" : "guest", sp->gfn, e->spte);
		return;
	}
}

static void sb_feed(struct sbooks *sb, const struct walk_entry *e);

static int check_entry(void *arg, const struct walk_entry *e)
{
	struct run *r = arg;
	if (r->sb)
		sb_feed(r->sb, e);
	if (r->tap)
		r->tap->entry(r->tap->arg, r->vm, e);
	if (r->live && e->event == WALK_ENTRY)
		return check_entry_live(r, e);
	return check_entry_once(r, e);
}

/* S7. A frozen entry is legitimate only while its freezer holds mmu_lock (a
 * TDP MMU fault or zap, read or write side) or a vCPU walks the tables
 * locklessly; with the lock free and no vCPU in such a walk nobody will ever
 * thaw it: a zap died half-way, or something wrote the value. */
static void check_frozen(struct run *r, const struct walk_entry *e)
{
	const struct vm_books *b = r->b;
	int walker = -1;
	for (size_t i = 0; i < b->vm->nvcpus && walker < 0; i++)
		if (b->vm->vcpus[i].mode == 3) /* READING_SHADOW_PAGE_TABLES */
			walker = b->vm->vcpus[i].idx;
	if (b->mmu_lock_known && !b->mmu_lock_held && walker < 0) {
		emit_sev(r, CHK_S7, SEV_WARNING, e, false,
			 "FROZEN SPTE with no MMU operation in flight: a zap died half-way or a stray "
			 "write", "entry %d of table 0x%" PRIx64 " = 0x%016" PRIx64 "; mmu_lock at 0x%"
			 PRIx64 " free (cnts 0x%x), no vCPU reading shadow page tables", e->index,
			 e->table_pa, e->spte, b->mmu_lock_addr, b->mmu_lock_cnts);
		return;
	}
	char why[128];
	if (!b->mmu_lock_known)
		snprintf(why, sizeof(why), "mmu_lock unreadable");
	else if (b->mmu_lock_held)
		snprintf(why, sizeof(why), "mmu_lock at 0x%" PRIx64 " held (cnts 0x%x)",
			 b->mmu_lock_addr, b->mmu_lock_cnts);
	else
		snprintf(why, sizeof(why), "vCPU %d reading shadow page tables", walker);
	emit_sev(r, CHK_S7, SEV_INFO, e, true, "FROZEN SPTE: an MMU operation may be in flight",
		 "entry %d of table 0x%" PRIx64 " = 0x%016" PRIx64 "; %s", e->index, e->table_pa,
		 e->spte, why);
}

/* The lowest id of KVM's internal memslots (KVM_USER_MEM_SLOTS of 5.x, 509;
 * later kernels start them higher): the APIC access page slot may sit under
 * an MMIO SPTE legitimately (its slot hidden while APICv is inhibited). */
#define KVM_FIRST_PRIVATE_SLOT 509

/* S1 for an entry shaped like an MMIO SPTE that KVM cannot have written:
 * KVM installs them only at 4K (a fault without a memslot never maps huge),
 * with the gfn of the position, with a generation no newer than the
 * memslots', and never over a memslot's RAM at the current generation (an
 * older one is legitimate: refreshed on the next fault).  Returns true if
 * reported. */
static bool check_mmio(struct run *r, const struct walk_entry *e)
{
	const struct spte_bits *bt = walk_bits(e);
	const struct kvm_root *root = e->root;
	const struct spte_masks *m = &r->H->masks;
	if (e->level != 1) {
		emit(r, CHK_S1, e, false, "MMIO-shaped entry above level 1",
		     "entry %d of table 0x%" PRIx64 " = 0x%016" PRIx64 " at level %d: KVM installs "
		     "MMIO SPTEs only at 4K; encoded gfn 0x%" PRIx64 ", generation 0x%x", e->index,
		     e->table_pa, e->spte, e->level, bt->mmio_gfn, bt->mmio_gen);
		return true;
	}
	/* indirect shadow pages: the position's gfn is derived, not checked */
	bool direct = root->mmu == KVM_MMU_TDP || root->direct;
	if (direct && bt->mmio_gfn != e->gfn) {
		emit(r, CHK_S1, e, false, "MMIO-shaped entry whose gfn is not its position",
		     "entry %d of table 0x%" PRIx64 " = 0x%016" PRIx64 ": encoded gfn 0x%" PRIx64
		     ", the entry maps gfn 0x%" PRIx64, e->index, e->table_pa, e->spte, bt->mmio_gfn,
		     e->gfn);
		return true;
	}
	if (!r->L->have_gen || root->invalid || root->smm < 0 || root->smm > 7)
		return false;
	int low = m->mmio_gen_low_bits ? m->mmio_gen_low_bits : 8;
	int hs = m->mmio_gen_high_shift ? m->mmio_gen_high_shift : 52;
	uint64_t gen_mask = (1ull << (low + 63 - hs)) - 1;
	/* bit 63 of the memslots' generation is "update in progress", not part of it */
	uint64_t cur = r->b->vm->memslots_gen[root->smm] & gen_mask;
	/* the generation wrapping zaps every root (kvm_mmu_invalidate_mmio_sptes):
	 * a valid root never holds one newer than the memslots' */
	if (bt->mmio_gen > cur) {
		emit(r, CHK_S1, e, false, "MMIO-shaped entry from a later memslot generation",
		     "entry %d of table 0x%" PRIx64 " = 0x%016" PRIx64 ": generation 0x%x, the "
		     "memslots of address space %d are at 0x%" PRIx64 " (0x%" PRIx64 " in the MMIO "
		     "bits)", e->index, e->table_pa, e->spte, bt->mmio_gen, root->smm,
		     r->b->vm->memslots_gen[root->smm], cur);
		return true;
	}
	const struct kvm_memslot *s = books_slot(r->b, root->smm, e->gfn);
	if (bt->mmio_gen == cur && s && s->id < KVM_FIRST_PRIVATE_SLOT &&
	    !(s->flags & KVM_MEMSLOT_INVALID)) {
		emit(r, CHK_S1, e, r->b->slots_lock_held || r->b->gen_updating,
		     "MMIO SPTE of the current generation over a memslot's RAM",
		     "entry %d of table 0x%" PRIx64 " = 0x%016" PRIx64 ": generation 0x%x is the "
		     "memslots' own, yet gfn 0x%" PRIx64 " is RAM of slot %d (base_gfn 0x%" PRIx64
		     ", npages %" PRIu64 ", flags 0x%x)", e->index, e->table_pa, e->spte, bt->mmio_gen,
		     e->gfn, s->id, s->base_gfn, s->npages, s->flags);
		return true;
	}
	return false;
}

static int check_entry_once(struct run *r, const struct walk_entry *e)
{
	if (e->event != WALK_ENTRY) {
		char buf[512];
		walk_event_describe(e, r->b->vm->pid, buf, sizeof(buf));
		notes_add(&r->H->notes, "%s", buf);
		return 0;
	}
	/* a vCPU's own pae_root/pml4_root/pml5_root: KVM writes root |
	 * PT_PRESENT_MASK [| A | W | U] there, or 0 */
	const char *special = kvm_root_special_name(e->root->special);
	if (special && e->level >= kvm_root_pae_level(e->root)) {
		if (e->kind == SPTE_GARBAGE)
			emit(r, CHK_S1, e, false, "garbage entry in a vCPU's special root",
			     "entry %d of the vCPU's %s 0x%" PRIx64 " = 0x%016" PRIx64 ": not 0, and bit 0 "
			     "(PT_PRESENT) clear or bit 7 set", e->index, special, e->table_pa, e->spte);
		else if (e->no_page)
			emit(r, CHK_S1, e, false, "PAE root entry reaching no shadow page",
			     "entry %d of the vCPU's %s 0x%" PRIx64 " = 0x%016" PRIx64 ": table 0x%" PRIx64
			     " is no shadow page of the VM (KVM puts one there, mmu_alloc_root); not walked",
			     e->index, special, e->table_pa, e->spte, walk_bits(e)->pfn << 12);
		return 0;
	}
	switch (e->kind) {
	case SPTE_GARBAGE:
		emit(r, CHK_S1, e, false, "garbage entry", "entry %d of table 0x%" PRIx64 " = 0x%016"
		     PRIx64 ": not empty, not MMIO, not frozen, %s", e->index, e->table_pa, e->spte,
		     r->H->masks.era0 ? "neither hardware-present nor access-tracked (no MMU-present "
					"bit in this kernel)" : "bit 11 (MMU-present) clear");
		return 0;
	case SPTE_FROZEN:
		check_frozen(r, e);
		return 0;
	case SPTE_MMIO:
		if (r->o->enabled[CHK_S1])
			check_mmio(r, e);
		return 0;
	case SPTE_PRESENT:
		break;
	default:
		return 0;
	}
	if (walk_bits(e)->leaf) {
		check_leaf(r, e);
		if (r->o->enabled[CHK_S15])
			check_shadowed(r, e);
		return 0;
	}
	/* S6 is the TDP MMU's invariant (tdp_mmu_page, role of the root) */
	if (r->L->have_sp_check && e->root->mmu == KVM_MMU_TDP && !e->root->invalid &&
	    r->o->enabled[CHK_S6])
		check_child(r, e);
	return 0;
}

static void check_vm_level(struct run *r)
{
	const struct vm_books *b = r->b;
	const struct kvm_vm *vm = b->vm;
	size_t logged = 0;
	for (size_t i = 0; i < vm->nslots; i++) {
		const struct kvm_memslot *s = &b->slots[i];
		bool is_logged = s->flags & KVM_MEM_LOG_DIRTY_PAGES;
		logged += is_logged;
		const uint64_t *bm = b->bitmaps[i];
		char ev[160];
		snprintf(ev, sizeof(ev), "slot %d (as %d): flags 0x%x, dirty_bitmap 0x%" PRIx64 ", npages %"
			 PRIu64, s->id, s->as_id, s->flags, s->dirty_bitmap, s->npages);
		if (is_logged && !s->dirty_bitmap && !b->ring_mode)
			emit(r, CHK_D4, NULL, b->slots_lock_held, "dirty-logged slot without a bitmap", "%s", ev);
		else if (!is_logged && s->dirty_bitmap)
			emit(r, CHK_D4, NULL, b->slots_lock_held, "bitmap on a slot that is not logged", "%s", ev);
		if (bm && s->npages % 64 && bm[s->npages / 64] >> (s->npages % 64))
			emit(r, CHK_D4, NULL, false, "dirty bits set past npages", "%s; last word 0x%016" PRIx64,
			     ev, bm[s->npages / 64]);
	}
	if (b->have_nr_logging && b->nr_logging != logged)
		emit(r, CHK_D5, NULL, b->slots_lock_held, "nr_memslots_dirty_logging disagrees",
		     "kvm->nr_memslots_dirty_logging = %u, %zu slots have LOG_DIRTY_PAGES", b->nr_logging,
		     logged);
	char ev5[256];
	if (b->pml.have_count && pml_count_judge(b->pml.count, b->pml.count_at, logged, ev5, sizeof(ev5)))
		emit(r, CHK_D5, NULL, b->slots_lock_held, "cpu_dirty_logging_count disagrees", "%s", ev5);
	for (int i = 0; i < b->nring_bad; i++)
		emit(r, CHK_D6, NULL, false, "dirty ring indices or entries out of range", "%s",
		     b->ring_bad[i]);
	for (size_t i = 0; i < vm->nvcpus; i++) {
		uint64_t hpa = vm->vcpus[i].root_hpa;
		if (hpa == UINT64_MAX || hpa == 0)
			continue;
		bool found = false;
		for (size_t k = 0; k < vm->nroots; k++)
			found |= vm->roots[k].spt_pa == hpa;
		/* a root that may be a PAE root nobody could read: said
		 * (kobj/shadow.c), not judged */
		if (!found && !vm->shadow.pae_unknown)
			emit(r, CHK_S14, NULL, false, "vCPU root neither on tdp_mmu_roots nor a shadow page",
			     "vCPU %d mmu->root.hpa = 0x%" PRIx64 ", mode %d; %zu roots listed",
			     vm->vcpus[i].idx, hpa, vm->vcpus[i].mode, vm->nroots);
	}
}

/* S16-S18: the shadow MMU's tables against its own books (kobj/rmap.c),
 * what the kernel's MMU audit (mmu_audit.c, removed in 5.15) checked. */
struct sb_leaf {
	uint64_t sptep, gfn, spte;
	uint32_t page;
	uint16_t index;
};
struct sb_link {
	uint64_t sptep, spte;
	uint32_t parent, child;
	uint16_t index;
};
struct sbooks {
	struct run *r;
	const struct kvm_vm *vm;
	struct kvm_shadow_books B;
	struct sb_leaf *leaves;
	size_t nleaves, capleaves;
	struct sb_link *links;	/* sorted by sptep */
	size_t nlinks, caplinks;
	int *reach;		/* per page: the first root reaching it, -1 none */
	bool busy;		/* mmu_lock held: a change may be half-done */
	/* The walk's entries feed the books, so that a summary reads every
	 * table once: per page the root walk that took it (0: none; the page
	 * is read on its own afterwards) and the last entry index taken. */
	uint32_t *fed_by;
	int16_t *fed_last;
	uint32_t walk_id;
	bool fed_ok;		/* false: what the walk gave is dropped, all pages read */
};

static int sb_leaf_cmp(const void *a, const void *b)
{
	const struct sb_leaf *x = a, *y = b;
	return x->sptep < y->sptep ? -1 : x->sptep > y->sptep;
}

static int sb_link_cmp(const void *a, const void *b)
{
	const struct sb_link *x = a, *y = b;
	return x->sptep < y->sptep ? -1 : x->sptep > y->sptep;
}

static bool sb_grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 256;
	void *q = realloc(*p, c * size);
	if (!q)
		return false;
	*p = q;
	*cap = c;
	return true;
}

/* What entry V of shadow page SP is to the books: 0 nothing, 1 a link to
 * child page *CHILD, 2 a leaf. */
static int sb_kind(const struct sbooks *sb, const struct kvm_shadow_page *sp, uint64_t v,
		   const struct kvm_shadow_page **child)
{
	struct spte_bits bt;
	spte_decode(&sb->r->H->masks, v, sp->level, &bt);
	if (bt.kind != SPTE_PRESENT)
		return 0;
	if (!bt.leaf) {
		*child = kvm_shadow_find(&sb->vm->shadow, v & sb->r->H->masks.address);
		return *child ? 1 : 0; /* not a shadow page: the walk reports it */
	}
	if (sp->level >= 4 || sp->level > sb->r->H->max_huge_page_level)
		return 0; /* a leaf KVM cannot make: S5's */
	return 2;
}

static bool sb_add_link(struct sbooks *sb, size_t page, int j, uint64_t v, size_t child)
{
	if (!sb_grow((void **)&sb->links, &sb->caplinks, sb->nlinks, sizeof(*sb->links)))
		return false;
	sb->links[sb->nlinks++] = (struct sb_link){ sb->vm->shadow.pages[page].spt + (uint64_t)j * 8, v,
						    (uint32_t)page, (uint32_t)child, (uint16_t)j };
	return true;
}

static bool sb_add_leaf(struct sbooks *sb, size_t page, int j, uint64_t v, uint64_t gfn)
{
	if (!sb_grow((void **)&sb->leaves, &sb->capleaves, sb->nleaves, sizeof(*sb->leaves)))
		return false;
	sb->leaves[sb->nleaves++] = (struct sb_leaf){ sb->vm->shadow.pages[page].spt + (uint64_t)j * 8,
						      gfn, v, (uint32_t)page, (uint16_t)j };
	return true;
}

/* An entry of the check walk: taken into the books if its page's table
 * is whole in this walk (entries come in index order, each table once a
 * root walk; a page an earlier root's walk took is not taken again).
 * Anything else the walk meets (a loop, an unreadable table or gfns, a
 * table the walk cut) drops the walk's part: every page is read again. */
static void sb_feed(struct sbooks *sb, const struct walk_entry *e)
{
	if (!sb->fed_ok || e->root->mmu != KVM_MMU_SHADOW)
		return;
	if (e->event != WALK_ENTRY) {
		sb->fed_ok = false;
		return;
	}
	if (!e->sp || e->index < 0 || e->index >= 512)
		return;
	const struct kvm_shadow *S = &sb->vm->shadow;
	size_t i = (size_t)(e->sp - S->pages);
	if (sb->fed_by[i] && (sb->fed_by[i] != sb->walk_id || e->index <= sb->fed_last[i]))
		return;
	sb->fed_by[i] = sb->walk_id;
	sb->fed_last[i] = (int16_t)e->index;
	const struct kvm_shadow_page *c = NULL;
	int k = sb_kind(sb, e->sp, e->spte, &c);
	if ((k == 1 && !sb_add_link(sb, i, e->index, e->spte, (size_t)(c - S->pages))) ||
	    (k == 2 && !sb_add_leaf(sb, i, e->index, e->spte, e->gfn)))
		sb->fed_ok = false;
}

/* Every present entry of every shadow page: leaves (with the gfn KVM keys
 * the rmap on) and links to child pages.  Pages the walk gave are not
 * read again. */
static struct err *sb_collect(struct sbooks *sb)
{
	const struct kvm_shadow *S = &sb->vm->shadow;
	struct target *T = sb->r->T;
	uint64_t *tbl = malloc(4096), *gfns = malloc(512 * 8);
	struct err *e = NULL;
	if (!tbl || !gfns) {
		e = err_new(ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!sb->fed_ok) {
		sb->nleaves = sb->nlinks = 0;
		if (sb->fed_by)
			memset(sb->fed_by, 0, S->npages * sizeof(*sb->fed_by));
	}
	for (size_t i = 0; i < S->npages; i++) {
		const struct kvm_shadow_page *sp = &S->pages[i];
		if (sb->fed_by && sb->fed_by[i])
			continue;
		struct err *re = kvm_shadow_table(T, sp, tbl);
		if (re) {
			char ctx[96];
			snprintf(ctx, sizeof(ctx), "VM %d: S16-S18: shadow page 0x%" PRIx64, sb->vm->pid,
				 sp->sp);
			notes_add_err(&sb->r->H->notes, re, ctx);
			continue;
		}
		bool have_gfns = false;
		for (int j = 0; j < 512; j++) {
			const struct kvm_shadow_page *c = NULL;
			int k = sb_kind(sb, sp, tbl[j], &c);
			if (k == 1 && !sb_add_link(sb, i, j, tbl[j], (size_t)(c - S->pages))) {
				e = err_new(ERR_NOMEM, "out of memory");
				goto out;
			}
			if (k != 2)
				continue;
			if (!have_gfns) {
				if ((re = kvm_shadow_gfns(T, sp, gfns))) {
					char ctx[64];
					snprintf(ctx, sizeof(ctx), "VM %d: S16", sb->vm->pid);
					notes_add_err(&sb->r->H->notes, re, ctx);
					break;
				}
				have_gfns = true;
			}
			if (!sb_add_leaf(sb, i, j, tbl[j], gfns[j])) {
				e = err_new(ERR_NOMEM, "out of memory");
				goto out;
			}
		}
	}
	if (sb->nleaves > 1)
		qsort(sb->leaves, sb->nleaves, sizeof(*sb->leaves), sb_leaf_cmp);
	if (sb->nlinks > 1)
		qsort(sb->links, sb->nlinks, sizeof(*sb->links), sb_link_cmp);
	/* which root reaches each page: depth-first over the links, bounded
	 * by the page count (each page is entered once) */
	size_t np = S->npages ? S->npages : 1;
	sb->reach = malloc(np * sizeof(*sb->reach));
	size_t *stack = malloc(np * sizeof(*stack));
	/* the links by parent (a counting sort): first[p] .. first[p + 1] */
	size_t *first = calloc(np + 1, sizeof(*first));
	uint32_t *by_parent = malloc((sb->nlinks ? sb->nlinks : 1) * sizeof(*by_parent));
	if (!sb->reach || !stack || !first || !by_parent) {
		free(stack);
		free(first);
		free(by_parent);
		e = err_new(ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t l = 0; l < sb->nlinks; l++)
		first[sb->links[l].parent + 1]++;
	for (size_t i = 0; i < S->npages; i++)
		first[i + 1] += first[i];
	for (size_t l = 0; l < sb->nlinks; l++)
		by_parent[first[sb->links[l].parent]++] = sb->links[l].child;
	for (size_t i = S->npages; i > 0; i--) /* undo the advance of the fill */
		first[i] = first[i - 1];
	first[0] = 0;
	for (size_t i = 0; i < S->npages; i++)
		sb->reach[i] = -1;
	for (size_t k = 0; k < sb->vm->nroots; k++) {
		const struct kvm_root *root = &sb->vm->roots[k];
		if (root->mmu != KVM_MMU_SHADOW)
			continue;
		/* a special root is no page: its PAE entries' pages are the tops */
		size_t n = 0;
		for (int c = 0; c < (root->special != ROOT_SP ? SPTE_PAE_ENTRIES : 1); c++) {
			const struct kvm_shadow_page *rp = kvm_shadow_find(
				S, root->special != ROOT_SP ? root->pae_child[c] : root->spt_pa);
			if (!rp || sb->reach[rp - S->pages] >= 0)
				continue;
			stack[n++] = (size_t)(rp - S->pages);
			sb->reach[rp - S->pages] = (int)k;
		}
		while (n) {
			size_t p = stack[--n];
			for (size_t l = first[p]; l < first[p + 1]; l++)
				if (sb->reach[by_parent[l]] < 0) {
					sb->reach[by_parent[l]] = (int)k;
					stack[n++] = by_parent[l];
				}
		}
	}
	free(stack);
	free(first);
	free(by_parent);
out:
	free(tbl);
	free(gfns);
	return e;
}

/* A finding about one entry of shadow page PAGE. */
static void sb_emit(struct sbooks *sb, enum check_id id, size_t page, int level, uint64_t gfn,
		    uint64_t spte, const char *msg, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void sb_emit(struct sbooks *sb, enum check_id id, size_t page, int level, uint64_t gfn,
		    uint64_t spte, const char *msg, const char *fmt, ...)
{
	struct walk_entry e;
	memset(&e, 0, sizeof(e));
	e.event = WALK_ENTRY;
	int k = page < sb->vm->shadow.npages ? sb->reach[page] : -1;
	e.gfn = gfn;
	walk_entry_set_spte(&e, &sb->r->H->masks, spte, level); /* a shadow page's entry */
	e.root = k >= 0 ? &sb->vm->roots[k] : NULL;
	char ev[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev, sizeof(ev), fmt, ap);
	va_end(ap);
	emit(sb->r, id, &e, sb->busy, msg, "%s%s%s", ev, k < 0 ? "; no root reaches the page" : "",
	     sb->busy ? "; mmu_lock held: a change may be in flight" : "");
}

static const struct sb_leaf *sb_leaf_at(const struct sbooks *sb, uint64_t sptep)
{
	size_t lo = ARRAY_LOWER_BOUND(sb->leaves, sb->nleaves, sptep, sptep);
	return lo < sb->nleaves && sb->leaves[lo].sptep == sptep ? &sb->leaves[lo] : NULL;
}

static const struct sb_link *sb_link_at(const struct sbooks *sb, uint64_t sptep)
{
	size_t lo = ARRAY_LOWER_BOUND(sb->links, sb->nlinks, sptep, sptep);
	return lo < sb->nlinks && sb->links[lo].sptep == sptep ? &sb->links[lo] : NULL;
}

/* The kvm_rmap_head of GFN at LEVEL in slot S, and its value: for evidence. */
static void sb_head(const struct sbooks *sb, const struct kvm_memslot *s, int level, uint64_t gfn,
		    char *out, size_t n)
{
	for (size_t i = 0; i < sb->vm->nslots; i++) {
		const struct kvm_memslot *v = &sb->vm->slots[i];
		if (v->id != s->id || v->as_id != s->as_id)
			continue;
		unsigned shift = 9 * (unsigned)(level - 1);
		uint64_t arr = level <= sb->B.slots[i].nlevels ? sb->B.slots[i].arr[level - 1] : 0;
		uint64_t head = arr + ((gfn >> shift) - (s->base_gfn >> shift)) * 8, val = 0;
		if (!arr)
			snprintf(out, n, "slot %d has no level-%d rmap", s->id, level);
		else if (!kvm_shadow_peek(sb->r->T, head, &val))
			snprintf(out, n, "slot %d rmap head 0x%" PRIx64 " unreadable", s->id, head);
		else
			snprintf(out, n, "slot %d level-%d rmap head 0x%" PRIx64 " = 0x%" PRIx64, s->id,
				 level, head, val);
		return;
	}
	snprintf(out, n, "slot %d", s->id);
}

/* S16: every present leaf is on the rmap of its gfn at its level, and every
 * rmap entry is such a leaf. */
static void sb_rmaps(struct sbooks *sb)
{
	const struct kvm_shadow *S = &sb->vm->shadow;
	const struct kvm_shadow_books *B = &sb->B;
	for (size_t i = 0; i < sb->nleaves; i++) {
		const struct sb_leaf *l = &sb->leaves[i];
		const struct kvm_shadow_page *sp = &S->pages[l->page];
		const struct kvm_memslot *s = books_slot(sb->r->b, sp->smm, l->gfn);
		if (!s)
			continue; /* outside every memslot: S9 */
		unsigned shift = 9 * (unsigned)(sp->level - 1);
		size_t n, k = kvm_rmap_find(B, l->sptep, &n);
		bool ok = false;
		for (size_t m = k; m < k + n && !ok; m++)
			ok = B->rmap[m].as_id == s->as_id && B->rmap[m].slot == s->id &&
			     B->rmap[m].level == sp->level && B->rmap[m].gfn >> shift == l->gfn >> shift;
		if (ok)
			continue;
		char head[160];
		sb_head(sb, s, sp->level, l->gfn, head, sizeof(head));
		sb_emit(sb, CHK_S16, l->page, sp->level, l->gfn, l->spte,
			"present shadow leaf missing from its gfn's rmap",
			"entry %u of shadow page 0x%" PRIx64 " (sptep 0x%" PRIx64 ") is not on the rmap: %s%s",
			l->index, sp->sp, l->sptep, head,
			n ? "; the sptep is on the rmap of another gfn or level" : "");
	}
	for (size_t k = 0; k < B->nrmap; k++) {
		const struct kvm_rmap_entry *re = &B->rmap[k];
		if (k && B->rmap[k - 1].sptep == re->sptep && B->rmap[k - 1].head == re->head) {
			sb_emit(sb, CHK_S16, SIZE_MAX, re->level, re->gfn, 0, "sptep listed twice on one rmap",
				"slot %d rmap head 0x%" PRIx64 " holds sptep 0x%" PRIx64 " twice", re->slot,
				re->head, re->sptep);
			continue;
		}
		const struct sb_leaf *l = sb_leaf_at(sb, re->sptep);
		if (l) {
			const struct kvm_shadow_page *sp = &S->pages[l->page];
			unsigned shift = 9 * (unsigned)(re->level - 1);
			if (sp->level == re->level && sp->smm == re->as_id && l->gfn >> shift == re->gfn >> shift)
				continue;
			sb_emit(sb, CHK_S16, l->page, re->level, re->gfn, l->spte,
				"rmap entry whose leaf maps another gfn or level",
				"slot %d level-%d rmap head 0x%" PRIx64 " (gfn 0x%" PRIx64 ") holds sptep 0x%"
				PRIx64 ": entry %u of shadow page 0x%" PRIx64 ", a level-%d leaf of gfn 0x%"
				PRIx64 " (as %d)", re->slot, re->level, re->head, re->gfn, re->sptep, l->index,
				sp->sp, sp->level, l->gfn, sp->smm);
			continue;
		}
		/* not a leaf we know: say what it points at */
		uint64_t v = 0;
		const struct kvm_shadow_page *sp = kvm_shadow_page_at(sb->r->T, S, re->sptep);
		bool read = sp && kvm_shadow_peek(sb->r->T, re->sptep, &v);
		if (read) {
			struct spte_bits bt;
			spte_decode(&sb->r->H->masks, v, sp->level, &bt);
			if (bt.kind == SPTE_GARBAGE || bt.kind == SPTE_FROZEN)
				continue; /* S1's and S7's: one damaged entry, one finding */
		}
		char what[160];
		if (!sp)
			snprintf(what, sizeof(what), "no shadow page's table");
		else if (!read)
			snprintf(what, sizeof(what), "an unreadable entry of shadow page 0x%" PRIx64, sp->sp);
		else
			snprintf(what, sizeof(what), "entry %u of shadow page 0x%" PRIx64 " = 0x%" PRIx64
				 " (%s)", (unsigned)((re->sptep & 0xfff) / 8), sp->sp, v,
				 v ? "not a present leaf" : "empty");
		sb_emit(sb, CHK_S16, sp ? (size_t)(sp - S->pages) : SIZE_MAX, re->level, re->gfn, v,
			"rmap entry that is not a present leaf",
			"slot %d level-%d rmap head 0x%" PRIx64 " (gfn 0x%" PRIx64 ") holds sptep 0x%" PRIx64
			", %s", re->slot, re->level, re->head, re->gfn, re->sptep, what);
	}
}

/* S17: only 4K guest page tables go unsync, and every page above an unsync
 * one has it marked: kvm_mmu_mark_parents_unsync() sets the parent's
 * unsync_child_bitmap bit and counts it in unsync_children, up to the root;
 * link_shadow_page() marks a new parent of such a page.  Bits are cleared
 * lazily (a synced or zapped child leaves its bit until the next sync walk),
 * so a set bit over a synced child is normal; the count always equals the
 * bits set. */
static void sb_unsync(struct sbooks *sb)
{
	const struct kvm_shadow *S = &sb->vm->shadow;
	const struct kvm_shadow_books *B = &sb->B;
	for (size_t i = 0; i < S->npages; i++) {
		const struct kvm_shadow_page *sp = &S->pages[i];
		if (sp->unsync && (sp->level != 1 || sp->direct))
			sb_emit(sb, CHK_S17, i, sp->level, sp->gfn, 0, "unsync page that is not a 4K guest page table",
				"shadow page 0x%" PRIx64 ": unsync with role level %d, direct %d", sp->sp,
				sp->level, sp->direct);
		if (!B->bitmap_ok)
			continue;
		uint32_t bits = 0;
		for (int w = 0; w < 8; w++)
			bits += (uint32_t)__builtin_popcountll(B->bitmap[i][w]);
		if (bits != sp->unsync_children)
			sb_emit(sb, CHK_S17, i, sp->level, sp->gfn, 0,
				"unsync_children disagrees with unsync_child_bitmap",
				"shadow page 0x%" PRIx64 ": unsync_children %u, %u bits set in unsync_child_bitmap",
				sp->sp, sp->unsync_children, bits);
	}
	for (size_t l = 0; l < sb->nlinks && B->bitmap_ok; l++) {
		const struct sb_link *k = &sb->links[l];
		const struct kvm_shadow_page *c = &S->pages[k->child], *p = &S->pages[k->parent];
		if (!c->unsync && !c->unsync_children)
			continue;
		if (B->bitmap[k->parent][k->index / 64] >> (k->index % 64) & 1)
			continue;
		sb_emit(sb, CHK_S17, k->parent, p->level, c->gfn, k->spte,
			"unsync child not marked in its parent's unsync_child_bitmap",
			"shadow page 0x%" PRIx64 " (%s, unsync_children %u) is linked by entry %u of 0x%" PRIx64
			", whose unsync_child_bitmap bit %u is clear (unsync_children %u)", c->sp,
			c->unsync ? "unsync" : "sync", c->unsync_children, k->index, p->sp, k->index,
			p->unsync_children);
	}
}

/* S18: the entries that link a page and its parent_ptes agree both ways.  A
 * page that no entry links may stay on active_mmu_pages (mmu_page_zap_pte
 * keeps parentless pages for reuse); one whose parent_ptes name entries that
 * no longer link it has been cut off without KVM knowing. */
static void sb_parents(struct sbooks *sb)
{
	const struct kvm_shadow *S = &sb->vm->shadow;
	const struct kvm_shadow_books *B = &sb->B;
	for (size_t l = 0; l < sb->nlinks; l++) {
		const struct sb_link *k = &sb->links[l];
		if (kvm_parent_has(B, k->child, k->sptep))
			continue;
		const struct kvm_shadow_page *c = &S->pages[k->child], *p = &S->pages[k->parent];
		sb_emit(sb, CHK_S18, k->child, p->level, c->gfn, k->spte,
			"entry links a shadow page whose parent_ptes do not list it",
			"entry %u of shadow page 0x%" PRIx64 " (sptep 0x%" PRIx64 ") links shadow page 0x%"
			PRIx64 ", whose parent_ptes (%zu entries) lack it", k->index, p->sp, k->sptep, c->sp,
			B->nparents_of[k->child]);
	}
	for (size_t i = 0; i < B->nparents; i++) {
		const struct kvm_parent_pte *pp = &B->parents[i];
		const struct sb_link *k = sb_link_at(sb, pp->sptep);
		if (k && k->child == pp->page)
			continue;
		const struct kvm_shadow_page *c = &S->pages[pp->page];
		uint64_t v = 0;
		bool read = kvm_shadow_peek(sb->r->T, pp->sptep, &v);
		if (read && !k && (v & sb->r->H->masks.address) == c->spt_pa && v)
			continue; /* still holds the page's table, with bits S1/S5 report */
		char what[128];
		if (k)
			snprintf(what, sizeof(what), "it links shadow page 0x%" PRIx64, S->pages[k->child].sp);
		else if (!read)
			snprintf(what, sizeof(what), "it is unreadable");
		else
			snprintf(what, sizeof(what), "it holds 0x%" PRIx64 ", no link to a shadow page", v);
		sb_emit(sb, CHK_S18, pp->page, c->level, c->gfn, 0,
			"parent_ptes names an entry that does not link the page",
			"shadow page 0x%" PRIx64 " (%s, root_count %d) lists parent sptep 0x%" PRIx64 "; %s",
			c->sp, c->obsolete ? "obsolete" : "live", c->root_count, pp->sptep, what);
	}
}

/* S16-S18 for VM, if asked and its books were read: *SB set up to take
 * the check walk's entries (the walk of every gfn only: a cut walk cuts
 * tables).  False: nothing to judge. */
static bool sb_begin(struct run *r, const struct kvm_vm *vm, struct sbooks *sb)
{
	const struct check_opts *o = r->o;
	if (!vm->shadow.npages || !(o->enabled[CHK_S16] || o->enabled[CHK_S17] || o->enabled[CHK_S18]))
		return false;
	if (!r->sbk)
		return false; /* unreadable: noted when loaded */
	*sb = (struct sbooks){ .r = r, .vm = vm, .busy = r->b->mmu_lock_held, .B = *r->sbk };
	sb->fed_ok = o->range.gfn_lo == 0 && o->range.gfn_hi >= WALK_GFN_ALL;
	if (sb->fed_ok) {
		sb->fed_by = calloc(vm->shadow.npages, sizeof(*sb->fed_by));
		sb->fed_last = calloc(vm->shadow.npages, sizeof(*sb->fed_last));
		sb->fed_ok = sb->fed_by && sb->fed_last;
	}
	return true;
}

static void check_shadow_books(struct sbooks *sb)
{
	struct run *r = sb->r;
	const struct check_opts *o = r->o;
	const struct kvm_vm *vm = sb->vm;
	struct err *e = sb_collect(sb);
	if (e) {
		char ctx[64];
		snprintf(ctx, sizeof(ctx), "VM %d: S16-S18", vm->pid);
		notes_add_err(&r->H->notes, e, ctx);
		goto out;
	}
	if (!sb->B.rmap_ok && o->enabled[CHK_S16])
		notes_add(&r->H->notes, "VM %d: S16 not judged: rmaps: %s", vm->pid, sb->B.rmap_why);
	else if (o->enabled[CHK_S16])
		sb_rmaps(sb);
	if (!sb->B.bitmap_ok && o->enabled[CHK_S17])
		notes_add(&r->H->notes, "VM %d: S17 judged without unsync_child_bitmap (unreadable or "
			  "not in the type info)", vm->pid);
	if (o->enabled[CHK_S17])
		sb_unsync(sb);
	if (!sb->B.parents_ok && o->enabled[CHK_S18])
		notes_add(&r->H->notes, "VM %d: S18 not judged: parent_ptes: %s", vm->pid, sb->B.parents_why);
	else if (o->enabled[CHK_S18])
		sb_parents(sb);
out:
	free(sb->leaves);
	free(sb->links);
	free(sb->reach);
	free(sb->fed_by);
	free(sb->fed_last);
}

/* S19: the VM's shadow pages and mmu_page_hash (kobj/sphash.c) agree both
 * ways.  A page leaves the hash only when freed, so every page the lists or
 * a vCPU hold is on it. */
static void hash_emit(struct run *r, uint64_t gfn, int level, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void hash_emit(struct run *r, uint64_t gfn, int level, const char *msg, const char *fmt, ...)
{
	struct walk_entry e;
	memset(&e, 0, sizeof(e));
	e.event = WALK_ENTRY;
	e.gfn = gfn;
	walk_entry_set_spte(&e, &r->H->masks, 0, level);
	char ev[448];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev, sizeof(ev), fmt, ap);
	va_end(ap);
	bool busy = r->b->mmu_lock_held;
	emit(r, CHK_S19, &e, busy, msg, "%s%s", ev, busy ? "; mmu_lock held: a change may be in flight" : "");
}

static const char *sp_list_name(enum kvm_sp_list l)
{
	return l == SP_ACTIVE ? "on active_mmu_pages" : l == SP_ZAPPED ? "on zapped_obsolete_pages"
								  : "on no list, held by a vCPU";
}

static void check_hash(struct run *r, const struct kvm_vm *vm)
{
	const struct kvm_shadow *S = &vm->shadow;
	struct kvm_sp_hash h;
	struct err *e = kvm_sp_hash_load(r->T, vm, &h);
	if (e) {
		char ctx[64];
		snprintf(ctx, sizeof(ctx), "VM %d: S19", vm->pid);
		notes_add_err(&r->H->notes, e, ctx);
		goto out;
	}
	if (h.state == HASH_UNKNOWN) {
		if (S->npages || h.any)
			notes_add(&r->H->notes, "VM %d: S19 not judged: %s", vm->pid, h.why);
		goto out;
	}
	if (h.state == HASH_NULL) {
		for (size_t i = 0; i < S->npages; i++) {
			const struct kvm_shadow_page *sp = &S->pages[i];
			hash_emit(r, sp->gfn, sp->level, "shadow page while mmu_page_hash is NULL",
				  "shadow page 0x%" PRIx64 " (gfn 0x%" PRIx64 ", %s) exists but "
				  "kvm->arch.mmu_page_hash was never allocated", sp->sp, sp->gfn,
				  sp_list_name(sp->list));
		}
		goto out;
	}
	if (h.ncut)
		notes_add(&r->H->notes, "VM %d: S19: %s; %u mmu_page_hash bucket(s) not judged", vm->pid,
			  h.cut_why, h.ncut);
	uint32_t *seen = calloc(S->npages ? S->npages : 1, sizeof(*seen));
	uint32_t *per_bucket = calloc(h.nbuckets, sizeof(*per_bucket));
	if (!seen || !per_bucket) {
		free(seen);
		free(per_bucket);
		notes_add(&r->H->notes, "VM %d: S19: out of memory", vm->pid);
		goto out;
	}
	for (size_t k = 0; k < h.n; k++)
		per_bucket[h.e[k].bucket]++;
	size_t unjudged = 0;
	for (size_t k = 0; k < h.n; k++) {
		const struct kvm_hash_entry *x = &h.e[k];
		uint64_t head = h.addr + (uint64_t)x->bucket * 8;
		if (x->page != SIZE_MAX) {
			const struct kvm_shadow_page *sp = &S->pages[x->page];
			uint32_t want = kvm_sp_hash_bucket(&h, sp->gfn);
			if (seen[x->page]++ == 1)
				hash_emit(r, sp->gfn, sp->level, "shadow page on mmu_page_hash twice",
					  "shadow page 0x%" PRIx64 " (gfn 0x%" PRIx64 ") met again on bucket %u "
					  "(0x%" PRIx64 ") at position %u", sp->sp, sp->gfn, x->bucket, head, x->pos);
			else if (x->bucket != want)
				hash_emit(r, sp->gfn, sp->level, "shadow page on the wrong mmu_page_hash bucket",
					  "shadow page 0x%" PRIx64 " (gfn 0x%" PRIx64 ", %s) is on bucket %u (0x%"
					  PRIx64 ") at position %u; hash_64(gfn, %u) = bucket %u (0x%" PRIx64 ")",
					  sp->sp, sp->gfn, sp_list_name(sp->list), x->bucket, head, x->pos, h.shift,
					  want, h.addr + (uint64_t)want * 8);
			else if (!x->pprev_ok)
				hash_emit(r, sp->gfn, sp->level, "hash_link.pprev does not point back",
					  "shadow page 0x%" PRIx64 " (gfn 0x%" PRIx64 ") on bucket %u (0x%" PRIx64
					  ") at position %u: hash_link.pprev = 0x%" PRIx64 ", not the link that "
					  "leads to it (unhashing it would write there)", sp->sp, sp->gfn,
					  x->bucket, head, x->pos, x->pprev);
			continue;
		}
		/* With the lists not read whole, a page off them proves nothing. */
		if (!S->lists_read) {
			unjudged++;
			continue;
		}
		/* An invalid root that is still referenced: unlinked from the list
		 * by the zap, unhashed when freed with its last reference. */
		if (x->read && x->pprev_ok && !x->tdp && x->invalid && x->root_count > 0 &&
		    kvm_sp_hash_bucket(&h, x->gfn) == x->bucket)
			continue;
		char what[200];
		if (!x->read)
			snprintf(what, sizeof(what), "its kvm_mmu_page is unreadable%s",
				 x->pprev_ok ? "" : " and its pprev does not point back");
		else if (!x->pprev_ok)
			snprintf(what, sizeof(what), "its hash_link.pprev = 0x%" PRIx64 " does not point back; "
				 "gfn 0x%" PRIx64 ", level %d, role.invalid %d, root_count %d", x->pprev, x->gfn,
				 x->level, x->invalid, x->root_count);
		else if (x->tdp)
			snprintf(what, sizeof(what), "a TDP MMU page (gfn 0x%" PRIx64 ")", x->gfn);
		else
			snprintf(what, sizeof(what), "gfn 0x%" PRIx64 " (bucket %u), level %d, role.invalid %d, "
				 "root_count %d: on no list of the VM and not a referenced invalid root", x->gfn,
				 kvm_sp_hash_bucket(&h, x->gfn), x->level, x->invalid, x->root_count);
		hash_emit(r, x->read ? x->gfn : 0, x->read ? x->level : 0,
			  "mmu_page_hash entry that is no shadow page of the VM",
			  "bucket %u (0x%" PRIx64 ") position %u: hash_link 0x%" PRIx64 ", kvm_mmu_page 0x%"
			  PRIx64 ": %s", x->bucket, head, x->pos, x->node, x->sp, what);
	}
	if (unjudged)
		notes_add(&r->H->notes, "VM %d: S19: %zu mmu_page_hash entries on no list not judged "
			  "(the shadow page lists were not read whole)", vm->pid, unjudged);
	for (size_t i = 0; i < S->npages; i++) {
		const struct kvm_shadow_page *sp = &S->pages[i];
		uint32_t want = kvm_sp_hash_bucket(&h, sp->gfn);
		if (seen[i] || h.cut[want])
			continue; /* a cut bucket may hold it past the cut: not judged */
		hash_emit(r, sp->gfn, sp->level, "shadow page not on mmu_page_hash",
			  "shadow page 0x%" PRIx64 " (gfn 0x%" PRIx64 ", level %d, %s, role.invalid %d, "
			  "root_count %d) is not on bucket %u (0x%" PRIx64 ", %u entries) nor any other",
			  sp->sp, sp->gfn, sp->level, sp_list_name(sp->list), sp->invalid, sp->root_count,
			  want, h.addr + (uint64_t)want * 8, per_bucket[want]);
	}
	free(seen);
	free(per_bucket);
out:
	kvm_sp_hash_free(&h);
}

/* A VM the checks skip is still walked for the tap. */
static int tap_only(void *arg, const struct walk_entry *e)
{
	const struct run *r = arg;
	r->tap->entry(r->tap->arg, r->vm, e);
	return 0;
}

/* The walk's read-ahead (spte_iter_more_fn): the VMM's 4K page tables
 * check_host will read for the 512 gfns from GFN, as check_leaf gets there
 * (a valid root, the gfn in a memslot of RAM the VMM maps, its mm alive). */
static size_t check_more(void *arg, uint64_t gfn, uint64_t *pa, size_t max)
{
	struct run *r = arg;
	const struct kvm_root *root = r->root;
	if (!root || root->invalid || root->shadow || r->b->mm_gone || max < 2)
		return 0;
	const struct kvm_memslot *s = books_slot(r->b, root->smm, gfn);
	if (!s || (s->flags & (KVM_MEM_GUEST_MEMFD | KVM_MEMSLOT_INVALID)) ||
	    gfn - s->base_gfn >= s->npages)
		return 0;
	uint64_t tail = SPTE_ITER_ENTRIES - 1; /* the gfns of one 4K-leaf table, after GFN */
	uint64_t last = gfn + tail - s->base_gfn < s->npages ? gfn + tail : s->base_gfn + s->npages - 1;
	uint64_t hva = s->userspace_addr + (gfn - s->base_gfn) * PAGE_SIZE;
	uint64_t hva_last = s->userspace_addr + (last - s->base_gfn) * PAGE_SIZE;
	size_t n = 0;
	if (host_leaf_table(&r->hw, r->b->pgd_pa, hva, &pa[n]))
		n++;
	if (hva_last >> HOST_PT_SPAN_SHIFT != hva >> HOST_PT_SPAN_SHIFT &&
	    host_leaf_table(&r->hw, r->b->pgd_pa, hva_last, &pa[n]))
		n++;
	return n;
}

static void walk_roots(struct run *r, const struct kvm_vm *vm, walk_fn fn)
{
	for (size_t k = 0; k < vm->nroots; k++) {
		if (r->o->root && r->o->root != kvm_root_id(&vm->roots[k]))
			continue;
		struct walk_stats ws = { 0 };
		if (r->sb)
			r->sb->walk_id = (uint32_t)k + 1;
		r->root = fn == check_entry ? &vm->roots[k] : NULL;
		struct err *we = walker_run(r->w, &r->H->masks, &vm->roots[k], &r->o->range, fn, r, &ws);
		r->root = NULL;
		if (we && r->sb)
			r->sb->fed_ok = false;
		if (r->tap && r->tap->root_done)
			r->tap->root_done(r->tap->arg, vm, &vm->roots[k], &ws, we ? we->msg : NULL);
		if (we)
			notes_add_err(&r->H->notes, we, "check walk");
	}
}

struct err *check_run(struct target *T, struct kvm_host *H, const struct check_opts *o,
		      finding_fn fn, void *arg, struct check_stats *stats)
{
	return check_run_tap(T, H, o, fn, arg, stats, NULL);
}

struct err *check_run_tap(struct target *T, struct kvm_host *H, const struct check_opts *o,
			  finding_fn fn, void *arg, struct check_stats *stats,
			  const struct check_tap *tap)
{
	struct books_layout L;
	struct err *e = books_layout_load(T, H, &L, &H->notes);
	if (e)
		return e;
	struct run r = { .T = T, .H = H, .o = o, .L = &L, .fn = fn, .arg = arg, .st = stats, .lvl_delta = 1,
			 .tap = tap };
	host_walker_init(&r.hw, T);
	r.pml = L.pml.in_use;
	struct walker *w = NULL;
	if ((e = walker_new(T, &w)))
		return e;
	r.w = w;
	r.live = dump_is_live(T->dump);
	if (dump_prefetching(T->dump))
		walker_set_more(w, check_more, &r);
	for (size_t i = 0; i < H->nvms && !e; i++) {
		struct kvm_vm *vm = &H->vms[i];
		if (o->vm_kvm ? o->vm_kvm != vm->addr : o->vm_pid >= 0 && o->vm_pid != vm->pid)
			continue;
		struct vm_books b;
		r.b = &b;
		r.slot_hint = NULL;
		r.vm = vm;
		struct err *be = books_load(T, &L, vm, &b, &H->notes);
		if (be) {
			notes_add(&H->notes, "VM %d: checks skipped: %s", vm->pid, be->msg);
			err_free(be);
			books_fini(&b);
			if (tap)
				walk_roots(&r, vm, tap_only);
			continue;
		}
		if (L.pml.per_vm) /* 7.x: PML is a per-VM choice */
			r.pml = b.pml.in_use;
		if (b.mm_gone)
			notes_add(&H->notes, "VM %d: the VMM's mm is gone (mm_users 0): H1-H5 skipped", vm->pid);
		shadowed_load(&r, vm);
		struct kvm_shadow_books sbk;
		r.sbk = NULL;
		if (vm->shadow.npages) {
			struct err *se = kvm_shadow_books_load(T, vm, &sbk);
			if (se) {
				char ctx[64];
				snprintf(ctx, sizeof(ctx), "VM %d: shadow MMU books", vm->pid);
				notes_add_err(&H->notes, se, ctx);
				kvm_shadow_books_free(&sbk);
			} else {
				r.sbk = &sbk;
			}
		}
		struct sbooks sb;
		r.sb = sb_begin(&r, vm, &sb) ? &sb : NULL;
		walk_roots(&r, vm, check_entry);
		r.vm_changed = -1;
		check_vm_level(&r);
		if (r.sb)
			check_shadow_books(r.sb);
		r.sb = NULL;
		if (o->enabled[CHK_S19])
			check_hash(&r, vm);
		if (r.sbk)
			kvm_shadow_books_free(&sbk);
		r.sbk = NULL;
		books_fini(&b);
	}
	walker_free(w);
	free(r.shadowed);
	return e;
}
