/* `gfn GFN`: the walk from each root down to one guest frame, one line per
 * level, like crash's vtop. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/session.h"
#include "kobj/shadow.h"
#include "mmu/iter.h"

/* One table that could not be entered (or the root refused): the last row. */
static void gfn_unreadable(struct session *s, int level, uint64_t pa, const char *why)
{
	/* exit bit 2 and the "incomplete" list say the same thing */
	s->exit_bits |= EXIT_INCOMPLETE;
	notes_add(&s->walk_notes, "gfn walk: %s table 0x%" PRIx64 ": %s", walk_level_name(level), pa,
		  why);
	if (s->json) {
		json_obj_begin(&s->j);
		json_ki64(&s->j, "level", level);
		json_khex(&s->j, "table_pa", pa);
		json_kstr(&s->j, "error", why);
		json_obj_end(&s->j);
	} else {
		fprintf(s->out, "  %-6s table 0x%" PRIx64 ": %s\n", walk_level_name(level), pa, why);
	}
}

static void gfn_memslot(struct session *s, const struct kvm_memslot *slot, uint64_t gfn)
{
	if (s->json) {
		json_key(&s->j, "memslot");
		if (slot) {
			json_obj_begin(&s->j);
			json_ki64(&s->j, "id", slot->id);
			json_ki64(&s->j, "as_id", slot->as_id);
			json_khex(&s->j, "hva", slot->userspace_addr + (gfn - slot->base_gfn) * PAGE_SIZE);
			json_obj_end(&s->j);
		} else {
			json_null(&s->j);
		}
	} else {
		if (slot)
			fprintf(s->out, "  memslot %d (as %d), hva 0x%" PRIx64 "\n", slot->id, slot->as_id,
				slot->userspace_addr + (gfn - slot->base_gfn) * PAGE_SIZE);
		else
			fprintf(s->out, "  no memslot covers this gfn\n");
	}
}

/* The walk is the SPTE iterator over a one-gfn range, empty entries
 * included: one entry per level, from the root down.  Under a shadow root
 * the walk's input is the root's own address space (L2 guest-physical
 * under a nested root); the frame mapped is what the shadow page holding
 * the leaf records (kvm_mmu_page_get_gfn), and the memslot is that
 * frame's. */
