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

static void rec_void(struct rec *r, const char *path)
{
	struct recover_item *it = rec_find(r, path);
	if (!it || it->conflict)
		return;
	it->conflict = true;
	size_t l = strlen(r->R->conflicts);
	snprintf(r->R->conflicts + l, sizeof(r->R->conflicts) - l, "%s%s (does not fit the data)",
		 l ? ", " : "", path);
}

static void rec_void_desc(struct rec *r)
{
	static const char *const m[] = { "pte_list_desc.sptes", "pte_list_desc.more",
					 "pte_list_desc.spte_count", "pte_list_desc.tail_count",
					 "pte_list_desc" };
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		rec_void(r, m[i]);
}

/* The shadow MMU's books on the data, for the members read from one
 * function each: on the VM's shadow pages (active_mmu_pages),
 * parent_ptes.val is 0, one sptep (bit 0 clear) or a pte_list_desc chain
 * (bit 0 set) whose first slot is a sptep; a sptep lies in a table whose
 * page->private is a kvm_mmu_page whose spt is that table; the number of
 * bits set in unsync_child_bitmap is unsync_children.  Damage to a few
 * pages is the checks' to report (S16-S18): a member is voided only when
 * fewer than half of the entries it reads fit. */
struct books_tally {
	size_t one, one_ok, desc, desc_ok, bitmap, bitmap_ok;
	size_t rdesc, rdesc_ok;	/* the memslot rmaps' chains (no parent_ptes in them) */
};

static bool rec_sptep_ok(struct rec *r, uint64_t p, uint64_t vmemmap, uint64_t psize, uint64_t priv,
			 uint64_t spt, uint64_t base)
{
	uint64_t sp, t;
	return kaddr(p) && !(p & 7) && p >= base &&
	       rec_u64(r, vmemmap + ((p - base) >> 12) * psize + priv, &sp) && kaddr(sp) &&
	       rec_u64(r, sp + spt, &t) && t == (p & ~4095ull);
}

/* A pte_list_desc chain of the spte_count era (6.1+): every desc holds
 * 1..N entries (N: sptes[]'s count), each an sptep of a shadow table; where
 * a tail_count exists (6.4+), the head's counts the entries of the descs
 * after it.  Before 6.1 (no spte_count) only the first slot is checked. */
static bool rec_desc_chain_ok(struct rec *r, uint64_t d, uint64_t vmemmap, uint64_t psize,
			      uint64_t priv, uint64_t spt, uint64_t base)
{
	struct recover_item *cnt = rec_find(r, "pte_list_desc.spte_count");
	struct recover_item *tail = rec_find(r, "pte_list_desc.tail_count");
	struct recover_item *arr = rec_find(r, "pte_list_desc.sptes");
	uint64_t more;
	if (!cnt || cnt->conflict)
		return true;
	if (!arr || arr->conflict || !arr->count || !rec_get(r, "pte_list_desc.more", &more))
		return false;
	uint64_t head_tail = 0, after = 0;
	bool have_tail = tail && !tail->conflict;
	/* bounded: a chain longer than this is no real rmap of a fixture-sized VM */
	for (int n = 0; d && n < 64; n++) {
		uint64_t c = 0, t = 0, p, next;
		if (!kaddr(d) || !dump_peek(r->in->dump, d + cnt->off, &c, cnt->size) || !c ||
		    c > arr->count || !rec_u64(r, d + more, &next))
			return false;
		if (have_tail && !dump_peek(r->in->dump, d + tail->off, &t, 4))
			return false;
		if (n == 0)
			head_tail = t;
		else
			after += c;
		for (uint64_t i = 0; i < c; i++)
			if (!rec_u64(r, d + arr->off + 8 * i, &p) ||
			    !rec_sptep_ok(r, p, vmemmap, psize, priv, spt, base))
				return false;
		d = next;
	}
	return !d && (!have_tail || head_tail == after);
}

/* rb_node's child pointers: recovered (no vmlinux BTF) or from type info. */
static bool rec_rb_children(struct rec *r, uint64_t *left, uint64_t *right)
{
	struct member l, rt;
	struct type_ref rb = types_struct(r->in->types, NULL, "rb_node");
	if (rec_get(r, "rb_node.rb_left", left) && rec_get(r, "rb_node.rb_right", right))
		return true;
	if (!types_member(rb, "rb_left", &l) || !types_member(rb, "rb_right", &rt))
		return false;
	*left = member_off(&l);
	*right = member_off(&rt);
	return true;
}

/* The pte_list_desc chains of a VM's memslot rmaps (the spte_count era:
 * the memslot tree of address space 0, each slot's 4K rmap heads; a head
 * with bit 0 set names a chain), tallied with parent_ptes' chains.  Bounded:
 * 64 slots, 1 << 16 heads. */
