/* `pfn PFN`: the reverse map. Every VM, root, level and gfn whose SPTE maps
 * host frame PFN, with the memslot and hva: the first question after "Bad
 * page state", an MCE or a corruption report. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "cmd/session.h"

struct pfn_ctx {
	struct session *s;
	const struct kvm_vm *vm;
	uint64_t pfn;
	uint64_t found;
};

static int pfn_entry(void *arg, const struct walk_entry *e)
{
	struct pfn_ctx *c = arg;
	struct session *s = c->s;
	if (e->event != WALK_ENTRY) {
		session_note_walk(s, c->vm, e);
		return 0;
	}
	if (!select_pfn(&s->sel, walk_bits(e), e->level))
		return 0;
	/* the one gfn of a huge leaf that maps PFN */
	uint64_t gfn = e->gfn + (c->pfn - walk_bits(e)->pfn);
	const struct kvm_memslot *m = kvm_vm_slot_for(c->vm, e->root->smm, gfn);
	uint64_t hva = m ? m->userspace_addr + (gfn - m->base_gfn) * PAGE_SIZE : 0;
	c->found++;
	if (s->json) {
		json_obj_begin(&s->j);
		json_vm(&s->j, &s->H, c->vm);
		json_khex(&s->j, "root", e->root->sp);
		json_ki64(&s->j, "level", e->level);
		json_ku64(&s->j, "gfn", gfn);
		json_khex(&s->j, "spte", e->spte);
		json_spte_bits(&s->j, walk_bits(e), s->H.masks.ept);
		json_key(&s->j, "memslot");
		if (m) {
			json_obj_begin(&s->j);
			json_ki64(&s->j, "id", m->id);
			json_ki64(&s->j, "as_id", m->as_id);
			json_khex(&s->j, "hva", hva);
			json_obj_end(&s->j);
		} else {
			json_null(&s->j);
		}
		json_obj_end(&s->j);
		return 0;
	}
	char slot[16] = "-", hv[24] = "-", flags[96];
	if (m) {
		snprintf(slot, sizeof(slot), "%d/%d", m->as_id, m->id);
		snprintf(hv, sizeof(hv), "0x%" PRIx64, hva);
	}
	spte_flags_str(walk_bits(e), s->H.masks.ept, flags, sizeof(flags));
	fprintf(s->out, "%-8s 0x%-16" PRIx64 " %3d 0x%-10" PRIx64 " 0x%016" PRIx64 " %-7s %-18s %s\n",
		vm_label(&s->H, c->vm), e->root->sp, e->level, gfn, e->spte, slot, hv, flags);
	return 0;
}

struct err *cmd_pfn(struct session *s, int argc, char **argv)
{
	if (argc != 2)
		return err_new(ERR_USAGE, "pfn: expected one PFN (e.g. pfn 0x1fdf2)");
	char *end;
	errno = 0;
	uint64_t pfn = strtoull(argv[1], &end, 0);
	if (errno || *end || end == argv[1] || pfn >> 52)
		return err_new(ERR_USAGE, "pfn: '%s' is not a host frame number", argv[1]);
	s->sel.by_pfn = true;
	s->sel.pfn_lo = s->sel.pfn_hi = pfn;
	struct walker *w;
	struct err *e = walker_new(s->T, &w);
	if (e)
		return e;
	out_open(s, "pfn", NULL, "%-8s %-18s %3s %-12s %-18s %-7s %-18s %s\n", "VM", "ROOT", "LVL",
		 "GFN", "SPTE", "AS/SLOT", "HVA", "FLAGS");
	if (s->json)
		json_ku64(&s->j, "pfn", pfn);
	out_list_open(s, "mappings");
	uint64_t found = 0;
	for (size_t i = 0; i < s->H.nvms; i++) {
		const struct kvm_vm *vm = &s->H.vms[i];
		if (!select_vm(&s->sel, vm))
			continue;
		struct pfn_ctx c = { s, vm, pfn, 0 };
		struct walk_stats st = { 0 };
		walk_selected_roots(s, w, vm, pfn_entry, &c, &st);
		found += c.found;
	}
	walker_free(w);
	if (!s->json && !found)
		fprintf(s->out, "no SPTE of the selected roots maps pfn 0x%" PRIx64 "\n", pfn);
	out_close(s);
	return NULL;
}
