/* SPTE decoding on constructed values: EPT (which the fixtures cannot
 * produce) and NPT, across KVM's SPTE eras.  Every mask below is what KVM
 * programs (kvm_mmu_set_ept_masks / kvm_mmu_reset_all_pte_masks, 6.1,
 * 6.12 and 7.3) and every SPTE is built from the Intel SDM / AMD APM bit layout plus
 * KVM's software bits; the expected fields are derived by hand in comments.
 * TAP output. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ept_masks.h"
#include "mmu/spte.h"
#include "tap.h"

/* EPT with eptad=0: no hardware A/D, aging by RWX clearing. */
static struct spte_masks ept_noad(void)
{
	struct spte_masks m = ept_e1();
	m.accessed = 0;
	m.dirty = 0;
	m.ad_enabled = false;
	return m;
}

/* AMD NPT as the 6.1 fixture's kvm.ko has them (40 physical bits). */
static struct spte_masks npt(void)
{
	struct spte_masks m;
	memset(&m, 0, sizeof(m));
	m.present = B(0);
	m.user = B(2);
	m.nx = B(63);
	m.accessed = B(5);
	m.dirty = B(6);
	m.host_writable = B(9);
	m.mmu_writable = B(10);
	m.mmio_value = B(51) | B(0);
	m.mmio_mask = B(51) | B(0);
	m.mmio_access = 6;
	m.nonpresent_or_rsvd_lower_gfn = 0xfffffff000ull;
	m.address = ADDR;
	m.ad_enabled = true;
	m.mmio_caching = true;
	m.frozen = 0x5a0;
	return m;
}

/* E3 (7.x, kvm_mmu_set_ept_masks of Debian's 7.3.4 kvm.ko): execute split
 * into shadow_xs_mask (bit 2) and shadow_xu_mask (bit 10, user-mode execute
 * with MBEC), acc_track = RWX|XU, host-/MMU-writable = 53/55; KVM's software
 * bits moved off bit 10: A/D type at 60-61, saved R/X/XU at 52/54/62, MMIO
 * generation low bits 3-9, FROZEN_SPTE bit 63 | 0x1a0. */
static struct spte_masks ept_e3(void)
{
	struct spte_masks m = ept_e2();
	m.x = B(2);
	m.xu = B(10);
	m.split_x = true;
	m.acc_track = 0x407;
	m.host_writable = B(53);
	m.mmu_writable = B(55);
	m.frozen = B(63) | 0x1a0;
	m.ad_shift = 60;
	m.saved_shift = 52;
	m.saved_xu_bit = 62;
	m.mmio_gen_low_bits = 7;
	return m;
}

/* Intel host with the L1TF mitigation: 46 cache bits, the 5 bits below bit 46
 * (41..45) are the nonpresent_or_rsvd mask, and GPA bits there move up by 5. */
static struct spte_masks ept_l1tf(void)
{
	struct spte_masks m = ept_e1();
	m.nonpresent_or_rsvd = 0x1full << 41;
	m.nonpresent_or_rsvd_lower_gfn = ADDR & ((1ull << 41) - 1);
	return m;
}

