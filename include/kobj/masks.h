/* KVM's live SPTE masks, read from kvm.ko's own globals in the dump, and the
 * era facts that change how an SPTE is read.  Never hard-coded per version. */
#ifndef KOBJ_MASKS_H
#define KOBJ_MASKS_H

#include <stdbool.h>
#include <stdint.h>

struct spte_masks {
	uint64_t present, user, x, nx, accessed, dirty;
	uint64_t xu;		/* EPT user-mode execute (shadow_xu_mask); x is then shadow_xs_mask */
	uint64_t host_writable, mmu_writable, acc_track;
	uint64_t mmio_value, mmio_mask, mmio_access;
	uint64_t me_value, me_mask;
	uint64_t nonpresent_or_rsvd, nonpresent_or_rsvd_lower_gfn;
	uint64_t address;	/* bits 12..51 within the kernel's physical_mask */
	bool ept;		/* shadow_x_mask (or shadow_xs_mask) != 0 */
	bool split_x;		/* kvm.ko has shadow_xs_mask/shadow_xu_mask, not shadow_x_mask */
	bool ad_enabled;	/* shadow_accessed_mask != 0 (<= 6.12) */
	bool mmio_caching;
	uint64_t nonpresent;	/* value of an empty SPTE: 0, or bit 63 from 6.10 */
	uint64_t frozen;	/* REMOVED_SPTE / FROZEN_SPTE */
	/* Where KVM's software bits sit.  With the split execute masks bit 10
	 * became EPT's user-execute and KVM moved what lived there and above:
	 * A/D type 52-53 -> 60-61, saved R/X 54/56 -> 52/54 (+ XU at 62), MMIO
	 * generation low bits 3-10 -> 3-9, FROZEN_SPTE 0x5a0 -> 0x1a0. */
	int ad_shift;		/* A/D type field (2 bits) */
	int saved_shift;	/* access-tracked SPTEs keep R at this bit, X two above */
	int saved_xu_bit;	/* ... and XU here; 0: none */
	int mmio_gen_low_bits;	/* MMIO generation bits from bit 3 */
	int mmio_gen_high_shift; /* ... and the rest from this bit up to 62 */
	/* E0, before 5.13 (no shadow_host_writable_mask & co.): no MMU-present
	 * bit 11 (present = non-zero and not MMIO), MMIO generation in bits
	 * 3-11 and 54-62 instead of 3-10 and 52-62 */
	bool era0;
};

#endif
