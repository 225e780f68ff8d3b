/* `gfn GFN`: the walk from each root down to one guest frame, one line per
 * level, like crash's vtop. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "cmd/session.h"

static const char *level_name(int level)
{
	static const char *const n[] = { "?", "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };
	return level >= 1 && level <= 5 ? n[level] : "?";
}

/* One table that could not be entered (or the root refused): the last row. */
static void gfn_unreadable(struct session *s, int level, uint64_t pa, const char *why)
{
	s->exit_bits |= EXIT_INCOMPLETE;
	if (s->json) {
		json_obj_begin(&s->j);
		json_ki64(&s->j, "level", level);
		json_khex(&s->j, "table_pa", pa);
		json_kstr(&s->j, "error", why);
		json_obj_end(&s->j);
	} else {
		fprintf(s->out, "  %-6s table 0x%" PRIx64 ": %s\n", level_name(level), pa, why);
	}
}

/* The walk is the SPTE iterator over a one-gfn range, empty entries
 * included: one entry per level, from the root down. */
static void gfn_walk(struct session *s, struct spte_iter *it, const struct kvm_vm *vm,
		     const struct kvm_root *r, uint64_t gfn)
{
	const struct spte_masks *m = &s->H.masks;
	const struct kvm_memslot *slot = kvm_vm_slot_for(vm, r->smm, gfn);
	if (s->json) {
		json_obj_begin(&s->j);
		json_ki64(&s->j, "vm", vm->pid);
		json_khex(&s->j, "root", r->sp);
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
		json_key(&s->j, "walk");
		json_arr_begin(&s->j);
	} else {
		fprintf(s->out, "VM %d  root 0x%" PRIx64 " (%s, level %d%s)  gfn 0x%" PRIx64 "  gpa 0x%"
			PRIx64 "\n", vm->pid, r->sp, r->smm ? "SMM" : "normal", r->level,
			r->invalid ? ", INVALID" : "", gfn, gfn << 12);
		if (slot)
			fprintf(s->out, "  memslot %d (as %d), hva 0x%" PRIx64 "\n", slot->id, slot->as_id,
				slot->userspace_addr + (gfn - slot->base_gfn) * PAGE_SIZE);
		else
			fprintf(s->out, "  no memslot covers this gfn\n");
	}
	const char *result = "not mapped";
	uint64_t result_pfn = 0;
	/* Bits above the root's reach are not translated, as by the hardware. */
	uint64_t at = r->gfn + ((gfn - r->gfn) & (walk_level_pages(r->level + 1) - 1));
	struct spte_iter_root root = { r->spt_pa, r->level, r->gfn };
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
		spte_decode(m, spte, level, &b);
		if (s->json) {
			json_obj_begin(&s->j);
			json_ki64(&s->j, "level", level);
			json_khex(&s->j, "table_pa", pa);
			json_ki64(&s->j, "index", idx);
			json_khex(&s->j, "entry_pa", pa + (uint64_t)idx * 8);
			json_khex(&s->j, "spte", spte);
			json_spte_bits(&s->j, &b, m->ept);
			json_obj_end(&s->j);
		} else {
			char flags[96];
			spte_flags_str(&b, m->ept, flags, sizeof(flags));
			fprintf(s->out, "  %-6s [0x%" PRIx64 " + %3d*8]  0x%016" PRIx64 "  %s\n",
				level_name(level), pa, idx, spte, flags);
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
			break;
		}
	}
	if (s->json) {
		json_arr_end(&s->j);
		json_kstr(&s->j, "result", result);
		if (result_pfn)
			json_ku64(&s->j, "pfn", result_pfn);
		json_obj_end(&s->j);
	} else if (result_pfn) {
		fprintf(s->out, "  => pfn 0x%" PRIx64 "  host physical 0x%" PRIx64 "\n", result_pfn,
			result_pfn << 12);
	} else {
		fprintf(s->out, "  => %s\n", result);
	}
}

struct err *cmd_gfn(struct session *s, int argc, char **argv)
{
	if (argc != 2)
		return err_new(ERR_USAGE, "gfn: expected one GFN (e.g. gfn 0x10011)");
	char *end;
	errno = 0;
	uint64_t gfn = strtoull(argv[1], &end, 0);
	if (errno || *end || end == argv[1] || gfn >> 40)
		return err_new(ERR_USAGE, "gfn: '%s' is not a guest frame number", argv[1]);
	if (s->json) {
		json_doc_begin(s, "gfn");
		json_ku64(&s->j, "gfn", gfn);
		json_key(&s->j, "walks");
		json_arr_begin(&s->j);
	}
	struct spte_iter *it = calloc(1, sizeof(*it));
	if (!it)
		return err_new(ERR_NOMEM, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < s->H.nvms; i++) {
		const struct kvm_vm *vm = &s->H.vms[i];
		if (!select_vm(s, vm))
			continue;
		for (size_t k = 0; k < vm->nroots; k++) {
			if (!select_root(s, &vm->roots[k]))
				continue;
			if (!s->json && n)
				fputc('\n', s->out);
			gfn_walk(s, it, vm, &vm->roots[k], gfn);
			n++;
		}
	}
	spte_iter_fini(it);
	free(it);
	if (s->json) {
		json_arr_end(&s->j);
		json_doc_end(s);
	} else {
		if (!n)
			fprintf(s->out, "no TDP MMU root selected\n");
		text_notes(s);
	}
	return NULL;
}
