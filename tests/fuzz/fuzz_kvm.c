/* vm_list, struct kvm, memslot rb-trees, root lists, vCPU xarrays, dirty
 * bitmaps and the checks, over fuzzed bytes of the real objects' pages. */
#include "fuzz_common.h"

static struct fuzz_env env;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_env_open(&env, 1);
	fuzz_env_add_vm_list(&env);
	struct type_ref kvm = types_struct(&env.T->types, "kvm", "kvm");
	struct type_ref sp = types_struct(&env.T->types, "kvm", "kvm_mmu_page");
	struct type_ref slot = types_struct(&env.T->types, "kvm", "kvm_memory_slot");
	struct type_ref vcpu = types_struct(&env.T->types, "kvm", "kvm_vcpu");
	for (size_t v = 0; v < env.H.nvms; v++) {
		const struct kvm_vm *vm = &env.H.vms[v];
		fuzz_env_add_virt(&env, vm->addr, types_size(kvm));
		for (size_t i = 0; i < vm->nslots; i++) {
			fuzz_env_add_virt(&env, vm->slots[i].addr, types_size(slot));
			if (vm->slots[i].dirty_bitmap)
				fuzz_env_add_virt(&env, vm->slots[i].dirty_bitmap, 8);
		}
		for (size_t i = 0; i < vm->nroots; i++)
			fuzz_env_add_virt(&env, vm->roots[i].sp, types_size(sp));
		for (size_t i = 0; i < vm->nvcpus; i++)
			fuzz_env_add_virt(&env, vm->vcpus[i].addr, types_size(vcpu) < 8192 ? types_size(vcpu) : 8192);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_env_apply(&env, data, size);
	struct kvm_host H;
	struct err *e = kvm_host_load(env.T, &H);
	if (!e)
		e = fuzz_check_host(&env, &H);
	err_free(e);
	fuzz_env_reset(&env);
	return 0;
}
