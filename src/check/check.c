/* The runner: for each VM gather its books, stream every SPTE of every root
 * through the structural, dirty-log and host checks, then the VM-level ones. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "books.h"
#include "mmu/walk.h"

struct run {
	struct target *T;
	struct kvm_host *H;
	const struct check_opts *o;
	const struct check_layout *L;
	finding_fn fn;
	void *arg;
	struct check_stats *st;
	struct vm_books *b;
	struct host_walker hw;
	uint64_t zero_pfn, huge_zero_pfn;
	int nx_huge_pages;
	bool pml, ad_always;	/* PML dirty logging; 6.13+ A/D semantics */
	uint8_t *sp_buf;
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
	if (id == CHK_D7 && r->ad_always && !r->pml)
		f.severity = SEV_ERROR; /* 6.13+ never makes W=1,D=0 without PML */
	if (f.severity < r->o->floor)
		return;
	if (r->dry) {
		r->dry_hits++;
		return;
	}
	if (r->live && !e && r->vm_changed < 0) {
		dump_live_stats(r->T->dump)->findings_rechecked++;
		r->vm_changed = kvm_vm_changed(r->T, r->b->vm, r->vm_why, sizeof(r->vm_why));
		if (r->vm_changed)
			dump_live_stats(r->T->dump)->findings_changed++;
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
	const struct check_layout *L = r->L;
	const struct spte_masks *m = &r->H->masks;
	uint64_t child = e->spte & m->address;
	uint64_t page = L->vmemmap_base + (child >> 12) * L->page_size;
	uint64_t sp;
	struct err *err = dump_read_u64(r->T->dump, page + member_off(&L->page_private), &sp);
	if (!err)
		err = dump_read_virt(r->T->dump, sp, r->sp_buf, L->sp_size);
	if (err) {
		emit(r, CHK_S6, e, false, "cannot read the child table's kvm_mmu_page",
		     "child table 0x%" PRIx64 ", struct page 0x%" PRIx64 ": %s", child, page, err->msg);
		err_free(err);
		return;
	}
	size_t n = L->sp_size;
	uint64_t spt = member_get(r->sp_buf, n, &L->sp_spt);
	uint64_t tdp = member_get(r->sp_buf, n, &L->sp_tdp);
	uint64_t level = member_get(r->sp_buf, n, &L->sp_level);
	uint64_t gfn = member_get(r->sp_buf, n, &L->sp_gfn);
	uint32_t role = (uint32_t)member_get(r->sp_buf, n, &L->sp_role);
	uint32_t lvl_mask = (uint32_t)(((1ull << L->sp_level.bit_size) - 1)
				       << (L->sp_level.bit_off - L->sp_role.bit_off));
	const char *what = NULL;
	if (spt != r->T->page_offset_base + child)
		what = "spt is not this table";
	else if (!tdp)
		what = "tdp_mmu_page is clear";
	else if ((int)level != e->level - 1)
		what = "level is not one below the parent entry";
	else if (gfn != e->gfn)
		what = "gfn differs from the parent entry's first gfn";
	else if ((role & ~lvl_mask) != (e->root->role & ~lvl_mask))
		what = "role differs from the root's";
	else if (L->have_ptep) {
		uint64_t ptep = member_get(r->sp_buf, n, &L->sp_ptep);
		if (ptep != r->T->page_offset_base + e->table_pa + (uint64_t)e->index * 8)
			what = "ptep does not point at the parent entry";
	}
	if (what)
		emit(r, CHK_S6, e, false, what,
		     "page->private of pfn 0x%" PRIx64 " = sp 0x%" PRIx64 ": spt 0x%" PRIx64
		     ", tdp_mmu_page %" PRIu64 ", level %" PRIu64 ", gfn 0x%" PRIx64 ", role 0x%x "
		     "(root role 0x%x)", child >> 12, sp, spt, tdp, level, gfn, role, e->root->role);
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
	bool spte_zero = bt->pfn == r->zero_pfn || bt->pfn == r->huge_zero_pfn;
	bool host_zero = hm.present && (hm.pfn == r->zero_pfn ||
					(r->huge_zero_pfn && hm.pfn >> 9 == r->huge_zero_pfn >> 9));
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
		     hm.pfn, bt->pfn, r->zero_pfn);
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

