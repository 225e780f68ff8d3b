/* BTF loading and member lookup over fuzzed bytes of the real vmlinux BTF
 * (patch records applied to a copy of the blob from the dump). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static struct fuzz_env env;
static uint8_t *blob, *copy;
static size_t blob_size;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_env_open(&env, 0);
	uint64_t start, stop;
	if (!target_symbol(env.T, "vmlinux", "__start_BTF", &start) ||
	    !target_symbol(env.T, "vmlinux", "__stop_BTF", &stop) ||
	    target_read_obj(env.T, start, stop - start, (void **)&blob))
		abort();
	blob_size = stop - start;
	copy = malloc(blob_size);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	memcpy(copy, blob, blob_size);
	/* records: u32 offset, u8 len, bytes; the header is hit often */
	while (size >= 5) {
		size_t off = (size_t)(data[0] | data[1] << 8 | data[2] << 16 | (size_t)data[3] << 24);
		size_t len = data[4];
		bool header = data[4] & 1; /* the header and type section start are hit often */
		data += 5;
		size -= 5;
		if (len > size)
			len = size;
		off = header ? off % 64 : off % blob_size;
		if (off + len > blob_size)
			len = blob_size - off;
		memcpy(copy + off, data, len);
		data += len;
		size -= len;
	}
	struct types T;
	types_init(&T);
	struct err *e = types_set_vmlinux(&T, copy, blob_size, "fuzz");
	if (!e) {
		struct member m;
		struct type_ref r = types_struct(&T, NULL, "page");
		types_member(r, "private", &m);
		r = types_struct(&T, NULL, "mm_struct");
		types_member(r, "pgd", &m);
		types_member(r, "owner", &m);
		types_size(r);
		r = types_struct(&T, NULL, "xa_node");
		types_member(r, "slots", &m);
	}
	err_free(e);
	types_fini(&T);
	return 0;
}
