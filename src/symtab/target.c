#define _GNU_SOURCE
#include "symtab/target.h"

#include <elf.h>
#include <gelf.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/array.h"
#include "symtab/kallsyms.h"
#include "target-stages.h"

#define TARGET_MAX_MODULES 8192
#define TARGET_MAX_MOD_SYMS (1u << 20)
#define TARGET_MAX_OBJ (16u << 20)
#define TARGET_MAX_BTF (256u << 20)
#define TARGET_PROC_KALLSYMS "/proc/kallsyms"
#define TARGET_SYS_BTF "/sys/kernel/btf"

/* A whole sysfs file (its size is not known before it is read). */
static struct err *target_slurp(const char *path, void **data, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_new(errno == ENOENT ? ERR_NOTFOUND : ERR_OS, "%s: %s", path, strerror(errno));
	size_t cap = 1u << 20, n = 0;
	uint8_t *buf = malloc(cap);
	struct err *e = NULL;
	while (buf) {
		if (n == cap) {
			uint8_t *nb = cap < TARGET_MAX_BTF ? realloc(buf, cap *= 2) : NULL;
			if (!nb) {
				e = err_new(ERR_NOMEM, "%s: more than %zu bytes", path, n);
				break;
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			e = err_new(ERR_OS, "%s: %s", path, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!buf)
		return err_new(ERR_NOMEM, "out of memory");
	if (!e && n == 0)
		e = err_new(ERR_FORMAT, "%s: empty", path);
	if (e) {
		free(buf);
		return e;
	}
	*data = buf;
	*size = n;
	return NULL;
}

struct err *target_need_member(struct type_ref t, const char *tname, const char *path,
			       struct member *m)
{
	if (t.id <= 0)
		return err_new(ERR_LAYOUT, "type info has no struct %s", tname);
	if (!types_member(t, path, m))
		return err_new(ERR_LAYOUT, "struct %s has no member %s in this kernel's type info",
			       tname, path);
	return NULL;
}

struct err *target_read_obj(struct target *T, uint64_t va, size_t size, void **buf)
{
	if (size == 0 || size > TARGET_MAX_OBJ)
		return err_new(ERR_LAYOUT, "object size %zu at 0x%llx is not plausible", size,
			       (unsigned long long)va);
	*buf = malloc(size);
	if (!*buf)
		return err_new(ERR_NOMEM, "out of memory");
	struct err *e = dump_read_virt(T->dump, va, *buf, size);
	if (e) {
		free(*buf);
		*buf = NULL;
	}
	return e;
}

static bool target_keys_equal(const void *a, const void *b, size_t size,
			      const struct member *const *keys, size_t nkeys)
{
	for (size_t i = 0; i < nkeys; i++)
		if (member_get(a, size, keys[i]) != member_get(b, size, keys[i]))
			return false;
	return true;
}

struct err *target_read_obj_stable(struct target *T, uint64_t va, size_t size,
				   const struct member *const *keys, size_t nkeys, void **buf)
{
	struct err *e = target_read_obj(T, va, size, buf);
	if (e || !dump_is_live(T->dump))
		return e;
	struct live_stats *st = &T->live;
	void *again;
	for (int tries = 2;; tries++) {
		if ((e = target_read_obj(T, va, size, &again)))
			break;
		bool same = target_keys_equal(*buf, again, size, keys, nkeys);
		free(*buf);
		*buf = again;
		if (same)
			return NULL;
		if (tries == 2)
			st->reads_retried++;
		if (tries == DUMP_LIVE_TRIES) {
			st->reads_changed++;
			e = err_new(ERR_CHANGED, "object at 0x%llx (%zu bytes) changed under us on each of %d "
				    "reads", (unsigned long long)va, size, DUMP_LIVE_TRIES);
			break;
		}
	}
	free(*buf);
	*buf = NULL;
	return e;
}

const char *const target_kvm_modules[] = { "kvm", "kvm_intel", "kvm_amd", NULL };

bool target_is_kvm_module(const char *name)
{
	for (size_t i = 0; target_kvm_modules[i]; i++)
		if (!strcmp(name, target_kvm_modules[i]))
			return true;
	return false;
}

bool target_symbol(const struct target *T, const char *module, const char *name, uint64_t *addr)
{
	if (!module || !strcmp(module, "vmlinux"))
		if (symtab_lookup(&T->vmlinux_syms, name, addr))
			return true;
	for (size_t i = 0; i < T->nmods; i++)
		if ((!module || !strcmp(module, T->mods[i].syms.name)) &&
		    symtab_lookup(&T->mods[i].syms, name, addr))
			return true;
	return false;
}

static struct err *target_module_btf_read(struct target *T, const char *name, uint64_t btf);

struct err *target_complete(struct target *T)
{
	struct err *e = symtab_complete(&T->vmlinux_syms);
	for (size_t i = 0; !e && i < T->nmods; i++)
		e = symtab_complete(&T->mods[i].syms);
	if (e)
		return e;
	if (dump_is_live(T->dump) && !T->from_memory)
		target_load_sysfs_btf(T, true);
	for (size_t i = 0; i < T->nbtf_later && !e; i++)
		if (!types_have_module(&T->types, T->btf_later[i].name))
			e = target_module_btf_read(T, T->btf_later[i].name, T->btf_later[i].btf);
	free(T->btf_later);
	T->btf_later = NULL;
	T->nbtf_later = 0;
	return e;
}

const struct target_module *target_module(const struct target *T, const char *name)
{
	for (size_t i = 0; i < T->nmods; i++)
		if (!strcmp(T->mods[i].syms.name, name))
			return &T->mods[i];
	return NULL;
}

static bool module_holds(const struct target_module *tm, uint64_t addr)
{
	for (int r = 0; r < tm->nranges; r++)
		if (addr >= tm->lo[r] && addr < tm->hi[r])
			return true;
	return false;
}

const char *target_symbolize(const struct target *T, uint64_t addr, uint64_t *off,
			     const char **module)
{
	const char *best = NULL;
	uint64_t best_off = UINT64_MAX, o;
	*module = NULL;
	const char *s = symtab_symbolize(&T->vmlinux_syms, addr, &o);
	if (s && o < best_off) {
		best = s;
		best_off = o;
	}
	/* the module holding ADDR; an address in the modules' area that no
	 * module holds (freed init memory), or modules of unknown extent: all */
	bool any = false, known = false;
	uint64_t lowest = UINT64_MAX;
	for (size_t i = 0; i < T->nmods; i++) {
		any |= module_holds(&T->mods[i], addr);
		for (int r = 0; r < T->mods[i].nranges; r++) {
			known = true;
			lowest = T->mods[i].lo[r] < lowest ? T->mods[i].lo[r] : lowest;
		}
	}
	bool all = !known || (!any && addr >= lowest);
	for (size_t i = 0; i < T->nmods; i++) {
		if (!all && !module_holds(&T->mods[i], addr))
			continue;
		s = symtab_symbolize(&T->mods[i].syms, addr, &o);
		if (s && o < best_off) {
			best = s;
			best_off = o;
			*module = T->mods[i].syms.name;
		}
	}
	*off = best_off;
	return best;
}

struct err *target_load_vmlinux_btf(struct target *T, const struct target_opts *o)
{
	struct err *e;
	if (o->vmlinux) {
		void *data;
		size_t size;
		if ((e = types_load_elf_btf(o->vmlinux, &data, &size)))
			return e;
		e = types_set_vmlinux(&T->types, data, size, o->vmlinux);
		free(data);
		return e;
	}
	if (dump_is_live(T->dump) && !T->from_memory) {
		void *data;
		size_t size;
		struct err *fe = target_slurp(TARGET_SYS_BTF "/vmlinux", &data, &size);
		if (!fe) {
			fe = types_set_vmlinux(&T->types, data, size, TARGET_SYS_BTF "/vmlinux");
			free(data);
		}
		if (!fe)
			return NULL;
		err_free(fe); /* the kernel's memory holds the same blob */
	}
	uint64_t start, stop;
	if (!target_symbol(T, "vmlinux", "__start_BTF", &start) ||
	    !target_symbol(T, "vmlinux", "__stop_BTF", &stop))
		return err_new(ERR_NOTFOUND, "no vmlinux BTF in the dump (kernel without "
			       "CONFIG_DEBUG_INFO_BTF); give --vmlinux");
	if (stop <= start || stop - start > (256u << 20))
		return err_new(ERR_CORRUPT, "__start_BTF..__stop_BTF (0x%llx..0x%llx) is not a BTF blob",
			       (unsigned long long)start, (unsigned long long)stop);
	/* megabytes written once and dropped (libbpf keeps its own copy):
	 * populated in one call rather than a page fault a page, which in a
	 * VM costs microseconds each (~5 ms of opening a 6 MiB BTF) */
	size_t size = stop - start;
	void *data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
			  -1, 0);
	if (data == MAP_FAILED)
		return err_new(ERR_NOMEM, "vmlinux BTF: no memory for %zu bytes", size);
	if ((e = dump_read_virt(T->dump, start, data, size)))
		e = err_wrap(e, "vmlinux BTF");
	else
		e = types_set_vmlinux(&T->types, data, size, "dump (__start_BTF)");
	munmap(data, size);
	return e;
}

struct module_layout {
	struct type_ref module, kallsyms, btf_module, btf;
	struct member list, name, kallsyms_ptr, symtab, num_symtab, strtab, typetab;
	struct member bm_list, bm_module, bm_btf, btf_data, btf_data_size;
	uint64_t module_size, kallsyms_size;
	/* each module's memory: NMEM (base, size) pairs, STRIDE apart from
	 * MEM_OFF (mem[] of struct module_memory), or core_layout's one */
	struct member mem_base, mem_size;
	uint64_t mem_off, mem_stride;
	int nmem;
};

static struct err *module_layout(struct target *T, struct module_layout *L)
{
	struct err *e;
	L->module = types_struct(&T->types, NULL, "module");
	L->kallsyms = types_struct(&T->types, NULL, "mod_kallsyms");
	L->module_size = types_size(L->module);
	L->kallsyms_size = types_size(L->kallsyms);
	if ((e = target_need_member(L->module, "module", "list", &L->list)) ||
	    (e = target_need_member(L->module, "module", "name", &L->name)) ||
	    (e = target_need_member(L->module, "module", "kallsyms", &L->kallsyms_ptr)) ||
	    (e = target_need_member(L->kallsyms, "mod_kallsyms", "symtab", &L->symtab)) ||
	    (e = target_need_member(L->kallsyms, "mod_kallsyms", "num_symtab", &L->num_symtab)) ||
	    (e = target_need_member(L->kallsyms, "mod_kallsyms", "strtab", &L->strtab)))
		return e;
	if (!types_member(L->kallsyms, "typetab", &L->typetab))
		L->typetab.size = 0;
	L->nmem = 0;
	struct member mem;
	struct type_ref mm = types_struct(&T->types, NULL, "module_memory");
	uint64_t stride = types_size(mm);
	if (types_member(L->module, "mem", &mem) && stride && types_member(mm, "base", &L->mem_base) &&
	    types_member(mm, "size", &L->mem_size)) {
		L->mem_off = member_off(&mem);
		L->mem_stride = stride;
		uint64_t n = mem.size / stride;
		L->nmem = n < TARGET_MOD_RANGES ? (int)n : TARGET_MOD_RANGES;
	} else if (types_member(L->module, "core_layout.base", &L->mem_base) &&
		   types_member(L->module, "core_layout.size", &L->mem_size)) {
		L->mem_off = L->mem_stride = 0;
		L->nmem = 1;
	}
	return NULL;
}

/* Where module MOD (its struct module's bytes) has memory. */
static void module_ranges(const struct module_layout *L, const uint8_t *mod, struct target_module *tm)
{
	tm->nranges = 0;
	for (int i = 0; i < L->nmem; i++) {
		struct member b = L->mem_base, z = L->mem_size;
		b.bit_off += (L->mem_off + (uint64_t)i * L->mem_stride) * 8;
		z.bit_off += (L->mem_off + (uint64_t)i * L->mem_stride) * 8;
		uint64_t base = member_get(mod, L->module_size, &b), size = member_get(mod, L->module_size, &z);
		if (base && size && base + size > base) {
			tm->lo[tm->nranges] = base;
			tm->hi[tm->nranges++] = base + size;
		}
	}
}

/* One module's symbols from its own kallsyms copy (st_value is final). */
static struct err *target_module_syms(struct target *T, const struct module_layout *L,
				      uint64_t kallsyms, struct symtab *out)
{
	uint8_t ks[64];
	uint64_t kssize = L->kallsyms_size; /* L's plain values only: a copy outlives its types */
	if (kssize > sizeof(ks))
		return err_new(ERR_LAYOUT, "struct mod_kallsyms is %llu bytes", (unsigned long long)kssize);
	struct err *e = dump_read_virt(T->dump, kallsyms, ks, kssize);
	if (e)
		return e;
	uint64_t symtab = member_get(ks, kssize, &L->symtab);
	uint64_t n = member_get(ks, kssize, &L->num_symtab);
	uint64_t strtab = member_get(ks, kssize, &L->strtab);
	uint64_t typetab = L->typetab.size ? member_get(ks, kssize, &L->typetab) : 0;
	if (n > TARGET_MAX_MOD_SYMS)
		return err_new(ERR_CORRUPT, "%llu symbols is not a module's symbol count",
			       (unsigned long long)n);
	if (n == 0)
		return symtab_finish(out);
	Elf64_Sym *syms = NULL;
	char *types = NULL, *strs = NULL;
	if ((e = target_read_obj(T, symtab, n * sizeof(Elf64_Sym), (void **)&syms)))
		goto out;
	if (typetab && (e = target_read_obj(T, typetab, n, (void **)&types))) {
		err_free(e);
		e = NULL;
		types = NULL;
	}
	uint64_t strsize = 0;
	for (uint64_t i = 0; i < n; i++)
		if (syms[i].st_name > strsize)
			strsize = syms[i].st_name;
	strsize += 512; /* the last name */
	if (strsize > TARGET_MAX_OBJ) {
		e = err_new(ERR_CORRUPT, "module string table of %llu bytes", (unsigned long long)strsize);
		goto out;
	}
	strs = malloc(strsize + 1);
	if (!strs) {
		e = err_new(ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The string table may end just before an unreadable page: shrink. */
	while ((e = dump_read_virt(T->dump, strtab, strs, strsize))) {
		if (strsize <= 512 || e->kind != ERR_READ) {
			e = err_wrap(e, "module strtab");
			goto out;
		}
		err_free(e);
		strsize -= 256;
	}
	strs[strsize] = '\0';
	for (uint64_t i = 0; i < n && !e; i++) {
		if (!syms[i].st_name || syms[i].st_name >= strsize)
			continue;
		const char *name = strs + syms[i].st_name;
		size_t len = strnlen(name, strsize - syms[i].st_name);
		if (!len)
			continue;
		e = symtab_add(out, name, len, syms[i].st_value, types ? types[i] : '?');
	}
	if (!e)
		e = symtab_finish(out);
out:
	free(syms);
	free(types);
	free(strs);
	return e;
}

/* A module's symbols, read on the first lookup (symtab_source); the layout
 * is a copy, of which target_module_syms reads offsets and sizes only. */
struct modsyms_src {
	struct target *T;
	struct module_layout L;
	uint64_t kallsyms;
};

static struct err *modsyms_fill(void *src, struct symtab *t)
{
	struct modsyms_src *m = src;
	return target_module_syms(m->T, &m->L, m->kallsyms, t);
}

static void modsyms_free(void *src)
{
	free(src);
}

static const struct symtab_source modsyms_ops = { NULL, modsyms_fill, modsyms_free };

struct err *target_load_modules(struct target *T)
{
	struct module_layout L;
	struct err *e = module_layout(T, &L);
	if (e)
		return err_wrap(e, "module list");
	uint64_t head;
	if (!target_symbol(T, "vmlinux", "modules", &head))
		return err_new(ERR_NOTFOUND, "symbol 'modules' not found");
	uint64_t pos;
	if ((e = dump_read_u64(T->dump, head, &pos)))
		return err_wrap(e, "modules list head");
	uint8_t *mod = NULL;
	size_t n = 0;
	while (pos != head) {
		if (++n > TARGET_MAX_MODULES) {
			e = err_new(ERR_CORRUPT, "module list at 0x%llx does not end (loop?)",
				    (unsigned long long)head);
			break;
		}
		uint64_t addr = pos - member_off(&L.list);
		if ((e = target_read_obj(T, addr, L.module_size, (void **)&mod))) {
			e = err_wrap(e, "struct module at 0x%llx", (unsigned long long)addr);
			break;
		}
		char name[64] = "";
		uint64_t noff = member_off(&L.name);
		if (noff + L.name.size <= L.module_size)
			snprintf(name, sizeof(name), "%.*s", (int)(L.name.size < 63 ? L.name.size : 63),
				 (const char *)mod + noff);
		uint64_t kallsyms = member_get(mod, L.module_size, &L.kallsyms_ptr);
		memcpy(&pos, mod + member_off(&L.list), sizeof(pos));
		void *p = array_room(T->mods, T->nmods, sizeof(*T->mods));
		if (!p) {
			e = err_new(ERR_NOMEM, "out of memory");
			break;
		}
		T->mods = p;
		struct target_module *tm = &T->mods[T->nmods];
		tm->addr = addr;
		module_ranges(&L, mod, tm);
		free(mod);
		mod = NULL;
		if ((e = symtab_init(&tm->syms, name)))
			break;
		T->nmods++;
		bool from_proc = false;
		for (size_t i = 0; i < T->nproc_mods && !from_proc; i++)
			if (!strcmp(T->proc_mods[i].name, name)) {
				symtab_fini(&tm->syms);
				tm->syms = T->proc_mods[i];
				T->proc_mods[i] = T->proc_mods[--T->nproc_mods];
				from_proc = true;
			}
		if (from_proc)
			continue;
		if (kallsyms && !target_is_kvm_module(name)) {
			struct modsyms_src *m = malloc(sizeof(*m));
			if (!m) {
				e = err_new(ERR_NOMEM, "out of memory");
				break;
			}
			*m = (struct modsyms_src){ T, L, kallsyms };
			symtab_set_source(&tm->syms, &modsyms_ops, m, 0);
			continue;
		}
		if (kallsyms && (e = target_module_syms(T, &L, kallsyms, &tm->syms))) {
			e = err_wrap(e, "module %s symbols", name);
			break;
		}
		if (!kallsyms && (e = symtab_finish(&tm->syms)))
			break;
	}
	free(mod);
	return e;
}

/* Why kvm has no BTF, for `info`; other modules' losses do not matter. */
static void target_note_btf(struct target *T, const char *module, const char *why)
{
	if (!strcmp(module, "kvm") || !strcmp(module, "all modules"))
		snprintf(T->module_btf_problems, sizeof(T->module_btf_problems), "%s", why);
}

/* Module BTF from the kernel's own parsed copies on btf_modules. */
struct err *target_load_module_btf(struct target *T)
{
	struct type_ref bm = types_struct(&T->types, NULL, "btf_module");
	struct type_ref mt = types_struct(&T->types, NULL, "module");
	struct member list, module, btf, name;
	struct err *e;
	if (!bm.id) { /* vmlinux type info recovered from code, or no module BTF support */
		target_note_btf(T, "all modules", "no struct btf_module in vmlinux type info");
		return NULL;
	}
	if ((e = target_need_member(bm, "btf_module", "list", &list)) ||
	    (e = target_need_member(bm, "btf_module", "module", &module)) ||
	    (e = target_need_member(bm, "btf_module", "btf", &btf)) ||
	    (e = target_need_member(mt, "module", "name", &name)))
		return err_wrap(e, "module BTF");
	uint64_t head, pos;
	if (!target_symbol(T, "vmlinux", "btf_modules", &head)) {
		target_note_btf(T, "all modules", "no btf_modules (kernel without "
				"CONFIG_DEBUG_INFO_BTF_MODULES)");
		return NULL;
	}
	if ((e = dump_read_u64(T->dump, head, &pos)))
		return err_wrap(e, "btf_modules");
	size_t n = 0;
	uint64_t bmsize = types_size(bm);
	while (pos != head && !e) {
		if (++n > TARGET_MAX_MODULES)
			return err_new(ERR_CORRUPT, "btf_modules list does not end (loop?)");
		uint8_t *b = NULL;
		uint64_t addr = pos - member_off(&list);
		if ((e = target_read_obj(T, addr, bmsize, (void **)&b)))
			break;
		memcpy(&pos, b + member_off(&list), sizeof(pos)); /* list.next */
		uint64_t maddr = member_get(b, bmsize, &module);
		uint64_t baddr = member_get(b, bmsize, &btf);
		free(b);
		char mname[64] = "";
		/* the name from the module list when it holds the module (no read) */
		for (size_t i = 0; i < T->nmods && !*mname; i++)
			if (T->mods[i].addr == maddr)
				snprintf(mname, sizeof(mname), "%s", T->mods[i].syms.name);
		if ((!*mname && !dump_peek(T->dump, maddr + member_off(&name), mname, sizeof(mname) - 1)) ||
		    !*mname || types_have_module(&T->types, mname))
			continue;
		if (target_is_kvm_module(mname)) {
			e = target_module_btf_read(T, mname, baddr);
			continue;
		}
		void *p = array_room(T->btf_later, T->nbtf_later, sizeof(*T->btf_later));
		if (!p)
			return err_new(ERR_NOMEM, "out of memory");
		T->btf_later = p;
		struct target_btf_later *l = &T->btf_later[T->nbtf_later++];
		snprintf(l->name, sizeof(l->name), "%s", mname);
		l->btf = baddr;
	}
	return e;
}

/* Module NAME's BTF from its struct btf at BTF.  One module's BTF lost or
 * damaged: that module has none (noted); only memory failing is an error. */
static struct err *target_module_btf_read(struct target *T, const char *name, uint64_t btf)
{
	struct type_ref bt = types_struct(&T->types, NULL, "btf");
	struct member data, data_size;
	struct err *e;
	if ((e = target_need_member(bt, "btf", "data", &data)) ||
	    (e = target_need_member(bt, "btf", "data_size", &data_size)))
		return err_wrap(e, "module BTF");
	uint64_t btsize = types_size(bt);
	uint8_t *bo = NULL;
	void *blob = NULL; /* target_read_obj refuses implausible sizes before setting it */
	if (!(e = target_read_obj(T, btf, btsize, (void **)&bo))) {
		uint64_t d = member_get(bo, btsize, &data), size = member_get(bo, btsize, &data_size);
		free(bo);
		if (!(e = target_read_obj(T, d, size, &blob)))
			e = types_add_module(&T->types, name, blob, size, "dump (btf_modules)");
		free(blob);
	}
	if (e && e->kind != ERR_NOMEM) {
		target_note_btf(T, name, e->msg);
		err_free(e);
		e = NULL;
	}
	return e;
}

/* A live kernel's module BTF as sysfs shows it; what is missing or does not
 * load is left to btf_modules in memory. */
void target_load_sysfs_btf(struct target *T, bool all)
{
	for (size_t i = 0; i < T->nmods; i++) {
		const char *name = T->mods[i].syms.name;
		char path[128];
		if (!*name || strchr(name, '/') || types_have_module(&T->types, name) ||
		    (!all && !target_is_kvm_module(name)))
			continue;
		snprintf(path, sizeof(path), TARGET_SYS_BTF "/%s", name);
		void *data;
		size_t size;
		struct err *e = target_slurp(path, &data, &size);
		if (!e) {
			e = types_add_module(&T->types, name, data, size, path);
			free(data);
		}
		err_free(e);
	}
}

/* A module file's vermagic ("6.1.0-56-amd64 SMP preempt ...") from .modinfo,
 * "" if it has none; an error only if PATH is not an ELF file. */
static struct err *target_module_vermagic(const char *path, char *out, size_t len)
{
	*out = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return err_new(ERR_OS, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_new(ERR_FORMAT, "%s: not a regular file (a kernel module .ko is)", path);
	}
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	size_t shstrndx;
	struct err *e = NULL;
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx)) {
		e = err_new(ERR_FORMAT, "%s: not an ELF file, so not a kernel module", path);
		goto out;
	}
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".modinfo") || !(d = elf_rawdata(scn, NULL)) || !d->d_buf)
			continue;
		/* NUL-separated "key=value" strings */
		for (const char *p = d->d_buf, *end = p + d->d_size; p < end; p += strnlen(p, end - p) + 1)
			if ((size_t)(end - p) > 9 && !strncmp(p, "vermagic=", 9)) {
				snprintf(out, len, "%.*s", (int)strnlen(p + 9, end - p - 9), p + 9);
				break;
			}
		break;
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return e;
}

