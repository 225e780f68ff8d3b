#include "kobj/shadow.h"

#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "kobj/klist.h"
#include "kobj/kvm.h"

#define INVALID_PAGE UINT64_MAX

/* Offsets of the shadow MMU's objects, from type info by member presence. */
struct shadow_layout {
	struct type_ref sp, vcpu, mmu, page;
	uint64_t sp_size, mmu_size, page_size, vmemmap_base;
	struct member active, zapped, gen, sp_link, sp_gfn, sp_spt, sp_role, sp_unsync,
		sp_unsync_children, sp_root_count, sp_gen, sp_xlat, sp_tdp;
	struct member r_level, r_quadrant, r_access, r_4byte, r_direct, r_invalid, r_guest_mode,
		r_passthrough, r_ad_disabled, r_smm, r_efer_nx, r_cr0_wp;
	bool has_zapped, has_passthrough, has_4byte, has_tdp, has_page;
	enum kvm_sp_xlat xlat_kind;
	struct member v_mmu, v_walk_mmu, v_mmus[3];
	struct member m_root_hpa, m_root_pgd, m_prev, m_prev_hpa, m_prev_pgd, m_pae_root, m_role,
		m_pml4_root, m_pml5_root;
	bool has_pgd, has_pae, has_role, has_pml4, has_pml5;
	uint64_t prev_stride;
	uint32_t nprev;
	struct member page_private;
};

static const char *const mmu_member[3] = { "arch.root_mmu", "arch.guest_mmu", "arch.nested_mmu" };

/* K: the host's layout, which already resolved the kvm_mmu_page members the
 * TDP MMU reads (one place for them). */
static struct err *shadow_layout_load(struct target *T, const struct kvm_layout *K,
				      struct shadow_layout *L)
{
	const struct types *ty = &T->types;
	struct err *e;
	memset(L, 0, sizeof(*L));
#define NEED LAYOUT_NEED
	struct type_ref kvm = types_struct(ty, "kvm", "kvm");
	NEED(kvm, "kvm", "arch.active_mmu_pages", &L->active);
	NEED(kvm, "kvm", "arch.mmu_valid_gen", &L->gen);
	L->has_zapped = types_member(kvm, "arch.zapped_obsolete_pages", &L->zapped);
	L->sp = types_struct(ty, "kvm", "kvm_mmu_page");
	L->sp_size = types_size(L->sp);
	L->sp_link = K->sp_link;
	L->sp_gfn = K->sp_gfn;
	L->sp_spt = K->sp_spt;
	L->sp_role = K->sp_role;
	NEED(L->sp, "kvm_mmu_page", "unsync", &L->sp_unsync);
	NEED(L->sp, "kvm_mmu_page", "unsync_children", &L->sp_unsync_children);
	NEED(L->sp, "kvm_mmu_page", "root_count", &L->sp_root_count);
	NEED(L->sp, "kvm_mmu_page", "mmu_valid_gen", &L->sp_gen);
	L->has_tdp = types_member(L->sp, "tdp_mmu_page", &L->sp_tdp);
	/* gfn << 12 | access from 6.0, a gfn_t array before */
	if (types_member(L->sp, "shadowed_translation", &L->sp_xlat))
		L->xlat_kind = XLAT_TRANSLATION;
	else if (types_member(L->sp, "gfns", &L->sp_xlat))
		L->xlat_kind = XLAT_GFNS;
	L->r_level = K->sp_level;
	NEED(L->sp, "kvm_mmu_page", "role.quadrant", &L->r_quadrant);
	NEED(L->sp, "kvm_mmu_page", "role.access", &L->r_access);
	NEED(L->sp, "kvm_mmu_page", "role.direct", &L->r_direct);
	L->r_invalid = K->sp_invalid;
	L->r_guest_mode = K->sp_guest_mode;
	L->r_ad_disabled = K->sp_ad_disabled;
	L->r_smm = K->sp_smm;
	types_member(L->sp, "role.efer_nx", &L->r_efer_nx);
	types_member(L->sp, "role.cr0_wp", &L->r_cr0_wp);
	L->has_passthrough = types_member(L->sp, "role.passthrough", &L->r_passthrough);
	L->has_4byte = types_member(L->sp, "role.has_4_byte_gpte", &L->r_4byte) ||
		       types_member(L->sp, "role.gpte_is_8_bytes", &L->r_4byte);

