/* Shared by the fuzz targets: the real fixture dump opened once, a set of
 * its pages the target cares about, and "patch records" from the fuzz input
 * applied to those pages as overlays, so each run parses real kernel memory
 * with fuzzed bytes exactly where the parser is exposed. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "kobj/host_load.h"

#define FUZZ_MAX_PAGES 48

struct fuzz_env {
	struct target *T;
	struct kvm_host H;
	uint64_t pages[FUZZ_MAX_PAGES];	/* physical addresses */
	uint8_t orig[FUZZ_MAX_PAGES][PAGE_SIZE];
	size_t npages;
};

/* Open $SPTE_FUZZ_DUMP (abort with a message if unusable). */
void fuzz_env_open(struct fuzz_env *f, int load_kvm);
/* Add the pages covering [va, va+len) of kernel virtual memory. */
void fuzz_env_add_virt(struct fuzz_env *f, uint64_t va, size_t len);
void fuzz_env_add_phys(struct fuzz_env *f, uint64_t pa);
/* Apply records {u8 page, u16 offset, u8 len, bytes} from DATA as overlays. */
void fuzz_env_apply(struct fuzz_env *f, const uint8_t *data, size_t size);
void fuzz_env_reset(struct fuzz_env *f);
/* The pages of the vm_list head, where kvm_host_load starts. */
void fuzz_env_add_vm_list(struct fuzz_env *f);
/* Run every check (default options, findings dropped) over H, a host that
 * kvm_host_load just loaded from the patched dump, then free H. */
struct err *fuzz_check_host(struct fuzz_env *f, struct kvm_host *H);

#endif
