/* SPTE decode with arbitrary masks, values and levels. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mmu/spte.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spte_masks m;
	uint64_t v[20] = { 0 };
	memcpy(v, data, size < sizeof(v) ? size : sizeof(v));
	memset(&m, 0, sizeof(m));
	m.present = v[0]; m.user = v[1]; m.x = v[2]; m.nx = v[3]; m.accessed = v[4];
	m.dirty = v[5]; m.host_writable = v[6]; m.mmu_writable = v[7]; m.acc_track = v[8];
	m.mmio_value = v[9]; m.mmio_mask = v[10]; m.mmio_access = v[11];
	m.nonpresent_or_rsvd = v[12]; m.nonpresent_or_rsvd_lower_gfn = v[13];
	m.address = v[14]; m.nonpresent = v[15]; m.frozen = v[16];
	m.ept = v[17] & 1; m.ad_enabled = v[17] & 2; m.mmio_caching = v[17] & 4;
	struct spte_bits b;
	char buf[96];
	spte_decode(&m, v[18], (int)(v[19] % 7), &b);
	spte_flags_str(&b, m.ept, buf, sizeof(buf));
	return 0;
}