	L->vcpu = types_struct(ty, "kvm", "kvm_vcpu");
	NEED(L->vcpu, "kvm_vcpu", "arch.mmu", &L->v_mmu);
	NEED(L->vcpu, "kvm_vcpu", "arch.walk_mmu", &L->v_walk_mmu);
	for (int i = 0; i < 3; i++)
		NEED(L->vcpu, "kvm_vcpu", mmu_member[i], &L->v_mmus[i]);
	L->mmu = types_struct(ty, "kvm", "kvm_mmu");
	L->mmu_size = types_size(L->mmu);
	if (types_member(L->mmu, "root.hpa", &L->m_root_hpa))
		L->has_pgd = types_member(L->mmu, "root.pgd", &L->m_root_pgd);
	else {
		NEED(L->mmu, "kvm_mmu", "root_hpa", &L->m_root_hpa);
		L->has_pgd = types_member(L->mmu, "root_pgd", &L->m_root_pgd) ||
			     types_member(L->mmu, "root_cr3", &L->m_root_pgd);
	}
	NEED(L->mmu, "kvm_mmu", "prev_roots", &L->m_prev);
	struct type_ref elem;
	if (!types_array(L->m_prev.type, &elem, &L->nprev) || L->nprev > KVM_MMU_PREV_ROOTS ||
	    !types_member(elem, "hpa", &L->m_prev_hpa))
		return err_new(ERR_LAYOUT, "kvm_mmu.prev_roots is not an array of kvm_mmu_root_info");
	(void)(types_member(elem, "pgd", &L->m_prev_pgd) || types_member(elem, "cr3", &L->m_prev_pgd));
	L->prev_stride = types_size(elem);
	L->has_pae = types_member(L->mmu, "pae_root", &L->m_pae_root);
	/* lm_root before 5.13 held what pml4_root holds now */
	L->has_pml4 = types_member(L->mmu, "pml4_root", &L->m_pml4_root) ||
		      types_member(L->mmu, "lm_root", &L->m_pml4_root);
	L->has_pml5 = types_member(L->mmu, "pml5_root", &L->m_pml5_root);
	L->has_role = types_member(L->mmu, "root_role.word", &L->m_role) ||
		      types_member(L->mmu, "mmu_role.base.word", &L->m_role);
#undef NEED
	L->page = types_struct(ty, NULL, "page");
	L->page_size = types_size(L->page);
	uint64_t vb;
	L->has_page = L->page_size && types_member(L->page, "private", &L->page_private) &&
		      target_symbol(T, "vmlinux", "vmemmap_base", &vb) &&
		      dump_peek(T->dump, vb, &L->vmemmap_base, 8);
	return NULL;
}

struct sp_walk {
	struct target *T;
	const struct shadow_layout *L;
	struct kvm_shadow *S;
	enum kvm_sp_list list;
};

