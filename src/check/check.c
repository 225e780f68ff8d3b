/* The runner: for each VM gather its books, stream every SPTE of every root
 * through the structural, dirty-log and host checks, then the VM-level ones. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dirty.h"
#include "kobj/books.h"
#include "mmu/host.h"
#include "mmu/walk.h"

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
	const struct check_tap *tap;	/* NULL: nobody looks on */
	const struct kvm_vm *vm;	/* the VM being walked, for the tap */
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
		f.bits = e->bits;
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
	const struct spte_bits *bt = &e->bits;
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
	enum d3_verdict v = d3_judge(r->b, s, e->level, e->gfn, &e->bits, r->pml, ev, sizeof(ev));
	if (v != D3_NONE)
		emit(r, CHK_D3, e, v == D3_INCONCLUSIVE, check_catalog[CHK_D3].title, "%s", ev);
}

static void check_leaf(struct run *r, const struct walk_entry *e)
{
	const struct spte_bits *bt = &e->bits;
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
	if (bt->ad_type == SPTE_AD_INVALID ||
	    (bt->ad_type != want && !(bt->ad_type == SPTE_AD_WRPROT_ONLY && root->guest_mode && r->pml)))
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

	const struct kvm_memslot *s = books_slot(b, root->smm, e->gfn);
	bool slots_busy = b->slots_lock_held || b->gen_updating;
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
	if ((bt->writable || bt->mmu_writable) && books_write_track(r->T, b, s, e->gfn, &count, &at) &&
	    count)
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
		char ev[256] = "";
		dirty_missed_evidence(b, s, e->gfn, ev, sizeof(ev));
		emit(r, CHK_D2, e, d2_unsure, "writable leaf whose gfn the dirty log missed", "%s", ev);
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
		const struct kvm_memslot *s = cur.bits.kind == SPTE_PRESENT && cur.bits.leaf
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
		cur.spte = now;
		spte_decode(&r->H->masks, now, cur.level, &cur.bits);
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
	if (!r->nshadowed || !e->bits.writable || root->invalid || root->obsolete)
		return;
	uint64_t n = walk_level_pages(e->level);
	uint64_t lo = e->gfn * 2 + (uint64_t)root->smm, hi = (e->gfn + n - 1) * 2 + (uint64_t)root->smm;
	size_t a = 0, b = r->nshadowed;
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (r->shadowed[mid].key < lo)
			a = mid + 1;
		else
			b = mid;
	}
	for (; a < r->nshadowed && r->shadowed[a].key <= hi; a++) {
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

static int check_entry(void *arg, const struct walk_entry *e)
{
	struct run *r = arg;
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

static int check_entry_once(struct run *r, const struct walk_entry *e)
{
	if (e->event != WALK_ENTRY) {
		char buf[512];
		walk_event_describe(e, r->b->vm->pid, buf, sizeof(buf));
		notes_add(&r->H->notes, "%s", buf);
		return 0;
	}
	switch (e->bits.kind) {
	case SPTE_GARBAGE:
		emit(r, CHK_S1, e, false, "garbage entry", "entry %d of table 0x%" PRIx64 " = 0x%016"
		     PRIx64 ": not empty, not MMIO, not frozen, %s", e->index, e->table_pa, e->spte,
		     r->H->masks.era0 ? "neither hardware-present nor access-tracked (no MMU-present "
					"bit in this kernel)" : "bit 11 (MMU-present) clear");
		return 0;
	case SPTE_FROZEN:
		check_frozen(r, e);
		return 0;
	case SPTE_PRESENT:
		break;
	default:
		return 0;
	}
	if (e->bits.leaf) {
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
		if (!found)
			emit(r, CHK_S14, NULL, false, "vCPU root neither on tdp_mmu_roots nor a shadow page",
			     "vCPU %d mmu->root.hpa = 0x%" PRIx64 ", mode %d; %zu roots listed",
			     vm->vcpus[i].idx, hpa, vm->vcpus[i].mode, vm->nroots);
	}
}

/* A VM the checks skip is still walked for the tap. */
static int tap_only(void *arg, const struct walk_entry *e)
{
	const struct run *r = arg;
	r->tap->entry(r->tap->arg, r->vm, e);
	return 0;
}

static void walk_roots(struct run *r, const struct kvm_vm *vm, walk_fn fn)
{
	for (size_t k = 0; k < vm->nroots; k++) {
		struct walk_stats ws = { 0 };
		struct err *we = walker_run(r->w, &r->H->masks, &vm->roots[k], NULL, fn, r, &ws);
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
	for (size_t i = 0; i < H->nvms && !e; i++) {
		struct kvm_vm *vm = &H->vms[i];
		struct vm_books b;
		r.b = &b;
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
		walk_roots(&r, vm, check_entry);
		r.vm_changed = -1;
		check_vm_level(&r);
		books_fini(&b);
	}
	walker_free(w);
	free(r.shadowed);
	return e;
}