static void gfn_walk(struct session *s, struct spte_iter *it, const struct kvm_vm *vm,
		     const struct kvm_root *r, uint64_t gfn)
{
	const struct spte_masks *m = &s->H.masks;
	bool shadow = r->shadow != NULL;
	const char *space = kvm_root_l2(r) ? "L2 " : "";
	const struct kvm_memslot *slot = shadow ? NULL : kvm_vm_slot_for(vm, r->smm, gfn);
	if (s->json) {
		json_obj_begin(&s->j);
		json_vm(&s->j, &s->H, vm);
		json_khex(&s->j, "root", r->sp);
		json_kstr(&s->j, "mmu", shadow ? "shadow" : "tdp");
		if (shadow)
			json_kstr(&s->j, "special", kvm_root_special_name(r->special));
		json_kbool(&s->j, "guest_mode", r->guest_mode);
		json_ku64(&s->j, "gfn", gfn);
		if (!shadow)
			gfn_memslot(s, slot, gfn);
		json_key(&s->j, "walk");
		json_arr_begin(&s->j);
	} else {
		const char *special = kvm_root_special_name(r->special);
		fprintf(s->out, "VM %s  %s%s%s root 0x%" PRIx64 " (%s, level %d%s%s)  %sgfn 0x%" PRIx64
			"  %sgpa 0x%" PRIx64 "\n", vm_label(&s->H, vm), shadow ? "shadow" : "TDP MMU",
			special ? " " : "", special ? special : "", kvm_root_id(r),
			r->smm ? "SMM" : "normal", r->level, kvm_root_l2(r) ? ", nested guest" : "",
			r->invalid || r->obsolete ? ", INVALID" : "", space, gfn, space, gfn << 12);
		if (!shadow)
			gfn_memslot(s, slot, gfn);
	}
	const char *result = "not mapped";
	uint64_t mapped_gfn = UINT64_MAX;
	uint64_t result_pfn = 0;
	/* Bits above the root's reach are not translated, as by the hardware. */
	uint64_t at = r->gfn + ((gfn - r->gfn) & (walk_level_pages(r->level + 1) - 1));
	struct spte_iter_root root = { r->spt_pa, r->level, r->gfn, kvm_root_pae_level(r) };
	struct err *e = spte_iter_start(it, s->T, m, NULL, &root, at, at, 1, SPTE_ITER_EMPTY);
	if (e) {
		gfn_unreadable(s, r->level, r->spt_pa, e->msg);
		err_free(e);
		result = "unreadable";
	}
	while (!e && spte_iter_next(it)) {
		int level = it->level;
		if (it->event != WALK_ENTRY) {
			gfn_unreadable(s, level - 1, it->child_pa, it->why);
			result = "unreadable";
			break;
		}
		uint64_t pa = it->table_pa, spte = it->spte;
		int idx = it->index;
		struct spte_bits b;
		walk_decode(m, r, spte, level, &b);
		/* the shadow page of this table and the frame its entry maps */
		const struct kvm_shadow_page *sp = shadow ? kvm_shadow_find(r->shadow, pa) : NULL;
		uint64_t egfn = UINT64_MAX;
		if (sp && b.kind == SPTE_PRESENT && b.leaf) {
			uint64_t gfns[512];
			struct err *ge = kvm_shadow_gfns(s->T, sp, gfns);
			if (ge) {
				notes_add_err(&s->walk_notes, ge, "gfn");
				s->exit_bits |= EXIT_INCOMPLETE;
			} else {
				egfn = gfns[idx];
			}
		}
		if (s->json) {
			json_obj_begin(&s->j);
			json_ki64(&s->j, "level", level);
			json_khex(&s->j, "table_pa", pa);
			json_ki64(&s->j, "index", idx);
			json_khex(&s->j, "entry_pa", pa + (uint64_t)idx * 8);
			json_khex(&s->j, "spte", spte);
			if (sp) {
				json_khex(&s->j, "sp", sp->sp);
				json_ku64(&s->j, "sp_gfn", sp->gfn);
				json_kbool(&s->j, "sp_direct", sp->direct);
				json_kbool(&s->j, "sp_unsync", sp->unsync);
			}
			json_spte_bits(&s->j, &b, m->ept);
			json_obj_end(&s->j);
		} else {
			char flags[96], spd[96] = "";
			spte_flags_str(&b, m->ept, flags, sizeof(flags));
			if (sp)
				snprintf(spd, sizeof(spd), "  [sp 0x%" PRIx64 " %s gfn 0x%" PRIx64 "%s]", sp->sp,
					 sp->direct ? "direct" : "shadows", sp->gfn, sp->unsync ? " unsync" : "");
			else if (kvm_root_special_entry(r, level))
				snprintf(spd, sizeof(spd), "  [the vCPU's %s]", kvm_root_special_name(r->special));
			else if (shadow)
				snprintf(spd, sizeof(spd), "  [no shadow page for this table]");
			fprintf(s->out, "  %-6s [0x%" PRIx64 " + %3d*8]  0x%016" PRIx64 "  %s%s\n",
				walk_level_name(level), pa, idx, spte, flags, spd);
		}
		if (b.kind == SPTE_MMIO) {
			result = "mmio";
			break;
		}
		if (b.kind != SPTE_PRESENT) {
			result = b.kind == SPTE_EMPTY ? "not mapped" : spte_kind_name(b.kind);
			break;
		}
		if (b.leaf) {
			result = "mapped";
			result_pfn = b.pfn + (gfn & (walk_level_pages(level) - 1));
			if (egfn != UINT64_MAX)
				mapped_gfn = egfn + (gfn & (walk_level_pages(level) - 1));
			break;
		}
	}
	if (shadow && mapped_gfn != UINT64_MAX)
		slot = kvm_vm_slot_for(vm, r->smm, mapped_gfn);
	if (s->json) {
		json_arr_end(&s->j);
		json_kstr(&s->j, "result", result);
		if (shadow) {
			json_key(&s->j, "mapped_gfn");
			mapped_gfn == UINT64_MAX ? json_null(&s->j) : json_u64(&s->j, mapped_gfn);
			gfn_memslot(s, slot, mapped_gfn);
		}
		if (result_pfn)
			json_ku64(&s->j, "pfn", result_pfn);
		json_obj_end(&s->j);
		return;
	}
	if (shadow && mapped_gfn != UINT64_MAX) {
		fprintf(s->out, "  => %sgfn 0x%" PRIx64 "  %sgpa 0x%" PRIx64 "\n", kvm_root_l2(r) ? "L1 " : "",
			mapped_gfn, kvm_root_l2(r) ? "L1 " : "", mapped_gfn << 12);
		gfn_memslot(s, slot, mapped_gfn);
	}
	if (result_pfn) {
		fprintf(s->out, "  => pfn 0x%" PRIx64 "  host physical 0x%" PRIx64 "\n", result_pfn,
			result_pfn << 12);
	} else {
		fprintf(s->out, "  => %s\n", result);
	}
}

/* pfn:N: the gfns of the root whose leaves map host frame N. */
struct pfn_hits {
	struct session *s;
	uint64_t pfn;
	uint64_t gfn[64];
	size_t n;
	bool more;
};