static struct err *shadow_page_read(struct target *T, const struct shadow_layout *L,
				    struct kvm_shadow *S, uint64_t addr, enum kvm_sp_list list)
{
	if (S->npages >= KVM_MAX_SHADOW_PAGES)
		return err_new(ERR_CORRUPT, "more than %d shadow pages", KVM_MAX_SHADOW_PAGES);
	uint8_t *buf;
	struct err *e = target_read_obj(T, addr, L->sp_size, (void **)&buf);
	if (e)
		return err_wrap(e, "kvm_mmu_page at 0x%llx", (unsigned long long)addr);
	void *p = array_room(S->pages, S->npages, sizeof(*S->pages));
	if (!p) {
		free(buf);
		return err_new(ERR_NOMEM, "out of memory");
	}
	S->pages = p;
	struct kvm_shadow_page *sp = &S->pages[S->npages];
	memset(sp, 0, sizeof(*sp));
	size_t n = L->sp_size;
	sp->sp = addr;
	sp->list = list;
	sp->spt = member_get(buf, n, &L->sp_spt);
	sp->gfn = member_get(buf, n, &L->sp_gfn);
	sp->role = (uint32_t)member_get(buf, n, &L->sp_role);
	sp->level = (int)member_get(buf, n, &L->r_level);
	sp->quadrant = (int)member_get(buf, n, &L->r_quadrant);
	sp->access = (int)member_get(buf, n, &L->r_access);
	sp->has_4_byte_gpte = L->has_4byte ? (int)member_get(buf, n, &L->r_4byte) : -1;
	sp->direct = member_get(buf, n, &L->r_direct);
	sp->invalid = member_get(buf, n, &L->r_invalid);
	sp->guest_mode = member_get(buf, n, &L->r_guest_mode);
	sp->passthrough = L->has_passthrough && member_get(buf, n, &L->r_passthrough);
	sp->ad_disabled = member_get(buf, n, &L->r_ad_disabled);
	sp->smm = (int)member_get(buf, n, &L->r_smm);
	sp->efer_nx = L->r_efer_nx.type.id && member_get(buf, n, &L->r_efer_nx);
	sp->cr0_wp = L->r_cr0_wp.type.id && member_get(buf, n, &L->r_cr0_wp);
	sp->unsync = member_get(buf, n, &L->sp_unsync);
	sp->unsync_children = (uint32_t)member_get(buf, n, &L->sp_unsync_children);
	sp->root_count = (int32_t)member_get(buf, n, &L->sp_root_count);
	sp->mmu_valid_gen = member_get(buf, n, &L->sp_gen);
	sp->obsolete = sp->invalid || sp->mmu_valid_gen != S->mmu_valid_gen;
	bool tdp = L->has_tdp && member_get(buf, n, &L->sp_tdp);
	sp->xlat_kind = L->xlat_kind;
	if (L->xlat_kind == XLAT_TRANSLATION)
		sp->xlat = member_get(buf, n, &L->sp_xlat);
	else if (L->xlat_kind == XLAT_GFNS)
		sp->xlat = member_get(buf, n, &L->sp_xlat); /* gfn_t *gfns */
	free(buf);
	if (tdp)
		return err_new(ERR_CORRUPT, "TDP MMU page 0x%llx on the shadow MMU's list",
			       (unsigned long long)addr);
	if (sp->level < 1 || sp->level > 5)
		return err_new(ERR_CORRUPT, "shadow page 0x%llx has level %d", (unsigned long long)addr,
			       sp->level);
	if ((e = dump_vtop(T->dump, sp->spt, &sp->spt_pa)))
		return err_wrap(e, "shadow page 0x%llx table 0x%llx", (unsigned long long)addr,
				(unsigned long long)sp->spt);
	S->npages++;
	return NULL;
}

static struct err *sp_visit(void *arg, uint64_t link)
{
	struct sp_walk *w = arg;
	return shadow_page_read(w->T, w->L, w->S, link - member_off(&w->L->sp_link), w->list);
}

static int sp_cmp(const void *a, const void *b)
{
	const struct kvm_shadow_page *x = a, *y = b;
	return x->spt_pa < y->spt_pa ? -1 : x->spt_pa > y->spt_pa;
}

