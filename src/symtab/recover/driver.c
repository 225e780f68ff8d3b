/* The driver: the recovered layout, the rule sets run in order, what is
 * missing, and the entry points of symtab/recover.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

/* ---- the recovered layout ----------------------------------------------- */

struct recover_item *rec_find(struct rec *r, const char *path)
{
	for (size_t i = 0; i < r->R->nitems; i++)
		if (!strcmp(r->R->items[i].path, path))
			return &r->R->items[i];
	return NULL;
}

void rec_conflict(struct rec *r, const char *path)
{
	size_t l = strlen(r->R->conflicts);
	snprintf(r->R->conflicts + l, sizeof(r->R->conflicts) - l, "%s%s (functions disagree)",
		 l ? ", " : "", path);
}

/* Record PATH at OFF (bit BIT, BITS wide; 0 0 for whole members) as FROM
 * shows; a second function that disagrees voids the member. */
void rec_put(struct rec *r, const char *path, int64_t off, uint32_t bit, uint32_t bits,
	     uint32_t size, enum rec_kind kind, const char *from)
{
	if (off < 0 || off > (1 << 20))
		return;
	struct recover_item *it = rec_find(r, path);
	if (it) {
		if (it->off != (uint64_t)off || it->bit != bit || it->bits != bits) {
			if (!it->conflict)
				rec_conflict(r, path);
			it->conflict = true;
			return;
		}
		if (!strstr(it->from, from)) {
			size_t l = strlen(it->from);
			snprintf(it->from + l, sizeof(it->from) - l, ", %s", from);
		}
		return;
	}
	if (r->R->nitems >= RECOVER_MAX_ITEMS)
		return;
	it = &r->R->items[r->R->nitems];
	memset(it, 0, sizeof(*it));
	snprintf(it->path, sizeof(it->path), "%s", path);
	it->off = (uint64_t)off;
	it->bit = bit;
	it->bits = bits;
	it->size = size;
	snprintf(it->from, sizeof(it->from), "%s", from);
	it->kind = kind;
	it->is_size = kind == K_SIZE;
	r->R->nitems++;
}

bool rec_get(struct rec *r, const char *path, uint64_t *off)
{
	struct recover_item *it = rec_find(r, path);
	if (!it || it->conflict)
		return false;
	*off = it->off;
	return true;
}

/* ---- driver -------------------------------------------------------------- */

bool rec_symbol(const struct rec *r, const char *module, const char *name, uint64_t *addr)
{
	const struct symtab *t = r->in->symtab(r->in->ctx, module);
	return t && symtab_lookup(t, name, addr);
}

/* The rule sets on kvm.ko's code, run in this order; a new file of rules
 * adds its set here. */
static const struct rec_ruleset *const kvm_sets[] = {
	&rec_kvm_rules,
	&rec_shadow_rules,	/* after: uses arch.mmu, root.hpa, link, role.word, spt */
};

static bool rec_open(struct rec *r)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &r->cs) != CS_ERR_OK) {
		snprintf(r->R->result, sizeof(r->R->result), "Capstone cannot disassemble x86-64");
		return false;
	}
	cs_option(r->cs, CS_OPT_DETAIL, CS_OPT_ON);
	return true;
}

static void rec_run(struct rec *r, const struct rec_ruleset *set)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct rec_rule *rs = &set->rules[i];
		struct rfn f;
		long budget = REC_FN_BUDGET;
		if (!rec_fn(r, rs->module, rs->fn, &f))
			continue;
		f.budget = &budget;
		rs->rule(r, &f);
		rec_fn_free(&f);
	}
}

/* Members this kernel's code shows it does not have: without the dirty
 * ring's code (before 5.11) no ring; without the functions of the
 * invalidation range (5.10 counts invalidations, keeps no range) no
 * range; what make_spte shows (rule_make_spte_globals). */
static bool rec_absent(struct rec *r, const char *path)
{
	uint64_t a;
	if ((!strcmp(path, "kvm.dirty_ring_size") || !strncmp(path, "kvm_dirty_", 10) ||
	     !strcmp(path, "kvm_vcpu.dirty_ring")) && !rec_symbol(r, "kvm", "kvm_dirty_ring_push", &a))
		return true;
	if (!strncmp(path, "kvm.mmu_invalidate_", 19) &&
	    !rec_symbol(r, "kvm", "kvm_mmu_invalidate_begin", &a) &&
	    !rec_symbol(r, "kvm", "kvm_mmu_invalidate_range_add", &a))
		return true;
	if (!strcmp(path, "kvm.arch.disable_nx_huge_pages"))
		return r->no_disable_nx;
	if (!strcmp(path, "kvm_x86_ops.cpu_dirty_log_size"))
		return r->no_x86ops;
	return false;
}

static void rec_missing(struct rec *r, const struct rec_ruleset *set)
{
	struct recover_report *R = r->R;
	const char *const *w = set->wanted;
	for (size_t i = 0; i < set->nwanted; i++) {
		uint64_t off;
		const char *bar = strchr(w[i], '|');
		char first[64];
		snprintf(first, sizeof(first), "%.*s", bar ? (int)(bar - w[i]) : 63, w[i]);
		if (rec_get(r, first, &off) || (bar && rec_get(r, bar + 1, &off)) || rec_absent(r, first))
			continue;
		size_t l = strlen(R->missing);
		snprintf(R->missing + l, sizeof(R->missing) - l, "%s%s", l ? ", " : "", first);
	}
}

