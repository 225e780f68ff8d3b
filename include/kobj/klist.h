/* Bounded, cycle-safe walks of the kernel's generic containers in dump
 * memory: list_head rings, rb-trees and xarrays. */
#ifndef KOBJ_KLIST_H
#define KOBJ_KLIST_H

#include <stdint.h>

#include "symtab/target.h"

/* Return NULL to go on, KLIST_STOP to end the walk early (the walk then
 * returns NULL), or an error to end it with that error. */
typedef struct err *(*klist_fn)(void *arg, uint64_t node);
extern struct err klist_stop;
#define KLIST_STOP (&klist_stop)

/* Call FN with the address of every list_head on the ring at HEAD (HEAD
 * itself excluded); more than MAX entries means a corrupt or looping list. */
struct err *klist_walk(struct target *T, uint64_t head, size_t max, klist_fn fn, void *arg);
/* The same ring from its tail, along the prev pointers (each entry's next
 * must point back): what a forward walk broken at an unreadable entry can
 * still reach.  FN returns KLIST_STOP at an entry already seen. */
struct err *klist_walk_back(struct target *T, uint64_t head, size_t max, klist_fn fn, void *arg);
/* In-order (ascending) walk of the rb-tree whose first node is ROOT. */
struct err *klist_rbtree_inorder(struct target *T, uint64_t root, size_t max, klist_fn fn,
				 void *arg);
/* The entry at INDEX of the xarray whose xa_head is HEAD (0 if none). */
struct err *klist_xa_load(struct target *T, uint64_t head, uint64_t index, uint64_t *entry);

#endif
