/* `vms`, `memslots`, `roots` and `info`: KVM's books and where they came from. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/session.h"
#include "kobj/rmap.h"
#include "kobj/shadow.h"
#include "kobj/sphash.h"

static const char *tri(int v)
{
	return v < 0 ? "unknown" : v ? "yes" : "no";
}

static void json_tri(struct json *j, const char *k, int v)
{
	json_key(j, k);
	if (v < 0)
		json_null(j);
	else
		json_bool(j, v);
}

/* Which of its MMUs a vCPU runs on (guest_mmu: it is in L2) and the roots
 * each holds. */
static void vcpu_mmus_json(struct json *j, const struct kvm_vcpu_mmus *m)
{
	json_key(j, "mmus");
	json_obj_begin(j);
	json_kstr(j, "current", m->current == MMU_NONE ? NULL : kvm_vcpu_mmu_name(m->current));
	json_kbool(j, "guest_mode", m->guest_mode);
	for (int i = 0; i < 3; i++) {
		const struct kvm_mmu_roots *r = &m->mmu[i];
		json_key(j, kvm_vcpu_mmu_name((enum kvm_vcpu_mmu)i));
		json_obj_begin(j);
		json_khex(j, "mmu", r->addr);
		json_khex(j, "root_hpa", r->root_hpa);
		json_khex(j, "root_pgd", r->root_pgd);
		json_khex(j, "root_role", r->root_role);
		json_key(j, "prev_roots");
		json_arr_begin(j);
		for (int k = 0; k < r->nprev; k++) {
			json_obj_begin(j);
			json_khex(j, "hpa", r->prev_hpa[k]);
			json_khex(j, "pgd", r->prev_pgd[k]);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_key(j, "pae_root");
		r->pae_root ? json_hex(j, r->pae_root) : json_null(j);
		json_key(j, "pml4_root");
		r->pml4_root ? json_hex(j, r->pml4_root) : json_null(j);
		json_key(j, "pml5_root");
		r->pml5_root ? json_hex(j, r->pml5_root) : json_null(j);
		json_obj_end(j);
	}
	json_obj_end(j);
}

struct err *cmd_vms(struct session *s, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	out_open(s, "vms", "vms", "%-8s %-16s %-18s %5s %8s %5s %-8s %s\n", "VM", "COMMAND", "KVM",
		 "VCPUS", "MEMSLOTS", "ROOTS", "TDP_MMU", "DIRTY_LOG");
	for (size_t i = 0; i < s->H.nvms; i++) {
		const struct kvm_vm *vm = &s->H.vms[i];
		if (!select_vm(&s->sel, vm))
			continue;
		const char *mode = vm->dirty_ring_size ? "ring"
				   : vm->manual_dirty_log_protect ? "manual-protect" : "bitmap";
		if (s->json) {
			json_obj_begin(&s->j);
			json_vm(&s->j, &s->H, vm);
			json_kstr(&s->j, "comm", vm->comm[0] ? vm->comm : NULL);
			json_khex(&s->j, "mm", vm->mm);
			json_ki64(&s->j, "online_vcpus", vm->online_vcpus);
			json_ku64(&s->j, "memslots", vm->nslots);
			json_ku64(&s->j, "roots", vm->nroots);
			json_tri(&s->j, "tdp_mmu", vm->tdp_mmu);
			json_ku64(&s->j, "manual_dirty_log_protect", vm->manual_dirty_log_protect);
			json_ku64(&s->j, "dirty_ring_size", vm->dirty_ring_size);
			json_kstr(&s->j, "dirty_log", mode);
			json_kbool(&s->j, "incomplete", vm->incomplete);
			json_key(&s->j, "vcpus");
			json_arr_begin(&s->j);
			for (size_t v = 0; v < vm->nvcpus; v++) {
				const struct kvm_vcpu_info *c = &vm->vcpus[v];
				json_obj_begin(&s->j);
				json_ki64(&s->j, "idx", c->idx);
				json_ki64(&s->j, "vcpu_id", c->vcpu_id);
				json_khex(&s->j, "vcpu", c->addr);
				json_key(&s->j, "root_hpa");
				if (c->root_hpa == UINT64_MAX)
					json_null(&s->j);
				else
					json_hex(&s->j, c->root_hpa);
				json_kstr(&s->j, "mode", vm_mode_name(c->mode));
				if (c->have_mmus)
					vcpu_mmus_json(&s->j, &c->mmus);
				json_obj_end(&s->j);
			}
			json_arr_end(&s->j);
			json_obj_end(&s->j);
		} else {
			fprintf(s->out, "%-8s %-16s 0x%-16" PRIx64 " %5d %8zu %5zu %-8s %s\n",
				vm_label(&s->H, vm), vm->comm[0] ? vm->comm : "-", vm->addr, vm->online_vcpus, vm->nslots,
				vm->nroots, tri(vm->tdp_mmu), mode);
		}
	}
	out_close(s);
	return NULL;
}

static void slot_flags_str(uint32_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", flags & KVM_MEM_LOG_DIRTY_PAGES ? "dirty-log " : "",
		 flags & KVM_MEM_READONLY ? "readonly " : "", flags & KVM_MEM_GUEST_MEMFD ? "gmem " : "",
		 flags & KVM_MEMSLOT_INVALID ? "INVALID " : "");
	size_t n = strlen(buf);
	if (n)
		buf[n - 1] = '\0';
	else
		snprintf(buf, len, "-");
}

