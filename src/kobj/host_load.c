#include "kobj/host_load.h"

#include "kobj/shadow.h"

struct err *kvm_host_load(struct target *T, struct kvm_host *H)
{
	struct err *e = kvm_vms_load(T, H);
	if (e)
		return e;
	/* The shadow MMU once every VM is read: its roots join each VM's list. */
	return kvm_shadow_load(T, H);
}
