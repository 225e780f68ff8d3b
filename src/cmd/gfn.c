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

/* Under a shadow root the walk's input is the root's own address space (L2
 * guest-physical under a nested root); the frame mapped is what the shadow
 * page holding the leaf records (kvm_mmu_page_get_gfn), and the memslot is
 * that frame's. */
static void gfn_walk(struct session *s, const struct kvm_vm *vm, const struct kvm_root *r,
		     uint64_t gfn)
{
	const struct spte_masks *m = &s->H.masks;
	uint64_t pa = r->spt_pa;
	bool shadow = r->shadow != NULL;
	const char *space = r->guest_mode ? "L2 " : "";
	const struct kvm_memslot *slot = shadow ? NULL : kvm_vm_slot_for(vm, r->smm, gfn);
	if (s->json) {
		json_obj_begin(&s->j);
		json_ki64(&s->j, "vm", vm->pid);
		json_khex(&s->j, "root", r->sp);
		json_kstr(&s->j, "mmu", shadow ? "shadow" : "tdp");
		json_kbool(&s->j, "guest_mode", r->guest_mode);
		if (!shadow)
			gfn_memslot(s, slot, gfn);
		json_key(&s->j, "walk");
		json_arr_begin(&s->j);
	} else {
		fprintf(s->out, "VM %d  %s root 0x%" PRIx64 " (%s, level %d%s%s)  %sgfn 0x%" PRIx64
			"  %sgpa 0x%" PRIx64 "\n", vm->pid, shadow ? "shadow" : "TDP MMU", r->sp,
			r->smm ? "SMM" : "normal", r->level, r->guest_mode ? ", nested guest" : "",
			r->invalid || r->obsolete ? ", INVALID" : "", space, gfn, space, gfn << 12);
		if (!shadow)
			gfn_memslot(s, slot, gfn);
	}
	const char *result = "not mapped";
	uint64_t mapped_gfn = UINT64_MAX;
	uint64_t result_pfn = 0;
	for (int level = r->level; level >= 1; level--) {
		int idx = (int)((gfn >> (9 * (level - 1))) & 511);
		uint64_t spte;
		struct err *e = dump_read_phys(s->T->dump, pa + (uint64_t)idx * 8, &spte, 8);
		if (e) {
			s->exit_bits |= EXIT_INCOMPLETE;
			if (s->json) {
				json_obj_begin(&s->j);
				json_ki64(&s->j, "level", level);
				json_khex(&s->j, "table_pa", pa);
				json_kstr(&s->j, "error", e->msg);
				json_obj_end(&s->j);
			} else {
				fprintf(s->out, "  %-6s table 0x%" PRIx64 ": %s\n", level_name(level), pa, e->msg);
			}
			err_free(e);
			result = "unreadable";
			break;
		}
		struct spte_bits b;
		spte_decode(m, spte, level, &b);
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
			else if (shadow)
				snprintf(spd, sizeof(spd), "  [no shadow page for this table]");
			fprintf(s->out, "  %-6s [0x%" PRIx64 " + %3d*8]  0x%016" PRIx64 "  %s%s\n",
				level_name(level), pa, idx, spte, flags, spd);
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
		pa = spte & m->address;
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
		fprintf(s->out, "  => %sgfn 0x%" PRIx64 "  %sgpa 0x%" PRIx64 "\n", r->guest_mode ? "L1 " : "",
			mapped_gfn, r->guest_mode ? "L1 " : "", mapped_gfn << 12);
		gfn_memslot(s, slot, mapped_gfn);
	}
	if (result_pfn) {
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
			gfn_walk(s, vm, &vm->roots[k], gfn);
			n++;
		}
	}
	if (s->json) {
		json_arr_end(&s->j);
		json_doc_end(s);
	} else {
		if (!n)
			fprintf(s->out, "no root selected\n");
		text_notes(s);
	}
	return NULL;
}