static int pfn_hit(void *arg, const struct walk_entry *e)
{
	struct pfn_hits *h = arg;
	if (e->event != WALK_ENTRY || !select_pfn(&h->s->sel, walk_bits(e), e->level))
		return 0;
	if (h->n == sizeof(h->gfn) / sizeof(h->gfn[0])) {
		h->more = true;
		return 1;
	}
	/* the walk below is by position (an L2 gfn under a nested root) */
	h->gfn[h->n++] = e->addr_gfn + (h->pfn - walk_bits(e)->pfn);
	return 0;
}

static int parse_addr(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end || end == s ? -1 : 0;
}

/* GFN, gpa:ADDR, hva:ADDR (through each VM's memslots) or pfn:N (the gfns
 * whose leaves map host frame N), as the browser's '/' takes them. */
struct err *cmd_gfn(struct session *s, int argc, char **argv)
{
	if (argc != 2)
		return err_new(ERR_USAGE, "gfn: expected one GFN (e.g. gfn 0x10011)");
	const char *q = argv[1];
	enum { BY_GFN, BY_HVA, BY_PFN } by = BY_GFN;
	uint64_t v = 0, gfn = 0;
	if (!strncmp(q, "gpa:", 4)) {
		if (parse_addr(q + 4, &v) || v >> 52)
			return err_new(ERR_USAGE, "gfn: '%s' is not a guest physical address", q);
		gfn = v >> 12;
	} else if (!strncmp(q, "hva:", 4)) {
		if (parse_addr(q + 4, &v))
			return err_new(ERR_USAGE, "gfn: '%s' is not a host virtual address", q);
		by = BY_HVA;
	} else if (!strncmp(q, "pfn:", 4)) {
		if (parse_addr(q + 4, &v) || v >> 52)
			return err_new(ERR_USAGE, "gfn: '%s' is not a host frame number", q);
		by = BY_PFN;
		s->sel.by_pfn = true;
		s->sel.pfn_lo = s->sel.pfn_hi = v;
	} else if (parse_addr(q, &gfn) || gfn >> 40) {
		return err_new(ERR_USAGE, "gfn: '%s' is not a guest frame number (or gpa:, hva:, pfn:)",
			       q);
	}
	struct walker *w = NULL;
	if (by == BY_PFN) {
		struct err *e = walker_new(s->T, &w);
		if (e)
			return e;
	}
	struct spte_iter *it = calloc(1, sizeof(*it));
	if (!it) {
		walker_free(w);
		return err_new(ERR_NOMEM, "out of memory");
	}
	out_open(s, "gfn", NULL, NULL);
	if (s->json) {
		json_kstr(&s->j, "query", q);
		json_key(&s->j, "gfn");
		if (by == BY_GFN)
			json_u64(&s->j, gfn);
		else
			json_null(&s->j);
	}
	out_list_open(s, "walks");
	size_t n = 0;
	for_each_selected_root(&s->sel, &s->H, vm, r) {
		struct pfn_hits h = { s, v, { 0 }, 0, false };
		if (by == BY_GFN) {
			h.gfn[h.n++] = gfn;
		} else if (by == BY_HVA) {
			for (size_t m = 0; m < vm->nslots; m++) {
				const struct kvm_memslot *sl = &vm->slots[m];
				if (sl->as_id == r->smm && v >= sl->userspace_addr &&
				    (v - sl->userspace_addr) / PAGE_SIZE < sl->npages && h.n < 64)
					h.gfn[h.n++] = sl->base_gfn + (v - sl->userspace_addr) / PAGE_SIZE;
			}
		} else {
			struct walk_range all = { 0, UINT64_MAX };
			struct walk_stats st = { 0 };
			struct err *e = walker_run(w, &s->H.masks, r, &all, pfn_hit, &h, &st);
			if (e) {
				notes_add_err(&s->walk_notes, e, "walk");
				s->exit_bits |= EXIT_INCOMPLETE;
			}
			if (h.more) {
				notes_add(&s->walk_notes, "pfn 0x%" PRIx64 ": more than %zu gfns of root 0x%"
					  PRIx64 " map it; the first are shown", v, h.n, r->sp);
				s->exit_bits |= EXIT_INCOMPLETE;
			}
		}
		for (size_t g = 0; g < h.n; g++) {
			if (!s->json && n)
				fputc('\n', s->out);
			gfn_walk(s, it, vm, r, h.gfn[g]);
			n++;
		}
	}
	spte_iter_fini(it);
	free(it);
	walker_free(w);
	if (!s->json && !n)
		fprintf(s->out, by == BY_GFN ? "no root selected\n"
			: by == BY_HVA ? "no memslot of the selected VMs covers %s\n"
				       : "no SPTE of the selected roots maps %s\n", q);
	out_close(s);
	return NULL;
}
