/* The EPT masks KVM programs (kvm_mmu_set_ept_masks), for the unit tests
 * that build SPTEs by hand: E1 and E2 eras (see test_spte_decode.c for the
 * others). */
#ifndef TEST_EPT_MASKS_H
#define TEST_EPT_MASKS_H

#include <string.h>

#include "mmu/spte.h"

#define B(x) (1ull << (x))
#define ADDR 0x000ffffffffff000ull

/* Intel EPT, A/D on.  E1 (5.13-6.9): present = R (no execute-only), user = R,
 * x = X, nx = 0, A = bit 8, D = bit 9, host-/MMU-writable = 57/58,
 * acc_track = RWX, MMIO value 0b110 (W+X, no R: misconfig) mask RWX. */
static inline struct spte_masks ept_e1(void)
{
	struct spte_masks m;
	memset(&m, 0, sizeof(m));
	m.present = B(0);
	m.user = B(0);
	m.x = B(2);
	m.accessed = B(8);
	m.dirty = B(9);
	m.host_writable = B(57);
	m.mmu_writable = B(58);
	m.acc_track = 7;
	m.mmio_value = 6;
	m.mmio_mask = 7;
	m.nonpresent_or_rsvd_lower_gfn = ADDR & ((1ull << 46) - 1);
	m.address = ADDR;
	m.ept = true;
	m.ad_enabled = true;
	m.mmio_caching = true;
	m.nonpresent = 0;
	m.frozen = 0x5a0;
	return m;
}

/* E2 (6.10-6.12): bit 63 (suppress #VE) joins the present mask and the MMIO
 * mask; empty SPTEs are bit 63; FROZEN_SPTE is bit 63 | 0x5a0. */
static inline struct spte_masks ept_e2(void)
{
	struct spte_masks m = ept_e1();
	m.present |= B(63);
	m.mmio_mask |= B(63);
	m.nonpresent = B(63);
	m.frozen = B(63) | 0x5a0;
	return m;
}

#endif
