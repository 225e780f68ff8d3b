/* D3 (D-bit dirty logging with PML) and the parsing of vCPUs' PML pages on
 * constructed values: the committed fixtures are AMD NPT, which logs by write
 * protection, so PML cannot be exercised on a real dump.  The SPTEs are built
 * from the Intel SDM's EPT leaf layout and the masks KVM programs for EPT in
 * 6.10-6.12 (kvm_mmu_set_ept_masks: A bit 8, D bit 9, host-/MMU-writable
 * 57/58, suppress-#VE bit 63); the PML pages hold 4K-aligned GPAs as the CPU
 * writes them (SDM 29.3.6: index from 511 down); memslots, bitmaps and dirty
 * rings are laid out as KVM keeps them.  The layout lookup runs on BTF built
 * here with the fields of 6.1's vcpu_vmx and of the 2025 kvm_vcpu_arch.
 * TAP output. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <linux/btf.h>

#include "check/dirty.h"
#include "kobj/books.h"
#include "kobj/pml.h"
#include "ept_masks.h"
#include "tap.h"

/* 4K leaf, A/D type 00: R W X (7), WB memtype 6<<3, IPAT 0x40, A 0x100,
 * D 0x200, MMU-present 0x800, HW 57, MW 58, SVE 63. */
#define LEAF_RW_D 0x8600000000000b77ull
#define LEAF_RW_CLEAN (LEAF_RW_D & ~B(9))	/* D cleared by a harvest */

#define SLOT_BASE 0x10000ull
#define SLOT_PAGES 0x400ull
#define BITMAP_VA 0xffffd1628005d000ull
#define VMEMMAP 0xffffea0000000000ull
#define PAGE_STRUCT 64

static struct spte_masks M;

static struct spte_bits bits_of(uint64_t spte, int level)
{
	struct spte_bits b;
	spte_decode(&M, spte, level, &b);
	return b;
}

/* One VM with one logged slot (as 0, id 1): bitmap mode, or ring mode with
 * no bitmap.  Freed with books_fini like the real books. */
static void books_make(struct vm_books *b, struct kvm_vm *vm, bool ring)
{
	memset(vm, 0, sizeof(*vm));
	vm->pid = 4242;
	vm->nslots = 1;
	vm->dirty_ring_size = ring ? 4096 * 16 : 0;
	memset(b, 0, sizeof(*b));
	b->vm = vm;
	b->ring_mode = ring;
	b->slots = calloc(1, sizeof(*b->slots));
	b->bitmaps = calloc(1, sizeof(*b->bitmaps));
	b->arch = calloc(1, sizeof(*b->arch));
	struct kvm_memslot *s = b->slots;
	s->as_id = 0;
	s->id = 1;
	s->base_gfn = SLOT_BASE;
	s->npages = SLOT_PAGES;
	s->userspace_addr = 0x7f6789000000ull;
	s->flags = KVM_MEM_LOG_DIRTY_PAGES;
	vm->slots = b->slots;
	if (!ring) {
		s->dirty_bitmap = BITMAP_VA;
		b->bitmaps[0] = calloc(SLOT_PAGES / 64, 8);
		/* gfns 0x10010 and 0x10012 recorded: word 0 = 0x50000 */
		b->bitmaps[0][0] = B(0x10) | B(0x12);
	}
	/* Two vCPUs' PML pages, zeroed as KVM allocates them.  vCPU 0 logged
	 * 0x10022 and 0x10023 (slots 511, 510: the index counts down); vCPU 1
	 * logged 0x10031 and holds 0x10030 in slot 3, a stale entry from an
	 * earlier cycle below any plausible index: it still counts. */
	uint64_t page[PML_ENTRIES] = { 0 };
	b->pml.loaded = true;
	b->pml.in_guest_idx = -1;
	pml_reserve(&b->pml, 2);
	page[511] = 0x10022000;
	page[510] = 0x10023000;
	pml_add_page(&b->pml, 0, 0x1fdf2000, page);
	memset(page, 0, sizeof(page));
	page[511] = 0x10031000;
	page[3] = 0x10030000;
	pml_add_page(&b->pml, 1, 0x1fdf3000, page);
	pml_finish(&b->pml);
	pml_vcpu_mode(&b->pml, 0, 0); /* OUTSIDE_GUEST_MODE */
	pml_vcpu_mode(&b->pml, 1, 0);
}

