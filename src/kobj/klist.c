#include "kobj/klist.h"

#include <stdlib.h>
#include <string.h>

/* An rb-tree of n nodes is at most 2*log2(n+1) deep; 128 covers any count
 * we accept, deeper means a corrupt tree. */
#define KLIST_RB_MAX_DEPTH 128
/* 64-bit indexes with 6 bits per xarray level. */
#define KLIST_XA_MAX_LEVELS 11

/* Never freed: klist_walk and klist_rbtree_inorder turn it into NULL. */
struct err klist_stop;

/* The ring at HEAD one way round: forward along next (each entry's prev
 * must point back), or backward along prev (each entry's next must point
 * on).  Both directions are one walk with the two links swapped. */
static struct err *klist_ring(struct target *T, uint64_t head, size_t max, bool backward,
			      klist_fn fn, void *arg)
{
	struct type_ref lh = types_struct(&T->types, NULL, "list_head");
	struct member next_m, prev_m;
	struct err *e;
	if ((e = target_need_member(lh, "list_head", "next", &next_m)) ||
	    (e = target_need_member(lh, "list_head", "prev", &prev_m)))
		return e;
	/* STEP: the link followed; BACK: the link that must lead to where we came from */
	uint64_t step = member_off(backward ? &prev_m : &next_m);
	uint64_t back_off = member_off(backward ? &next_m : &prev_m);
	const char *null_at = backward ? "prev pointer before" : "next pointer after";
	const char *no_back = backward ? "point on to" : "point back to";
	uint64_t pos, from = head;
	e = dump_read_u64(T->dump, head + step, &pos);
	if (e)
		return err_wrap(e, "list head 0x%llx", (unsigned long long)head);
	for (size_t n = 0; pos != head; n++) {
		if (n >= max)
			return err_new(ERR_CORRUPT, "list at 0x%llx has more than %zu entries (loop?)",
				       (unsigned long long)head, max);
		if (!pos)
			return err_new(ERR_CORRUPT, "list at 0x%llx: NULL %s 0x%llx",
				       (unsigned long long)head, null_at, (unsigned long long)from);
		/* The link back must match: catches pointers into garbage. */
		uint64_t back;
		if ((e = dump_read_u64(T->dump, pos + back_off, &back)))
			return err_wrap(e, "list entry 0x%llx", (unsigned long long)pos);
		/* A live list may be mid-update: read the link again (bounded)
		 * before calling it corrupt; one that never settles changed. */
		for (int tries = 1; back != from && dump_is_live(T->dump); tries++) {
			if (tries == DUMP_LIVE_TRIES) {
				T->live.objects_changed++;
				return err_new(ERR_CHANGED, "list at 0x%llx changed under us at entry 0x%llx "
					       "(%d reads)", (unsigned long long)head,
					       (unsigned long long)pos, DUMP_LIVE_TRIES);
			}
			if (tries == 1)
				T->live.reads_retried++;
			if ((e = dump_read_u64(T->dump, from + step, &pos)))
				return err_wrap(e, "list entry 0x%llx", (unsigned long long)from);
			if (pos == head)
				return NULL; /* the entry was the last one and went away */
			if (!pos || (e = dump_read_u64(T->dump, pos + back_off, &back))) {
				err_free(e);
				e = NULL;
				back = from + 1; /* not settled */
			}
		}
		if (back != from)
			return err_new(ERR_CORRUPT, "list at 0x%llx: entry 0x%llx does not %s 0x%llx",
				       (unsigned long long)head, (unsigned long long)pos, no_back,
				       (unsigned long long)from);
		if ((e = fn(arg, pos)))
			return e == KLIST_STOP ? NULL : e;
		from = pos;
		if ((e = dump_read_u64(T->dump, pos + step, &pos)))
			return err_wrap(e, "list entry 0x%llx", (unsigned long long)from);
	}
	return NULL;
}

struct err *klist_walk(struct target *T, uint64_t head, size_t max, klist_fn fn, void *arg)
{
	return klist_ring(T, head, max, false, fn, arg);
}

struct err *klist_walk_back(struct target *T, uint64_t head, size_t max, klist_fn fn, void *arg)
{
	return klist_ring(T, head, max, true, fn, arg);
}

/* Nodes already visited, open addressing (a node reached twice is a cycle:
 * a damaged child pointer, e.g. to itself, stops the walk at once). */
struct klist_seen;
static struct err *klist_rbtree_walk(struct target *T, uint64_t root, size_t max, klist_fn fn,
				     void *arg, struct klist_seen *seen);

struct klist_seen {
	uint64_t *slot;
	size_t cap, n;
};

