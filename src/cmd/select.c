#include "cmd/select.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"

static const char *const bit_names[BIT_COUNT] = { "P", "R", "W", "X", "A", "D", "PS", "HW",
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
			e = err_new(ERR_USAGE, "bit filter: unknown bit '%s' (P R/U W X A D PS HW MW AT leaf)",
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
			(uint32_t)b->accessed << BIT_A | (uint32_t)b->dirty << BIT_D |
			(uint32_t)b->huge << BIT_PS | (uint32_t)b->host_writable << BIT_HW |
			(uint32_t)b->mmu_writable << BIT_MW | (uint32_t)b->access_tracked << BIT_AT |
			(uint32_t)b->leaf << BIT_LEAF;
	return ((have ^ f->want) & f->care) == 0;
}

bool select_vm(const struct select *sel, const struct kvm_vm *vm)
{
	return sel->vm_pid < 0 || sel->vm_pid == vm->pid;
}

bool select_root(const struct select *sel, const struct kvm_root *r)
{
	return !sel->root || sel->root == r->sp;
}
