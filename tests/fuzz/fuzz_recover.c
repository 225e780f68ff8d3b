/* Offsets recovered from machine code (symtab/recover/) over fuzzed bytes
 * of the real kvm.ko functions it disassembles and of the VMs and roots it
 * checks the result on; whatever layout it accepts is then walked and
 * checked, so a bad guess must never crash the layers above. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static struct fuzz_env env;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_env_open(&env, 1);
	/* the first page of each function the rules read (the input picks
	 * where to patch), then the objects recover_kvm_types checks */
	static const char *const fns[] = {
		"gfn_to_memslot", "mark_page_dirty_in_slot", "gfn_to_hva_memslot", "tdp_mmu_init_sp",
		"tdp_iter_start", "make_spte", "kvm_tdp_mmu_put_root", "kvm_tdp_mmu_invalidate_all_roots",
		"vm_stat_clear", "kvm_vcpu_on_spin", "kvm_mmu_init_tdp_mmu", "kvm_mmu_init_vm",
		"kvm_dirty_ring_push", "kvm_vcpu_kick", "kvm_mmu_free_roots", "kvm_vm_ioctl",
	};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		uint64_t a;
		if (target_symbol(env.T, "kvm", fns[i], &a))
			fuzz_env_add_virt(&env, a, 64);
	}
	fuzz_env_add_vm_list(&env);
	for (size_t v = 0; v < env.H.nvms && v < 4; v++) {
		fuzz_env_add_virt(&env, env.H.vms[v].addr, 8192);
		for (size_t i = 0; i < env.H.vms[v].nroots; i++)
			fuzz_env_add_virt(&env, env.H.vms[v].roots[i].sp, 128);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_env_apply(&env, data, size);
	/* as if the dump had no kvm BTF */
	types_drop_module(&env.T->types, "kvm");
	memset(&env.T->recovered, 0, sizeof(env.T->recovered));
	struct recover_input in = target_recover_input(env.T);
	struct err *e = recover_kvm_types(&in);
	struct kvm_host H;
	if (!e && env.T->recovered.used && !(e = kvm_host_load(env.T, &H)))
		e = fuzz_check_host(&env, &H);
	err_free(e);
	fuzz_env_reset(&env);
	return 0;
}
