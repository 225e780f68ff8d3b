/* `sptes`: every non-empty SPTE of the selected roots, streamed. */
#include <inttypes.h>

#include "cmd/session.h"
#include "kobj/shadow.h"

struct sptes_ctx {
	struct session *s;
	const struct kvm_vm *vm;
	bool ept;
	uint64_t shown;
};

static int sptes_entry(void *arg, const struct walk_entry *e)
{
	struct sptes_ctx *c = arg;
	struct session *s = c->s;
	if (e->event != WALK_ENTRY) {
		session_note_walk(s, c->vm, e);
		return 0;
	}
	if (s->sel.level && e->level != s->sel.level)
		return 0;
	const struct spte_bits *b = walk_bits(e); /* past the level: decoded */
	if (s->sel.bits.care && (b->kind != SPTE_PRESENT || !bit_filter_match(&s->sel.bits, b)))
		return 0;
	if (s->sel.by_pfn && !select_pfn(&s->sel, b, e->level))
		return 0;
	c->shown++;
	if (s->json) {
		json_obj_begin(&s->j);
		json_vm(&s->j, &s->H, c->vm);
		json_khex(&s->j, "root", e->root->sp);
		json_ki64(&s->j, "level", e->level);
		json_kstr(&s->j, "mmu", e->root->mmu == KVM_MMU_TDP ? "tdp" : "shadow");
		json_ku64(&s->j, "gfn", e->gfn);
		json_ku64(&s->j, "addr_gfn", e->addr_gfn);
		if (e->root->special != ROOT_SP) {
			/* no kvm_mmu_page: the root is the vCPU's page, by address */
			json_kstr(&s->j, "special", kvm_root_special_name(e->root->special));
			json_khex(&s->j, "root_pa", e->root->spt_pa);
		}
		if (e->sp) {
			json_khex(&s->j, "sp", e->sp->sp);
			json_ki64(&s->j, "index", e->index);
		} else if (kvm_root_special_entry(e->root, e->level)) {
			json_ki64(&s->j, "index", e->index);
		}
		json_khex(&s->j, "spte", e->spte);
		json_spte_bits(&s->j, b, c->ept);
		json_obj_end(&s->j);
	} else {
		char flags[96], l1[64] = "";
		uint64_t root_label = kvm_root_id(e->root);
		spte_flags_str(b, c->ept, flags, sizeof(flags));
		/* Under a shadow root the position is the input frame (an L2 gfn
		 * under a nested root); the frame mapped is the shadow page's. */
		bool table = b->kind == SPTE_PRESENT && !b->leaf;
		if (e->gfn != e->addr_gfn)
			snprintf(l1, sizeof(l1), " %s %sgfn 0x%" PRIx64, table ? "shadows" : "->",
				 kvm_root_l2(e->root) ? "L1 " : "", e->gfn);
		if (b->kind == SPTE_MMIO)
			fprintf(s->out, "%-8s 0x%-16" PRIx64 " %3d 0x%-10" PRIx64 " 0x%016" PRIx64
				" %-10s mmio gfn 0x%" PRIx64 " gen %u\n", vm_label(&s->H, c->vm), root_label,
				e->level, e->addr_gfn, e->spte, "-", b->mmio_gfn, b->mmio_gen);
		else
			fprintf(s->out, "%-8s 0x%-16" PRIx64 " %3d 0x%-10" PRIx64 " 0x%016" PRIx64
				" 0x%-8" PRIx64 " %s%s%s\n", vm_label(&s->H, c->vm), root_label, e->level,
				e->addr_gfn, e->spte, b->pfn, flags,
				b->kind == SPTE_PRESENT && !b->leaf ? " (table)" : "", l1);
	}
	return 0;
}

struct err *cmd_sptes(struct session *s, int argc, char **argv)
{
	if (argc > 1) {
		struct err *e = bit_filter_parse(argv[1], &s->sel.bits);
		if (e)
			return e;
	}
	if (argc > 2)
		return err_new(ERR_USAGE, "sptes: unexpected argument '%s'", argv[2]);
	struct walker *w;
	struct err *e = walker_new(s->T, &w);
	if (e)
		return e;
	out_open(s, "sptes", "sptes", "%-8s %-18s %3s %-12s %-18s %-10s %s\n", "VM", "ROOT", "LVL",
		 "GFN", "SPTE", "PFN", "FLAGS");
	for (size_t i = 0; i < s->H.nvms; i++) {
		const struct kvm_vm *vm = &s->H.vms[i];
		if (!select_vm(&s->sel, vm))
			continue;
		struct sptes_ctx c = { s, vm, s->H.masks.ept, 0 };
		struct walk_stats st = { 0 };
		walk_selected_roots(s, w, vm, sptes_entry, &c, &st);
	}
	walker_free(w);
	out_close(s);
	return NULL;
}