const struct kvm_shadow_page *kvm_shadow_find(const struct kvm_shadow *S, uint64_t spt_pa)
{
	size_t lo = 0, hi = S->npages;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (S->pages[mid].spt_pa == spt_pa)
			return &S->pages[mid];
		if (S->pages[mid].spt_pa < spt_pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A root a vCPU holds that is on no list (an obsolete root after a fast zap):
 * its table's struct page records the kvm_mmu_page in page->private. */
static void shadow_find_held(struct target *T, const struct shadow_layout *L, struct kvm_shadow *S,
			     uint64_t hpa)
{
	if (hpa == 0 || hpa == INVALID_PAGE || hpa & 0xfff || !L->has_page)
		return;
	for (size_t i = 0; i < S->npages; i++)
		if (S->pages[i].spt_pa == hpa)
			return;
	uint64_t sp, spt, pa = 0;
	uint64_t page = L->vmemmap_base + (hpa >> 12) * L->page_size;
	if (!dump_peek(T->dump, page + member_off(&L->page_private), &sp, 8) || !sp ||
	    !dump_peek(T->dump, sp + member_off(&L->sp_spt), &spt, 8))
		return;
	err_free(dump_vtop(T->dump, spt, &pa)); /* untranslatable: pa stays 0 */
	if (pa != hpa)
		return; /* not a shadow page (a TDP MMU root is handled elsewhere, or a special root) */
	if (L->has_tdp) {
		uint8_t tdp = 0;
		if (!dump_peek(T->dump, sp + member_off(&L->sp_tdp), &tdp, 1) || tdp)
			return;
	}
	struct err *e = shadow_page_read(T, L, S, sp, SP_HELD);
	err_free(e); /* not a readable page: then the root is reported without one */
}

static struct err *mmu_roots_read(struct target *T, const struct shadow_layout *L, uint64_t mmu,
				  struct kvm_mmu_roots *m)
{
	uint8_t *buf;
	memset(m, 0, sizeof(*m));
	m->addr = mmu;
	struct err *e = target_read_obj(T, mmu, L->mmu_size, (void **)&buf);
	if (e)
		return e;
	size_t n = L->mmu_size;
	m->root_hpa = member_get(buf, n, &L->m_root_hpa);
	m->root_pgd = L->has_pgd ? member_get(buf, n, &L->m_root_pgd) : 0;
	m->nprev = (int)L->nprev;
	for (uint32_t i = 0; i < L->nprev; i++) {
		uint64_t off = member_off(&L->m_prev) + i * L->prev_stride;
		if (off + member_off(&L->m_prev_hpa) + 8 > n)
			break;
		memcpy(&m->prev_hpa[i], buf + off + member_off(&L->m_prev_hpa), 8);
		if (L->m_prev_pgd.type.id)
			memcpy(&m->prev_pgd[i], buf + off + member_off(&L->m_prev_pgd), 8);
	}
	m->pae_root = L->has_pae ? member_get(buf, n, &L->m_pae_root) : 0;
	m->pml4_root = L->has_pml4 ? member_get(buf, n, &L->m_pml4_root) : 0;
	m->pml5_root = L->has_pml5 ? member_get(buf, n, &L->m_pml5_root) : 0;
	m->root_role = L->has_role ? (uint32_t)member_get(buf, n, &L->m_role) : 0;
	free(buf);
	return NULL;
}

/* A new shadow-MMU root of VM held by VCPU's MMU (PREV: its prev_roots
 * slot, -1 the root itself); NULL when out of memory (the root is then
 * not listed). */
static struct kvm_root *shadow_root_append(struct kvm_vm *vm, int vcpu, enum kvm_vcpu_mmu mmu,
					   int prev)
{
	void *p = array_room(vm->roots, vm->nroots, sizeof(*vm->roots));
	if (!p)
		return NULL;
	vm->roots = p;
	struct kvm_root *r = &vm->roots[vm->nroots++];
	memset(r, 0, sizeof(*r));
	r->mmu = KVM_MMU_SHADOW;
	r->shadow = &vm->shadow;
	r->held_vcpu = vcpu;
	r->held_mmu = mmu;
	r->held_prev = prev;
	return r;
}

static void shadow_add_root(struct kvm_vm *vm, const struct kvm_shadow_page *sp, int vcpu,
			    enum kvm_vcpu_mmu mmu, int prev)
{
	for (size_t i = 0; i < vm->nroots; i++)
		if (vm->roots[i].mmu == KVM_MMU_SHADOW && vm->roots[i].special == ROOT_SP &&
		    vm->roots[i].sp == sp->sp)
			return;
	struct kvm_root *r = shadow_root_append(vm, vcpu, mmu, prev);
	if (!r)
		return;
	r->sp = sp->sp;
	r->spt = sp->spt;
	r->spt_pa = sp->spt_pa;
	r->gfn = 0; /* the tree position starts at 0 whatever the page shadows */
	r->role = sp->role;
	r->level = sp->level;
	r->smm = sp->smm;
	r->guest_mode = sp->guest_mode;
	r->ad_disabled = sp->ad_disabled;
	r->invalid = sp->invalid;
	r->direct = sp->direct;
	r->refcount = sp->root_count;
	r->quadrant = sp->quadrant;
	r->access = sp->access;
	r->passthrough = sp->passthrough;
	r->unsync = sp->unsync;
	r->obsolete = sp->obsolete;
	r->list = sp->list;
}

/* vCPU VCPU's MMU MR runs on a page of its own (root.hpa is __pa() of its
 * pae_root, or of pml4_root / pml5_root above it, whose entry 0 is the
 * level below): that page is a root, and the shadow pages its 4 PAE
 * entries reach are roots of it, not their own.  Told by the values, the
 * members present: no version.  The entries are the dump's: one pointing
 * at no shadow page is left to the walk to report.  A valid entry
 * (IS_VALID_PAE_ROOT: nonzero; INVALID_PAGE before 5.13) is root |
 * PT_PRESENT_MASK [| A | W | U], its table at the SPTE address bits
 * (ADDR: the host's, which leave the memory-encryption bit out). */
static void shadow_add_special(struct target *T, struct kvm_vm *vm, const struct kvm_mmu_roots *mr,
			       int vcpu, enum kvm_vcpu_mmu mmu, uint64_t addr)
{
	uint64_t hpa = mr->root_hpa;
	if (!hpa || hpa == INVALID_PAGE || hpa & (PAGE_SIZE - 1))
		return;
	const uint64_t va[3] = { mr->pae_root, mr->pml4_root, mr->pml5_root };
	int kind = -1;
	for (int i = 0; i < 3 && kind < 0; i++) {
		uint64_t pa;
		if (!va[i] || va[i] & (PAGE_SIZE - 1))
			continue;
		struct err *e = dump_vtop(T->dump, va[i], &pa);
		if (e)
			err_free(e);
		else if (pa == hpa)
			kind = i;
	}
	if (kind < 0)
		return;
	for (size_t i = 0; i < vm->nroots; i++)
		if (vm->roots[i].special != ROOT_SP && vm->roots[i].spt_pa == hpa)
			return;
	struct kvm_root *r = shadow_root_append(vm, vcpu, mmu, -1);
	if (!r)
		return;
	r->special = (enum kvm_root_special)(ROOT_PAE + kind);
	r->spt = va[kind];
	r->spt_pa = hpa;
	r->level = 3 + kind;
	r->role = mr->root_role;
	r->list = SP_HELD;
	/* down entry 0 to the PAE page (bounded: at most 2 steps), then its 4 entries */
	uint64_t pa = hpa;
	for (int level = r->level; level > 3; level--) {
		uint64_t e0;
		struct err *e = dump_read_phys(T->dump, pa, &e0, 8);
		if (e) {
			err_free(e);
			return;
		}
		if (!(e0 & 1))
			return;
		pa = e0 & addr;
	}
	uint64_t ent[SPTE_PAE_ENTRIES];
	struct err *e = dump_read_phys(T->dump, pa, ent, sizeof(ent));
	if (e) {
		err_free(e);
		return;
	}
	bool first = true;
	for (int i = 0; i < SPTE_PAE_ENTRIES; i++) {
		if (!(ent[i] & 1) || ent[i] == UINT64_MAX)
			continue;
		const struct kvm_shadow_page *c = kvm_shadow_find(&vm->shadow, ent[i] & addr);
		if (!c)
			continue;
		r->pae_child[i] = c->spt_pa;
		vm->shadow.pages[c - vm->shadow.pages].under_special = true;
		/* the root's role is its pages': one mmu_alloc_*_roots made them */
		if (first) {
			r->direct = c->direct;
			r->smm = c->smm;
			r->guest_mode = c->guest_mode;
			r->ad_disabled = c->ad_disabled;
			r->access = c->access;
			first = false;
		}
		r->invalid |= c->invalid;
		r->obsolete |= c->obsolete;
		r->refcount += c->root_count;
	}
}

static struct err *shadow_vm_load(struct target *T, const struct shadow_layout *L, struct kvm_vm *vm,
				  uint64_t addr, struct notes *notes)
{
	struct kvm_shadow *S = &vm->shadow;
	struct err *e;
	if ((e = dump_read_u64(T->dump, vm->addr + member_off(&L->gen), &S->mmu_valid_gen)))
		return err_wrap(e, "mmu_valid_gen");
	/* an unsigned long or a u8 by era, as kvm_mmu_page's copy */
	if (L->gen.size < 8)
		S->mmu_valid_gen &= (1ull << (8 * L->gen.size)) - 1;
	uint64_t lists[2] = { vm->addr + member_off(&L->active),
			      L->has_zapped ? vm->addr + member_off(&L->zapped) : 0 };
	for (int i = 0; i < 2; i++) {
		uint64_t next;
		if (!lists[i])
			continue;
		if ((e = dump_read_u64(T->dump, lists[i], &next)))
			return err_wrap(e, "%s", i ? "zapped_obsolete_pages" : "active_mmu_pages");
		if (!next)
			continue; /* never initialised (no VM init reached it): nothing on it */
		struct sp_walk w = { T, L, S, i ? SP_ZAPPED : SP_ACTIVE };
		if ((e = klist_walk(T, lists[i], KVM_MAX_SHADOW_PAGES, sp_visit, &w)))
			return err_wrap(e, "%s", i ? "zapped_obsolete_pages" : "active_mmu_pages");
	}
	S->lists_read = true;
	/* every vCPU's MMUs, and the roots they hold that are on no list */
	for (size_t i = 0; i < vm->nvcpus; i++) {
		struct kvm_vcpu_info *v = &vm->vcpus[i];
		/* In L2 the vCPU runs on guest_mmu (nested TDP) or walks L2's
		 * tables through nested_mmu (nested on shadow paging): told by
		 * the pointers, not by hflags, whose bit numbers changed. */
		uint64_t walk = 0;
		if ((e = dump_read_u64(T->dump, v->addr + member_off(&L->v_walk_mmu), &walk)))
			return err_wrap(e, "vCPU %d walk_mmu", v->idx);
		v->mmus.current = MMU_NONE;
		v->mmus.guest_mode = false;
		for (int m = 0; m < 3; m++) {
			uint64_t a = v->addr + member_off(&L->v_mmus[m]);
			if (a == v->mmu)
				v->mmus.current = (enum kvm_vcpu_mmu)m;
			if ((a == v->mmu && m == MMU_GUEST) || (a == walk && m == MMU_NESTED))
				v->mmus.guest_mode = true;
			if ((e = mmu_roots_read(T, L, a, &v->mmus.mmu[m])))
				return err_wrap(e, "vCPU %d %s", v->idx, kvm_vcpu_mmu_name(m));
			shadow_find_held(T, L, S, v->mmus.mmu[m].root_hpa);
			for (int k = 0; k < v->mmus.mmu[m].nprev; k++)
				shadow_find_held(T, L, S, v->mmus.mmu[m].prev_hpa[k]);
		}
		v->have_mmus = true;
	}
	if (S->npages > 1)
		qsort(S->pages, S->npages, sizeof(*S->pages), sp_cmp);
	/* the roots: held by a vCPU (in MMU order), then any other page with a
	 * root count (a root no vCPU holds any more, not yet freed) */
	for (size_t i = 0; i < vm->nvcpus; i++) {
		const struct kvm_vcpu_info *v = &vm->vcpus[i];
		for (int m = 0; m < 3; m++) {
			const struct kvm_mmu_roots *mr = &v->mmus.mmu[m];
			for (int k = -1; k < mr->nprev; k++) {
				const struct kvm_shadow_page *sp =
					kvm_shadow_find(S, k < 0 ? mr->root_hpa : mr->prev_hpa[k]);
				if (sp)
					shadow_add_root(vm, sp, v->idx, (enum kvm_vcpu_mmu)m, k);
				else if (k < 0)
					shadow_add_special(T, vm, mr, v->idx, (enum kvm_vcpu_mmu)m, addr);
			}
			/* without pae_root's offset (recovered from code, not
			 * found) a root that is no shadow page may be the vCPU's
			 * pae_root: not guessed, said */
			uint64_t hpa = mr->root_hpa;
			bool listed = kvm_shadow_find(S, hpa) != NULL;
			for (size_t r = 0; r < vm->nroots && !listed; r++)
				listed = vm->roots[r].spt_pa == hpa;
			if (!L->has_pae && hpa && hpa != INVALID_PAGE && !listed && !S->pae_unknown) {
				S->pae_unknown = true;
				vm->incomplete = true;
				notes_add(notes, "VM %d (kvm 0x%llx): vCPU %d %s root 0x%llx is no "
					  "shadow page, and kvm_mmu.pae_root is not known (not recovered from "
					  "code): a PAE special root, if it is one, not walked", vm->pid,
					  (unsigned long long)vm->addr, v->idx, kvm_vcpu_mmu_name(m),
					  (unsigned long long)hpa);
			}
		}
	}
	for (size_t i = 0; i < S->npages; i++)
		if (S->pages[i].root_count > 0 && !S->pages[i].under_special)
			shadow_add_root(vm, &S->pages[i], -1, MMU_NONE, -1);
	return NULL;
}

struct err *kvm_shadow_load(struct target *T, struct kvm_host *H)
{
	struct shadow_layout L;
	struct err *e = shadow_layout_load(T, &H->layout, &L);
	if (e) {
		/* Offsets recovered from code do not reach the shadow MMU.  With
		 * the TDP MMU on it matters only for nested guests: said when a
		 * vCPU runs on a root that is not the TDP MMU's (or the TDP MMU is
		 * off or unknown), silent otherwise. */
		for (size_t i = 0; i < H->nvms; i++) {
			struct kvm_vm *vm = &H->vms[i];
			bool other = vm->tdp_mmu != 1;
			for (size_t k = 0; k < vm->nvcpus && !other; k++) {
				uint64_t hpa = vm->vcpus[k].root_hpa;
				bool tdp = hpa == UINT64_MAX || hpa == 0;
				for (size_t r = 0; r < vm->nroots && !tdp; r++)
					tdp = vm->roots[r].spt_pa == hpa;
				other = !tdp;
			}
			if (other) {
				notes_add(&H->notes, "VM %d (kvm 0x%llx): shadow MMU not analysed: %s",
					  vm->pid, (unsigned long long)vm->addr, e->msg);
				vm->incomplete = true;
			}
		}
		err_free(e);
		return NULL;
	}
	for (size_t i = 0; i < H->nvms; i++) {
		struct kvm_vm *vm = &H->vms[i];
		if ((e = shadow_vm_load(T, &L, vm, H->masks.address, &H->notes))) {
			notes_add(&H->notes, "VM %d (kvm 0x%llx): shadow MMU: %s", vm->pid,
				  (unsigned long long)vm->addr, e->msg);
			err_free(e);
			vm->incomplete = true;
			if (vm->shadow.npages > 1)
				qsort(vm->shadow.pages, vm->shadow.npages, sizeof(*vm->shadow.pages), sp_cmp);
		}
	}
	return NULL;
}

struct err *kvm_shadow_gfns(struct target *T, const struct kvm_shadow_page *sp, uint64_t gfns[512])
{
	uint64_t span = 1ull << (9 * (sp->level - 1));
	/* Direct pages, and non-direct ones above the huge page levels (no
	 * array is allocated for them), map gfn + index * span. */
	if (sp->passthrough || sp->direct || !sp->xlat) {
		for (int i = 0; i < 512; i++)
			gfns[i] = sp->passthrough ? sp->gfn : sp->gfn + (uint64_t)i * span;
		return NULL;
	}
	struct err *e = dump_read_virt(T->dump, sp->xlat, gfns, 512 * 8);
	if (e)
		return err_wrap(e, "gfns of shadow page 0x%llx", (unsigned long long)sp->sp);
	if (sp->xlat_kind == XLAT_TRANSLATION)
		for (int i = 0; i < 512; i++)
			gfns[i] >>= 12;
	return NULL;
}

struct err *kvm_shadow_table(struct target *T, const struct kvm_shadow_page *sp, uint64_t spte[512])
{
	return dump_read_phys(T->dump, sp->spt_pa, spte, 512 * 8);
}

const struct kvm_shadow_page *kvm_shadow_page_at(struct target *T, const struct kvm_shadow *S,
						 uint64_t sptep)
{
	uint64_t pa = 0;
	struct err *e = dump_vtop(T->dump, sptep & ~0xfffull, &pa);
	if (e) {
		err_free(e);
		return NULL;
	}
	return kvm_shadow_find(S, pa);
}

bool kvm_shadow_peek(struct target *T, uint64_t addr, uint64_t *v)
{
	return dump_peek(T->dump, addr, v, 8);
}

const char *kvm_vcpu_mmu_name(enum kvm_vcpu_mmu m)
{
	switch (m) {
	case MMU_ROOT: return "root_mmu";
	case MMU_GUEST: return "guest_mmu";
	case MMU_NESTED: return "nested_mmu";
	default: return "none";
	}
}