static void rec_rmap_descs(struct rec *r, uint64_t kvm, uint64_t vmemmap, uint64_t psize, uint64_t priv,
			   uint64_t spt, uint64_t base, struct books_tally *T)
{
	uint64_t ms, idx_off, tree, npg, rm, left, right, slots;
	struct recover_item *node = rec_find(r, "kvm_memory_slot.gfn_node");
	struct recover_item *cnt = rec_find(r, "pte_list_desc.spte_count");
	int32_t idx;
	if (!cnt || cnt->conflict || !node || node->conflict || !node->stride ||
	    !rec_get(r, "kvm.memslots", &ms) || !rec_get(r, "kvm_memslots.node_idx", &idx_off) ||
	    !rec_get(r, "kvm_memslots.gfn_tree", &tree) || !rec_get(r, "kvm_memory_slot.npages", &npg) ||
	    !rec_get(r, "kvm_memory_slot.arch.rmap", &rm) || !rec_rb_children(r, &left, &right) ||
	    !rec_u64(r, kvm + ms, &slots) || !kaddr(slots) ||
	    !dump_peek(r->in->dump, slots + idx_off, &idx, sizeof(idx)) || (idx != 0 && idx != 1))
		return;
	uint64_t stack[64], heads = 0;
	size_t sp = 0, nslot = 0;
	if (!rec_u64(r, slots + tree, &stack[0]) || !stack[0])
		return;
	sp = 1;
	while (sp && nslot < 64 && heads < (1u << 16)) {
		uint64_t nd = stack[--sp], slot = nd - node->off - (uint64_t)idx * node->stride, n, arr, c;
		nslot++;
		if (!kaddr(nd))
			return;
		if (rec_u64(r, nd + left, &c) && c && sp < 64)
			stack[sp++] = c;
		if (rec_u64(r, nd + right, &c) && c && sp < 64)
			stack[sp++] = c;
		if (!rec_u64(r, slot + npg, &n) || !rec_u64(r, slot + rm, &arr) || !kaddr(arr))
			continue;
		for (uint64_t i = 0; i < n && heads < (1u << 16); i += 512) {
			uint64_t h[512];
			size_t k = n - i < 512 ? (size_t)(n - i) : 512;
			heads += k;
			if (!dump_peek(r->in->dump, arr + 8 * i, h, 8 * k))
				break;
			for (size_t j = 0; j < k; j++)
				if (h[j] & 1) {
					T->rdesc++;
					T->rdesc_ok += rec_desc_chain_ok(r, h[j] & ~3ull, vmemmap, psize, priv, spt,
									 base);
				}
		}
	}
}

