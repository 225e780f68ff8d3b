/* `summary`: the one screen a triager reads first. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/session.h"

struct summary_counts {
	struct walk_stats st;
	uint64_t leaf_by_level[6], table_by_level[6];
	uint64_t wad[8];	/* leaves by W<<2 | A<<1 | D */
	uint64_t host_ro, access_tracked;
};

struct summary_ctx {
	struct session *s;
	const struct kvm_vm *vm;
	struct summary_counts *c;
};

static void summary_count(struct summary_counts *c, const struct walk_entry *e)
{
	if (e->kind != SPTE_PRESENT || e->level < 1 || e->level > 5)
		return;
	const struct spte_bits *b = walk_bits(e);
	if (!b->leaf) {
		c->table_by_level[e->level]++;
		return;
	}
	c->leaf_by_level[e->level]++;
	c->wad[(b->writable << 2) | (b->accessed << 1) | b->dirty]++;
	c->host_ro += !b->host_writable;
	c->access_tracked += b->access_tracked;
}

static int summary_entry(void *arg, const struct walk_entry *e)
{
	struct summary_ctx *x = arg;
	if (e->event != WALK_ENTRY)
		session_note_walk(x->s, x->vm, e);
	else
		summary_count(x->c, e);
	return 0;
}

static const char *tri(int v)
{
	return v < 0 ? "unknown" : v ? "on" : "off";
}

static void summary_json_counts(struct json *j, const struct summary_counts *c)
{
	static const char *const lv[] = { "", "4K", "2M", "1G", "512G", "256T" };
	json_key(j, "leaves_by_level");
	json_obj_begin(j);
	for (int l = 1; l <= 5; l++)
		if (c->leaf_by_level[l])
			json_ku64(j, lv[l], c->leaf_by_level[l]);
	json_obj_end(j);
	json_key(j, "tables_by_level");
	json_obj_begin(j);
	for (int l = 2; l <= 5; l++)
		if (c->table_by_level[l]) {
			char k[4] = { (char)('0' + l), 0 };
			json_ku64(j, k, c->table_by_level[l]);
		}
	json_obj_end(j);
	json_key(j, "leaves_by_wad");
	json_obj_begin(j);
	for (int i = 0; i < 8; i++) {
		char k[16];
		snprintf(k, sizeof(k), "W=%d,A=%d,D=%d", i >> 2 & 1, i >> 1 & 1, i & 1);
		json_ku64(j, k, c->wad[i]);
	}
	json_obj_end(j);
	json_ku64(j, "mmio", c->st.mmio);
	json_ku64(j, "frozen", c->st.frozen);
	json_ku64(j, "garbage", c->st.garbage);
	json_ku64(j, "tables_read", c->st.tables);
	json_ku64(j, "tables_unreadable", c->st.unreadable + c->st.bad_children);
	json_ku64(j, "host_readonly_leaves", c->host_ro);
	json_ku64(j, "access_tracked_leaves", c->access_tracked);
}

static void summary_text_counts(FILE *f, const struct summary_counts *c)
{
	uint64_t leaves = 0;
	for (int l = 1; l <= 5; l++)
		leaves += c->leaf_by_level[l];
	fprintf(f, "    SPTEs: %" PRIu64 " leaves (4K %" PRIu64 ", 2M %" PRIu64 ", 1G %" PRIu64 "), %"
		PRIu64 " tables read", leaves, c->leaf_by_level[1], c->leaf_by_level[2],
		c->leaf_by_level[3], c->st.tables);
	if (c->st.mmio || c->st.frozen || c->st.garbage)
		fprintf(f, ", %" PRIu64 " MMIO, %" PRIu64 " frozen, %" PRIu64 " garbage", c->st.mmio,
			c->st.frozen, c->st.garbage);
	if (c->st.unreadable + c->st.bad_children)
		fprintf(f, ", %" PRIu64 " tables UNREADABLE", c->st.unreadable + c->st.bad_children);
	fprintf(f, "\n    leaves by state: ");
	int printed = 0;
	for (int i = 7; i >= 0; i--)
		if (c->wad[i])
			fprintf(f, "%sW=%d A=%d D=%d: %" PRIu64, printed++ ? ", " : "", i >> 2 & 1,
				i >> 1 & 1, i & 1, c->wad[i]);
	fprintf(f, "%s\n", printed ? "" : "none");
	if (c->host_ro || c->access_tracked)
		fprintf(f, "    host read-only leaves: %" PRIu64 ", access-tracked: %" PRIu64 "\n",
			c->host_ro, c->access_tracked);
}

