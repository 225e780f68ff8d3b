/* Type information: vmlinux BTF plus split BTF of each module, searched by
 * struct name; member paths ("arch.tdp_mmu_roots") resolve to bit offsets.
 * Layouts are always looked up here, never assumed per kernel version. */
#ifndef SYMTAB_TYPES_H
#define SYMTAB_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct btf;

struct type_ref {
	const struct btf *btf;
	int32_t id;	/* 0: not found */
};

struct member {
	uint64_t bit_off;	/* from the start of the outer struct */
	uint32_t bit_size;	/* bitfield width, 0 if not a bitfield */
	uint64_t size;		/* bytes of the member's type */
	struct type_ref type;	/* typedefs and qualifiers stripped */
};

struct types_module {
	char name[64];
	struct btf *btf;
	char *source;	/* "dump", or a file path */
};

struct types {
	struct btf *vmlinux;
	char *vmlinux_source;
	struct types_module *mods;
	size_t nmods;
	/* Struct and union names per BTF, sorted, built on the first lookup:
	 * libbpf's btf__find_by_name_kind scans every type (vmlinux's too,
	 * for each module) on every call.  NULL: the linear search. */
	struct types_index *index;
};

void types_init(struct types *T);
void types_fini(struct types *T);
/* Take ownership of raw BTF bytes (copied by libbpf). */
struct err *types_set_vmlinux(struct types *T, const void *data, size_t size, const char *source);
struct err *types_add_module(struct types *T, const char *name, const void *data, size_t size,
			     const char *source);
/* Take ownership of a BTF built in memory: vmlinux's, or a module's split
 * on vmlinux. */
struct err *types_set_vmlinux_btf(struct types *T, struct btf *b, const char *source);
struct err *types_add_module_btf(struct types *T, const char *name, struct btf *b,
				 const char *source);
/* BTF from an ELF file's .BTF section (vmlinux or a .ko, split on vmlinux). */
struct err *types_load_elf_btf(const char *path, void **data, size_t *size);
bool types_have_module(const struct types *T, const char *name);
/* Forget a module's type info (the recovery fuzzer starts over each run). */
void types_drop_module(struct types *T, const char *name);

/* Search the named module first (NULL: none), then every module, then vmlinux. */
struct type_ref types_struct(const struct types *T, const char *module, const char *name);
uint64_t types_size(struct type_ref t);
bool types_member(struct type_ref t, const char *path, struct member *out);
bool types_is_pointer(struct type_ref t);
bool types_is_struct(struct type_ref t);
/* Element type and count of an array type. */
bool types_array(struct type_ref t, struct type_ref *elem, uint32_t *count);

/* Extract an integer member (any width, bitfields included) from a buffer
 * holding the outer object; 0 if it lies outside BUFLEN. */
uint64_t member_get(const void *buf, size_t buflen, const struct member *m);
static inline uint64_t member_off(const struct member *m) { return m->bit_off / 8; }

#endif