/* D3: D-bit dirty logging (PML); the judgement lives in pml.c. */
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
		     "spte bits 52-53 = %d (%s); root role 0x%x has ad_disabled=%d guest_mode=%d",
		     bt->ad_type, spte_ad_type_name(bt->ad_type), root->role, root->ad_disabled,
		     root->guest_mode);
	if (bt->access_tracked && (!m->ept || bt->ad_type != SPTE_AD_DISABLED || bt->writable))
		emit(r, CHK_S4, e, false, "access-tracked form where it cannot be",
		     "spte 0x%" PRIx64 ", A/D type %s, ept=%d", e->spte, spte_ad_type_name(bt->ad_type), m->ept);
	else if (!bt->access_tracked && (bt->saved_r || bt->saved_x))
		emit(r, CHK_S4, e, false, "saved R/X bits on an SPTE that is not access-tracked",
		     "spte 0x%" PRIx64 ": bit 54=%d bit 56=%d", e->spte, bt->saved_r, bt->saved_x);
	if (bt->huge && (e->level >= 4 || e->level > r->H->max_huge_page_level))
		emit(r, CHK_S5, e, false, "huge page bit at an impossible level",
		     "PS at level %d; max_huge_page_level %d", e->level, r->H->max_huge_page_level);
	if (bt->huge && bt->executable && r->nx_huge_pages > 0 && !b->disable_nx)
		emit(r, CHK_S8, e, false, "executable huge page with nx_huge_pages on",
		     "nx_huge_pages=%d, kvm->arch.disable_nx_huge_pages=0", r->nx_huge_pages);
	if (bt->pfn == r->zero_pfn || (r->huge_zero_pfn && bt->pfn == r->huge_zero_pfn))
		if (bt->writable || bt->host_writable)
			emit(r, CHK_S13, e, false, "zero page mapped writable",
			     "pfn 0x%" PRIx64 " is the %s zero page; W=%d host-writable=%d", bt->pfn,
			     bt->pfn == r->zero_pfn ? "shared" : "huge", bt->writable, bt->host_writable);
	if (root->invalid)
		return; /* dirty logging and the host only care about valid roots */

	const struct kvm_memslot *s = books_slot(b, root->smm, e->gfn);
	bool slots_busy = b->slots_lock_held || b->gen_updating;
	if (!s) {
		emit(r, CHK_S9, e, slots_busy, "leaf outside every memslot",
		     "no memslot of address space %d contains gfn 0x%" PRIx64, root->smm, e->gfn);
		return;
	}
	if (e->gfn + npages - s->base_gfn > s->npages || (s->flags & (1u << 16))) {
		emit(r, CHK_S9, e, slots_busy, "leaf crosses the end of its memslot, or the slot is "
		     "being deleted", "slot %d: base_gfn 0x%" PRIx64 ", npages %" PRIu64 ", flags 0x%x; "
		     "leaf covers %" PRIu64 " pages", s->id, s->base_gfn, s->npages, s->flags, npages);
		return;
	}
	const struct slot_arch *sa = books_arch(b, s);
	if (bt->huge && e->level <= 3 && sa->lpage[e->level - 2]) {
		int shift = 9 * (e->level - 1);
		uint64_t idx = (e->gfn >> shift) - (s->base_gfn >> shift);
		uint64_t at = sa->lpage[e->level - 2] + idx * r->L->lpage_info_size;
		int32_t disallow = 0;
		if (dump_peek(r->T->dump, at, &disallow, sizeof(disallow)) && disallow)
			emit(r, CHK_S10, e, false, "huge leaf where huge pages are disallowed",
			     "slot %d lpage_info[%d][%" PRIu64 "] at 0x%" PRIx64 ": disallow_lpage = 0x%x",
			     s->id, e->level - 2, idx, at, (uint32_t)disallow);
	}
	if (sa->track && (bt->writable || bt->mmu_writable)) {
		uint64_t at = sa->track + (e->gfn - s->base_gfn) * sizeof(uint16_t);
		uint16_t count = 0;
		if (dump_peek(r->T->dump, at, &count, sizeof(count)) && count)
			emit(r, CHK_S11, e, false, "writable leaf over a write-tracked gfn",
			     "slot %d write-track counter at 0x%" PRIx64 " = %u; W=%d MMU-writable=%d",
			     s->id, at, count, bt->writable, bt->mmu_writable);
	}
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
	/* W-mode dirty logging: every SPTE on AMD and without PML, and the types
	 * that never use the D bit for logging. */
	bool wmode = !r->pml || bt->ad_type != SPTE_AD_ENABLED;
	/* Without every vCPU's ring, "not recorded" cannot be known in ring mode. */
	bool d2_unsure = busy || (b->ring_mode && b->ring_unread);
	if (logged && e->level == 1 && bt->writable && wmode && !books_recorded(b, s, e->gfn)) {
		if (bm)
			emit(r, CHK_D2, e, d2_unsure, "writable leaf whose gfn the dirty log missed",
			     "slot %d dirty bitmap 0x%" PRIx64 ": word %" PRIu64 " at 0x%" PRIx64
			     " = 0x%016" PRIx64 ", bit %" PRIu64 " clear%s", s->id, s->dirty_bitmap,
			     rel / 64, s->dirty_bitmap + rel / 64 * 8, bm[rel / 64], rel % 64,
			     b->ring_mode ? "; no pending dirty-ring entry" : "");
		else
			emit(r, CHK_D2, e, d2_unsure, "writable leaf whose gfn the dirty log missed",
			     "slot %d (as %d) offset 0x%" PRIx64 ": %s", s->id, s->as_id, rel,
			     b->ring_mode ? "no pending entry in any vCPU's dirty ring"
					  : "slot has no dirty bitmap");
	}
	if (logged && r->pml)
		check_d3(r, e, s);
	if (e->level == 1 && bt->ad_type == SPTE_AD_ENABLED && bt->writable && !bt->dirty &&
	    bt->accessed)
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
	struct dump_live_stats *ls = dump_live_stats(r->T->dump);
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
		bool books = books_live_refresh(r->T, r->L, r->b, &r->hw, s, cur.gfn,
						walk_level_pages(cur.level));
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
	if (r->live && e->event == WALK_ENTRY)
		return check_entry_live(r, e);
	return check_entry_once(r, e);
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
		     PRIx64 ": not empty, not MMIO, not frozen, bit 11 (MMU-present) clear", e->index,
		     e->table_pa, e->spte);
		return 0;
	case SPTE_FROZEN:
		emit(r, CHK_S7, e, false, "FROZEN SPTE: a zap was in flight", "entry %d of table 0x%"
		     PRIx64 " = 0x%016" PRIx64, e->index, e->table_pa, e->spte);
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
	if (r->L->have_nr_logging) {
		uint32_t n;
		if (dump_peek(r->T->dump, vm->addr + member_off(&r->L->nr_logging), &n, sizeof(n)) && n != logged)
			emit(r, CHK_D5, NULL, b->slots_lock_held, "nr_memslots_dirty_logging disagrees",
			     "kvm->nr_memslots_dirty_logging = %u, %zu slots have LOG_DIRTY_PAGES", n, logged);
	}
	char ev5[256];
	if (pml_count_mismatch(r->T, &r->L->pml, vm, logged, ev5, sizeof(ev5)))
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