static bool klist_seen_add(struct klist_seen *s, uint64_t node, struct err **e)
{
	if (2 * (s->n + 1) > s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 64;
		uint64_t *ns = calloc(ncap, sizeof(*ns));
		if (!ns) {
			*e = err_new(ERR_NOMEM, "out of memory");
			return false;
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slot[i])
				continue;
			size_t h = (size_t)(s->slot[i] * 0x9e3779b97f4a7c15ull) & (ncap - 1);
			while (ns[h])
				h = (h + 1) & (ncap - 1);
			ns[h] = s->slot[i];
		}
		free(s->slot);
		s->slot = ns;
		s->cap = ncap;
	}
	for (size_t h = (size_t)(node * 0x9e3779b97f4a7c15ull) & (s->cap - 1);; h = (h + 1) & (s->cap - 1)) {
		if (s->slot[h] == node)
			return false;
		if (!s->slot[h]) {
			s->slot[h] = node;
			s->n++;
			return true;
		}
	}
}

struct err *klist_rbtree_inorder(struct target *T, uint64_t root, size_t max, klist_fn fn,
				 void *arg)
{
	struct klist_seen seen = { 0 };
	struct err *e = klist_rbtree_walk(T, root, max, fn, arg, &seen);
	free(seen.slot);
	return e;
}

static struct err *klist_rbtree_walk(struct target *T, uint64_t root, size_t max, klist_fn fn,
				     void *arg, struct klist_seen *seen)
{
	struct type_ref rb = types_struct(&T->types, NULL, "rb_node");
	struct member left, right;
	struct err *e;
	if ((e = target_need_member(rb, "rb_node", "rb_left", &left)) ||
	    (e = target_need_member(rb, "rb_node", "rb_right", &right)))
		return e;
	uint64_t stack[KLIST_RB_MAX_DEPTH];
	size_t depth = 0, visited = 0;
	uint64_t node = root;
	while (node || depth) {
		while (node) {
			if (depth == KLIST_RB_MAX_DEPTH)
				return err_new(ERR_CORRUPT, "rb-tree at 0x%llx deeper than %d (loop?)",
					       (unsigned long long)root, KLIST_RB_MAX_DEPTH);
			stack[depth++] = node;
			if ((e = dump_read_u64(T->dump, node + member_off(&left), &node)))
				return err_wrap(e, "rb_node");
		}
		node = stack[--depth];
		if (!klist_seen_add(seen, node, &e))
			return e ? e : err_new(ERR_CORRUPT, "rb-tree at 0x%llx: node 0x%llx reached twice "
					       "(a cycle)", (unsigned long long)root, (unsigned long long)node);
		if (++visited > max)
			return err_new(ERR_CORRUPT, "rb-tree at 0x%llx has more than %zu nodes (loop?)",
				       (unsigned long long)root, max);
		if ((e = fn(arg, node)))
			return e == KLIST_STOP ? NULL : e;
		if ((e = dump_read_u64(T->dump, node + member_off(&right), &node)))
			return err_wrap(e, "rb_node");
	}
	return NULL;
}

static int klist_xa_is_node(uint64_t entry)
{
	return (entry & 3) == 2 && entry > 4096;
}

struct err *klist_xa_load(struct target *T, uint64_t head, uint64_t index, uint64_t *entry)
{
	struct type_ref xn = types_struct(&T->types, NULL, "xa_node");
	struct member shift, slots;
	struct err *e;
	if ((e = target_need_member(xn, "xa_node", "shift", &shift)) ||
	    (e = target_need_member(xn, "xa_node", "slots", &slots)))
		return e;
	uint64_t cur = head;
	for (int level = 0; klist_xa_is_node(cur); level++) {
		if (level >= KLIST_XA_MAX_LEVELS)
			return err_new(ERR_CORRUPT, "xarray at 0x%llx deeper than %d levels",
				       (unsigned long long)head, KLIST_XA_MAX_LEVELS);
		uint64_t node = cur & ~3ull;
		uint8_t sh;
		if ((e = dump_read_virt(T->dump, node + member_off(&shift), &sh, 1)))
			return err_wrap(e, "xa_node");
		if (sh >= 64 || sh % 6)
			return err_new(ERR_CORRUPT, "xa_node 0x%llx has shift %u", (unsigned long long)node, sh);
		uint64_t off = (index >> sh) & 63;
		if (sh + 6 < 64 && (index >> (sh + 6)) && level == 0) {
			*entry = 0; /* index beyond what the tree covers */
			return NULL;
		}
		if ((e = dump_read_u64(T->dump, node + member_off(&slots) + off * 8, &cur)))
			return err_wrap(e, "xa_node slot");
	}
	if (!klist_xa_is_node(head) && index != 0)
		cur = 0;
	/* Internal (non-node) and value entries are not pointers. */
	*entry = (cur & 3) ? 0 : cur;
	return NULL;
}