struct err *cmd_memslots(struct session *s, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	out_open(s, "memslots", "memslots", "%-8s %2s %5s %-12s %-12s %8s %-18s %-18s %8s %s\n",
		 "VM", "AS", "SLOT", "BASE_GFN", "NPAGES", "SIZE", "USERSPACE_ADDR", "DIRTY_BITMAP",
		 "DIRTY", "FLAGS");
	for (size_t i = 0; i < s->H.nvms; i++) {
		const struct kvm_vm *vm = &s->H.vms[i];
		if (!select_vm(&s->sel, vm))
			continue;
		for (size_t k = 0; k < vm->nslots; k++) {
			const struct kvm_memslot *m = &vm->slots[k];
			uint64_t *words = NULL;
			size_t nwords = 0;
			struct err *e = kvm_slot_bitmap(s->T, m, &words, &nwords);
			if (e) {
				notes_add_err(&s->walk_notes, e, "memslots");
				s->exit_bits |= EXIT_INCOMPLETE;
			}
			uint64_t ndirty = 0;
			for (size_t w = 0; w < nwords; w++)
				ndirty += (uint64_t)__builtin_popcountll(words[w]);
			char flags[64];
			slot_flags_str(m->flags, flags, sizeof(flags));
			if (s->json) {
				json_obj_begin(&s->j);
				json_vm(&s->j, &s->H, vm);
				json_ki64(&s->j, "as_id", m->as_id);
				json_ki64(&s->j, "id", m->id);
				json_ku64(&s->j, "base_gfn", m->base_gfn);
				json_ku64(&s->j, "npages", m->npages);
				json_ku64(&s->j, "flags", m->flags);
				json_khex(&s->j, "userspace_addr", m->userspace_addr);
				json_khex(&s->j, "memslot", m->addr);
				json_key(&s->j, "dirty_bitmap");
				if (m->dirty_bitmap)
					json_hex(&s->j, m->dirty_bitmap);
				else
					json_null(&s->j);
				json_key(&s->j, "dirty_gfns");
				if (words) {
					json_arr_begin(&s->j);
					for (size_t w = 0; w < nwords; w++)
						for (uint64_t b = words[w]; b; b &= b - 1) {
							uint64_t rel = w * 64 + (uint64_t)__builtin_ctzll(b);
							if (rel < m->npages) /* bits past npages are not gfns */
								json_u64(&s->j, m->base_gfn + rel);
						}
					json_arr_end(&s->j);
				} else {
					json_null(&s->j);
				}
				json_obj_end(&s->j);
			} else {
				char db[32], nd[24];
				snprintf(db, sizeof(db), m->dirty_bitmap ? "0x%" PRIx64 : "-", m->dirty_bitmap);
				snprintf(nd, sizeof(nd), words ? "%" PRIu64 : "-", ndirty);
				char size[16];
				size_units(m->npages * PAGE_SIZE, size, sizeof(size));
				fprintf(s->out, "%-8s %2d %5d 0x%-10" PRIx64 " %-12" PRIu64 " %8s 0x%-16"
					PRIx64 " %-18s %8s %s\n", vm_label(&s->H, vm), m->as_id, m->id,
					m->base_gfn, m->npages, size, m->userspace_addr, db, nd, flags);
			}
			free(words);
		}
	}
	out_close(s);
	return NULL;
}