struct summary_findings_ctx {
	struct session *s;
	uint64_t n;
};

static void summary_on_finding(void *arg, const struct finding *f)
{
	struct summary_findings_ctx *x = arg;
	struct session *s = x->s;
	if (!select_vm(&s->sel, f->vm))
		return;
	if (s->json) {
		finding_json(&s->j, &s->H, f);
		return;
	}
	if (!x->n++)
		fprintf(s->out, "\n");
	fprintf(s->out, "  %s%s%-7s%s %-4s VM %d:%d", f->inconclusive ? "inconclusive " : "",
		sev_color(s, (int)f->severity), severity_name(f->severity), sev_color(s, -1),
		f->check->name, f->vm->pid, vm_nth(&s->H, f->vm));
	if (f->has_spte)
		fprintf(s->out, " gfn 0x%" PRIx64 " L%d spte 0x%016" PRIx64, f->gfn, f->level, f->spte);
	fprintf(s->out, ": %s\n", f->message);
}

/* The summary ends with the checks' verdict (details: `check`). */
static void summary_findings_open(struct session *s)
{
	out_list_open(s, "findings");
	if (!s->json)
		fprintf(s->out, "\nchecks:   ");
}

static void summary_findings_close(struct session *s, const struct check_stats *st, uint64_t n)
{
	check_exit_bits(s, st);
	out_list_close(s);
	if (s->json) {
		check_counts_json(&s->j, st);
	} else {
		if (n)
			fprintf(s->out, "          ");
		check_counts_text(s, st);
	}
	out_close(s);
}

/* Two walks: the counts', then check_run's (a --gfn-range summary). */
static struct err *summary_findings(struct session *s)
{
	struct summary_findings_ctx x = { s, 0 };
	summary_findings_open(s);
	return check_listed(s, &s->copts, summary_on_finding, &x, &x.n, "          ");
}

/* One pass: the check walk counts for the summary too (check_tap), and its
 * findings wait in a temporary file (bounded memory) until the counts are
 * printed.  The walk's notes go where the summary's own walk would have put
 * them: before the checks' notes. */
struct summary_pass {
	struct session *s;
	struct summary_counts *c;	/* per VM, by index in H->vms */
	struct notes walk;		/* the summary walk's notes, held back */
	FILE *spill;
	bool spill_failed;
	bool walked;
};

static void summary_tap_entry(void *arg, const struct kvm_vm *vm, const struct walk_entry *e)
{
	struct summary_pass *p = arg;
	struct session *s = p->s;
	if (!select_vm(&s->sel, vm) || !select_root(&s->sel, e->root))
		return;
	if (e->event == WALK_ENTRY) {
		summary_count(&p->c[vm - s->H.vms], e);
		return;
	}
	s->exit_bits |= EXIT_INCOMPLETE;
	char buf[512];
	walk_event_describe(e, vm->pid, buf, sizeof(buf));
	notes_add(&p->walk, "%s", buf);
}

static void summary_tap_root(void *arg, const struct kvm_vm *vm, const struct kvm_root *root,
			     const struct walk_stats *ws, const char *error)
{
	struct summary_pass *p = arg;
	struct session *s = p->s;
	p->walked = true;
	if (!select_vm(&s->sel, vm) || !select_root(&s->sel, root))
		return;
	struct walk_stats *st = &p->c[vm - s->H.vms].st;
	st->tables += ws->tables;
	st->unreadable += ws->unreadable;
	st->loops += ws->loops;
	st->bad_children += ws->bad_children;
	st->present += ws->present;
	st->leaves += ws->leaves;
	st->mmio += ws->mmio;
	st->frozen += ws->frozen;
	st->garbage += ws->garbage;
	if (error) {
		notes_add(&s->walk_notes, "walk: %s", error);
		s->exit_bits |= EXIT_INCOMPLETE;
	}
}

static void summary_spill(void *arg, const struct finding *f)
{
	struct summary_pass *p = arg;
	if (!select_vm(&p->s->sel, f->vm))
		return;
	/* The pointers in F (catalog, VM, root) outlive the command. */
	if (!p->spill_failed && fwrite(f, sizeof(*f), 1, p->spill) != 1)
		p->spill_failed = true;
}