struct err *target_load_module_files(struct target *T, const struct target_opts *o)
{
	for (size_t i = 0; i < o->nmodule_files; i++) {
		char *copy = strdup(o->module_files[i]), name[64];
		if (!copy)
			return err_new(ERR_NOMEM, "out of memory");
		snprintf(name, sizeof(name), "%s", basename(copy));
		free(copy);
		char *dot = strstr(name, ".ko");
		if (dot)
			*dot = '\0';
		for (char *c = name; *c; c++)
			if (*c == '-')
				*c = '_';
		/* a module of another kernel has another BTF: its offsets would lie */
		char vermagic[256];
		struct err *e = target_module_vermagic(o->module_files[i], vermagic, sizeof(vermagic));
		size_t rlen = strlen(T->release);
		if (!e && *vermagic && *T->release &&
		    (strncmp(vermagic, T->release, rlen) || (vermagic[rlen] && vermagic[rlen] != ' ')))
			e = err_new(ERR_USAGE, "%s: a module of kernel %.*s, but the dump is of %s",
				    o->module_files[i], (int)strcspn(vermagic, " "), vermagic, T->release);
		if (e)
			return e;
		void *data = NULL; /* set only on success */
		size_t size;
		e = types_load_elf_btf(o->module_files[i], &data, &size);
		if (!e)
			e = types_add_module(&T->types, name, data, size, o->module_files[i]);
		free(data);
		if (e)
			return e;
	}
	return NULL;
}

