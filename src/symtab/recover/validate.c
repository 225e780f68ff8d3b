/* The recovered layout checked on the data: VMs, roots, the module list. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

/* ---- validation on the data ---------------------------------------------- */

static bool kaddr(uint64_t v) { return v >= 0xffff800000000000ull; }

static bool rec_u64(struct rec *r, uint64_t va, uint64_t *v)
{
	return dump_peek(r->in->dump, va, v, sizeof(*v));
}

/* Members read from one function only, checked on each VM for values KVM
 * can hold; one that does not fit is voided, not used. */
static void rec_plausible(struct rec *r, uint64_t kvm)
{
	static const struct {
		const char *path;
		unsigned size;
		int what;	/* 0 pid, 1 manual-protect caps, 2 ring bytes, 3 bool */
	} checks[] = {
		{ "kvm.userspace_pid", 4, 0 },
		{ "kvm.manual_dirty_log_protect", 8, 1 },
		{ "kvm.dirty_ring_size", 4, 2 },
		{ "kvm.arch.tdp_mmu_enabled", 1, 3 },
		{ "kvm.arch.disable_nx_huge_pages", 1, 3 },
	};
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		struct recover_item *it = rec_find(r, checks[i].path);
		uint64_t v = 0;
		if (!it || it->conflict || !dump_peek(r->in->dump, kvm + it->off, &v, checks[i].size))
			continue;
		bool ok = checks[i].what == 0 ? v > 0 && v <= 4194304 :	/* PID_MAX_LIMIT */
			  checks[i].what == 1 ? v == 0 || v == 1 || v == 3 :
			  checks[i].what == 2 ? v == 0 || (v >= 4096 && !(v & (v - 1))) : v <= 1;
		if (!ok) {
			it->conflict = true;
			size_t l = strlen(r->R->conflicts);
			snprintf(r->R->conflicts + l, sizeof(r->R->conflicts) - l, "%s%s (does not fit the data)",
				 l ? ", " : "", checks[i].path);
		}
	}
}

/* Whether VM at KVM runs without the TDP MMU: its own flag where the code
 * shows one (5.10 to 6.2), else the module parameter; unknown counts as on. */
static bool rec_tdp_mmu_off(struct rec *r, uint64_t kvm)
{
	struct recover_item *it = rec_find(r, "kvm.arch.tdp_mmu_enabled");
	uint8_t v = 1;
	uint64_t a;
	if (it && !it->conflict)
		return dump_peek(r->in->dump, kvm + it->off, &v, 1) && v == 0;
	return rec_symbol(r, "kvm", "tdp_mmu_enabled", &a) && dump_peek(r->in->dump, a, &v, 1) && v == 0;
}

/* vCPU 0 of a VM without the TDP MMU: its MMU's root (a shadow page) must
 * be a page whose page->private is a kvm_mmu_page whose spt maps it back.
 * 1 checked, 0 nothing to check (no vCPU, no root), -1 does not fit. */
static int rec_shadow_root(struct rec *r, uint64_t kvm, uint64_t vmemmap, uint64_t psize,
			   uint64_t priv, uint64_t spt, char *why, size_t len)
{
	uint64_t vcpus, mmu, hpa, arr, vcpu = 0, sp, table, base, xa_head = 0;
	struct member head;
	if (!rec_get(r, "kvm_vcpu.arch.mmu", &mmu) || !rec_get(r, "kvm_mmu.root.hpa", &hpa) ||
	    !rec_symbol(r, "vmlinux", "page_offset_base", &base) || !rec_u64(r, base, &base))
		return 0;
	if (rec_get(r, "kvm.vcpu_array", &arr)) {
		/* index 0: the head itself, or slot 0 of each node down */
		struct member slots;
		if (types_member(types_struct(r->in->types, NULL, "xarray"), "xa_head", &head))
			xa_head = member_off(&head);
		if (!rec_u64(r, kvm + arr + xa_head, &vcpu))
			return 0;
		for (int depth = 0; (vcpu & 3) == 2 && vcpu > 4096 && depth < 8; depth++)
			if (!types_member(types_struct(r->in->types, NULL, "xa_node"), "slots", &slots) ||
			    !rec_u64(r, vcpu - 2 + member_off(&slots), &vcpu))
				return 0;
		if (vcpu & 3)
			return 0;
	} else if (!rec_get(r, "kvm.vcpus", &vcpus) || !rec_u64(r, kvm + vcpus, &vcpu)) {
		return 0;
	}
	if (!vcpu)
		return 0;
	if (!kaddr(vcpu) || !rec_u64(r, vcpu + mmu, &mmu) || !kaddr(mmu) || !rec_u64(r, mmu + hpa, &hpa)) {
		snprintf(why, len, "struct kvm 0x%llx: vCPU 0's MMU is not a readable pointer",
			 (unsigned long long)kvm);
		return -1;
	}
	if (hpa == ~0ull) /* INVALID_PAGE: no root loaded */
		return 0;
	if ((hpa & 4095) || !rec_u64(r, vmemmap + (hpa >> 12) * psize + priv, &sp) || !kaddr(sp) ||
	    !rec_u64(r, sp + spt, &table) || table != base + hpa) {
		snprintf(why, len, "struct kvm 0x%llx: vCPU 0's root 0x%llx is not a shadow page",
			 (unsigned long long)kvm, (unsigned long long)hpa);
		return -1;
	}
	return 1;
}

