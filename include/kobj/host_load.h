/* Loading the KVM host in stages: the VMs (kobj/kvm), then the shadow MMU
 * (kobj/shadow), which builds on them.  Above both, so neither includes
 * the other's reader. */
#ifndef KOBJ_HOST_LOAD_H
#define KOBJ_HOST_LOAD_H

#include "kobj/kvm.h"

/* Every VM on vm_list, then its shadow pages and vCPU MMUs, whose shadow
 * roots join the VM's root list; free with kvm_host_fini. */
struct err *kvm_host_load(struct target *T, struct kvm_host *H);

#endif
