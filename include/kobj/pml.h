/* D-bit dirty logging with PML buffers (Intel VMX, later AMD): where each
 * vCPU's PML page is and what it holds (all 512 slots taken as possibly
 * pending: the index lives in the VMCS, whose layout is not architectural).
 * The page parsing takes plain values, so it is tested on constructed pages
 * (the fixtures are AMD and cannot produce PML); D3 is judged in src/check. */
#ifndef KOBJ_PML_H
#define KOBJ_PML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/notes.h"
#include "kobj/kvm.h"
#include "symtab/target.h"

#define PML_ENTRIES 512		/* one 4 KiB page of u64 GPAs */

struct pml_layout {
	bool in_use;		/* kvm_x86_ops.cpu_dirty_log_size != 0 */
	bool per_vm;		/* 7.x: kvm->arch.cpu_dirty_log_size, read per VM */
	struct member vm_size;
	bool have_page;		/* where a vCPU's PML page pointer lives */
	uint64_t page_off;	/* of that struct page * from the struct kvm_vcpu */
	const char *page_field;	/* "kvm_vcpu.arch.pml_page" or "vcpu_vmx.pml_pg" */
	uint64_t vmemmap_base, page_size;	/* struct page * -> pfn */
	bool have_count;	/* kvm->arch.cpu_dirty_logging_count (5.12-6.2) */
	struct member count;
};

struct pml_entry {
	uint64_t gfn;
	int vcpu;		/* vcpu_idx */
	int slot;		/* 0..511 in the vCPU's PML page */
};

/* The PML pages of one VM's vCPUs, gathered once per VM. */
struct pml_books {
	bool in_use;		/* this VM logs with PML (per_vm), or every VM does */
	bool loaded;		/* PML in use and the VM logs: D3 applies */
	struct pml_entry *e;	/* sorted by gfn */
	size_t n, cap;
	int nread, nunread;	/* vCPUs whose page was / was not read */
	char read_ev[160];	/* "0 (PA 0x...), 1 (PA 0x...)" for evidence */
	char unread_ev[160];	/* why the first unreadable pages were not read */
	int in_guest;		/* vCPUs IN_GUEST_MODE or EXITING_GUEST_MODE */
	int in_guest_idx;	/* the first of them */
	bool have_count;	/* kvm->arch.cpu_dirty_logging_count was read */
	int32_t count;
	uint64_t count_at;
};

/* Fill L from type info (by field presence) and kvm.ko's globals; a PML
 * host whose PML page cannot be located is noted once. */
void pml_layout(struct target *T, struct pml_layout *L, struct notes *notes);

/* The type-info half of pml_layout: where the PML page pointer and
 * cpu_dirty_logging_count are, the size of struct page. */
void pml_layout_types(const struct types *ty, struct pml_layout *L);

/* pfn of the struct page at PAGE, false if PAGE is not a struct page of the
 * vmemmap (misaligned, below the base, beyond 52 physical bits). */
bool pml_page_pfn(uint64_t vmemmap_base, uint64_t page_size, uint64_t page, uint64_t *pfn);

/* Room for the pages of NVCPUS vCPUs (drops what was added); -1 on ENOMEM. */
int pml_reserve(struct pml_books *p, size_t nvcpus);
/* Add the 512 slots of one vCPU's PML page (GPAs; bits 11:0 are zero as the
 * CPU writes them, stale entries of earlier cycles included) of the page at
 * physical address PA. */
void pml_add_page(struct pml_books *p, int vcpu, uint64_t pa, const uint64_t page[PML_ENTRIES]);
/* Note a vCPU's mode: in (or exiting) guest mode its buffer may hold GPAs
 * not yet flushed and D bits being set. */
void pml_vcpu_mode(struct pml_books *p, int vcpu, int mode);
/* Sort after the last pml_add_page. */
void pml_finish(struct pml_books *p);
const struct pml_entry *pml_find(const struct pml_books *p, uint64_t gfn);

/* Read every vCPU's PML page of VM into P (only when PML is in use and
 * some slot logs), and cpu_dirty_logging_count where the kernel keeps it.
 * Unreadable pages are noted and make D3 inconclusive. */
struct err *pml_load(struct target *T, const struct pml_layout *L, const struct kvm_vm *vm,
		     struct pml_books *p, struct notes *notes);
void pml_fini(struct pml_books *p);

#endif