int main(void)
{
	struct spte_bits b;
	char buf[96];
	struct spte_masks m = ept_e1();

	/* EPT 4K RW leaf, WB (6) + IPAT, A, D, HW, MW, MMU-present, pfn 0x12345:
	 * 0x0600000000000b77 | pfn << 12  (RWX 7, memtype 6<<3 = 0x30, IPAT 0x40,
	 * A 0x100, D 0x200, bit 11 0x800). */
	uint64_t v = 0x0600000000000b77ull | 0x12345000ull;
	spte_decode(&m, v, 1, &b);
	CHECK("ept rw leaf: present kind", b.kind == SPTE_PRESENT && b.leaf && !b.huge);
	CHECK("ept rw leaf: R W X", b.readable && b.writable && b.executable && b.hw_present);
	CHECK("ept rw leaf: A D", b.accessed && b.dirty);
	CHECK("ept rw leaf: host/MMU writable", b.host_writable && b.mmu_writable);
	CHECK("ept rw leaf: WB memtype, IPAT", b.memtype == 6 && b.ipat);
	CHECK("ept rw leaf: pfn", b.pfn == 0x12345);
	CHECK("ept rw leaf: A/D type enabled", b.ad_type == SPTE_AD_ENABLED && !b.access_tracked);
	spte_flags_str(&b, true, buf, sizeof(buf));
	CHECK("ept rw leaf: flags string", !strcmp(buf, "P R W X A D HW MW"));

	/* 2M leaf: + PS (0x80) at level 2; pfn bits below 2M are not address. */
	v = 0x0600000000000bf7ull | 0x40000000ull;
	spte_decode(&m, v, 2, &b);
	CHECK("ept 2M leaf: huge, pfn aligned", b.leaf && b.huge && b.pfn == 0x40000);
	/* Non-leaf: RWX | A | MMU-present = 0x907, no memtype. */
	spte_decode(&m, 0x907ull | 0x1000000ull, 3, &b);
	CHECK("ept table entry: not a leaf, child pfn", !b.leaf && b.pfn == 0x1000 && b.memtype == -1);

	/* Dirty-log write protection: W cleared, MMU-writable kept. */
	spte_decode(&m, (0x0600000000000b77ull & ~B(1)) | 0x5000ull, 1, &b);
	CHECK("ept write-protected for dirty logging", !b.writable && b.mmu_writable && b.host_writable);
	/* Write-tracked: W and MMU-writable clear, host-writable set. */
	spte_decode(&m, (0x0600000000000b77ull & ~(B(1) | B(58))) | 0x5000ull, 1, &b);
	CHECK("ept write-tracked", !b.writable && !b.mmu_writable && b.host_writable);

	/* A/D type 01 (disabled) with eptad=0; access tracking: RWX cleared,
	 * R saved at 54, X at 56, MMU-present and the writable bits kept. */
	struct spte_masks na = ept_noad();
	uint64_t young = B(52) | 0x0600000000000877ull | 0x7000ull; /* RWX, WB+IPAT, bit 11 */
	spte_decode(&na, young, 1, &b);
	CHECK("ept A/D disabled: young leaf is accessed", b.ad_type == SPTE_AD_DISABLED &&
							 !b.access_tracked && b.accessed);
	uint64_t tracked = (young & ~7ull) | B(54) | B(56);
	spte_decode(&na, tracked, 1, &b);
	CHECK("ept access-tracked: recognised", b.kind == SPTE_PRESENT && b.access_tracked);
	CHECK("ept access-tracked: not accessed, no hw access", !b.accessed && !b.hw_present);
	CHECK("ept access-tracked: saved R and X", b.saved_r && b.saved_x);
	CHECK("ept access-tracked: pfn kept", b.pfn == 7);

	/* A/D type 10 (write-protect only, L2 mappings with PML). */
	spte_decode(&m, B(53) | 0x0600000000000b77ull | 0x8000ull, 1, &b);
	CHECK("ept wrprot-only type", b.ad_type == SPTE_AD_WRPROT_ONLY && b.accessed);
	spte_decode(&m, B(52) | B(53) | 0x0600000000000b77ull, 1, &b);
	CHECK("A/D type 11 decodes as invalid", b.ad_type == SPTE_AD_INVALID);

	/* MMIO: value 0b110; generation 0x1234b: low 8 bits (0x4b) at bits 3-10,
	 * high 11 bits (0x123) at 52-62; gpa 0xfee00000. */
	uint64_t gen = 0x1234b;
	uint64_t mmio = 6 | ((gen & 0xff) << 3) | ((gen >> 8) << 52) | 0xfee00000ull;
	spte_decode(&m, mmio, 1, &b);
	CHECK("ept mmio: kind", b.kind == SPTE_MMIO);
	CHECK("ept mmio: gfn", b.mmio_gfn == 0xfee00);
	CHECK("ept mmio: generation", b.mmio_gen == gen);

	/* E2: bit 63 joins the MMIO *mask* but not the value, so MMIO SPTEs
	 * keep suppress-#VE clear (a #VE for MMIO) and one with it set is not
	 * MMIO; empty is bit 63; frozen is bit 63 | 0x5a0. */
	struct spte_masks m2 = ept_e2();
	spte_decode(&m2, mmio, 1, &b);
	CHECK("ept E2 mmio, suppress-#VE clear", b.kind == SPTE_MMIO && b.mmio_gfn == 0xfee00);
	CHECK("ept E2: 0b110 with bit 63 is not MMIO", spte_classify(&m2, mmio | B(63)) != SPTE_MMIO);
	CHECK("ept E2 empty is bit 63", spte_classify(&m2, B(63)) == SPTE_EMPTY);
	CHECK("ept E2 frozen", spte_classify(&m2, B(63) | 0x5a0) == SPTE_FROZEN);
	CHECK("E1 frozen is 0x5a0", spte_classify(&m, 0x5a0) == SPTE_FROZEN);
	spte_decode(&m2, B(63) | 0x0600000000000b77ull | 0x1000ull, 1, &b);
	CHECK("ept E2 leaf with bit 63 is present", b.kind == SPTE_PRESENT && b.pfn == 1);
	CHECK("E1: bit 63 alone is garbage", spte_classify(&m, B(63)) == SPTE_GARBAGE);
	CHECK("no bit 11: garbage", spte_classify(&m, 0x1234) == SPTE_GARBAGE);

	/* E3 (7.x): a 4K RWX leaf, user-executable too: R W X A D, XU, memtype
	 * WB (6 << 3), HW (53) MW (55), MMU-present 11: 0x00a0000000001f77 with
	 * pfn 0x1234. */
	struct spte_masks m3 = ept_e3();
	uint64_t e3 = B(53) | B(55) | B(11) | B(10) | B(9) | B(8) | (6 << 3) | 7 | 0x1234000ull;
	spte_decode(&m3, e3, 1, &b);
	CHECK("ept E3 leaf: R W X XU A D HW MW, pfn", b.kind == SPTE_PRESENT && b.hw_present &&
		  b.readable && b.writable && b.executable && b.has_xu && b.user_executable &&
		  b.accessed && b.dirty && b.host_writable && b.mmu_writable && b.pfn == 0x1234 &&
		  b.ad_type == SPTE_AD_ENABLED && b.memtype == 6);
	spte_flags_str(&b, true, buf, sizeof(buf));
	CHECK("ept E3 leaf: flags string names XU", !strcmp(buf, "P R W X XU A D HW MW"));
	spte_decode(&m3, (e3 & ~(uint64_t)B(10)), 1, &b);
	spte_flags_str(&b, true, buf, sizeof(buf));
	CHECK("ept E3 supervisor-only execute", b.executable && !b.user_executable &&
		  !strcmp(buf, "P R W X -- A D HW MW"));
	/* execute in user mode only (no RWX): present to the CPU under MBEC */
	spte_decode(&m3, B(11) | B(10) | 0x5000ull, 1, &b);
	CHECK("ept E3 XU-only leaf is hardware-present", b.hw_present && b.user_executable &&
		  !b.executable && !b.readable);
	/* A/D disabled (type 1 at bit 60), access-tracked: RWX and XU cleared,
	 * R X XU saved at 52 54 62. */
	uint64_t at = B(60) | B(11) | B(52) | B(54) | B(62) | 0x6000ull;
	spte_decode(&m3, at, 1, &b);
	CHECK("ept E3 access-tracked: A/D type from bits 60-61, saved R X XU at 52 54 62",
	      b.ad_type == SPTE_AD_DISABLED && b.access_tracked && b.saved_r && b.saved_x &&
	      b.saved_xu && !b.host_writable && !b.mmu_writable);
	/* the same bits under E2 read differently: bit 52 is the A/D type there */
	spte_decode(&m2, at, 1, &b);
	CHECK("ept E2 reads bit 52 as A/D type 1", b.ad_type == SPTE_AD_DISABLED && !b.saved_xu);
	/* MMIO generation 0x1ab: low 7 bits at 3-9, the rest from bit 52 */
	uint32_t g3 = 0x1ab;
	uint64_t mmio3 = 6 | ((uint64_t)(g3 & 0x7f) << 3) | ((uint64_t)(g3 >> 7) << 52) | 0xfee00000ull;
	spte_decode(&m3, mmio3, 1, &b);
	CHECK("ept E3 mmio: generation with 7 low bits", b.kind == SPTE_MMIO && b.mmio_gen == g3 &&
		  b.mmio_gfn == 0xfee00);
	CHECK("ept E3 frozen is bit 63 | 0x1a0", spte_classify(&m3, B(63) | 0x1a0) == SPTE_FROZEN &&
		  spte_classify(&m3, B(63) | 0x5a0) != SPTE_FROZEN);

	/* L1TF: gpa bit 42 is stored at bit 47 (shifted up by 5). */
	struct spte_masks lt = ept_l1tf();
	uint64_t gpa = (1ull << 42) | 0x3000ull;
	uint64_t l1 = 6 | (gpa & lt.nonpresent_or_rsvd_lower_gfn) | ((gpa & lt.nonpresent_or_rsvd) << 5);
	spte_decode(&lt, l1, 1, &b);
	CHECK("l1tf mmio gfn restored", b.kind == SPTE_MMIO && b.mmio_gfn == gpa >> 12);

	/* NPT, as in the real fixtures: 4K RW leaf 0x...e67 = P W U A D HW MW MP. */
	struct spte_masks p = npt();
	spte_decode(&p, 0x1fdf2e67ull, 1, &b);
	CHECK("npt rw leaf", b.kind == SPTE_PRESENT && b.hw_present && b.writable && b.readable &&
			     b.accessed && b.dirty && b.host_writable && b.mmu_writable &&
			     b.executable && b.pfn == 0x1fdf2 && b.memtype == -1);
	spte_flags_str(&b, false, buf, sizeof(buf));
	CHECK("npt rw leaf: flags string", !strcmp(buf, "P U W X A D HW MW"));
	/* 2M read-only huge zero page 0x...8a5 with PAT (bit 12) set: not pfn. */
	spte_decode(&p, 0x34008a5ull | B(12), 2, &b);
	CHECK("npt 2M leaf: PAT bit not in pfn", b.huge && b.pfn == 0x3400 && !b.writable &&
						 !b.host_writable);
	/* 1G leaf: pfn aligned to 1 GiB. */
	spte_decode(&p, 0x40000ee7ull | 0x1ff000ull, 3, &b);
	CHECK("npt 1G leaf: pfn aligned", b.huge && b.pfn == 0x40000);
	/* NX set: not executable. */
	spte_decode(&p, B(63) | 0x1000e67ull, 1, &b);
	CHECK("npt NX leaf", b.kind == SPTE_PRESENT && !b.executable);
	/* NPT MMIO: bit 51 | P, access W|U, gfn 0x38000. */
	spte_decode(&p, B(51) | B(0) | 6 | 0x38000000ull, 1, &b);
	CHECK("npt mmio", b.kind == SPTE_MMIO && b.mmio_gfn == 0x38000 && b.mmio_access == 6);
	/* Aged NPT leaf (A cleared, D kept): 0x...e47. */
	spte_decode(&p, 0x2000e47ull, 1, &b);
	CHECK("npt aged leaf", !b.accessed && b.dirty && b.writable && !b.access_tracked);

	return tap_done();
}