struct err *target_begin(const char *path, const struct target_opts *o, struct target **out)
{
	struct target *T = calloc(1, sizeof(*T));
	if (!T)
		return err_new(ERR_NOMEM, "out of memory");
	types_init(&T->types);
	T->from_memory = o->from_memory;
	struct err *e = dump_open_jobs(path, o->jobs, &T->dump);
	if (!e && o->jobs > 1)
		e = dump_readahead_start(T->dump, o->jobs - 1);
	if (e)
		goto fail;
	snprintf(T->release, sizeof(T->release), "%s", dump_vmcoreinfo(T->dump, "OSRELEASE"));
	if (o->sysmap) {
		e = sysmap_load(T->dump, o->sysmap, &T->vmlinux_syms);
		T->syms_source = strdup(o->sysmap);
	} else if (dump_is_live(T->dump) && !o->from_memory &&
		   !(e = kallsyms_load_proc(T->dump, TARGET_PROC_KALLSYMS, &T->vmlinux_syms,
					    &T->proc_mods, &T->nproc_mods))) {
		T->syms_source = strdup(TARGET_PROC_KALLSYMS);
	} else {
		char why[200] = "";
		if (e) /* live, and /proc/kallsyms would not do: say why */
			snprintf(why, sizeof(why), "; %s", e->msg);
		err_free(e);
		char how[96] = "";
		e = kallsyms_load(T->dump, &T->vmlinux_syms, how, sizeof(how));
		if (asprintf(&T->syms_source, "dump (kallsyms: %s)%s", how, why) < 0)
			T->syms_source = NULL;
	}
	if (e)
		goto fail;
	*out = T;
	return NULL;
fail:
	target_close(T);
	return e;
}

