/* The model behind the browser: every leaf SPTE of one VM with its state,
 * sorted by gfn, and the findings of the checks.  Memory grows with the
 * number of mapped leaves, never with the size of the guest-physical space. */
#ifndef BROWSE_GPMAP_H
#define BROWSE_GPMAP_H

#include <stddef.h>
#include <stdint.h>

#include "check/check.h"
#include "kobj/kvm.h"
#include "out/session.h"

/* Cell states, in the order a cell covering several leaves shows them. */
enum gp_state {
	GP_UNMAPPED, GP_READONLY, GP_NOT_ACCESSED, GP_WRITABLE, GP_WRITABLE_LOGGED,
	GP_LOGGED_RECORDED, GP_ACCESS_TRACKED, GP_MMIO, GP_FINDING, GP_NSTATES
};

struct gp_leaf {
	uint64_t gfn, spte;
	uint32_t root;		/* index into vm->roots */
	uint8_t level;
	uint8_t state;
};

struct gp_finding {
	const struct check_def *check;
	enum severity severity;
	bool inconclusive;
	uint64_t gfn;		/* UINT64_MAX for VM-level findings */
	int level;
	char message[256], evidence[512];
};

struct gpmap {
	const struct kvm_vm *vm;
	struct gp_leaf *leaves;
	size_t n, cap;
	struct gp_finding *findings;
	size_t nfindings;
	uint64_t lo, hi;	/* gfn span of the memslots and leaves */
};

const char *gp_state_name(enum gp_state s);
char gp_state_glyph(enum gp_state s);

/* Walk every root of VM and run the checks; the map is sorted by gfn. */
struct err *gpmap_build(struct session *s, const struct kvm_vm *vm, struct gpmap *m);
void gpmap_free(struct gpmap *m);
/* First leaf with gfn >= GFN (m->n if none). */
size_t gpmap_lower_bound(const struct gpmap *m, uint64_t gfn);
/* The state a cell [lo, hi] shows: the highest of its leaves'. */
enum gp_state gpmap_cell(const struct gpmap *m, uint64_t lo, uint64_t hi);

#endif
