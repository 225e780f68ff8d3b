/* Decoding one SPTE with KVM's live masks: what kind of entry it is and
 * every bit KVM and the hardware give meaning to, for NPT and EPT. */
#ifndef MMU_SPTE_H
#define MMU_SPTE_H

#include <stdbool.h>
#include <stdint.h>

#include "kobj/masks.h"

enum spte_kind {
	SPTE_EMPTY,	/* 0, or bit 63 alone from 6.10 */
	SPTE_PRESENT,	/* MMU-present (bit 11): leaf or table */
	SPTE_MMIO,	/* cached MMIO: matches shadow_mmio_mask/value */
	SPTE_FROZEN,	/* REMOVED/FROZEN_SPTE: a zap in flight */
	SPTE_GARBAGE,	/* none of the above: corruption or an unknown era */
};

/* Bits 52-53 (60-61 with the split execute masks): the A/D type KVM gave
 * the SPTE. */
enum spte_ad_type { SPTE_AD_ENABLED, SPTE_AD_DISABLED, SPTE_AD_WRPROT_ONLY, SPTE_AD_INVALID };

struct spte_bits {
	enum spte_kind kind;
	bool leaf;		/* level 1, or PS at level 2/3 */
	bool huge;		/* PS */
	bool hw_present;	/* the CPU would use it: NPT P, EPT any of RWX */
	bool readable;		/* EPT R / NPT U (KVM's "user" mask) */
	bool writable, executable, accessed, dirty;
	bool has_xu;		/* EPT with split execute masks: user_executable means something */
	bool user_executable;	/* EPT bit 10 (shadow_xu_mask): execute in user mode */
	bool host_writable, mmu_writable;
	bool access_tracked;
	bool saved_r, saved_x;	/* access-tracked SPTEs keep R and X here */
	bool saved_xu;		/* ... and XU, with the split execute masks */
	enum spte_ad_type ad_type;
	int memtype;		/* EPT leaves: bits 3-5; -1 otherwise */
	bool ipat;
	uint64_t pfn;		/* leaf: first frame; table: child table frame */
	/* MMIO SPTEs */
	uint64_t mmio_gfn;
	uint32_t mmio_gen, mmio_access;
};

enum spte_kind spte_classify(const struct spte_masks *m, uint64_t spte);
#define SPTE_MMU_PRESENT (1ull << 11)	/* KVM software bit from 5.13 (not in E0) */
#define EPT_RWX 7ull

/* Where the A/D type and the saved R/X bits are: the masks' (kvm.c sets
 * them from what kvm.ko has), or the layout before the split execute
 * masks for masks built without them (tests, fuzzers). */
static inline int spte_ad_shift(const struct spte_masks *m)
{
	return m->ad_shift ? m->ad_shift : 52;
}
static inline int spte_saved_shift(const struct spte_masks *m)
{
	return m->saved_shift ? m->saved_shift : 54;
}

/* spte_classify's body, for the walk's inner loop to inline (called once
 * per entry of every table). */
static inline enum spte_kind spte_classify_inline(const struct spte_masks *m, uint64_t spte)
{
	if (spte == m->frozen)
		return SPTE_FROZEN;
	if (spte == m->nonpresent || spte == 0)
		return SPTE_EMPTY;
	if (m->mmio_caching && m->mmio_value && (spte & m->mmio_mask) == m->mmio_value)
		return SPTE_MMIO;
	if (!m->era0 && !(spte & SPTE_MMU_PRESENT))
		return SPTE_GARBAGE;
	/* E0: KVM calls any other value present; one it never makes (hardware
	 * not-present and not in the access-tracked form, A/D type 01) is
	 * garbage */
	if (m->era0 && !(m->ept ? spte & EPT_RWX : spte & m->present) &&
	    !(m->acc_track && ((spte >> spte_ad_shift(m)) & 3) == SPTE_AD_DISABLED))
		return SPTE_GARBAGE;
	return SPTE_PRESENT;
}
void spte_decode(const struct spte_masks *m, uint64_t spte, int level, struct spte_bits *out);
/* The same, for an SPTE already classified as KIND (spte_classify's answer). */
void spte_decode_kind(const struct spte_masks *m, uint64_t spte, int level, enum spte_kind kind,
		      struct spte_bits *out);
const char *spte_kind_name(enum spte_kind k);
/* An entry of a vCPU's special root (pae_root, pml4_root, pml5_root: KVM's
 * own pages above the shadow pages, mmu_alloc_*_roots): root |
 * PT_PRESENT_MASK [| A | W | U], no SPTE_MMU_PRESENT bit, never a leaf;
 * 0 is empty (INVALID_PAE_ROOT), anything without bit 0 or with PS is
 * garbage. */
enum spte_kind spte_classify_special(uint64_t spte);
void spte_decode_special(const struct spte_masks *m, uint64_t spte, struct spte_bits *out);
const char *spte_ad_type_name(enum spte_ad_type t);
/* Compact flag string, e.g. "P W U A D HW MW" (fits 64 bytes); XU after X
 * where EPT has the split execute masks. */
void spte_flags_str(const struct spte_bits *b, bool ept, char *buf, unsigned len);

#endif
