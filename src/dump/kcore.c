/* The /proc/kcore backend.  A live target's physical reads go to /proc/kcore
 * itself with pread(2): libkdumpfile keeps the pages it read in a cache, which
 * would answer every re-read with the first read's bytes, and resizing that
 * cache mid-session breaks its address translation.  (libkdumpfile still
 * translates kernel-virtual addresses, from the page tables read here.) */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump_priv.h"

struct dump_kcore_seg {
	uint64_t pa, off, size;
};

/* kcore's PT_LOADs give each RAM range's physical address in p_paddr (-1
 * where there is none). */
struct err *kcore_segments(struct dump *d)
{
	Elf64_Ehdr eh;
	if (pread(d->fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
		return err_new(ERR_FORMAT, "%s: not an ELF core with program headers", d->path);
	Elf64_Phdr *ph = calloc(eh.e_phnum, sizeof(*ph));
	d->kcore = calloc(eh.e_phnum, sizeof(*d->kcore));
	if (!ph || !d->kcore) {
		free(ph);
		return err_new(ERR_NOMEM, "out of memory");
	}
	size_t want = (size_t)eh.e_phnum * sizeof(*ph);
	if (pread(d->fd, ph, want, (off_t)eh.e_phoff) != (ssize_t)want) {
		free(ph);
		return err_new(ERR_FORMAT, "%s: program headers cannot be read", d->path);
	}
	for (size_t i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_paddr != UINT64_MAX && ph[i].p_filesz)
			d->kcore[d->nkcore++] = (struct dump_kcore_seg){ ph[i].p_paddr, ph[i].p_offset,
									 ph[i].p_filesz };
	free(ph);
	return NULL;
}

struct err *kcore_read(struct dump *d, uint64_t pa, void *buf, size_t len)
{
	for (size_t i = 0; i < d->nkcore; i++) {
		const struct dump_kcore_seg *s = &d->kcore[i];
		if (pa < s->pa || pa - s->pa >= s->size || len > s->size - (pa - s->pa))
			continue;
		ssize_t n = pread(d->fd, buf, len, (off_t)(s->off + (pa - s->pa)));
		if (n == (ssize_t)len)
			return NULL;
		return err_new(ERR_READ, "physical address 0x%llx: %s", (unsigned long long)pa,
			       n < 0 ? strerror(errno) : "short read from /proc/kcore");
	}
	return err_new(ERR_READ, "physical address 0x%llx: not in a RAM range of %s",
		       (unsigned long long)pa, d->path);
}

#define DUMP_VMCOREINFO_MAX (1u << 20)

/* /proc/kcore carries VMCOREINFO as a note (since 4.19); without it,
 * /sys/kernel/vmcoreinfo says where the kernel keeps that note in physical
 * memory ("ADDRESS SIZE", hex), and it is read from there. */
struct err *kcore_sys_vmcoreinfo(struct dump *d, bool tell_libkdumpfile)
{
	FILE *f = fopen(DUMP_SYS_VMCOREINFO, "r");
	if (!f)
		return err_new(ERR_OS, "%s: %s", DUMP_SYS_VMCOREINFO, strerror(errno));
	unsigned long long pa, size;
	int n = fscanf(f, "%llx %llx", &pa, &size);
	fclose(f);
	if (n != 2 || size < 12 || size > DUMP_VMCOREINFO_MAX)
		return err_new(ERR_FORMAT, "%s: not \"ADDRESS SIZE\"", DUMP_SYS_VMCOREINFO);
	uint8_t *note = malloc(size + 1);
	if (!note)
		return err_new(ERR_NOMEM, "out of memory");
	struct err *e = dump_read_phys(d, pa, note, size);
	if (e) {
		free(note);
		return err_wrap(e, "%s: the note at physical 0x%llx", DUMP_SYS_VMCOREINFO, pa);
	}
	uint32_t namesz, descsz;
	memcpy(&namesz, note, 4);
	memcpy(&descsz, note + 4, 4);
	uint64_t desc = 12 + (((uint64_t)namesz + 3) & ~3ull);
	if (namesz != sizeof("VMCOREINFO") || memcmp(note + 12, "VMCOREINFO", namesz) ||
	    desc + descsz > size) {
		free(note);
		return err_new(ERR_FORMAT, "%s: physical 0x%llx holds no VMCOREINFO note",
			       DUMP_SYS_VMCOREINFO, pa);
	}
	char *text = strndup((char *)note + desc, descsz);
	free(note);
	if (!text)
		return err_new(ERR_NOMEM, "out of memory");
	if (tell_libkdumpfile) { /* its address translation needs it too */
		kdump_attr_t a = { .type = KDUMP_BLOB,
				   .val.blob = kdump_blob_new_dup(text, strlen(text)) };
		if (a.val.blob)
			kdump_set_attr(d->ctx, "linux.vmcoreinfo.raw", &a);
	}
	vmcoreinfo_fini(&d->vmcoreinfo);
	vmcoreinfo_parse(&d->vmcoreinfo, text);
	d->vmcoreinfo_source = DUMP_SYS_VMCOREINFO;
	return NULL;
}