static uint64_t read_global(struct target *T, const char *mod, const char *name, size_t size,
			    bool *found)
{
	uint64_t addr, v = 0;
	*found = target_symbol(T, mod, name, &addr) && dump_peek(T->dump, addr, &v, size);
	return v;
}

struct err *check_run(struct target *T, struct kvm_host *H, const struct check_opts *o,
		      finding_fn fn, void *arg, struct check_stats *stats)
{
	struct check_layout L;
	struct err *e = books_layout(T, &L, &H->notes);
	if (e)
		return e;
	struct run r = { .T = T, .H = H, .o = o, .L = &L, .fn = fn, .arg = arg, .st = stats };
	host_walker_init(&r.hw, T);
	bool found;
	uint64_t a;
	if (target_symbol(T, "vmlinux", "empty_zero_page", &a) && !dump_vtop(T->dump, a, &a))
		r.zero_pfn = a >> 12;
	uint64_t hz = read_global(T, "vmlinux", "huge_zero_pfn", 8, &found);
	r.huge_zero_pfn = found && hz != UINT64_MAX ? hz : 0;
	r.nx_huge_pages = (int)(int32_t)read_global(T, "kvm", "nx_huge_pages", 4, &found);
	r.ad_always = target_symbol(T, "kvm", "kvm_ad_enabled", &a);
	r.pml = L.pml.in_use;
	r.sp_buf = malloc(L.sp_size ? L.sp_size : 1);
	struct walker *w = NULL;
	if (!r.sp_buf || (e = walker_new(T, &w))) {
		free(r.sp_buf);
		return e ? e : err_new(ERR_NOMEM, "out of memory");
	}
	r.w = w;
	r.live = dump_is_live(T->dump);
	for (size_t i = 0; i < H->nvms && !e; i++) {
		struct kvm_vm *vm = &H->vms[i];
		struct vm_books b;
		r.b = &b;
		struct err *be = books_load(T, &L, vm, &b, &H->notes);
		if (be) {
			notes_add(&H->notes, "VM %d: checks skipped: %s", vm->pid, be->msg);
			err_free(be);
			books_fini(&b);
			continue;
		}
		if (b.mm_gone)
			notes_add(&H->notes, "VM %d: the VMM's mm is gone (mm_users 0): H1-H5 skipped", vm->pid);
		shadowed_load(&r, vm);
		for (size_t k = 0; k < vm->nroots; k++) {
			struct walk_stats ws = { 0 };
			struct err *we = walker_run(w, &H->masks, &vm->roots[k], NULL, check_entry, &r, &ws);
			if (we)
				notes_add_err(&H->notes, we, "check walk");
		}
		r.vm_changed = -1;
		check_vm_level(&r);
		books_fini(&b);
	}
	walker_free(w);
	free(r.sp_buf);
	free(r.shadowed);
	return e;
}