struct err *recover_vmlinux_types(const struct recover_input *in)
{
	struct recover_report *R = in->report;
	R->ran = R->vmlinux = true;
	R->inval_gfn = -1;
	struct rec r = { .in = in, .R = R };
	if (!rec_open(&r))
		return NULL;
	rec_run(&r, &rec_vmlinux_rules);
	cs_close(&r.cs);
	char why[200];
	if (!rec_validate_modules(&r, why, sizeof(why))) {
		snprintf(R->result, sizeof(R->result), "%s", why);
		return NULL;
	}
	struct err *e = rec_install_vmlinux(&r);
	if (e) {
		snprintf(R->result, sizeof(R->result), "%s", e->msg);
		err_free(e);
	}
	return NULL;
}

bool recover_code_clears(const struct recover_input *in, const char *module, const char *fn,
			 const char *mask)
{
	struct recover_report R = { 0 };
	struct rec r = { .in = in, .R = &R };
	struct rfn f;
	bool found = false;
	if (!rec_open(&r))
		return false;
	if (rec_fn(&r, module, fn, &f)) {
		for (size_t i = 0; i < f.n && !found; i++) {
			const char *s = rec_rip_name(&r, &f.in[i]);
			if (!s || strcmp(s, mask) || !is_op(&f.in[i], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM))
				continue;
			for (size_t k = i + 1; k < f.n && k < i + 4; k++)
				if (f.in[k].id == X86_INS_NOT && op_fam(&f.in[k], 0) == op_fam(&f.in[i], 0) &&
				    rec_def(&r, &f, k, op_fam(&f.in[i], 0)) == (long)i)
					found = true;
		}
		rec_fn_free(&f);
	}
	cs_close(&r.cs);
	return found;
}

struct err *recover_kvm_types(const struct recover_input *in)
{
	struct recover_report *R = in->report;
	if (!R->ran)
		R->inval_gfn = -1;
	R->ran = true;
	if (!in->types->vmlinux) {
		if (!*R->result)
			snprintf(R->result, sizeof(R->result), "needs vmlinux type info (for list_head, "
				 "xarray, page and the module list)");
		return NULL;
	}
	struct rec r = { .in = in, .R = R };
	if (!rec_open(&r))
		return NULL;
	bool era_known = false;
	for (size_t i = 0; i < sizeof(kvm_sets) / sizeof(kvm_sets[0]); i++)
		rec_run(&r, kvm_sets[i]);
	/* The per-VM MMIO value changes how empty SPTEs look: decide it from
	 * kvm_mmu_init_vm or not at all. */
	struct rfn f;
	long budget = REC_FN_BUDGET;
	if (rec_fn(&r, "kvm", "kvm_mmu_init_vm", &f)) {
		era_known = true;
		f.budget = &budget;
		rule_mmio_value(&r, &f);
		rec_fn_free(&f);
	}
	if (R->vmlinux)
		rec_run(&r, &rec_vmlinux_late_rules);
	cs_close(&r.cs);
	char why[200];
	if (!era_known) {
		snprintf(R->result, sizeof(R->result), "kvm_mmu_init_vm not found: cannot tell whether "
			 "VMs carry their own MMIO value (SPTE encoding)");
		return NULL;
	}
	struct err *e = NULL;
	/* vmlinux types now complete: reinstall them (no split BTF uses them yet) */
	if (R->vmlinux && (e = rec_install_vmlinux(&r))) {
		snprintf(R->result, sizeof(R->result), "%s", e->msg);
		err_free(e);
		return NULL;
	}
	bool fits = rec_validate(&r, why, sizeof(why));
	R->missing[0] = '\0';
	if (R->vmlinux)
		rec_missing(&r, &rec_vmlinux_late_rules);
	for (size_t i = 0; i < sizeof(kvm_sets) / sizeof(kvm_sets[0]); i++)
		rec_missing(&r, kvm_sets[i]);
	if (*R->conflicts) {
		size_t l = strlen(R->missing);
		snprintf(R->missing + l, sizeof(R->missing) - l, "%s%s", l ? ", " : "", R->conflicts);
	}
	if (!fits) {
		snprintf(R->result, sizeof(R->result), "%s%s",
			 strncmp(why, "the code", 8) ? "recovered offsets do not fit the data: " : "", why);
		return NULL;
	}
	if ((e = rec_install(&r))) {
		snprintf(R->result, sizeof(R->result), "%s", e->msg);
		err_free(e);
		return NULL;
	}
	R->used = true;
	return NULL;
}

void recover_each_function(void (*fn)(void *arg, const char *module, const char *name), void *arg)
{
	const struct rec_ruleset *sets[2 + sizeof(kvm_sets) / sizeof(kvm_sets[0])];
	size_t n = 0;
	sets[n++] = &rec_vmlinux_rules;
	for (size_t i = 0; i < sizeof(kvm_sets) / sizeof(kvm_sets[0]); i++)
		sets[n++] = kvm_sets[i];
	sets[n++] = &rec_vmlinux_late_rules;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sets[i]->n; k++)
			fn(arg, sets[i]->rules[k].module, sets[i]->rules[k].fn);
	fn(arg, "kvm", "kvm_mmu_init_vm");
}
