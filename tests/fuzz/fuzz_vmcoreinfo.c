/* VMCOREINFO splitting and the lookups made of it. */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "dump/vmcoreinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = malloc(size + 1);
	if (!raw)
		return 0;
	memcpy(raw, data, size);
	raw[size] = '\0';
	struct vmcoreinfo v;
	vmcoreinfo_parse(&v, raw);
	const char *s = vmcoreinfo_get(&v, "SYMBOL(kallsyms_names)");
	if (s)
		(void)strtoull(s, NULL, 16);
	vmcoreinfo_get(&v, "OSRELEASE");
	vmcoreinfo_get(&v, "NUMBER(pgtable_l5_enabled)");
	vmcoreinfo_fini(&v);
	return 0;
}