/* A shadow root's whole role and who holds it; a TDP MMU root's role is
 * fixed (direct, every access) and only the list matters. */
static void root_role_text(const struct kvm_root *r, char *buf, size_t len)
{
	if (r->mmu == KVM_MMU_TDP) {
		snprintf(buf, len, "direct");
		return;
	}
	/* a special root's quadrant is its pages' (one per PAE entry): not shown */
	const char *special = kvm_root_special_name(r->special);
	int n = special ? snprintf(buf, len, "%s over %s pages, access %c%c%c%s%s", special,
				   r->direct ? "direct" : "indirect", r->access & 4 ? 'u' : '-',
				   r->access & 2 ? 'w' : '-', r->access & 1 ? 'x' : '-',
				   r->invalid ? " invalid" : "", r->obsolete ? " obsolete" : "")
		: snprintf(buf, len, "%s quadrant %d access %c%c%c%s%s%s%s", r->direct ? "direct" : "indirect",
			 r->quadrant, r->access & 4 ? 'u' : '-', r->access & 2 ? 'w' : '-',
			 r->access & 1 ? 'x' : '-', r->passthrough ? " passthrough" : "",
			 r->invalid ? " invalid" : "", r->obsolete ? " obsolete" : "",
			 r->unsync ? " unsync" : "");
	if (n < 0 || (size_t)n >= len)
		return;
	if (r->held_vcpu < 0)
		snprintf(buf + n, len - (size_t)n, "; held by no vCPU");
	else if (r->held_prev < 0)
		snprintf(buf + n, len - (size_t)n, "; vCPU %d %s root", r->held_vcpu,
			 kvm_vcpu_mmu_name(r->held_mmu));
	else
		snprintf(buf + n, len - (size_t)n, "; vCPU %d %s prev_roots[%d]", r->held_vcpu,
			 kvm_vcpu_mmu_name(r->held_mmu), r->held_prev);
	if (r->list == SP_HELD)
		snprintf(buf + strlen(buf), len - strlen(buf), ", on no list");
}

static const char *root_mmu_name(const struct kvm_root *r)
{
	return r->mmu == KVM_MMU_TDP ? "tdp" : "shadow";
}

static void root_role_json(struct json *j, const struct kvm_root *r)
{
	static const char *const lists[] = { "active_mmu_pages", "zapped_obsolete_pages", "none" };
	json_kstr(j, "mmu", root_mmu_name(r));
	json_kbool(j, "direct", r->direct);
	if (r->mmu == KVM_MMU_TDP) {
		json_kstr(j, "list", "tdp_mmu_roots");
		return;
	}
	json_ki64(j, "quadrant", r->quadrant);
	json_ki64(j, "access", r->access);
	json_kbool(j, "passthrough", r->passthrough);
	json_kbool(j, "obsolete", r->obsolete);
	json_kbool(j, "unsync", r->unsync);
	json_kstr(j, "list", lists[r->list]);
	json_kstr(j, "special", kvm_root_special_name(r->special));
	json_key(j, "held_by");
	if (r->held_vcpu < 0) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_ki64(j, "vcpu", r->held_vcpu);
	json_kstr(j, "mmu", kvm_vcpu_mmu_name(r->held_mmu));
	json_key(j, "prev_root");
	r->held_prev < 0 ? json_null(j) : json_i64(j, r->held_prev);
	json_obj_end(j);
}

