#include "cmd/select.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"

static const char *const bit_names[BIT_COUNT] = { "P", "R", "W", "X", "XU", "A", "D", "PS", "HW",
						  "MW", "AT", "leaf" };

struct err *bit_filter_parse(const char *spec, struct bit_filter *f)
{
	char *copy = strdup(spec), *save = NULL;
	if (!copy)
		return err_new(ERR_NOMEM, "out of memory");
	struct err *e = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok && !e; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || (strcmp(eq + 1, "0") && strcmp(eq + 1, "1"))) {
			e = err_new(ERR_USAGE, "bit filter '%s': expected NAME=0 or NAME=1", tok);
			break;
		}
		*eq = '\0';
		int bit = -1;
		for (int i = 0; i < BIT_COUNT; i++)
			if (!strcasecmp(tok, bit_names[i]))
				bit = i;
		if (!strcasecmp(tok, "U"))
			bit = BIT_R; /* NPT's user bit is KVM's "readable" */
		if (bit < 0) {
			e = err_new(ERR_USAGE, "bit filter: unknown bit '%s' (P R/U W X XU A D PS HW MW AT leaf)",
				    tok);
			break;
		}
		f->care |= 1u << bit;
		if (eq[1] == '1')
			f->want |= 1u << bit;
		else
			f->want &= ~(1u << bit);
	}
	free(copy);
	/* A/W/D questions are about leaves; tables match only when asked for. */
	if (!e && f->care && !(f->care & (1u << BIT_LEAF))) {
		f->care |= 1u << BIT_LEAF;
		f->want |= 1u << BIT_LEAF;
	}
	return e;
}

bool bit_filter_match(const struct bit_filter *f, const struct spte_bits *b)
{
	if (!f->care)
		return true;
	uint32_t have = (uint32_t)b->hw_present << BIT_P | (uint32_t)b->readable << BIT_R |
			(uint32_t)b->writable << BIT_W | (uint32_t)b->executable << BIT_X |
			(uint32_t)b->user_executable << BIT_XU |
			(uint32_t)b->accessed << BIT_A | (uint32_t)b->dirty << BIT_D |
			(uint32_t)b->huge << BIT_PS | (uint32_t)b->host_writable << BIT_HW |
			(uint32_t)b->mmu_writable << BIT_MW | (uint32_t)b->access_tracked << BIT_AT |
			(uint32_t)b->leaf << BIT_LEAF;
	return ((have ^ f->want) & f->care) == 0;
}

bool select_vm(const struct select *sel, const struct kvm_vm *vm)
{
	if (sel->vm_kvm)
		return sel->vm_kvm == vm->addr;
	return sel->vm_pid < 0 || sel->vm_pid == vm->pid;
}

bool select_root(const struct select *sel, const struct kvm_root *r)
{
	return !sel->root || sel->root == kvm_root_id(r);
}

bool select_pfn(const struct select *sel, const struct spte_bits *b, int level)
{
	if (b->kind != SPTE_PRESENT || !b->leaf)
		return false;
	uint64_t last = b->pfn + walk_level_pages(level) - 1;
	return b->pfn <= sel->pfn_hi && last >= sel->pfn_lo;
}

int vm_nth(const struct kvm_host *H, const struct kvm_vm *vm)
{
	int n = 0;
	for (size_t i = 0; i < H->nvms && &H->vms[i] != vm; i++)
		n += H->vms[i].pid == vm->pid;
	return n;
}

static int parse_num(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

/* "PID:N (kvm 0x...), ..." for the error that lists what exists. */
static void list_vms(const struct kvm_host *H, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < H->nvms && at + 64 < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%d:%d (kvm 0x%" PRIx64 ")", i ? ", " : "",
				       H->vms[i].pid, vm_nth(H, &H->vms[i]), H->vms[i].addr);
	if (!H->nvms)
		snprintf(buf, len, "none");
	else if (at + 64 >= len)
		snprintf(buf + at, len - at, ", ...");
}

struct err *select_resolve(struct select *sel, const struct kvm_host *H)
{
	char have[1024];
	if (sel->vm_spec) {
		const char *spec = sel->vm_spec;
		char pid_s[32];
		const char *colon = strchr(spec, ':');
		uint64_t v, nth = 0;
		bool ok;
		if (colon) {
			snprintf(pid_s, sizeof(pid_s), "%.*s", (int)(colon - spec), spec);
			ok = (size_t)(colon - spec) < sizeof(pid_s) && !parse_num(pid_s, &v) &&
			     v <= 0x7fffffff && !parse_num(colon + 1, &nth);
		} else {
			ok = !parse_num(spec, &v);
		}
		if (!ok)
			return err_new(ERR_USAGE, "--vm: '%s' is not a pid, PID:N or a struct kvm address",
				       spec);
		const struct kvm_vm *hit = NULL;
		bool any = false;
		for (size_t i = 0; i < H->nvms; i++) {
			const struct kvm_vm *vm = &H->vms[i];
			if (colon ? vm->pid == (int)v && (uint64_t)vm_nth(H, vm) == nth
				  : v > 0x7fffffff ? vm->addr == v : vm->pid == (int)v) {
				hit = vm;
				any = true;
			}
		}
		if (!any) {
			list_vms(H, have, sizeof(have));
			return err_new(ERR_USAGE, "--vm: no VM is '%s'; the dump has %s", spec, have);
		}
		if (colon || v > 0x7fffffff)
			sel->vm_kvm = hit->addr;
		else
			sel->vm_pid = (int)v;
	}
	if (sel->root) {
		size_t at = 0;
		have[0] = '\0';
		for (size_t i = 0; i < H->nvms; i++) {
			const struct kvm_vm *vm = &H->vms[i];
			if (!select_vm(sel, vm))
				continue;
			for (size_t k = 0; k < vm->nroots; k++) {
				if (kvm_root_id(&vm->roots[k]) == sel->root)
					return NULL;
				if (at + 24 < sizeof(have))
					at += (size_t)snprintf(have + at, sizeof(have) - at, "%s0x%" PRIx64,
							       at ? ", " : "", kvm_root_id(&vm->roots[k]));
			}
		}
		return err_new(ERR_USAGE, "--root: no root 0x%" PRIx64 "%s; %s %s", sel->root,
			       sel->vm_spec ? " in the selected VM" : "",
			       at ? "the roots are" : "there are", at ? have : "no TDP MMU roots");
	}
	return NULL;
}