static enum d3_verdict judge(const struct vm_books *b, uint64_t gfn, uint64_t spte, int level,
			     bool pml, char *ev)
{
	struct spte_bits bt = bits_of(spte | ((gfn + 0x1000) << 12), level);
	return d3_judge(b, &b->slots[0], level, gfn, &bt, pml, ev, 512);
}

static void *dup_raw(const struct btf *b, uint32_t *size)
{
	const void *raw = btf__raw_data(b, size);
	void *copy = raw ? malloc(*size) : NULL;
	if (copy)
		memcpy(copy, raw, *size);
	return copy;
}

static void test_layout(void)
{
	/* vmlinux: struct page with private at 40, size 64. */
	struct btf *base = btf__new_empty();
	int ul = btf__add_int(base, "unsigned long", 8, 0);
	int i32 = btf__add_int(base, "int", 4, BTF_INT_SIGNED);
	int page = btf__add_struct(base, "page", PAGE_STRUCT);
	btf__add_field(base, "flags", ul, 0, 0);
	btf__add_field(base, "private", ul, 40 * 8, 0);
	int page_ptr = btf__add_ptr(base, page);
	uint32_t bsz;
	/* copies: later additions to split BTF on BASE may drop its cache */
	void *braw = dup_raw(base, &bsz);

	/* 6.1: kvm has kvm_vcpu without arch.pml_page and kvm.arch with
	 * cpu_dirty_logging_count; kvm_intel has vcpu_vmx { vcpu; ...;
	 * pml_pg }.  vcpu is put at 0x40 here (0 in real kernels) so the
	 * offset from struct kvm_vcpu is seen to be computed, not assumed. */
	struct btf *kvm = btf__new_empty_split(base);
	int arch = btf__add_struct(kvm, "kvm_vcpu_arch", 0x100);
	btf__add_field(kvm, "cr0", ul, 0, 0);
	int vcpu = btf__add_struct(kvm, "kvm_vcpu", 0x200);
	btf__add_field(kvm, "vcpu_id", i32, 0, 0);
	btf__add_field(kvm, "arch", arch, 0x100 * 8, 0);
	int karch = btf__add_struct(kvm, "kvm_arch", 0x40);
	btf__add_field(kvm, "disabled_quirks", ul, 0, 0);
	btf__add_field(kvm, "cpu_dirty_logging_count", i32, 0x10 * 8, 0);
	int kvms = btf__add_struct(kvm, "kvm", 0x1000);
	btf__add_field(kvm, "arch", karch, 0x800 * 8, 0);
	(void)kvms;
	uint32_t ksz;
	void *kraw = dup_raw(kvm, &ksz);

	struct btf *intel = btf__new_empty_split(base);
	int iarch = btf__add_struct(intel, "kvm_vcpu_arch", 0x100);
	btf__add_field(intel, "cr0", ul, 0, 0);
	int ivcpu = btf__add_struct(intel, "kvm_vcpu", 0x200);
	btf__add_field(intel, "vcpu_id", i32, 0, 0);
	btf__add_field(intel, "arch", iarch, 0x100 * 8, 0);
	int vmx = btf__add_struct(intel, "vcpu_vmx", 0x2000);
	btf__add_field(intel, "vcpu", ivcpu, 0x40 * 8, 0);
	btf__add_field(intel, "pml_pg", page_ptr, 0x1a48 * 8, 0);
	(void)vmx;
	(void)vcpu;
	uint32_t isz;
	void *iraw = dup_raw(intel, &isz);

	struct types ty;
	types_init(&ty);
	struct err *e = types_set_vmlinux(&ty, braw, bsz, "constructed");
	if (!e)
		e = types_add_module(&ty, "kvm", kraw, ksz, "constructed");
	if (!e)
		e = types_add_module(&ty, "kvm_intel", iraw, isz, "constructed");
	CHECK("layout: constructed BTF loads", !e);
	if (e) {
		printf("# %s\n", e->msg);
		err_free(e);
	}
	struct pml_layout L;
	memset(&L, 0, sizeof(L));
	pml_layout_types(&ty, &L);
	CHECK("layout 6.1: PML page from vcpu_vmx.pml_pg, offset from the embedded vcpu",
	      L.have_page && L.page_off == 0x1a48 - 0x40 && !strcmp(L.page_field, "vcpu_vmx.pml_pg"));
	CHECK("layout 6.1: cpu_dirty_logging_count at kvm.arch + 0x10",
	      L.have_count && member_off(&L.count) == 0x810);
	CHECK("layout: struct page size from vmlinux", L.page_size == PAGE_STRUCT);
	types_fini(&ty);

	/* 2025: kvm_vcpu.arch.pml_page (shared by VMX and SVM PML) wins, and
	 * no cpu_dirty_logging_count (6.3+). */
	struct btf *kvm2 = btf__new_empty_split(base);
	int arch2 = btf__add_struct(kvm2, "kvm_vcpu_arch", 0x100);
	btf__add_field(kvm2, "cr0", ul, 0, 0);
	btf__add_field(kvm2, "pml_page", page_ptr, 0x98 * 8, 0);
	btf__add_struct(kvm2, "kvm_vcpu", 0x200);
	btf__add_field(kvm2, "vcpu_id", i32, 0, 0);
	btf__add_field(kvm2, "arch", arch2, 0x100 * 8, 0);
	uint32_t k2sz;
	void *k2raw = dup_raw(kvm2, &k2sz);
	types_init(&ty);
	e = types_set_vmlinux(&ty, braw, bsz, "constructed");
	if (!e)
		e = types_add_module(&ty, "kvm", k2raw, k2sz, "constructed");
	if (!e)
		e = types_add_module(&ty, "kvm_intel", iraw, isz, "constructed");
	if (e)
		err_free(e);
	memset(&L, 0, sizeof(L));
	pml_layout_types(&ty, &L);
	CHECK("layout 2025: PML page from kvm_vcpu.arch.pml_page",
	      L.have_page && L.page_off == 0x198 && !strcmp(L.page_field, "kvm_vcpu.arch.pml_page"));
	CHECK("layout 6.3+: no cpu_dirty_logging_count", !L.have_count);
	types_fini(&ty);

	/* Neither field (an AMD host without SVM PML): nothing located. */
	types_init(&ty);
	e = types_set_vmlinux(&ty, braw, bsz, "constructed");
	if (!e)
		e = types_add_module(&ty, "kvm", kraw, ksz, "constructed");
	if (e)
		err_free(e);
	memset(&L, 0, sizeof(L));
	pml_layout_types(&ty, &L);
	CHECK("layout without kvm_intel: no PML page field", !L.have_page);
	types_fini(&ty);
	free(braw);
	free(kraw);
	free(iraw);
	free(k2raw);
	btf__free(kvm2);
	btf__free(intel);
	btf__free(kvm);
	btf__free(base);
}