static void rec_books(struct rec *r, uint64_t kvm, uint64_t vmemmap, uint64_t psize, uint64_t priv,
		      uint64_t spt, uint64_t base, struct books_tally *T)
{
	uint64_t act, link, parents, bitmap, children, more, sptes, head, pos;
	if (!rec_get(r, "kvm.arch.active_mmu_pages", &act) || !rec_get(r, "kvm_mmu_page.link", &link))
		return;
	bool have_parents = rec_get(r, "kvm_mmu_page.parent_ptes.val", &parents);
	bool have_desc = rec_get(r, "pte_list_desc.more", &more) && rec_get(r, "pte_list_desc.sptes", &sptes);
	bool have_bitmap = rec_get(r, "kvm_mmu_page.unsync_child_bitmap", &bitmap) &&
			   rec_get(r, "kvm_mmu_page.unsync_children", &children);
	head = kvm + act;
	if (!rec_u64(r, head, &pos))
		return;
	/* bounded: enough pages to judge the layout by */
	for (size_t n = 0; pos != head && kaddr(pos) && n < 4096; n++) {
		uint64_t sp = pos - link, val, first, next, w[8];
		uint32_t cnt;
		if (have_parents && rec_u64(r, sp + parents, &val) && val) {
			if (!(val & 1)) {
				T->one++;
				T->one_ok += rec_sptep_ok(r, val, vmemmap, psize, priv, spt, base);
			} else if (have_desc) {
				uint64_t d = val & ~3ull;
				T->desc++;
				T->desc_ok += kaddr(d) && rec_u64(r, d + sptes, &first) &&
					      rec_u64(r, d + more, &next) && (!next || kaddr(next)) &&
					      rec_sptep_ok(r, first, vmemmap, psize, priv, spt, base) &&
					      rec_desc_chain_ok(r, d, vmemmap, psize, priv, spt, base);
			}
		}
		if (have_bitmap && dump_peek(r->in->dump, sp + bitmap, w, sizeof(w)) &&
		    dump_peek(r->in->dump, sp + children, &cnt, sizeof(cnt))) {
			uint32_t bits = 0;
			for (int k = 0; k < 8; k++)
				bits += (uint32_t)__builtin_popcountll(w[k]);
			/* zeroes on both sides prove nothing: most pages have neither */
			T->bitmap += bits || cnt;
			T->bitmap_ok += (bits || cnt) && bits == cnt;
		}
		if (!rec_u64(r, pos, &pos))
			break;
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

/* Whether table TABLE is the spt of a page on the VM's active_mmu_pages,
 * whose first page's table points back to it (the list itself read right):
 * 1 yes, 0 no, -1 the list cannot tell (missing, unreadable, empty). */
static int rec_on_active(struct rec *r, uint64_t kvm, uint64_t vmemmap, uint64_t psize,
			 uint64_t priv, uint64_t spt, uint64_t base, uint64_t table)
{
	uint64_t act, link, head, pos, sp, t, pg;
	if (!rec_get(r, "kvm.arch.active_mmu_pages", &act) || !rec_get(r, "kvm_mmu_page.link", &link))
		return -1;
	head = kvm + act;
	if (!rec_u64(r, head, &pos) || pos == head || !kaddr(pos))
		return -1;
	sp = pos - link;
	if (!rec_u64(r, sp + spt, &t) || !kaddr(t) || t < base ||
	    !rec_u64(r, vmemmap + ((t - base) >> 12) * psize + priv, &pg) || pg != sp)
		return -1;
	/* bounded: a VM has at most a few hundred thousand shadow pages */
	for (size_t n = 0; pos != head && n < (1u << 18); n++) {
		if (!kaddr(pos) || !rec_u64(r, pos - link + spt, &t))
			return -1;
		if (t == table)
			return 1;
		if (!rec_u64(r, pos, &pos))
			return -1;
	}
	return pos == head ? 0 : -1;
}

/* vCPU 0 of a VM without the TDP MMU: its MMU's root (a shadow page) must
 * be a page whose page->private is a kvm_mmu_page whose spt maps it back.
 * A root that does not, and is no table of the VM's shadow pages at all
 * (the rest of which do point back), is a stray value the checks judge
 * (S14), not a sign of a wrong layout.
 * 1 checked, 2 stray, 0 nothing to check (no vCPU, no root), -1 does not fit. */
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
		if (!(hpa & 4095) && rec_on_active(r, kvm, vmemmap, psize, priv, spt, base, base + hpa) == 0)
			return 2;
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
	size_t nvm = 0, nroot = 0, nback = 0, noff = 0, nshadow = 0, nstray = 0;
	struct books_tally books = { 0 };
	uint64_t sbase = 0; /* the direct map: shadow tables live there */
	if (!rec_symbol(r, "vmlinux", "page_offset_base", &sbase) || !rec_u64(r, sbase, &sbase))
		back = false;
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
			nshadow += k == 1;
			nstray += k == 2;
			if (back)
				rec_books(r, kvm, vmemmap, psize, member_off(&priv), spt, sbase, &books);
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
		if (back)
			rec_rmap_descs(r, kvm, vmemmap, psize, member_off(&priv), spt, sbase, &books);
		rec_plausible(r, kvm);
		nvm++;
		if (!rec_u64(r, pos, &pos))
			break;
	}
	if (nstray && !nshadow) {
		snprintf(why, len, "no vCPU shadow root points back to its kvm_mmu_page (%zu stray)", nstray);
		return false;
	}
	/* fewer than half fit: the offsets, not the data, are wrong */
	if (books.one + books.desc && (books.one_ok + books.desc_ok) * 2 < books.one + books.desc) {
		rec_void(r, "kvm_mmu_page.parent_ptes.val");
		books.desc = 0;
	}
	books.desc += books.rdesc;
	books.desc_ok += books.rdesc_ok;
	if (books.desc && books.desc_ok * 2 < books.desc) { /* parent_ptes fit, descs not */
		rec_void_desc(r);
	}
	if (books.bitmap && books.bitmap_ok * 2 < books.bitmap)
		rec_void(r, "kvm_mmu_page.unsync_child_bitmap");
	/* descs come from pte_list_desc_cache: a struct larger than its
	 * objects is a wrong count (a merged cache's objects may be larger) */
	struct recover_item *dsz = rec_find(r, "pte_list_desc");
	struct member osz;
	uint64_t cache;
	uint32_t objsz = 0;
	if (dsz && !dsz->conflict && rec_symbol(r, "kvm", "pte_list_desc_cache", &cache) &&
	    rec_u64(r, cache, &cache) && kaddr(cache) &&
	    types_member(types_struct(r->in->types, NULL, "kmem_cache"), "object_size", &osz) &&
	    dump_peek(r->in->dump, cache + member_off(&osz), &objsz, sizeof(objsz)) && objsz < dsz->size) {
		rec_void_desc(r);
	}
	char mods[64] = "", off[320] = "", bk[160] = "";
	if (r->R->vmlinux) /* what recover_vmlinux_types checked */
		snprintf(mods, sizeof(mods), "; %.60s", r->R->validated);
	if (books.one + books.desc + books.bitmap)
		snprintf(bk, sizeof(bk), "; shadow pages: %zu/%zu parent_ptes, %zu/%zu descs, %zu/%zu "
			 "unsync bitmaps fit%s", books.one_ok, books.one, books.desc_ok, books.desc,
			 books.bitmap_ok, books.bitmap,
			 dsz && !dsz->conflict && objsz == dsz->size ? ", descs sized as their cache's" : "");
	if (noff)
		snprintf(off, sizeof(off), "; %zu without the TDP MMU: %zu vCPU shadow root(s) pointed "
			 "back to by page->private%s%s", noff, nshadow,
			 nstray ? ", others stray (not a shadow page of their VM: left to S14)" : "", bk);
	else /* the TDP MMU on: a nested guest's rmap chains only */
		snprintf(off, sizeof(off), "%s", bk);
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