struct err *cmd_roots(struct session *s, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	out_open(s, "roots", "roots", "%-8s %-6s %-18s %-14s %-10s %3s %3s %-5s %-5s %-5s %4s %-6s %s\n",
		 "VM", "MMU", "ROOT", "TABLE_PA", "ROLE", "LVL", "SMM", "GUEST", "AD", "VALID", "REFS",
		 "VCPUS", "ROLE_DETAIL");
	for_each_selected_root(&s->sel, &s->H, vm, r) {
		char users[128] = "";
		size_t ul = 0;
		for (size_t v = 0; v < vm->nvcpus && ul < sizeof(users) - 8; v++)
			if (vm->vcpus[v].root_hpa == r->spt_pa)
				ul += (size_t)snprintf(users + ul, sizeof(users) - ul, "%s%d",
						       ul ? "," : "", vm->vcpus[v].idx);
		if (s->json) {
			json_obj_begin(&s->j);
			json_vm(&s->j, &s->H, vm);
			json_khex(&s->j, "sp", r->sp);
			json_khex(&s->j, "spt", r->spt);
			json_khex(&s->j, "spt_pa", r->spt_pa);
			json_khex(&s->j, "role", r->role);
			json_ki64(&s->j, "level", r->level);
			json_kbool(&s->j, "smm", r->smm);
			json_kbool(&s->j, "guest_mode", r->guest_mode);
			json_kbool(&s->j, "ad_disabled", r->ad_disabled);
			json_kbool(&s->j, "invalid", r->invalid);
			json_ki64(&s->j, "refcount", r->refcount);
			root_role_json(&s->j, r);
			json_key(&s->j, "vcpus");
			json_arr_begin(&s->j);
			for (size_t v = 0; v < vm->nvcpus; v++)
				if (vm->vcpus[v].root_hpa == r->spt_pa) {
					json_obj_begin(&s->j);
					json_ki64(&s->j, "idx", vm->vcpus[v].idx);
					json_ki64(&s->j, "vcpu_id", vm->vcpus[v].vcpu_id);
					json_obj_end(&s->j);
				}
			json_arr_end(&s->j);
			json_obj_end(&s->j);
		} else {
			char detail[160];
			root_role_text(r, detail, sizeof(detail));
			fprintf(s->out, "%-8s %-6s 0x%-16" PRIx64 " 0x%-12" PRIx64 " 0x%-8x %3d %3d %-5s "
				"%-5s %-5s %4" PRId64 " %-6s %s\n", vm_label(&s->H, vm), root_mmu_name(r),
				r->sp, r->spt_pa, r->role, r->level, r->smm, r->guest_mode ? "yes" : "no",
				r->ad_disabled ? "off" : "on", r->invalid || r->obsolete ? "no" : "yes",
				r->refcount, ul ? users : "-", detail);
		}
	}
	out_close(s);
	return NULL;
}

static const char *mmu_mode(const struct kvm_host *H)
{
	if (H->tdp_enabled == 0)
		return "shadow paging (no TDP)";
	return H->masks.ept ? "EPT" : "NPT";
}