int main(void)
{
	M = ept_e2();
	char ev[512];
	struct vm_books b;
	struct kvm_vm vm;

	/* The SPTE values decode as intended. */
	struct spte_bits bt = bits_of(LEAF_RW_D | 0x1fdf2000, 1);
	CHECK("constructed leaf: present, W, A, D, type 00",
	      bt.kind == SPTE_PRESENT && bt.leaf && bt.writable && bt.accessed && bt.dirty &&
		      bt.ad_type == SPTE_AD_ENABLED && bt.pfn == 0x1fdf2);
	bt = bits_of(LEAF_RW_CLEAN | 0x1fdf2000, 1);
	CHECK("constructed harvested leaf: W=1 D=0", bt.writable && !bt.dirty);

	/* struct page * -> pfn through the vmemmap. */
	uint64_t pfn = 0;
	CHECK("pml_page_pfn: vmemmap_base + pfn * sizeof(struct page)",
	      pml_page_pfn(VMEMMAP, PAGE_STRUCT, VMEMMAP + 0x1fdf2ull * PAGE_STRUCT, &pfn) &&
		      pfn == 0x1fdf2);
	CHECK("pml_page_pfn: a pointer inside a struct page is refused",
	      !pml_page_pfn(VMEMMAP, PAGE_STRUCT, VMEMMAP + 0x1fdf2ull * PAGE_STRUCT + 8, &pfn));
	CHECK("pml_page_pfn: below the vmemmap is refused",
	      !pml_page_pfn(VMEMMAP, PAGE_STRUCT, 0xffff888000000000ull, &pfn));
	CHECK("pml_page_pfn: beyond 52 physical bits is refused",
	      !pml_page_pfn(VMEMMAP, PAGE_STRUCT, VMEMMAP + (1ull << 40) * PAGE_STRUCT, &pfn));

	/* PML page parsing: all 512 slots of each page, found by gfn. */
	books_make(&b, &vm, false);
	CHECK("PML pages: 512 slots per vCPU", b.pml.n == 2 * PML_ENTRIES && b.pml.nread == 2);
	const struct pml_entry *pe = pml_find(&b.pml, 0x10030);
	CHECK("PML: a stale slot (vCPU 1, slot 3) counts as pending",
	      pe && pe->vcpu == 1 && pe->slot == 3);
	pe = pml_find(&b.pml, 0x10022);
	CHECK("PML: the newest entry is slot 511", pe && pe->vcpu == 0 && pe->slot == 511);
	CHECK("PML: a gfn in no page is not found", !pml_find(&b.pml, 0x10011));
	pe = pml_find(&b.pml, 0);
	CHECK("PML: the zeroed slots read as GPA 0 (hides, never invents)", pe != NULL);

	/* A constructed tree's leaves: D=1 at the gfns the guest wrote, D=0
	 * elsewhere.  Recorded: 0x10010, 0x10012 (bitmap); in PML: 0x10022,
	 * 0x10023, 0x10030, 0x10031.  The one lost page is 0x10011. */
	static const uint64_t written[] = { 0x10010, 0x10011, 0x10012, 0x10022, 0x10023, 0x10030,
					    0x10031 };
	int fired = 0, other = 0;
	uint64_t fired_gfn = 0;
	for (uint64_t g = SLOT_BASE; g < SLOT_BASE + SLOT_PAGES; g++) {
		bool d = false;
		for (size_t i = 0; i < sizeof(written) / sizeof(written[0]); i++)
			d |= written[i] == g;
		enum d3_verdict v = judge(&b, g, d ? LEAF_RW_D : LEAF_RW_CLEAN, 1, true, ev);
		if (v == D3_FOUND) {
			fired++;
			fired_gfn = g;
		} else if (v != D3_NONE) {
			other++;
		}
	}
	CHECK("D3 fires once over the slot, at exactly gfn 0x10011",
	      fired == 1 && other == 0 && fired_gfn == 0x10011);
	enum d3_verdict v = judge(&b, 0x10011, LEAF_RW_D, 1, true, ev);
	CHECK("D3 evidence: the bitmap word's address and value, bit 17 clear",
	      v == D3_FOUND && strstr(ev, "word 0 at 0xffffd1628005d000 = 0x0000000000050000, bit 17 clear"));
	CHECK("D3 evidence: not in the PML pages of vCPUs 0 and 1",
	      strstr(ev, "GPA 0x10011000 not in the PML pages of vCPUs 0 (PA 0x1fdf2000), 1 (PA "
			 "0x1fdf3000) (all 512 slots)") != NULL);
	printf("# %s\n", ev);

	/* Exceptions: each must not fire, or be inconclusive. */
	CHECK("gfn in a PML buffer slot: no D3", judge(&b, 0x10030, LEAF_RW_D, 1, true, ev) == D3_NONE);
	CHECK("bitmap bit set: no D3", judge(&b, 0x10012, LEAF_RW_D, 1, true, ev) == D3_NONE);
	CHECK("D=0 (harvested, W=1): no D3", judge(&b, 0x10011, LEAF_RW_CLEAN, 1, true, ev) == D3_NONE);
	CHECK("D=1 and W=0 unrecorded: D3 (D alone logs)",
	      judge(&b, 0x10011, LEAF_RW_D & ~B(1), 1, true, ev) == D3_FOUND);
	CHECK("A/D type 10 (guest mode, write-protect logging): D2's, not D3",
	      judge(&b, 0x10011, LEAF_RW_D | B(53), 1, true, ev) == D3_NONE);
	CHECK("A/D type 01 (eptad=0): D2's, not D3",
	      judge(&b, 0x10011, LEAF_RW_D | B(52), 1, true, ev) == D3_NONE);
	CHECK("no PML (AMD, Intel pml=0): no D3", judge(&b, 0x10011, LEAF_RW_D, 1, false, ev) == D3_NONE);
	CHECK("2M leaf (write-protected while logging, D1's): no D3",
	      judge(&b, 0x10000, LEAF_RW_D | B(7), 2, true, ev) == D3_NONE);
	b.slots[0].flags = 0;
	CHECK("slot not logged: no D3", judge(&b, 0x10011, LEAF_RW_D, 1, true, ev) == D3_NONE);
	b.slots[0].flags = KVM_MEM_LOG_DIRTY_PAGES;

	b.mmu_lock_held = true;
	v = judge(&b, 0x10011, LEAF_RW_D, 1, true, ev);
	CHECK("mmu_lock held (harvest in progress): inconclusive",
	      v == D3_INCONCLUSIVE && strstr(ev, "inconclusive: mmu_lock held"));
	b.mmu_lock_held = false;
	b.slots_lock_held = true;
	v = judge(&b, 0x10011, LEAF_RW_D, 1, true, ev);
	CHECK("slots_lock held (logging being enabled): inconclusive",
	      v == D3_INCONCLUSIVE && strstr(ev, "inconclusive: slots_lock held"));
	b.slots_lock_held = false;
	pml_vcpu_mode(&b.pml, 1, 1); /* IN_GUEST_MODE */
	v = judge(&b, 0x10011, LEAF_RW_D, 1, true, ev);
	CHECK("vCPU in guest mode (unflushed buffer): inconclusive",
	      v == D3_INCONCLUSIVE && strstr(ev, "inconclusive: vCPU 1 in guest mode"));
	b.pml.in_guest = 0;
	pml_vcpu_mode(&b.pml, 0, 2); /* EXITING_GUEST_MODE */
	CHECK("vCPU exiting guest mode: inconclusive",
	      judge(&b, 0x10011, LEAF_RW_D, 1, true, ev) == D3_INCONCLUSIVE);
	b.pml.in_guest = 0;
	pml_vcpu_mode(&b.pml, 0, 3); /* READING_SHADOW_PAGE_TABLES: shadow MMU only */
	CHECK("vCPU reading shadow page tables: still D3",
	      judge(&b, 0x10011, LEAF_RW_D, 1, true, ev) == D3_FOUND);
	b.pml.nunread = 1;
	v = judge(&b, 0x10011, LEAF_RW_D, 1, true, ev);
	CHECK("a vCPU's PML page unreadable: inconclusive, never a finding",
	      v == D3_INCONCLUSIVE && strstr(ev, "the PML page of 1 vCPU not read"));
	b.pml.nunread = 0;
	b.pml.loaded = false;
	CHECK("PML pages not read at all: inconclusive",
	      judge(&b, 0x10011, LEAF_RW_D, 1, true, ev) == D3_INCONCLUSIVE);
	books_fini(&b);

	/* Ring mode, no bitmap: a pending entry (slot 1, offset 0x11) records
	 * the gfn; without it D3 fires; an unreadable ring is inconclusive. */
	books_make(&b, &vm, true);
	v = judge(&b, 0x10011, LEAF_RW_D, 1, true, ev);
	CHECK("ring mode, no entry: D3 with the ring named",
	      v == D3_FOUND && strstr(ev, "slot 1 (as 0) offset 0x11: no pending entry in any vCPU's "
					  "dirty ring"));
	books_ring_add(&b, 1, 0x11);
	CHECK("ring entry pending: no D3", judge(&b, 0x10011, LEAF_RW_D, 1, true, ev) == D3_NONE);
	CHECK("ring entry of another offset does not cover it",
	      judge(&b, 0x10013, LEAF_RW_D, 1, true, ev) == D3_FOUND);
	b.ring_unread = true;
	CHECK("a vCPU's ring unreadable: inconclusive",
	      judge(&b, 0x10013, LEAF_RW_D, 1, true, ev) == D3_INCONCLUSIVE);
	books_fini(&b);

	/* D5's PML half. */
	CHECK("cpu_dirty_logging_count equal to the logged slots: no D5",
	      !pml_count_judge(2, 0xffffc90000a41810ull, 2, ev, sizeof(ev)));
	CHECK("cpu_dirty_logging_count off by one: D5 with the field's address",
	      pml_count_judge(1, 0xffffc90000a41810ull, 2, ev, sizeof(ev)) &&
		      strstr(ev, "cpu_dirty_logging_count at 0xffffc90000a41810 = 1, 2 slots"));
	CHECK("cpu_dirty_logging_count negative: D5",
	      pml_count_judge(-1, 0xffffc90000a41810ull, 0, ev, sizeof(ev)));

	test_layout();

	return tap_done();
}
