/* Test helper for tests/cli/pml_forced.py: writes OUT, an ELF file whose .BTF
 * section is kvm_intel-style split BTF on the dump's own vmlinux BTF with
 *   struct vcpu_vmx { struct (vcpu) vcpu; ...; struct page *pml_pg @ OFF; }
 * so `--module OUT` tells spte-inspect where a vCPU's PML page pointer is,
 * as a 6.1 Intel host's kvm_intel BTF would.  Prints the facts the test needs
 * to point that pointer at a page: vmemmap_base, sizeof(struct page), and
 * the address of kvm_x86_ops.
 * Usage: pml-btf DUMP OFF OUT */
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <linux/btf.h>

#include "symtab/target.h"

static int write_elf(const char *path, const void *btf, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_WRITE, NULL);
	Elf64_Ehdr *eh = e ? elf64_newehdr(e) : NULL;
	if (!eh) {
		close(fd);
		return -1;
	}
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_REL;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	static char names[] = "\0.BTF\0.shstrtab";
	Elf_Scn *s = elf_newscn(e);
	Elf_Data *d = elf_newdata(s);
	d->d_buf = (void *)btf;
	d->d_size = size;
	d->d_type = ELF_T_BYTE;
	d->d_align = 1;
	Elf64_Shdr *sh = elf64_getshdr(s);
	sh->sh_name = 1;
	sh->sh_type = SHT_PROGBITS;
	s = elf_newscn(e);
	d = elf_newdata(s);
	d->d_buf = names;
	d->d_size = sizeof(names);
	d->d_type = ELF_T_BYTE;
	d->d_align = 1;
	sh = elf64_getshdr(s);
	sh->sh_name = 6;
	sh->sh_type = SHT_STRTAB;
	eh->e_shstrndx = (Elf64_Half)elf_ndxscn(s);
	int rc = elf_update(e, ELF_C_WRITE) < 0 ? -1 : 0;
	elf_end(e);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: pml-btf DUMP OFF OUT\n");
		return 2;
	}
	struct target_opts o = { 0 };
	struct target *T;
	struct err *e = target_open(argv[1], &o, &T);
	if (e) {
		fprintf(stderr, "pml-btf: %s\n", e->msg);
		return 1;
	}
	uint64_t off = strtoull(argv[2], NULL, 0);
	struct btf *base = T->types.vmlinux;
	int page = btf__find_by_name_kind(base, "page", BTF_KIND_STRUCT);
	uint64_t a, vmemmap = 0, ops = 0;
	if (page < 0 || !target_symbol(T, "vmlinux", "vmemmap_base", &a) ||
	    dump_read_u64(T->dump, a, &vmemmap) || !target_symbol(T, "kvm", "kvm_x86_ops", &ops)) {
		fprintf(stderr, "pml-btf: no struct page, vmemmap_base or kvm_x86_ops\n");
		return 1;
	}
	struct btf *split = btf__new_empty_split(base);
	int page_ptr = btf__add_ptr(split, page);
	int vcpu = btf__add_struct(split, "pml_test_vcpu", 8); /* only a struct */
	int vmx = btf__add_struct(split, "vcpu_vmx", (uint32_t)off + 8);
	btf__add_field(split, "vcpu", vcpu, 0, 0);
	btf__add_field(split, "pml_pg", page_ptr, (uint32_t)off * 8, 0);
	uint32_t size;
	const void *raw = btf__raw_data(split, &size);
	if (vmx < 0 || !raw || write_elf(argv[3], raw, size)) {
		fprintf(stderr, "pml-btf: cannot write %s\n", argv[3]);
		return 1;
	}
	printf("0x%" PRIx64 " %" PRIu64 " 0x%" PRIx64 "\n", vmemmap,
	       (uint64_t)btf__resolve_size(base, page), ops);
	btf__free(split);
	target_close(T);
	return 0;
}
