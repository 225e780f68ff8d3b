#include "mmu/spte.h"

#include <stdio.h>
#include <string.h>

#define SPTE_PS (1ull << 7)
#define SPTE_WRITABLE (1ull << 1)	/* x86 R/W and EPT W are both bit 1 */
#define EPT_READ (1ull << 0)
/* x86 page-table bits of KVM's own special-root entries (PT_*_MASK) */
#define PT_PRESENT (1ull << 0)
#define PT_USER (1ull << 2)
#define PT_ACCESSED (1ull << 5)
#define EPT_MEMTYPE_SHIFT 3
#define EPT_IPAT (1ull << 6)
/* MMIO generation: low bits from SPTE bit 3 (8 of them; 7 with the split
 * execute masks, 9 before 5.13), the rest from mmio_gen_high_shift up to 62. */
#define MMIO_GEN_LOW_SHIFT 3

enum spte_kind spte_classify(const struct spte_masks *m, uint64_t spte)
{
	return spte_classify_inline(m, spte);
}

enum spte_kind spte_classify_special(uint64_t spte)
{
	if (!spte)
		return SPTE_EMPTY;
	return (spte & PT_PRESENT) && !(spte & SPTE_PS) ? SPTE_PRESENT : SPTE_GARBAGE;
}

void spte_decode_special(const struct spte_masks *m, uint64_t spte, struct spte_bits *b)
{
	memset(b, 0, sizeof(*b));
	b->memtype = -1;
	b->kind = spte_classify_special(spte);
	if (b->kind != SPTE_PRESENT)
		return;
	b->hw_present = true;
	b->writable = spte & SPTE_WRITABLE;
	b->readable = spte & PT_USER;
	b->accessed = spte & PT_ACCESSED;
	b->pfn = (spte & m->address) >> 12;
}

void spte_decode(const struct spte_masks *m, uint64_t spte, int level, struct spte_bits *b)
{
	spte_decode_kind(m, spte, level, spte_classify(m, spte), b);
}

void spte_decode_kind(const struct spte_masks *m, uint64_t spte, int level, enum spte_kind kind,
		      struct spte_bits *b)
{
	memset(b, 0, sizeof(*b));
	b->memtype = -1;
	b->kind = kind;
	if (b->kind == SPTE_MMIO) {
		uint64_t gpa = spte & m->nonpresent_or_rsvd_lower_gfn;
		if (!m->nonpresent_or_rsvd_lower_gfn) /* older kernels: plain address bits */
			gpa = spte & m->address & ~m->mmio_mask;
		gpa |= (spte >> 5) & m->nonpresent_or_rsvd; /* L1TF: high GPA bits moved up */
		b->mmio_gfn = gpa >> 12;
		int low = m->mmio_gen_low_bits ? m->mmio_gen_low_bits : 8;
		int hs = m->mmio_gen_high_shift ? m->mmio_gen_high_shift : 52;
		b->mmio_gen = (uint32_t)(((spte >> MMIO_GEN_LOW_SHIFT) & ((1ull << low) - 1)) |
					 (((spte >> hs) & ((1ull << (63 - hs)) - 1)) << low));
		b->mmio_access = (uint32_t)(spte & m->mmio_access);
		return;
	}
	if (b->kind != SPTE_PRESENT)
		return;
	b->huge = level > 1 && (spte & SPTE_PS);
	b->leaf = level == 1 || b->huge;
	int ad_shift = spte_ad_shift(m), saved = spte_saved_shift(m);
	b->ad_type = (enum spte_ad_type)((spte >> ad_shift) & 3);
	b->writable = spte & SPTE_WRITABLE;
	/* a mask KVM does not have is 0: its bit reads clear */
	b->host_writable = spte & m->host_writable;
	b->mmu_writable = spte & m->mmu_writable;
	b->readable = spte & m->user;
	if (m->ept) {
		/* with mode-based execute control, user-execute alone is present too */
		b->hw_present = spte & (EPT_RWX | m->xu);
		b->executable = spte & m->x;
		b->has_xu = m->xu != 0;
		b->user_executable = spte & m->xu;
		if (b->leaf) {
			b->memtype = (int)((spte >> EPT_MEMTYPE_SHIFT) & 7);
			b->ipat = spte & EPT_IPAT;
		}
	} else {
		b->hw_present = spte & m->present;
		b->executable = !(spte & m->nx);
	}
	/* With A/D disabled by type, bits 8/9 are not hardware A/D (6.12 and
	 * older leave them clear); "accessed" is then "not access-tracked". */
	bool ad_hw = b->ad_type == SPTE_AD_ENABLED || b->ad_type == SPTE_AD_WRPROT_ONLY;
	uint64_t amask = m->accessed ? m->accessed : (m->ept ? 1ull << 8 : 1ull << 5);
	uint64_t dmask = m->dirty ? m->dirty : (m->ept ? 1ull << 9 : 1ull << 6);
	if (b->leaf && b->ad_type == SPTE_AD_DISABLED && m->acc_track)
		b->access_tracked = (spte & m->acc_track) == 0;
	b->accessed = ad_hw ? (spte & amask) != 0 : !b->access_tracked;
	b->dirty = b->leaf && (spte & dmask) != 0;
	b->saved_r = (spte >> saved) & 1;
	b->saved_x = (spte >> (saved + 2)) & 1;
	b->saved_xu = m->saved_xu_bit && ((spte >> m->saved_xu_bit) & 1);
	uint64_t addr = spte & m->address;
	if (b->huge) /* below the page size, and NPT's PAT bit 12, are not address */
		addr &= ~((1ull << (12 + 9 * (level - 1))) - 1);
	b->pfn = addr >> 12;
}

const char *spte_kind_name(enum spte_kind k)
{
	static const char *const names[] = { "empty", "present", "mmio", "frozen", "garbage" };
	return (unsigned)k < 5 ? names[k] : "?";
}

const char *spte_ad_type_name(enum spte_ad_type t)
{
	static const char *const names[] = { "enabled", "disabled", "wrprot-only", "invalid" };
	return (unsigned)t < 4 ? names[t] : "?";
}

void spte_flags_str(const struct spte_bits *b, bool ept, char *buf, unsigned len)
{
	if (b->kind != SPTE_PRESENT) {
		snprintf(buf, len, "%s", spte_kind_name(b->kind));
		return;
	}
	snprintf(buf, len, "%s%s%s%s%s%s%s%s%s%s%s%s",
		 b->hw_present ? "P " : "- ",
		 ept ? (b->readable ? "R " : "- ") : (b->readable ? "U " : "- "),
		 b->writable ? "W " : "- ", b->executable ? "X " : "- ",
		 b->has_xu ? (b->user_executable ? "XU " : "-- ") : "",
		 b->accessed ? "A " : "- ", b->leaf ? (b->dirty ? "D " : "- ") : "",
		 b->huge ? "PS " : "", b->host_writable ? "HW " : "", b->mmu_writable ? "MW " : "",
		 b->access_tracked ? "AT " : "",
		 b->ad_type != SPTE_AD_ENABLED ? spte_ad_type_name(b->ad_type) : "");
	size_t n = strlen(buf);
	while (n && buf[n - 1] == ' ')
		buf[--n] = '\0';
}