/* Walk vm_list and each VM's roots with the recovered offsets: every
 * struct kvm must have a readable mm and memslots, every root a
 * page-aligned table whose struct page points back to it.  A VM without the
 * TDP MMU has no TDP roots (its list never initialised, or empty): there
 * vCPU 0's shadow root is checked instead. */
bool rec_validate(struct rec *r, char *why, size_t len)
{
	uint64_t vm_list = 0, mm = 0, roots = 0, link = 0, spt = 0, memslots = 0, online = 0,
		 word = 0, head, pos;
	static const char *const need[] = { "kvm.vm_list", "kvm.mm", "kvm.arch.tdp_mmu_roots",
					    "kvm_mmu_page.link", "kvm_mmu_page.spt", "kvm.memslots",
					    "kvm.online_vcpus", "kvm_mmu_page.role.word" };
	uint64_t *vals[] = { &vm_list, &mm, &roots, &link, &spt, &memslots, &online, &word };
	size_t l = 0;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!rec_get(r, need[i], vals[i]) && l < len)
			l += (size_t)snprintf(why + l, len - l, "%s%s", l ? ", " : "the code did not reveal ",
					      need[i]);
	if (l)
		return false;
	struct recover_item *lv = rec_find(r, "kvm_mmu_page.role.level");
	if (!rec_symbol(r, "kvm", "vm_list", &head) &&
	    !rec_symbol(r, "vmlinux", "vm_list", &head)) {
		snprintf(why, len, "symbol vm_list not found");
		return false;
	}
	/* struct page for page->private, from vmlinux type info */
	struct type_ref page = types_struct(r->in->types, NULL, "page");
	struct member priv;
	uint64_t vmemmap = 0, psize = types_size(page);
	bool back = types_member(page, "private", &priv) && psize &&
		    rec_symbol(r, "vmlinux", "vmemmap_base", &vmemmap) &&
		    rec_u64(r, vmemmap, &vmemmap);
	size_t nvm = 0, nroot = 0, nback = 0, noff = 0, nshadow = 0;
	if (!rec_u64(r, head, &pos)) {
		snprintf(why, len, "vm_list head unreadable");
		return false;
	}
	while (pos != head && nvm < REC_MAX_VMS) {
		uint64_t kvm = pos - vm_list, v, ms;
		uint32_t n;
		if (!rec_u64(r, kvm + mm, &v) || !kaddr(v) || !rec_u64(r, v, &ms)) {
			snprintf(why, len, "struct kvm 0x%llx: kvm.mm at +%llu is not a readable pointer",
				 (unsigned long long)kvm, (unsigned long long)mm);
			return false;
		}
		if (!rec_u64(r, kvm + memslots, &ms) || !kaddr(ms) ||
		    !dump_peek(r->in->dump, kvm + online, &n, sizeof(n)) || n > 4096) {
			snprintf(why, len, "struct kvm 0x%llx: memslots or online_vcpus implausible",
				 (unsigned long long)kvm);
			return false;
		}
		uint64_t rpos, rprev, rhead = kvm + roots;
		if (!rec_u64(r, rhead, &rpos) || !rec_u64(r, rhead + 8, &rprev)) {
			snprintf(why, len, "struct kvm 0x%llx: root list unreadable", (unsigned long long)kvm);
			return false;
		}
		if (rec_tdp_mmu_off(r, kvm)) {
			int k = 0;
			if (!((rpos == 0 && rprev == 0) || (rpos == rhead && rprev == rhead))) {
				snprintf(why, len, "struct kvm 0x%llx: TDP MMU off but its root list is not "
					 "empty", (unsigned long long)kvm);
				return false;
			}
			if (back && (k = rec_shadow_root(r, kvm, vmemmap, psize, member_off(&priv), spt, why,
							 len)) < 0)
				return false;
			nshadow += (size_t)k;
			noff++;
			rpos = rhead;
		}
		for (size_t k = 0; rpos != rhead && k < REC_MAX_ROOTS; k++, nroot++) {
			uint64_t sp = rpos - link, table, role = 0, pg;
			if (!rec_u64(r, sp + spt, &table) || !kaddr(table) || (table & 4095) ||
			    !dump_peek(r->in->dump, sp + word, &role, 4)) {
				snprintf(why, len, "root 0x%llx: spt is not a page-aligned table",
					 (unsigned long long)sp);
				return false;
			}
			if (lv) {
				uint64_t level = (role >> lv->bit) & ((1u << lv->bits) - 1);
				if (level < 2 || level > 5) {
					snprintf(why, len, "root 0x%llx: role.level %llu", (unsigned long long)sp,
						 (unsigned long long)level);
					return false;
				}
			}
			uint64_t pa;
			struct err *e = dump_vtop(r->in->dump, table, &pa);
			if (e) {
				err_free(e);
			} else if (back && rec_u64(r, vmemmap + (pa >> 12) * psize + member_off(&priv), &pg)) {
				if (pg != sp) {
					snprintf(why, len, "root 0x%llx: its table's page->private is 0x%llx",
						 (unsigned long long)sp, (unsigned long long)pg);
					return false;
				}
				nback++;
			}
			if (!rec_u64(r, rpos, &rpos))
				break;
		}
		rec_plausible(r, kvm);
		nvm++;
		if (!rec_u64(r, pos, &pos))
			break;
	}
	char mods[64] = "", off[112] = "";
	if (r->R->vmlinux) /* what recover_vmlinux_types checked */
		snprintf(mods, sizeof(mods), "; %.60s", r->R->validated);
	if (noff)
		snprintf(off, sizeof(off), "; %zu without the TDP MMU: %zu vCPU shadow root(s) pointed "
			 "back to by page->private", noff, nshadow);
	if (!nvm)
		snprintf(r->R->validated, sizeof(r->R->validated), "not checked on data: vm_list is "
			 "empty%s", mods);
	else
		snprintf(r->R->validated, sizeof(r->R->validated),
			 "%zu VM(s) on vm_list with readable mm and memslots, %zu root(s) with page-aligned "
			 "tables, %zu pointed back to by page->private%s%s", nvm, nroot, nback, off, mods);
	return true;
}