struct err *target_finish(struct target *T)
{
	uint64_t a;
	struct err *e = NULL;
	if (!target_symbol(T, "vmlinux", "page_offset_base", &a) ||
	    (e = dump_read_u64(T->dump, a, &T->page_offset_base)))
		return e ? err_wrap(e, "page_offset_base")
			 : err_new(ERR_NOTFOUND, "symbol page_offset_base not found");
	/* Without CONFIG_DYNAMIC_PHYSICAL_MASK the kernel's mask is 52 bits. */
	T->physical_mask = (1ull << 52) - 1;
	if (target_symbol(T, "vmlinux", "physical_mask", &a) &&
	    (e = dump_read_u64(T->dump, a, &T->physical_mask)))
		return e;
	return NULL;
}

void target_close(struct target *T)
{
	if (!T)
		return;
	for (size_t i = 0; i < T->nmods; i++)
		symtab_fini(&T->mods[i].syms);
	free(T->mods);
	for (size_t i = 0; i < T->nproc_mods; i++)
		symtab_fini(&T->proc_mods[i]);
	free(T->proc_mods);
	symtab_fini(&T->vmlinux_syms);
	free(T->syms_source);
	free(T->btf_later);
	types_fini(&T->types);
	dump_close(T->dump);
	free(T);
}
