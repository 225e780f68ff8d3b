#include "fuzz_common.h"

#include "check/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t scratch[FUZZ_MAX_PAGES][PAGE_SIZE];

void fuzz_env_open(struct fuzz_env *f, int load_kvm)
{
	const char *path = getenv("SPTE_FUZZ_DUMP");
	memset(f, 0, sizeof(*f));
	if (!path) {
		fprintf(stderr, "fuzz: set SPTE_FUZZ_DUMP to a fixture dump\n");
		abort();
	}
	struct target_opts o = { 0 };
	struct err *e = target_open(path, &o, &f->T);
	if (!e && load_kvm)
		e = kvm_host_load(f->T, &f->H);
	if (e) {
		fprintf(stderr, "fuzz: %s\n", e->msg);
		abort();
	}
}

void fuzz_env_add_phys(struct fuzz_env *f, uint64_t pa)
{
	pa &= ~(uint64_t)(PAGE_SIZE - 1);
	for (size_t i = 0; i < f->npages; i++)
		if (f->pages[i] == pa)
			return;
	if (f->npages == FUZZ_MAX_PAGES)
		return;
	struct err *e = dump_read_phys(f->T->dump, pa, f->orig[f->npages], PAGE_SIZE);
	if (e) {
		err_free(e);
		return;
	}
	f->pages[f->npages++] = pa;
}

void fuzz_env_add_virt(struct fuzz_env *f, uint64_t va, size_t len)
{
	for (uint64_t p = va & ~(uint64_t)(PAGE_SIZE - 1); p < va + len; p += PAGE_SIZE) {
		uint64_t pa;
		struct err *e = dump_vtop(f->T->dump, p, &pa);
		if (e) {
			err_free(e);
			continue;
		}
		fuzz_env_add_phys(f, pa);
	}
}

void fuzz_env_apply(struct fuzz_env *f, const uint8_t *data, size_t size)
{
	if (!f->npages)
		return;
	uint8_t touched[FUZZ_MAX_PAGES] = { 0 };
	while (size >= 4) {
		size_t page = data[0] % f->npages;
		size_t off = (size_t)(data[1] | data[2] << 8) % PAGE_SIZE;
		size_t len = data[3];
		data += 4;
		size -= 4;
		if (len > size)
			len = size;
		if (off + len > PAGE_SIZE)
			len = PAGE_SIZE - off;
		if (!touched[page]) {
			memcpy(scratch[page], f->orig[page], PAGE_SIZE);
			touched[page] = 1;
		}
		memcpy(scratch[page] + off, data, len);
		data += len;
		size -= len;
	}
	for (size_t i = 0; i < f->npages; i++)
		if (touched[i]) {
			struct err *e = dump_overlay_page(f->T->dump, f->pages[i], scratch[i]);
			if (e)
				err_free(e);
		}
}

void fuzz_env_reset(struct fuzz_env *f)
{
	dump_overlay_clear(f->T->dump);
}

void fuzz_env_add_vm_list(struct fuzz_env *f)
{
	uint64_t head;
	if (target_symbol(f->T, "kvm", "vm_list", &head))
		fuzz_env_add_virt(f, head, 16);
}

static void drop_finding(void *arg, const struct finding *fd)
{
	(void)arg;
	(void)fd;
}

struct err *fuzz_check_host(struct fuzz_env *f, struct kvm_host *H)
{
	struct check_opts o;
	struct check_stats st;
	memset(&st, 0, sizeof(st));
	check_opts_default(&o);
	struct err *e = check_run(f->T, H, &o, drop_finding, NULL, &st);
	kvm_host_fini(H);
	return e;
}