/* Offsets recovered from machine code (no kvm BTF): say so, and how. */
static void info_recovered(struct session *s)
{
	const struct recover_report *R = &s->T->recovered;
	if (s->json) {
		json_key(&s->j, "recovered");
		if (!R->ran) {
			json_null(&s->j);
			return;
		}
		json_obj_begin(&s->j);
		json_kbool(&s->j, "used", R->used);
		json_kbool(&s->j, "vmlinux", R->vmlinux);
		json_kstr(&s->j, "method", R->vmlinux
			  ? "heuristic: struct offsets read from the machine code of known vmlinux and "
			    "kvm.ko functions (Capstone), checked on the module list, vm_list and TDP "
			    "MMU roots"
			  : "heuristic: struct offsets read from the machine code of known kvm.ko "
			    "functions (Capstone), checked on vm_list and TDP MMU roots");
		json_kstr(&s->j, "why", R->why);
		json_kstr(&s->j, "refused", *R->result ? R->result : NULL);
		json_kstr(&s->j, "validated", R->validated);
		json_key(&s->j, "members");
		json_arr_begin(&s->j);
		for (size_t i = 0; i < R->nitems && R->used; i++) {
			const struct recover_item *it = &R->items[i];
			json_obj_begin(&s->j);
			json_kstr(&s->j, "member", it->path);
			json_kbool(&s->j, "size_of", it->is_size);
			json_ku64(&s->j, "size", it->size);
			json_ku64(&s->j, "offset", it->off);
			json_ku64(&s->j, "bit", it->bit);
			json_ku64(&s->j, "bits", it->bits);
			json_kstr(&s->j, "from", it->from);
			json_obj_end(&s->j);
		}
		json_arr_end(&s->j);
		json_kstr(&s->j, "not_recovered", R->missing);
		json_obj_end(&s->j);
		return;
	}
	if (!R->ran)
		return;
	if (!R->used) {
		fprintf(s->out, "recovered:  %s; kvm offsets not recovered%s%s\n", R->why,
			*R->result ? ": " : "", R->result);
		return;
	}
	fprintf(s->out, "recovered:  %s offsets recovered heuristically from %s machine code (%s)\n",
		R->vmlinux ? "vmlinux and kvm" : "kvm", R->vmlinux ? "vmlinux and kvm.ko" : "kvm.ko",
		R->why);
	fprintf(s->out, "  checked on data: %s\n", R->validated);
	for (size_t i = 0; i < R->nitems; i++) {
		const struct recover_item *it = &R->items[i];
		char where[40];
		if (it->is_size)
			snprintf(where, sizeof(where), "size %u", it->size);
		else if (it->bits == 1)
			snprintf(where, sizeof(where), "%" PRIu64 " bit %u", it->off, it->bit);
		else if (it->bits)
			snprintf(where, sizeof(where), "%" PRIu64 " bits %u-%u", it->off, it->bit,
				 it->bit + it->bits - 1);
		else
			snprintf(where, sizeof(where), "%" PRIu64, it->off);
		fprintf(s->out, "  %-46s %-14s from %s\n", it->path, where, it->from);
	}
	if (*R->missing)
		fprintf(s->out, "  not recovered (what needs them is unavailable): %s\n", R->missing);
}

