/* The catalogue: one entry per check, the single source for `--list-checks`,
 * the man page test and the runner. */
#include <string.h>
#include <strings.h>

#include "check/check.h"

const struct check_def check_catalog[CHK_COUNT] = {
	{ CHK_S1, "S1", SEV_ERROR, "garbage entry in a TDP MMU table",
	  "An entry that is not empty, not an MMIO SPTE, not FROZEN and lacks KVM's MMU-present bit "
	  "(bit 11). KVM never writes such a value; it means corruption of the table page, a stray "
	  "write, or a kernel whose SPTE era this tool does not know. No legitimate state produces it. "
	  "Also an entry shaped like an MMIO SPTE that KVM cannot have written: above level 1 (KVM "
	  "installs them only at 4K), encoding a gfn other than its position, of a memslot generation "
	  "newer than the memslots', or of the current generation over a memslot's RAM. Legitimate: "
	  "an MMIO SPTE of an older generation over RAM (refreshed on the next fault), one over a "
	  "slot being moved or deleted, or over KVM's internal slots (id 509 and up: the APIC access "
	  "page's while APICv is inhibited); during a memslot update it is inconclusive." },
	{ CHK_S2, "S2", SEV_ERROR, "writable bits out of order",
	  "A leaf with W=1 but MMU-writable clear, or MMU-writable set but host-writable clear. KVM "
	  "WARNs on both: write access is only ever granted when KVM allows it (MMU-writable) and "
	  "the host allows it (host-writable, fixed when the SPTE is created)." },
	{ CHK_S3, "S3", SEV_ERROR, "A/D type does not fit the root",
	  "Bits 52-53 hold the A/D type KVM chose from the page's role: 01 (disabled) exactly when "
	  "the root's role has ad_disabled, 10 (write-protect only) only for guest-mode roots on PML "
	  "hosts, never 11. Legitimate exception: 5.10 writes 10 into every leaf made while the "
	  "vCPU runs on guest_mmu (L2's roots, whose role there has guest_mode 0), PML or not. "
	  "Anything else means the SPTE was not made for this tree." },
	{ CHK_S4, "S4", SEV_ERROR, "access-tracking form where it cannot be",
	  "Access-tracked SPTEs (RWX cleared, R/X saved in bits 54/56) exist only with A/D type 01 "
	  "on EPT. One on an A/D-enabled SPTE or on NPT, one that is writable, or saved bits on a "
	  "non-tracked SPTE (KVM WARNs) are inconsistent." },
	{ CHK_S5, "S5", SEV_ERROR, "huge page bit at an impossible level",
	  "PS at level 4 or 5, or at a level above KVM's max_huge_page_level, is not a mapping any "
	  "CPU or KVM creates." },
	{ CHK_S6, "S6", SEV_ERROR, "child table's kvm_mmu_page disagrees",
	  "Every TDP MMU table page records its struct kvm_mmu_page in page->private. That page "
	  "must describe the table: spt equal to the table's address, tdp_mmu_page set, level one "
	  "below the parent entry (5.10's TDP MMU gives a child the entry's own level: per root "
	  "its first child decides which, and every other must agree), gfn equal to the entry's first gfn, the root's role apart from "
	  "the level, and ptep pointing at the parent entry. Ruled out: invalid roots being torn "
	  "down, which are not checked." },
	{ CHK_S7, "S7", SEV_WARNING, "FROZEN SPTE present",
	  "A REMOVED/FROZEN_SPTE marks an entry a thread holding mmu_lock is replacing (atomic zap, "
	  "teardown of a removed table); it is transient. Reachable from a root while mmu_lock is "
	  "free and no vCPU walks the tables locklessly, nobody will thaw it: a zap died half-way or "
	  "a stray write (warning, the lock state as evidence). Ruled out (info, inconclusive): "
	  "mmu_lock held or unreadable, or a vCPU reading shadow page tables." },
	{ CHK_S8, "S8", SEV_WARNING, "executable huge page with the NX huge page mitigation on",
	  "With nx_huge_pages on and the VM not opted out, KVM maps huge pages non-executable and "
	  "splits them on an instruction fetch. An executable huge leaf then contradicts the "
	  "mitigation. Ruled out: the parameter changed at run time (KVM zaps all roots; "
	  "transient)." },
	{ CHK_S9, "S9", SEV_ERROR, "leaf outside every memslot",
	  "Every leaf of a valid root must map gfns that lie inside one memslot of the root's "
	  "address space, and that memslot must not be flagged invalid. Ruled out: a memslot update "
	  "in flight (slots_lock held, or the generation's update bit set), or a VM whose memslots "
	  "could not all be read or held impossible ones (left out), makes it inconclusive." },
	{ CHK_S10, "S10", SEV_WARNING, "huge leaf where huge pages are disallowed",
	  "kvm_lpage_info.disallow_lpage counts the reasons a 2M/1G range may not be mapped huge "
	  "(slot edges not aligned, write-tracked gfns, mixed private/shared attributes). A huge "
	  "leaf over such a range maps more than KVM allowed. Ruled out: a gfn that has just become "
	  "write-tracked (its huge mapping is being zapped; transient)." },
	{ CHK_S11, "S11", SEV_ERROR, "writable leaf over a write-tracked gfn",
	  "A gfn KVM write-tracks (a shadowed guest page table, KVMGT) must never be writable: "
	  "neither W nor MMU-writable, so that no write, not even a lockless fast-path one, reaches "
	  "it unseen. Tracking write-protects under mmu_lock, so no legitimate state shows both." },
	{ CHK_S12, "S12", SEV_ERROR, "writable leaf in a read-only memslot",
	  "KVM_MEM_READONLY slots are mapped without write access and without host-writable; W=1 "
	  "or host-writable there would let the guest write memory the VMM marked read-only." },
	{ CHK_S13, "S13", SEV_ERROR, "shared zero page mapped writable",
	  "A leaf that maps the kernel's shared zero page (or the huge zero page) must be read-only "
	  "and not host-writable: a write through it would corrupt every process's zeroes." },
	{ CHK_S14, "S14", SEV_WARNING, "vCPU root not on the root list",
	  "A vCPU whose loaded root (mmu->root.hpa) is a valid address but is neither the table of "
	  "a root on tdp_mmu_roots nor a shadow page (on active_mmu_pages or zapped_obsolete_pages, "
	  "or an obsolete root the vCPU still holds, found through page->private) runs on a tree KVM "
	  "no longer tracks. A vCPU in its nested guest runs on its guest_mmu's shadow root, and "
	  "with the TDP MMU off every root is a shadow root: both are roots. Ruled out: "
	  "INVALID_PAGE (no root loaded)." },
	{ CHK_S15, "S15", SEV_ERROR, "writable leaf over a gfn a shadow page shadows",
	  "A shadow page that shadows a guest page table (role.direct clear) keeps that table's gfn "
	  "write-protected, so every guest write to it traps and the shadow page follows: a leaf "
	  "of any root (either MMU, same address space) mapping the gfn with W set lets the guest "
	  "change its tables behind KVM. Ruled out: the page is unsync (KVM let the guest write, "
	  "and resyncs on the next TLB flush); obsolete or invalid shadow pages (being zapped, "
	  "their write protection already dropped); leaves of invalid or obsolete roots." },
	{ CHK_S16, "S16", SEV_ERROR, "shadow leaf and rmap disagree",
	  "Every present leaf of a shadow page is on the rmap of its gfn (kvm_mmu_page_get_gfn) at "
	  "its level in the memslot of the page's address space, and every rmap entry "
	  "(memslot->arch.rmap[level], one sptep or a pte_list_desc chain) is a present leaf of a "
	  "shadow page mapping that gfn at that level, listed once: what the kernel's MMU audit "
	  "checked. A leaf off its rmap escapes write protection and dirty logging; an entry "
	  "without its leaf is a pointer into a freed or reused table. Ruled out (inconclusive): "
	  "mmu_lock held (a leaf and its rmap change under it one after the other). Not judged "
	  "(a note) when the rmaps cannot be read whole; leaves outside every memslot are S9's, "
	  "an rmap entry whose SPTE is garbage or FROZEN is S1's or S7's." },
	{ CHK_S17, "S17", SEV_ERROR, "unsync page not marked above it",
	  "Only 4K guest page tables (level 1, not direct) go unsync. Every present entry linking "
	  "a page that is unsync or has unsync_children has its bit set in the parent's "
	  "unsync_child_bitmap, and unsync_children equals the bits set: otherwise the next sync "
	  "of the roots misses the page and the guest's page table changes are never shadowed. "
	  "Legitimate: a set bit over a child that is sync again or gone (bits are cleared lazily, "
	  "on the next sync walk). Ruled out (inconclusive): mmu_lock held." },
	{ CHK_S18, "S18", SEV_ERROR, "shadow page cut off from its parents",
	  "A shadow page's parent_ptes list exactly the entries that link it: every present "
	  "non-leaf entry of a shadow page that points at a shadow page is on that page's "
	  "parent_ptes, and every sptep there links the page. A page whose parent_ptes name "
	  "entries that no longer link it is an orphan no root reaches that KVM still thinks "
	  "linked (it will never be zapped through them, and unlinking writes through stale "
	  "pointers). Legitimate: pages that no entry links and whose parent_ptes are empty stay "
	  "on active_mmu_pages for reuse (mmu_page_zap_pte keeps them), as do obsolete pages and "
	  "roots no vCPU holds; none is reported. Ruled out (inconclusive): mmu_lock held. Not "
	  "judged (a note) when parent_ptes cannot be read." },
	{ CHK_S19, "S19", SEV_ERROR, "shadow page and mmu_page_hash disagree",
	  "KVM finds the shadow pages of a gfn through kvm->arch.mmu_page_hash (bucket "
	  "hash_64(gfn, 12), linked through kvm_mmu_page.hash_link): to reuse a page instead of "
	  "making a second one, and to write-protect, unsync or zap what shadows a guest page table. "
	  "Every shadow page KVM still holds (on active_mmu_pages, on zapped_obsolete_pages, or an "
	  "invalid root a vCPU still holds) is on exactly the bucket of its gfn, and every entry of "
	  "a bucket is such a page, its hash_link.pprev pointing back at the link that leads to it. "
	  "A page missing or on a wrong bucket escapes write protection of the table it shadows; an "
	  "entry that is no page of the VM is a pointer into freed or foreign memory that the next "
	  "lookup follows. Legitimate: a page leaves the hash only when it is freed "
	  "(kvm_mmu_free_shadow_page, together with its list link), so obsolete and invalid pages "
	  "are on it; an invalid root on no list (__kvm_mmu_prepare_zap_page unlinks a root still "
	  "referenced) whose root_count is not yet zero is too; a NULL mmu_page_hash (allocated only "
	  "once the shadow MMU is needed) with no shadow page. Ruled out (inconclusive): mmu_lock "
	  "held (a page is hashed and listed, or freed, one step after the other). A bucket whose "
	  "chain loops or leaves readable memory is not judged (a note)." },
	{ CHK_D1, "D1", SEV_ERROR, "writable huge leaf in a dirty-logged slot",
	  "While a slot is dirty-logged the fault path never installs writable huge SPTEs, and "
	  "enabling logging write-protects or splits them, because one write would dirty 512 or "
	  "262144 pages at once. Ruled out: manual protect with INITIALLY_SET while every bit of the "
	  "range is still set; logging being enabled (slots_lock held)." },
	{ CHK_D2, "D2", SEV_ERROR, "writable leaf whose gfn the dirty log missed",
	  "In write-protect dirty logging (AMD NPT, Intel without PML), a 4K leaf of a valid root in a "
	  "logged slot can only be writable after KVM marked its gfn dirty; harvesting clears W of "
	  "exactly the gfns it reports. W=1 with the gfn neither in the live dirty bitmap nor "
	  "pending in any vCPU's dirty ring is a page live migration would silently lose. Under "
	  "the shadow MMU logging write-protects through the rmaps: the evidence says whether "
	  "the leaf is on its gfn's rmap (if not, S16 says so too). Ruled "
	  "out (inconclusive instead): mmu_lock or slots_lock held, i.e. a harvest or logging "
	  "change in progress." },
	{ CHK_D3, "D3", SEV_ERROR, "dirty leaf whose gfn neither the log nor a PML buffer holds",
	  "In D-bit dirty logging (Intel EPT with PML), enabling logging and every harvest clear D "
	  "of 4K leaves; the CPU sets D on the first write and appends the GPA to the vCPU's "
	  "512-entry PML page, which KVM drains into the bitmap or ring on VM exits, and a writable "
	  "SPTE is created with D=1 and its gfn marked. A 4K leaf of A/D type 00 of a valid root in "
	  "a logged slot with D=1 whose gfn is neither in the live dirty bitmap, nor pending in a "
	  "dirty ring, nor in any of the 512 slots of any vCPU's PML page (the index lives in the "
	  "VMCS, so every slot counts as pending) is a page live migration would lose. Ruled out "
	  "(inconclusive instead): mmu_lock held (a harvest clearing D), slots_lock held (logging "
	  "being enabled), a vCPU in or exiting guest mode (unflushed buffer), a PML page that "
	  "could not be read. Verified only on constructed EPT values: the fixtures are AMD." },
	{ CHK_D4, "D4", SEV_ERROR, "dirty bitmap inconsistent with the slot",
	  "A dirty-logged slot of a VM logging to bitmaps has a bitmap, a slot that is not logged "
	  "has none, and no bit is set past npages. Ruled out: ring-only VMs, which have no "
	  "bitmaps." },
	{ CHK_D5, "D5", SEV_WARNING, "dirty-logging slot count disagrees",
	  "kvm->nr_memslots_dirty_logging (6.2+) counts the slots with LOG_DIRTY_PAGES; a different "
	  "count means KVM's own bookkeeping of which slots log is off. Ruled out: a memslot update "
	  "in progress." },
	{ CHK_D6, "D6", SEV_WARNING, "dirty ring indices or entries out of range",
	  "Per vCPU ring, dirty_index - reset_index never exceeds the ring size, and every pending "
	  "entry names a memslot of the VM and an offset inside it. Ruled out: a slot deleted after "
	  "the push and not yet collected." },
	{ CHK_D7, "D7", SEV_INFO, "make_spte overwrite race fingerprint",
	  "A 4K leaf with A/D type 00 and W=1, D=0, A=1. Up to 6.12 KVM creates writable SPTEs with "
	  "D=1; a concurrent fault that rebuilt the same SPTE could overwrite it with D=0 and no "
	  "TLB flush (the 2024 \"Trigger the callback only when an interesting change\" thread). "
	  "Harmless for dirty logging (both faults mark the gfn), reported for information. Not "
	  "judged where aging clears D (5.10's age_gfn_range ANDs ~shadow_dirty_mask, leaving W: "
	  "a re-touched page then looks the same), as read from kvm.ko's code." },
	{ CHK_H1, "H1", SEV_ERROR, "SPTE maps a different page than the VMM",
	  "The leaf's pfn must equal the pfn the VMM's own page tables map at the gfn's hva. A "
	  "mismatch is a stale SPTE: the MMU notifier should have zapped it when the host mapping "
	  "changed. Ruled out (inconclusive instead): an invalidation in flight covering the gfn." },
	{ CHK_H2, "H2", SEV_ERROR, "SPTE present but the VMM maps nothing",
	  "The leaf is present but the VMM's page tables have no mapping at the hva (swapped, "
	  "migrated, unmapped): the guest still reaches a page the host gave up. Ruled out: an "
	  "invalidation in flight." },
	{ CHK_H3, "H3", SEV_ERROR, "huge SPTE over smaller host pages",
	  "A 2M or 1G leaf may only map memory the host maps at least as large; otherwise the guest "
	  "sees pages the host does not hold contiguously. Ruled out: an invalidation in flight (a "
	  "THP split also invalidates)." },
	{ CHK_H4, "H4", SEV_ERROR, "writable SPTE over a read-only host page",
	  "W=1 while the VMM's PTE is read-only (fork COW, KSM, userfaultfd write-protect, "
	  "mprotect) lets the guest write a page the host protects (error). Host-writable with W=0 "
	  "over a read-only PTE could be re-armed without a fault (warning). Ruled out: "
	  "invalidation in flight; PROT_NONE NUMA-hinting PTEs." },
	{ CHK_H5, "H5", SEV_WARNING, "zero page on one side only",
	  "The SPTE maps the shared zero page while the VMM maps a real page, or the reverse: one "
	  "side missed the other's copy-on-write. Ruled out: invalidation in flight." },
};

const struct check_def *check_by_name(const char *name)
{
	for (int i = 0; i < CHK_COUNT; i++)
		if (!strcasecmp(check_catalog[i].name, name))
			return &check_catalog[i];
	return NULL;
}

const char *severity_name(enum severity s)
{
	return s == SEV_ERROR ? "error" : s == SEV_WARNING ? "warning" : "info";
}

int severity_parse(const char *s)
{
	if (!strcasecmp(s, "error"))
		return SEV_ERROR;
	if (!strcasecmp(s, "warning"))
		return SEV_WARNING;
	if (!strcasecmp(s, "info"))
		return SEV_INFO;
	return -1;
}

void check_opts_default(struct check_opts *o)
{
	for (int i = 0; i < CHK_COUNT; i++)
		o->enabled[i] = true;
	o->floor = SEV_INFO;
	o->vm_kvm = 0;
	o->vm_pid = -1;
	o->root = 0;
	o->range = (struct walk_range){ 0, UINT64_MAX };
}
