/* What the user asked to see: which VMs and roots, which gfns and levels, and
 * which SPTE bit states (--vm, --root, --gfn-range, --level, `sptes BITS`). */
#ifndef CMD_SELECT_H
#define CMD_SELECT_H

#include <stdbool.h>
#include <stdint.h>

#include "kobj/kvm.h"
#include "mmu/walk.h"

/* A bit-state filter such as "W=1,D=0": each named bit must match. */
enum spte_bit {
	BIT_P, BIT_R, BIT_W, BIT_X, BIT_XU, BIT_A, BIT_D, BIT_PS, BIT_HW, BIT_MW, BIT_AT, BIT_LEAF, BIT_COUNT
};

struct bit_filter {
	uint32_t care, want;	/* bitmask over enum spte_bit */
};

struct select {
	const char *vm_spec;		/* --vm as given; NULL: every VM */
	uint64_t vm_kvm;		/* the struct kvm --vm resolved to */
	int vm_pid;			/* -1: every VM */
	uint64_t root;			/* 0: every root */
	struct walk_range range;	/* gfn range */
	int level;			/* 0: every level */
	struct bit_filter bits;
	bool by_pfn;			/* --pfn: leaves mapping host frames */
	uint64_t pfn_lo, pfn_hi;	/* inclusive */
};

struct err *bit_filter_parse(const char *spec, struct bit_filter *f);
bool bit_filter_match(const struct bit_filter *f, const struct spte_bits *b);
/* A present leaf at LEVEL maps frames pfn .. pfn + pages - 1: does that
 * meet --pfn's range? Anything else never does. */
bool select_pfn(const struct select *sel, const struct spte_bits *b, int level);
bool select_vm(const struct select *sel, const struct kvm_vm *vm);
/* --vm PID | PID:N | KVM_ADDRESS and --root against the VMs the dump holds:
 * a selection that matches nothing is a usage error naming what exists. */
struct err *select_resolve(struct select *sel, const struct kvm_host *H);
/* The VM's name in tables: "PID:N", N counting that process's VMs from 0 in
 * vm_list order, so two VMs of one process are told apart. */
int vm_nth(const struct kvm_host *H, const struct kvm_vm *vm);
bool select_root(const struct select *sel, const struct kvm_root *r);

/* Every root the selection keeps, VM by VM in vm_list order: VM and R name
 * the loop's variables. (The empty if-branches keep a caller's else apart.) */
#define for_each_selected_root(sel, H, vm, r)                                           \
	for (const struct kvm_vm *vm = (H)->vms; vm < (H)->vms + (H)->nvms; vm++)        \
		if (!select_vm(sel, vm)) {                                                \
		} else                                                                    \
			for (const struct kvm_root *r = vm->roots; r < vm->roots + vm->nroots; \
			     r++)                                                         \
				if (!select_root(sel, r)) {                               \
				} else

#endif