struct err *cmd_info(struct session *s, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct target *T = s->T;
	/* every module's symbol count and type info source */
	struct err *e = target_complete(T);
	if (e)
		return e;
	const char *ko = dump_vmcoreinfo(T->dump, "KERNELOFFSET");
	const struct spte_masks *m = &s->H.masks;
	/* the execute masks under the names kvm.ko gives them: one, or split */
	static const struct { const char *name; size_t off; int split; } masks[] = {
#define M(n, f) { n, offsetof(struct spte_masks, f), -1 }
		M("shadow_present_mask", present), M("shadow_user_mask", user),
		{ "shadow_x_mask", offsetof(struct spte_masks, x), 0 },
		{ "shadow_xs_mask", offsetof(struct spte_masks, x), 1 },
		{ "shadow_xu_mask", offsetof(struct spte_masks, xu), 1 },
		M("shadow_nx_mask", nx), M("shadow_accessed_mask", accessed),
		M("shadow_dirty_mask", dirty), M("shadow_host_writable_mask", host_writable),
		M("shadow_mmu_writable_mask", mmu_writable), M("shadow_acc_track_mask", acc_track),
		M("shadow_mmio_value", mmio_value), M("shadow_mmio_mask", mmio_mask),
		M("shadow_mmio_access_mask", mmio_access), M("shadow_me_value", me_value),
		M("shadow_me_mask", me_mask),
#undef M
	};
	if (s->json) {
		out_open(s, "info", NULL, NULL);
		json_kstr(&s->j, "format", dump_format(T->dump));
		json_kbool(&s->j, "flattened", dump_is_flattened(T->dump));
		json_kbool(&s->j, "live", dump_is_live(T->dump));
		extract_info(s);
		json_kstr(&s->j, "release", T->release);
		json_kstr(&s->j, "vmcoreinfo", dump_vmcoreinfo_source(T->dump));
		json_kstr(&s->j, "kernel_offset", ko);
		json_khex(&s->j, "page_offset_base", T->page_offset_base);
		json_khex(&s->j, "physical_mask", T->physical_mask);
		json_kstr(&s->j, "symbols", T->syms_source);
		json_ku64(&s->j, "vmlinux_symbols", symtab_count(&T->vmlinux_syms));
		json_kstr(&s->j, "types", T->types.vmlinux_source);
		json_key(&s->j, "modules");
		json_arr_begin(&s->j);
		for (size_t i = 0; i < T->nmods; i++) {
			const char *src = NULL;
			for (size_t k = 0; k < T->types.nmods; k++)
				if (!strcmp(T->types.mods[k].name, T->mods[i].syms.name))
					src = T->types.mods[k].source;
			json_obj_begin(&s->j);
			json_kstr(&s->j, "name", T->mods[i].syms.name);
			json_khex(&s->j, "module", T->mods[i].addr);
			json_ku64(&s->j, "symbols", T->mods[i].syms.n);
			json_kstr(&s->j, "btf", src);
			json_obj_end(&s->j);
		}
		json_arr_end(&s->j);
		info_recovered(s);
		json_kstr(&s->j, "mmu", mmu_mode(&s->H));
		json_key(&s->j, "masks");
		json_obj_begin(&s->j);
		for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++)
			if (masks[i].split < 0 || masks[i].split == m->split_x)
				json_khex(&s->j, masks[i].name,
					  *(const uint64_t *)((const char *)m + masks[i].off));
		json_obj_end(&s->j);
		/* where this kernel keeps KVM's software bits (include/kobj/masks.h) */
		json_key(&s->j, "spte_bits");
		json_obj_begin(&s->j);
		json_ku64(&s->j, "ad_type_shift", (uint64_t)m->ad_shift);
		json_ku64(&s->j, "saved_r_bit", (uint64_t)m->saved_shift);
		json_ku64(&s->j, "saved_x_bit", (uint64_t)m->saved_shift + 2);
		if (m->saved_xu_bit)
			json_ku64(&s->j, "saved_xu_bit", (uint64_t)m->saved_xu_bit);
		json_ku64(&s->j, "mmio_generation_low_bits", (uint64_t)m->mmio_gen_low_bits);
		json_khex(&s->j, "frozen", m->frozen);
		json_khex(&s->j, "empty", m->nonpresent);
		json_obj_end(&s->j);
		out_close(s);
		return NULL;
	}
	fprintf(s->out, "dump:       %s\n", dump_path(T->dump));
	fprintf(s->out, "format:     %s%s%s\n", dump_format(T->dump),
		dump_is_flattened(T->dump) ? " (flattened, read in place)" : "",
		dump_is_live(T->dump) ? " (live)" : "");
	extract_info(s);
	fprintf(s->out, "release:    %s\n", T->release);
	fprintf(s->out, "vmcoreinfo: from %s\n", dump_vmcoreinfo_source(T->dump));
	fprintf(s->out, "KASLR:      kernel offset 0x%s, page_offset_base 0x%" PRIx64 "\n",
		ko ? ko : "0", T->page_offset_base);
	fprintf(s->out, "symbols:    vmlinux from %s (%zu symbols)\n", T->syms_source, symtab_count(&T->vmlinux_syms));
	fprintf(s->out, "types:      vmlinux BTF from %s\n", T->types.vmlinux_source);
	for (size_t i = 0; i < T->nmods; i++) {
		const char *src = "none";
		for (size_t k = 0; k < T->types.nmods; k++)
			if (!strcmp(T->types.mods[k].name, T->mods[i].syms.name))
				src = T->types.mods[k].source;
		fprintf(s->out, "module:     %-14s 0x%" PRIx64 "  %5zu symbols, BTF from %s\n",
			T->mods[i].syms.name, T->mods[i].addr, T->mods[i].syms.n, src);
	}
	info_recovered(s);
	fprintf(s->out, "MMU:        %s, SPTE masks from kvm.ko globals:\n", mmu_mode(&s->H));
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++)
		if (masks[i].split < 0 || masks[i].split == m->split_x)
			fprintf(s->out, "  %-28s 0x%016" PRIx64 "\n", masks[i].name,
				*(const uint64_t *)((const char *)m + masks[i].off));
	fprintf(s->out, "SPTE bits:  A/D type %d-%d, saved R/X %d/%d", m->ad_shift, m->ad_shift + 1,
		m->saved_shift, m->saved_shift + 2);
	if (m->saved_xu_bit)
		fprintf(s->out, " (XU %d)", m->saved_xu_bit);
	fprintf(s->out, ", MMIO generation bits 3-%d and 52-62, frozen 0x%" PRIx64 "\n",
		2 + m->mmio_gen_low_bits, m->frozen);
	return NULL;
}