/* The module list: every entry's name a module name, its symbol table a
 * plausible pointer and count. */
bool rec_validate_modules(struct rec *r, char *why, size_t len)
{
	uint64_t list, name, ks, nsym, head, pos;
	if (!rec_get(r, "module.list", &list) || !rec_get(r, "module.name", &name) ||
	    !rec_get(r, "module.kallsyms", &ks) || !rec_get(r, "mod_kallsyms.num_symtab", &nsym) ||
	    !rec_symbol(r, "vmlinux", "modules", &head) || !rec_u64(r, head, &pos)) {
		snprintf(why, len, "the code did not reveal the module list's layout");
		return false;
	}
	size_t n = 0;
	for (; pos != head && n < 1024; n++) {
		char nm[57] = "";
		uint64_t k;
		uint32_t cnt;
		if (!dump_peek(r->in->dump, pos - list + name, nm, 56) || !nm[0] ||
		    strspn(nm, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(nm)) {
			snprintf(why, len, "module at 0x%llx: no module name at +%llu",
				 (unsigned long long)(pos - list), (unsigned long long)name);
			return false;
		}
		if (!rec_u64(r, pos - list + ks, &k) || (k && (!kaddr(k) ||
		    !dump_peek(r->in->dump, k + nsym, &cnt, 4) || cnt > (1u << 20)))) {
			snprintf(why, len, "module %s: implausible kallsyms", nm);
			return false;
		}
		if (!rec_u64(r, pos, &pos))
			break;
	}
	snprintf(r->R->validated, sizeof(r->R->validated), "%zu module(s) on the module list", n);
	return n > 0;
}