/* Notes H->notes gained from N0 on go after HELD (as if HELD came first). */
static void summary_notes_reorder(struct notes *n, size_t n0, struct notes *held)
{
	size_t nlater = n->n - n0;
	char **later = NULL;
	if (nlater && !(later = malloc(nlater * sizeof(*later)))) {
		n->dropped += held->n + held->dropped; /* keep the order, lose the held */
		return;
	}
	if (nlater)
		memcpy(later, n->msg + n0, nlater * sizeof(*later));
	n->n = n0;
	for (size_t i = 0; i < held->n; i++)
		notes_add(n, "%s", held->msg[i]);
	n->dropped += held->dropped;
	for (size_t i = 0; i < nlater; i++) {
		notes_add(n, "%s", later[i]);
		free(later[i]);
	}
	free(later);
}
struct err *cmd_summary(struct session *s, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return err_new(ERR_USAGE, "summary takes no arguments");
	const struct kvm_host *H = &s->H;
	const struct spte_masks *m = &H->masks;
	struct walker *w;
	struct err *e = walker_new(s->T, &w);
	if (e)
		return e;
	struct summary_pass p = { .s = s };
	bool one = s->sel.range.gfn_lo == 0 && s->sel.range.gfn_hi == UINT64_MAX && H->nvms &&
		   (p.c = calloc(H->nvms, sizeof(*p.c))) && (p.spill = tmpfile());
	const char *mmu = H->tdp_enabled == 0 ? "shadow paging" : m->ept ? "EPT" : "NPT";
	if (s->json) {
		out_open(s, "summary", NULL, NULL);
		json_kstr(&s->j, "release", s->T->release);
		json_kstr(&s->j, "vendor", H->vendor);
		json_kstr(&s->j, "mmu", mmu);
		json_key(&s->j, "tdp_mmu");
		H->tdp_mmu_enabled < 0 ? json_null(&s->j) : json_bool(&s->j, H->tdp_mmu_enabled);
		json_kbool(&s->j, "ad_bits", m->ad_enabled);
		json_kbool(&s->j, "mmio_caching", m->mmio_caching);
		out_list_open(s, "vms");
	} else {
		fprintf(s->out, "kernel:   %s (%s)\n", s->T->release, dump_format(s->T->dump));
		fprintf(s->out, "MMU:      %s, TDP MMU %s, A/D bits %s, MMIO caching %s%s\n", mmu,
			tri(H->tdp_mmu_enabled), m->ad_enabled ? "on" : "off",
			m->mmio_caching ? "on" : "off", H->vendor ? "" : " (no vendor module)");
		if (H->tdp_mmu_enabled == 0)
			fprintf(s->out, "          the TDP MMU is off: every root is a shadow MMU root "
				"(kvm->arch.active_mmu_pages)\n");
		fprintf(s->out, "VMs:      %zu\n", H->nvms);
	}
	struct check_stats cst;
	memset(&cst, 0, sizeof(cst));
	struct err *ce = NULL;
	if (one) {
		struct check_tap tap = { summary_tap_entry, summary_tap_root, &p };
		size_t n0 = s->H.notes.n;
		ce = check_run_tap(s->T, &s->H, &s->copts, summary_spill, &p, &cst, &tap);
		if (!ce) {
			summary_notes_reorder(&s->H.notes, n0, &p.walk);
		} else { /* nothing walked: the counts' own walk, then the notes check_run left */
			for (size_t k = n0; k < s->H.notes.n; k++)
				notes_add(&p.walk, "%s", s->H.notes.msg[k]);
			while (s->H.notes.n > n0)
				free(s->H.notes.msg[--s->H.notes.n]);
		}
	}
	for (size_t i = 0; i < H->nvms; i++) {
		const struct kvm_vm *vm = &H->vms[i];
		if (!select_vm(&s->sel, vm))
			continue;
		struct summary_counts c;
		memset(&c, 0, sizeof(c));
		if (one && !ce) {
			c = p.c[i];
		} else {
			struct summary_ctx x = { s, vm, &c };
			walk_selected_roots(s, w, vm, summary_entry, &x, &c.st);
		}
		size_t logged = 0;
		for (size_t k = 0; k < vm->nslots; k++)
			logged += (vm->slots[k].flags & KVM_MEM_LOG_DIRTY_PAGES) != 0;
		size_t nshadow = 0, unsync = 0, in_l2 = 0;
		for (size_t k = 0; k < vm->nroots; k++)
			nshadow += vm->roots[k].mmu == KVM_MMU_SHADOW;
		for (size_t k = 0; k < vm->shadow.npages; k++)
			unsync += vm->shadow.pages[k].unsync;
		for (size_t k = 0; k < vm->nvcpus; k++)
			in_l2 += vm->vcpus[k].have_mmus && vm->vcpus[k].mmus.guest_mode;
		const char *mode = vm->dirty_ring_size ? "dirty ring"
				   : vm->manual_dirty_log_protect ? "bitmap, manual protect" : "bitmap";
		if (s->json) {
			json_obj_begin(&s->j);
			json_vm(&s->j, &s->H, vm);
			json_kstr(&s->j, "comm", vm->comm[0] ? vm->comm : NULL);
			json_ki64(&s->j, "online_vcpus", vm->online_vcpus);
			json_ku64(&s->j, "memslots", vm->nslots);
			json_ku64(&s->j, "dirty_logged_memslots", logged);
			json_kstr(&s->j, "dirty_log", mode);
			json_ku64(&s->j, "roots", vm->nroots);
			json_ku64(&s->j, "shadow_roots", nshadow);
			json_ku64(&s->j, "shadow_pages", vm->shadow.npages);
			json_ku64(&s->j, "unsync_shadow_pages", unsync);
			json_ku64(&s->j, "vcpus_in_l2", in_l2);
			summary_json_counts(&s->j, &c);
			json_obj_end(&s->j);
		} else {
			size_t valid = 0, svalid = 0;
			for (size_t k = 0; k < vm->nroots; k++) {
				const struct kvm_root *r = &vm->roots[k];
				if (r->mmu == KVM_MMU_TDP)
					valid += !r->invalid;
				else
					svalid += !r->invalid && !r->obsolete;
			}
			fprintf(s->out, "\n  VM %d:%d, pid %d (%s)  kvm 0x%" PRIx64 "\n", vm->pid,
				vm_nth(H, vm), vm->pid, vm->comm[0] ? vm->comm : "?", vm->addr);
			fprintf(s->out, "    %d vCPUs, %zu memslots (%zu dirty-logged: %s), %zu TDP MMU "
				"roots (%zu valid)\n", vm->online_vcpus, vm->nslots, logged, mode,
				vm->nroots - nshadow, valid);
			if (vm->shadow.npages || nshadow)
				fprintf(s->out, "    shadow MMU: %zu roots (%zu valid), %zu pages (%zu unsync)\n",
					nshadow, svalid, vm->shadow.npages, unsync);
			for (size_t k = 0; k < vm->nvcpus && in_l2; k++)
				if (vm->vcpus[k].have_mmus && vm->vcpus[k].mmus.guest_mode)
					fprintf(s->out, "    vCPU %d is in its nested guest (L2), on guest_mmu root "
						"0x%" PRIx64 "\n",
						vm->vcpus[k].idx, vm->vcpus[k].mmus.mmu[MMU_GUEST].root_hpa);
			summary_text_counts(s->out, &c);
		}
	}
	walker_free(w);
	out_list_close(s);
	if (!one) {
		free(p.c);
		if (p.spill)
			fclose(p.spill);
		return summary_findings(s);
	}
	if (ce)
		for (size_t k = 0; k < p.walk.n; k++)
			notes_add(&s->H.notes, "%s", p.walk.msg[k]);
	notes_fini(&p.walk);
	free(p.c);
	summary_findings_open(s);
	struct summary_findings_ctx x = { s, 0 };
	if (!ce && (p.spill_failed || fflush(p.spill) || fseek(p.spill, 0, SEEK_SET)))
		ce = err_new(ERR_OS, "summary: cannot keep the findings in a temporary file");
	struct finding f;
	while (!ce && fread(&f, sizeof(f), 1, p.spill) == 1)
		summary_on_finding(&x, &f);
	fclose(p.spill);
	if (ce)
		return ce;
	summary_findings_close(s, &cst, x.n);
	return NULL;
}