/* One owner pid per line, for shell completion of --vm. */
struct err *cmd_pids(struct session *s, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < s->H.nvms; i++) {
		bool dup = false;
		for (size_t k = 0; k < i; k++)
			dup |= s->H.vms[k].pid == s->H.vms[i].pid;
		if (!dup)
			fprintf(s->out, "%d\n", s->H.vms[i].pid);
	}
	return NULL;
}

/* Code symbols starting with PREFIX, one per line, for shell completion of
 * `dis`: vmlinux's by name, a module's as module:name (what dis takes). At
 * most 2000: a completion list longer than that helps nobody. */
struct err *cmd_symbols(struct session *s, int argc, char **argv)
{
	const char *prefix = argc > 1 ? argv[1] : "";
	size_t plen = strlen(prefix), shown = 0;
	struct target *T = s->T;
	struct err *e = target_complete(T);
	if (e)
		return e;
	for (size_t t = 0; t <= T->nmods && shown < 2000; t++) {
		const struct symtab *st = t ? &T->mods[t - 1].syms : &T->vmlinux_syms;
		for (size_t i = 0; i < st->n && shown < 2000; i++) {
			char ty = st->type ? st->type[i] : 't';
			if (ty != 't' && ty != 'T')
				continue;
			const char *name = st->pool + st->name_off[i];
			char full[256];
			snprintf(full, sizeof(full), "%s%s%s", t ? st->name : "", t ? ":" : "", name);
			if (!strncmp(full, prefix, plen)) {
				fprintf(s->out, "%s\n", full);
				shown++;
			}
		}
	}
	return NULL;
}

/* Hidden helpers for tests and the fault injector: a kernel virtual address
 * translated as the analysis does it, and a member offset from type info. */
struct err *cmd_vtop(struct session *s, int argc, char **argv)
{
	if (argc != 2)
		return err_new(ERR_USAGE, "__vtop VA");
	uint64_t va = strtoull(argv[1], NULL, 0), pa;
	struct err *e = dump_vtop(s->T->dump, va, &pa);
	if (e)
		return e;
	fprintf(s->out, "0x%" PRIx64 "\n", pa);
	return NULL;
}

struct err *cmd_rd64(struct session *s, int argc, char **argv)
{
	if (argc != 2)
		return err_new(ERR_USAGE, "__rd64 VA");
	uint64_t v;
	struct err *e = dump_read_u64(s->T->dump, strtoull(argv[1], NULL, 0), &v);
	if (e)
		return e;
	fprintf(s->out, "0x%" PRIx64 "\n", v);
	return NULL;
}

struct err *cmd_offset(struct session *s, int argc, char **argv)
{
	if (argc < 2 || !strchr(argv[1], '.'))
		return err_new(ERR_USAGE, "__offset STRUCT.MEMBER[.MEMBER...] ...");
	/* One member: its offset or an error; several: one line each, "-" for
	 * those the type info lacks (for tests that ask many at once). */
	for (int i = 1; i < argc; i++) {
		char name[128];
		snprintf(name, sizeof(name), "%s", argv[i]);
		char *dot = strchr(name, '.');
		if (!dot)
			return err_new(ERR_USAGE, "__offset: '%s' is not STRUCT.MEMBER", argv[i]);
		*dot = '\0';
		struct type_ref t = types_struct(&s->T->types, "kvm", name);
		struct member m;
		struct err *e = target_need_member(t, name, dot + 1, &m);
		if (e && argc == 2)
			return e;
		if (e) {
			err_free(e);
			fprintf(s->out, "-\n");
			continue;
		}
		fprintf(s->out, "%" PRIu64 " %" PRIu64 " %u %" PRIu64 "\n", m.bit_off / 8, m.bit_off % 8,
			m.bit_size, m.size);
	}
	return NULL;
}

/* Hidden: the shadow MMU's books as read (tests/cli/check_oracle_rmap.py
 * compares them with the drgn oracle). */
struct err *cmd_rmaps(struct session *s, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < s->H.nvms; i++) {
		const struct kvm_vm *vm = &s->H.vms[i];
		struct kvm_shadow_books B;
		struct err *e = kvm_shadow_books_load(s->T, vm, &B);
		if (e) {
			kvm_shadow_books_free(&B);
			return e;
		}
		fprintf(s->out, "vm 0x%" PRIx64 " rmap_ok %d parents_ok %d bitmap_ok %d\n", vm->addr,
			B.rmap_ok, B.parents_ok, B.bitmap_ok);
		if (!B.rmap_ok)
			fprintf(s->out, "why 0x%" PRIx64 " %s\n", vm->addr, B.rmap_why);
		for (size_t k = 0; k < B.nrmap; k++) {
			const struct kvm_rmap_entry *r = &B.rmap[k];
			fprintf(s->out, "rmap 0x%" PRIx64 " %d %d %d 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 "\n",
				vm->addr, r->as_id, r->slot, r->level, r->gfn, r->sptep, r->head);
		}
		for (size_t k = 0; k < B.nparents; k++)
			fprintf(s->out, "parent 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 "\n", vm->addr,
				vm->shadow.pages[B.parents[k].page].sp, B.parents[k].sptep);
		for (size_t k = 0; k < vm->shadow.npages && B.bitmap_ok; k++) {
			fprintf(s->out, "bitmap 0x%" PRIx64 " 0x%" PRIx64, vm->addr, vm->shadow.pages[k].sp);
			for (int b = 0; b < 512; b++)
				if (B.bitmap[k][b / 64] >> (b % 64) & 1)
					fprintf(s->out, " %d", b);
			fprintf(s->out, "\n");
		}
		kvm_shadow_books_free(&B);
	}
	return NULL;
}

/* __hash: every VM's mmu_page_hash as read (tests compare it with the oracle):
 * "hash KVM STATE NBUCKETS ADDR LINK_OFF NCUT", then one "entry KVM BUCKET
 * POS SP PPREV_OK LIST" per node (LIST: active, zapped, held, or none). */
struct err *cmd_hash(struct session *s, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	static const char *const state[] = { "unknown", "null", "read" };
	static const char *const list[] = { "active", "zapped", "held" };
	for (size_t i = 0; i < s->H.nvms; i++) {
		const struct kvm_vm *vm = &s->H.vms[i];
		struct kvm_sp_hash h;
		struct err *e = kvm_sp_hash_load(s->T, vm, &h);
		if (e) {
			kvm_sp_hash_free(&h);
			return e;
		}
		fprintf(s->out, "hash 0x%" PRIx64 " %s %u 0x%" PRIx64 " %" PRIu64 " %u\n", vm->addr,
			state[h.state], h.nbuckets, h.addr, h.link_off, h.ncut);
		if (h.count_from[0])
			fprintf(s->out, "count 0x%" PRIx64 " %s\n", vm->addr, h.count_from);
		if (h.off_from[0])
			fprintf(s->out, "offset 0x%" PRIx64 " %s\n", vm->addr, h.off_from);
		if (h.why[0])
			fprintf(s->out, "why 0x%" PRIx64 " %s\n", vm->addr, h.why);
		if (h.cut_why[0])
			fprintf(s->out, "cut 0x%" PRIx64 " %s\n", vm->addr, h.cut_why);
		for (size_t k = 0; k < h.n; k++) {
			const struct kvm_hash_entry *x = &h.e[k];
			fprintf(s->out, "entry 0x%" PRIx64 " %u %u 0x%" PRIx64 " %d %s\n", vm->addr, x->bucket,
				x->pos, x->sp, x->pprev_ok,
				x->page == SIZE_MAX ? "none" : list[vm->shadow.pages[x->page].list]);
		}
		kvm_sp_hash_free(&h);
	}
	return NULL;
}
