/* The browser: a stack of screens (VMs -> one VM -> guest-physical map ->
 * SPTE list -> SPTE detail, and help over any), each a draw function and a
 * key handler over shared state, redrawn whole after every key. */
#define _GNU_SOURCE
#include "browse/browse.h"

#include <curses.h>
#include <stdarg.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "browse/gpmap.h"
#include "mmu/walk.h"

enum ui_screen { SC_VMS, SC_VM, SC_MAP, SC_LIST, SC_DETAIL, SC_HELP };

enum list_filter { LF_ALL, LF_WRITABLE, LF_CLEAN, LF_FINDINGS, LF_NFILTERS };
static const char *const filter_names[] = { "all", "W=1", "D=0", "findings" };

struct ui {
	struct session *s;
	enum ui_screen stack[8];
	int depth;
	bool color, quit;
	int vm_sel, vm_top;
	int map_vm;		/* VM the map was built for, -1 none */
	struct gpmap map;
	uint64_t zoom, cur, top;	/* map: gfns per cell, cursor and first gfn shown */
	size_t *items;		/* SPTE list: indices into map.leaves */
	size_t nitems;
	int list_sel, list_top, sort;
	enum list_filter filter;
	size_t detail;		/* leaf shown in the detail screen */
	int detail_top;
	char msg[160];
};

static enum ui_screen top(const struct ui *u) { return u->stack[u->depth - 1]; }

static void push(struct ui *u, enum ui_screen s)
{
	if (u->depth < 8)
		u->stack[u->depth++] = s;
}

static const struct kvm_vm *cur_vm(const struct ui *u) { return &u->s->H.vms[u->vm_sel]; }

static void status(struct ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void status(struct ui *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof(u->msg), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ drawing aids */

static void header(const char *title)
{
	attron(A_BOLD);
	mvhline(0, 0, ' ', COLS);
	mvprintw(0, 0, "spte-inspect  %s", title);
	attroff(A_BOLD);
}

static void footer(struct ui *u, const char *pos)
{
	attron(A_REVERSE);
	mvhline(LINES - 1, 0, ' ', COLS);
	mvprintw(LINES - 1, 0, " %s%s%s", pos, u->msg[0] ? "  | " : "", u->msg);
	mvprintw(LINES - 1, COLS > 15 ? COLS - 15 : 0, " ?:help q:back ");
	attroff(A_REVERSE);
}

static size_t vm_findings(struct ui *u, int vm)
{
	if (u->map_vm != vm)
		return (size_t)-1;
	return u->map.nfindings;
}

/* Build the model of the selected VM the first time it is needed. */
static bool ensure_map(struct ui *u)
{
	if (u->map_vm == u->vm_sel)
		return true;
	gpmap_free(&u->map);
	mvprintw(LINES / 2, 2, "walking the TDP MMU roots of VM %d and running the checks ...",
		 cur_vm(u)->pid);
	refresh();
	struct err *e = gpmap_build(u->s, cur_vm(u), &u->map);
	if (e) {
		status(u, "%s", e->msg);
		err_free(e);
		return false;
	}
	u->map_vm = u->vm_sel;
	u->zoom = 1;
	while (u->zoom < (1ull << 30) && (u->map.hi - u->map.lo) / u->zoom > 2000)
		u->zoom *= 8;
	u->cur = u->top = u->map.lo - u->map.lo % u->zoom;
	return true;
}

/* ------------------------------------------------------------ VM list */

static void draw_vms(struct ui *u)
{
	header("VMs");
	mvprintw(2, 1, "%-8s %-16s %5s %8s %5s %8s", "PID", "COMMAND", "VCPUS", "MEMSLOTS", "ROOTS",
		 "FINDINGS");
	int rows = LINES - 4;
	if (u->vm_sel < u->vm_top)
		u->vm_top = u->vm_sel;
	if (u->vm_sel >= u->vm_top + rows)
		u->vm_top = u->vm_sel - rows + 1;
	for (int i = u->vm_top; i < (int)u->s->H.nvms && i < u->vm_top + rows; i++) {
		const struct kvm_vm *vm = &u->s->H.vms[i];
		size_t nf = vm_findings(u, i);
		char f[16];
		snprintf(f, sizeof(f), nf == (size_t)-1 ? "-" : "%zu", nf);
		if (i == u->vm_sel)
			attron(A_REVERSE);
		mvprintw(3 + i - u->vm_top, 1, "%-8d %-16s %5d %8zu %5zu %8s", vm->pid,
			 vm->comm[0] ? vm->comm : "?", vm->online_vcpus, vm->nslots, vm->nroots, f);
		attroff(A_REVERSE);
	}
	char pos[64];
	snprintf(pos, sizeof(pos), "VM %d/%zu", u->vm_sel + 1, u->s->H.nvms);
	footer(u, pos);
}

static void key_vms(struct ui *u, int k)
{
	int n = (int)u->s->H.nvms;
	switch (k) {
	case KEY_UP: case 'k': if (u->vm_sel > 0) u->vm_sel--; break;
	case KEY_DOWN: case 'j': if (u->vm_sel + 1 < n) u->vm_sel++; break;
	case KEY_HOME: case 'g': u->vm_sel = 0; break;
	case KEY_END: case 'G': u->vm_sel = n ? n - 1 : 0; break;
	case '\n': case KEY_ENTER: case KEY_RIGHT: case 'l':
		if (n)
			push(u, SC_VM);
		break;
	}
}

/* ------------------------------------------------------------ one VM */

static void draw_vm(struct ui *u)
{
	const struct kvm_vm *vm = cur_vm(u);
	char title[96];
	snprintf(title, sizeof(title), "VM pid %d (%s)  kvm 0x%" PRIx64, vm->pid,
		 vm->comm[0] ? vm->comm : "?", vm->addr);
	header(title);
	int y = 2;
	mvprintw(y++, 1, "Memslots:   %-2s %-4s %-10s %-8s %-15s %s", "AS", "SLOT", "BASE_GFN", "NPAGES",
		 "HVA", "FLAGS");
	for (size_t i = 0; i < vm->nslots && y < LINES - 8; i++) {
		const struct kvm_memslot *m = &vm->slots[i];
		mvprintw(y++, 13, "%-2d %-4d 0x%-8" PRIx64 " %-8" PRIu64 " 0x%-13" PRIx64 " %s%s%s",
			 m->as_id, m->id, m->base_gfn, m->npages, m->userspace_addr,
			 m->flags & KVM_MEM_LOG_DIRTY_PAGES ? "dirty-log " : "",
			 m->flags & KVM_MEM_READONLY ? "readonly " : "", m->dirty_bitmap ? "+bitmap" : "");
	}
	y++;
	mvprintw(y++, 1, "Roots:      %-18s %-10s %-3s %-4s %s", "KVM_MMU_PAGE", "ROLE", "LVL", "SMM",
		 "STATE");
	for (size_t i = 0; i < vm->nroots && y < LINES - 4; i++) {
		const struct kvm_root *r = &vm->roots[i];
		mvprintw(y++, 13, "0x%-16" PRIx64 " 0x%-8x %-3d %-4d %s%s", r->sp, r->role, r->level, r->smm,
			 r->invalid ? "invalid" : "valid", r->guest_mode ? " guest-mode" : "");
	}
	y++;
	mvprintw(y++, 1, "vCPUs:");
	for (size_t i = 0; i < vm->nvcpus && y < LINES - 2; i++) {
		const struct kvm_vcpu_info *c = &vm->vcpus[i];
		mvprintw(y++, 13, "vcpu %d  root.hpa 0x%" PRIx64 "  %s", c->idx, c->root_hpa,
			 vm_mode_name(c->mode));
	}
	footer(u, "Enter: guest-physical map");
}

static void key_vm(struct ui *u, int k)
{
	if (k == '\n' || k == KEY_ENTER || k == KEY_RIGHT || k == 'l' || k == 'm')
		if (ensure_map(u))
			push(u, SC_MAP);
}

/* ------------------------------------------------------------ map */

static int map_cols(void) { return COLS > 24 ? COLS - 20 : 4; }
static int map_rows(void) { return LINES > 9 ? LINES - 7 : 1; }

static bool in_slot(const struct kvm_vm *vm, uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < vm->nslots; i++)
		if (vm->slots[i].base_gfn <= hi && lo < vm->slots[i].base_gfn + vm->slots[i].npages)
			return true;
	return false;
}

static void put_cell(struct ui *u, int y, int x, enum gp_state st, bool slot, bool cursor)
{
	chtype ch = (chtype)(slot || st != GP_UNMAPPED ? gp_state_glyph(st) : ' ');
	if (u->color)
		ch |= COLOR_PAIR(st + 1);
	if (cursor)
		ch |= A_REVERSE;
	mvaddch(y, x, ch);
}

static void draw_map(struct ui *u)
{
	char title[96];
	snprintf(title, sizeof(title), "guest-physical map of VM %d  (a cell = %" PRIu64 " gfn%s)",
		 cur_vm(u)->pid, u->zoom, u->zoom > 1 ? "s" : "");
	header(title);
	int cols = map_cols(), rows = map_rows();
	uint64_t row_span = (uint64_t)cols * u->zoom;
	if (u->cur < u->top)
		u->top = u->cur - u->cur % row_span;
	while (u->cur >= u->top + (uint64_t)rows * row_span)
		u->top += row_span;
	for (int r = 0; r < rows; r++) {
		uint64_t g0 = u->top + (uint64_t)r * row_span;
		if (g0 > u->map.hi + row_span)
			break;
		mvprintw(2 + r, 0, "0x%012" PRIx64 " ", g0);
		for (int c = 0; c < cols; c++) {
			uint64_t lo = g0 + (uint64_t)c * u->zoom, hi = lo + u->zoom - 1;
			put_cell(u, 2 + r, 16 + c, gpmap_cell(&u->map, lo, hi), in_slot(cur_vm(u), lo, hi),
				 lo == u->cur);
		}
	}
	/* legend */
	int y = LINES - 4, x = 1;
	for (int st = 0; st < GP_NSTATES; st++) {
		char item[64];
		snprintf(item, sizeof(item), " %s ", gp_state_name((enum gp_state)st));
		if (x + (int)strlen(item) + 2 >= COLS) {
			y++;
			x = 1;
			if (y >= LINES - 1)
				break;
		}
		put_cell(u, y, x, (enum gp_state)st, true, false);
		mvprintw(y, x + 1, "%s", item);
		x += (int)strlen(item) + 2;
	}
	char pos[128];
	enum gp_state st = gpmap_cell(&u->map, u->cur, u->cur + u->zoom - 1);
	snprintf(pos, sizeof(pos), "gfn 0x%" PRIx64 " (%s)  %zu leaves, %zu findings", u->cur,
		 gp_state_name(st), u->map.n, u->map.nfindings);
	footer(u, pos);
}

static void list_build(struct ui *u, uint64_t lo, uint64_t hi);

static void map_goto(struct ui *u, uint64_t gfn)
{
	u->cur = gfn - gfn % u->zoom;
}

/* Next (DIR 1) or previous (-1) finding from the cursor. */
static void map_next_finding(struct ui *u, int dir)
{
	uint64_t best = UINT64_MAX;
	bool found = false;
	for (size_t i = 0; i < u->map.nfindings; i++) {
		uint64_t g = u->map.findings[i].gfn;
		if (g == UINT64_MAX)
			continue;
		bool after = dir > 0 ? g >= u->cur + u->zoom : g < u->cur;
		if (after && (!found || (dir > 0 ? g < best : g > best))) {
			best = g;
			found = true;
		}
	}
	if (found)
		map_goto(u, best);
	else
		status(u, "no %s finding", dir > 0 ? "next" : "previous");
}

/* A one-line input on the status line: Enter accepts, Esc cancels. */
static bool prompt(const char *q, char *buf, int len)
{
	int n = 0;
	buf[0] = '\0';
	curs_set(1);
	for (;;) {
		attron(A_REVERSE);
		mvhline(LINES - 1, 0, ' ', COLS);
		mvprintw(LINES - 1, 0, "%s%s", q, buf);
		attroff(A_REVERSE);
		refresh();
		int k = getch();
		if (k == '\n' || k == KEY_ENTER)
			break;
		if (k == 27 || k == ERR) { /* Esc, or the terminal went away */
			n = 0;
			break;
		}
		if ((k == KEY_BACKSPACE || k == 127 || k == 8) && n > 0)
			buf[--n] = '\0';
		else if (k >= 0x20 && k < 0x7f && n < len - 1) {
			buf[n++] = (char)k;
			buf[n] = '\0';
		}
	}
	curs_set(0);
	buf[n] = '\0';
	return n > 0;
}

/* "/": gfn, gpa:, hva: or pfn: */
static void jump(struct ui *u)
{
	char buf[64];
	if (!prompt("jump to (gfn, gpa:ADDR, hva:ADDR, pfn:N): ", buf, sizeof(buf)))
		return;
	const struct kvm_vm *vm = cur_vm(u);
	char *arg = buf, *end;
	uint64_t gfn = UINT64_MAX;
	if (!strncmp(buf, "gpa:", 4)) {
		gfn = strtoull(buf + 4, &end, 0) >> 12;
		arg = buf + 4;
	} else if (!strncmp(buf, "hva:", 4)) {
		uint64_t hva = strtoull(buf + 4, &end, 0);
		for (size_t i = 0; i < vm->nslots; i++)
			if (hva >= vm->slots[i].userspace_addr &&
			    (hva - vm->slots[i].userspace_addr) / 4096 < vm->slots[i].npages)
				gfn = vm->slots[i].base_gfn + (hva - vm->slots[i].userspace_addr) / 4096;
		arg = NULL;
	} else if (!strncmp(buf, "pfn:", 4)) {
		uint64_t pfn = strtoull(buf + 4, &end, 0);
		for (size_t i = 0; i < u->map.n && gfn == UINT64_MAX; i++) {
			struct spte_bits b;
			spte_decode(&u->s->H.masks, u->map.leaves[i].spte, u->map.leaves[i].level, &b);
			uint64_t n = walk_level_pages(u->map.leaves[i].level);
			if (b.kind == SPTE_PRESENT && pfn >= b.pfn && pfn - b.pfn < n)
				gfn = u->map.leaves[i].gfn + (pfn - b.pfn);
		}
		arg = NULL;
	} else {
		gfn = strtoull(buf, &end, 0);
	}
	if (arg && (*end || end == arg))
		gfn = UINT64_MAX;
	if (gfn == UINT64_MAX) {
		status(u, "'%s': not found", buf);
		return;
	}
	if (top(u) != SC_MAP) {
		if (!ensure_map(u))
			return;
		while (u->depth > 1 && top(u) != SC_VM)
			u->depth--;
		if (top(u) == SC_VMS)
			push(u, SC_VM);
		push(u, SC_MAP);
	}
	/* zoom in to one gfn so that Enter opens exactly this frame */
	u->zoom = 1;
	map_goto(u, gfn);
	status(u, "gfn 0x%" PRIx64, gfn);
}

static void key_map(struct ui *u, int k)
{
	uint64_t cols = (uint64_t)map_cols(), page = cols * (uint64_t)map_rows() * u->zoom;
	switch (k) {
	case KEY_LEFT: case 'h': if (u->cur >= u->zoom) u->cur -= u->zoom; break;
	case KEY_RIGHT: case 'l': u->cur += u->zoom; break;
	case KEY_UP: case 'k': if (u->cur >= cols * u->zoom) u->cur -= cols * u->zoom; break;
	case KEY_DOWN: case 'j': u->cur += cols * u->zoom; break;
	case KEY_PPAGE: u->cur = u->cur > page ? u->cur - page : 0; break;
	case KEY_NPAGE: u->cur += page; break;
	case KEY_HOME: case 'g': map_goto(u, u->map.lo); break;
	case KEY_END: case 'G': map_goto(u, u->map.hi); break;
	case '+': if (u->zoom > 1) { u->zoom /= 8; if (!u->zoom) u->zoom = 1; } map_goto(u, u->cur); break;
	case '-': if (u->zoom < (1ull << 30)) u->zoom *= 8; map_goto(u, u->cur); break;
	case 'n': map_next_finding(u, 1); break;
	case 'N': map_next_finding(u, -1); break;
	case '\n': case KEY_ENTER:
		list_build(u, u->cur, u->cur + u->zoom - 1);
		if (u->nitems == 1) {
			u->detail = u->items[0];
			u->detail_top = 0;
			push(u, SC_DETAIL);
		} else {
			push(u, SC_LIST);
		}
		break;
	}
}

/* ------------------------------------------------------------ SPTE list */

static bool list_keep(struct ui *u, const struct gp_leaf *l)
{
	struct spte_bits b;
	spte_decode(&u->s->H.masks, l->spte, l->level, &b);
	switch (u->filter) {
	case LF_WRITABLE: return b.writable;
	case LF_CLEAN: return b.kind == SPTE_PRESENT && !b.dirty;
	case LF_FINDINGS: return l->state == GP_FINDING;
	default: return true;
	}
}

static struct ui *sort_ui;
static int list_cmp(const void *a, const void *b)
{
	const struct gp_leaf *x = &sort_ui->map.leaves[*(const size_t *)a];
	const struct gp_leaf *y = &sort_ui->map.leaves[*(const size_t *)b];
	int d = 0;
	if (sort_ui->sort == 1)
		d = (int)y->level - (int)x->level;
	else if (sort_ui->sort == 2)
		d = (int)y->state - (int)x->state;
	if (!d)
		d = x->gfn < y->gfn ? -1 : x->gfn > y->gfn;
	return d;
}

static uint64_t list_lo, list_hi;

static void list_build(struct ui *u, uint64_t lo, uint64_t hi)
{
	list_lo = lo;
	list_hi = hi;
	free(u->items);
	u->items = NULL;
	u->nitems = 0;
	size_t cap = 0;
	size_t i = gpmap_lower_bound(&u->map, lo > (1ull << 18) ? lo - (1ull << 18) : 0);
	for (; i < u->map.n && u->map.leaves[i].gfn <= hi; i++) {
		const struct gp_leaf *l = &u->map.leaves[i];
		if (l->gfn + walk_level_pages(l->level) - 1 < lo || !list_keep(u, l))
			continue;
		if (u->nitems == cap) {
			cap = cap ? cap * 2 : 256;
			size_t *p = realloc(u->items, cap * sizeof(*p));
			if (!p)
				break;
			u->items = p;
		}
		u->items[u->nitems++] = i;
	}
	sort_ui = u;
	qsort(u->items, u->nitems, sizeof(*u->items), list_cmp);
	u->list_sel = u->list_top = 0;
}

static void draw_list(struct ui *u)
{
	char title[128];
	snprintf(title, sizeof(title), "SPTEs of gfns 0x%" PRIx64 "-0x%" PRIx64 "  filter %s, sort %s",
		 list_lo, list_hi, filter_names[u->filter],
		 u->sort == 0 ? "gfn" : u->sort == 1 ? "level" : "state");
	header(title);
	mvprintw(2, 1, "%-14s %3s %-18s %-10s %s", "GFN", "LVL", "SPTE", "PFN", "FLAGS / STATE");
	int rows = LINES - 4;
	if (u->list_sel < u->list_top)
		u->list_top = u->list_sel;
	if (u->list_sel >= u->list_top + rows)
		u->list_top = u->list_sel - rows + 1;
	for (int i = u->list_top; i < (int)u->nitems && i < u->list_top + rows; i++) {
		const struct gp_leaf *l = &u->map.leaves[u->items[i]];
		struct spte_bits b;
		char flags[96];
		spte_decode(&u->s->H.masks, l->spte, l->level, &b);
		spte_flags_str(&b, u->s->H.masks.ept, flags, sizeof(flags));
		if (i == u->list_sel)
			attron(A_REVERSE);
		mvprintw(3 + i - u->list_top, 1, "0x%-12" PRIx64 " %3d 0x%016" PRIx64 " 0x%-8" PRIx64 " %s  %c %s",
			 l->gfn, l->level, l->spte, b.kind == SPTE_MMIO ? b.mmio_gfn : b.pfn, flags,
			 gp_state_glyph((enum gp_state)l->state), gp_state_name((enum gp_state)l->state));
		attroff(A_REVERSE);
	}
	if (!u->nitems)
		mvprintw(4, 1, "no SPTE in this range%s", u->filter ? " with this filter (f)" : "");
	char pos[96];
	snprintf(pos, sizeof(pos), "%d/%zu  f:filter s:sort", u->nitems ? u->list_sel + 1 : 0, u->nitems);
	footer(u, pos);
}

static void key_list(struct ui *u, int k)
{
	int n = (int)u->nitems, page = LINES - 4;
	switch (k) {
	case KEY_UP: case 'k': if (u->list_sel > 0) u->list_sel--; break;
	case KEY_DOWN: case 'j': if (u->list_sel + 1 < n) u->list_sel++; break;
	case KEY_PPAGE: u->list_sel = u->list_sel > page ? u->list_sel - page : 0; break;
	case KEY_NPAGE: u->list_sel = u->list_sel + page < n ? u->list_sel + page : (n ? n - 1 : 0); break;
	case KEY_HOME: case 'g': u->list_sel = 0; break;
	case KEY_END: case 'G': u->list_sel = n ? n - 1 : 0; break;
	case 'f':
		u->filter = (enum list_filter)((u->filter + 1) % LF_NFILTERS);
		list_build(u, list_lo, list_hi);
		break;
	case 's':
		u->sort = (u->sort + 1) % 3;
		list_build(u, list_lo, list_hi);
		break;
	case 'n': case 'N':
		for (int i = 1; i <= n; i++) {
			int j = ((u->list_sel + (k == 'n' ? i : -i)) % n + n) % n;
			if (u->map.leaves[u->items[j]].state == GP_FINDING) {
				u->list_sel = j;
				break;
			}
		}
		break;
	case '\n': case KEY_ENTER: case KEY_RIGHT: case 'l':
		if (n) {
			u->detail = u->items[u->list_sel];
			u->detail_top = 0;
			push(u, SC_DETAIL);
		}
		break;
	}
}

/* ------------------------------------------------------------ SPTE detail */

/* Lines of the detail view, built into a buffer so that it scrolls. */
struct lines {
	char text[160][160];
	int n;
};

static void addl(struct lines *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addl(struct lines *L, const char *fmt, ...)
{
	if (L->n >= 160)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(L->text[L->n++], sizeof(L->text[0]), fmt, ap);
	va_end(ap);
}

static void addwrapped(struct lines *L, const char *indent, const char *t)
{
	int w = COLS - (int)strlen(indent) - 2;
	if (w < 20)
		w = 20;
	while (*t) {
		int n = (int)strlen(t);
		if (n > w) {
			n = w;
			while (n > 0 && t[n] != ' ')
				n--;
			if (!n)
				n = w;
		}
		addl(L, "%s%.*s", indent, n, t);
		t += n;
		while (*t == ' ')
			t++;
	}
}

static void draw_detail(struct ui *u)
{
	static struct lines L;
	L.n = 0;
	const struct gp_leaf *l = &u->map.leaves[u->detail];
	const struct kvm_vm *vm = cur_vm(u);
	const struct kvm_root *r = &vm->roots[l->root];
	const struct spte_masks *m = &u->s->H.masks;
	struct spte_bits b;
	spte_decode(m, l->spte, l->level, &b);
	char title[96];
	snprintf(title, sizeof(title), "SPTE of gfn 0x%" PRIx64 " (VM %d)", l->gfn, vm->pid);
	header(title);
	addl(&L, "raw        0x%016" PRIx64 "   level %d (%s)   %s", l->spte, l->level,
	     l->level == 1 ? "4K" : l->level == 2 ? "2M" : "1G", spte_kind_name(b.kind));
	if (b.kind == SPTE_MMIO) {
		addl(&L, "MMIO       gfn 0x%" PRIx64 "  generation %u  access 0x%x", b.mmio_gfn, b.mmio_gen,
		     b.mmio_access);
	} else {
		addl(&L, "pfn        0x%" PRIx64 "   host physical 0x%" PRIx64, b.pfn, b.pfn << 12);
		addl(&L, "present %d  %s %d  writable %d  executable %d  accessed %d  dirty %d  huge %d",
		     b.hw_present, m->ept ? "readable" : "user", b.readable, b.writable, b.executable,
		     b.accessed, b.dirty, b.huge);
		addl(&L, "host-writable %d  MMU-writable %d  access-tracked %d  A/D type %s",
		     b.host_writable, b.mmu_writable, b.access_tracked, spte_ad_type_name(b.ad_type));
		if (m->ept)
			addl(&L, "memtype %d  ipat %d", b.memtype, b.ipat);
	}
	addl(&L, "state      %c %s", gp_state_glyph((enum gp_state)l->state),
	     gp_state_name((enum gp_state)l->state));
	addl(&L, "%s", "");
	addl(&L, "root 0x%" PRIx64 " (role 0x%x%s), walk:", r->sp, r->role, r->invalid ? ", invalid" : "");
	uint64_t pa = r->spt_pa;
	for (int lv = r->level; lv >= l->level; lv--) {
		int idx = (int)((l->gfn >> (9 * (lv - 1))) & 511);
		uint64_t e = 0;
		struct err *err = dump_read_phys(u->s->T->dump, pa + (uint64_t)idx * 8, &e, 8);
		if (err) {
			addl(&L, "  L%d  table 0x%" PRIx64 ": %s", lv, pa, err->msg);
			err_free(err);
			break;
		}
		struct spte_bits eb;
		char f[96];
		spte_decode(m, e, lv, &eb);
		spte_flags_str(&eb, m->ept, f, sizeof(f));
		addl(&L, "  L%d  [0x%" PRIx64 " + %3d*8]  0x%016" PRIx64 "  %s", lv, pa, idx, e, f);
		pa = e & m->address;
	}
	addl(&L, "%s", "");
	const struct kvm_memslot *s = kvm_vm_slot_for(vm, r->smm, l->gfn);
	if (s) {
		uint64_t rel = l->gfn - s->base_gfn;
		addl(&L, "memslot %d (as %d)  flags 0x%x%s%s  hva 0x%" PRIx64, s->id, s->as_id, s->flags,
		     s->flags & KVM_MEM_LOG_DIRTY_PAGES ? " dirty-log" : "",
		     s->flags & KVM_MEM_READONLY ? " readonly" : "", s->userspace_addr + rel * 4096);
		if (s->dirty_bitmap) {
			uint64_t w = 0;
			bool ok = dump_peek(u->s->T->dump, s->dirty_bitmap + rel / 64 * 8, &w, 8);
			addl(&L, "dirty bitmap: word %" PRIu64 " at 0x%" PRIx64 " = %s0x%016" PRIx64 ", bit %" PRIu64
			     " %s", rel / 64, s->dirty_bitmap + rel / 64 * 8, ok ? "" : "(unreadable) ", w,
			     rel % 64, w >> (rel % 64) & 1 ? "SET (recorded dirty)" : "clear");
		} else {
			addl(&L, "dirty bitmap: none%s", vm->dirty_ring_size ? " (dirty ring)" : "");
		}
	} else {
		addl(&L, "no memslot covers this gfn");
	}
	addl(&L, "%s", "");
	int nf = 0;
	for (size_t i = 0; i < u->map.nfindings; i++) {
		const struct gp_finding *f = &u->map.findings[i];
		if (f->gfn != l->gfn)
			continue;
		nf++;
		addl(&L, "FINDING %s (%s%s): %s", f->check->name, f->inconclusive ? "inconclusive " : "",
		     severity_name(f->severity), f->check->title);
		addwrapped(&L, "  ", f->message);
		addwrapped(&L, "  evidence: ", f->evidence);
		addwrapped(&L, "  ", f->check->doc);
	}
	if (!nf)
		addl(&L, "no finding for this gfn: every check passed here");
	int rows = LINES - 3;
	if (u->detail_top > L.n - rows)
		u->detail_top = L.n - rows > 0 ? L.n - rows : 0;
	for (int i = 0; i < rows && u->detail_top + i < L.n; i++)
		mvprintw(2 + i, 1, "%.*s", COLS - 2, L.text[u->detail_top + i]);
	footer(u, "up/down: scroll");
}

static void key_detail(struct ui *u, int k)
{
	switch (k) {
	case KEY_UP: case 'k': if (u->detail_top > 0) u->detail_top--; break;
	case KEY_DOWN: case 'j': u->detail_top++; break;
	case KEY_PPAGE: u->detail_top = u->detail_top > 10 ? u->detail_top - 10 : 0; break;
	case KEY_NPAGE: u->detail_top += 10; break;
	}
}

/* ------------------------------------------------------------ help */

static void draw_help(struct ui *u)
{
	static const char *const keys[] = {
		"Enter, right, l   open: VM -> map -> SPTE list -> SPTE detail",
		"Esc, q, left      back (q on the VM list quits)",
		"arrows, hjkl      move",
		"PgUp, PgDn        page",
		"Home, End, g, G   first, last",
		"+, -              map: zoom in, out (a cell = 1 gfn ... many MiB)",
		"/                 jump to a gfn, gpa:ADDR, hva:ADDR or pfn:N",
		"n, N              next, previous finding",
		"f                 SPTE list: filter (all, W=1, D=0, findings)",
		"s                 SPTE list: sort (gfn, level, state)",
		"?                 this help",
		"",
		"Map cells (glyph, also without colour):",
	};
	header("help");
	int y = 2;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && y < LINES - 1; i++)
		mvprintw(y++, 2, "%s", keys[i]);
	for (int st = 0; st < GP_NSTATES && y < LINES - 1; st++) {
		put_cell(u, y, 4, (enum gp_state)st, true, false);
		mvprintw(y++, 6, "%s", gp_state_name((enum gp_state)st));
	}
	footer(u, "any key: back");
}

/* ------------------------------------------------------------ main loop */

static void draw(struct ui *u)
{
	erase();
	if (LINES < 10 || COLS < 40) {
		mvprintw(0, 0, "terminal too small (%dx%d)", COLS, LINES);
		refresh();
		return;
	}
	switch (top(u)) {
	case SC_VMS: draw_vms(u); break;
	case SC_VM: draw_vm(u); break;
	case SC_MAP: draw_map(u); break;
	case SC_LIST: draw_list(u); break;
	case SC_DETAIL: draw_detail(u); break;
	case SC_HELP: draw_help(u); break;
	}
	refresh();
}

static void key(struct ui *u, int k)
{
	u->msg[0] = '\0';
	if (top(u) == SC_HELP) {
		u->depth--;
		return;
	}
	if (k == '?') {
		push(u, SC_HELP);
		return;
	}
	if (k == 27 || k == 'q' || ((k == KEY_LEFT || k == 'h') && top(u) != SC_MAP)) {
		if (u->depth > 1)
			u->depth--;
		else if (k != KEY_LEFT && k != 'h')
			u->quit = true;
		return;
	}
	if (k == '/' && u->s->H.nvms) {
		jump(u);
		return;
	}
	switch (top(u)) {
	case SC_VMS: key_vms(u, k); break;
	case SC_VM: key_vm(u, k); break;
	case SC_MAP: key_map(u, k); break;
	case SC_LIST: key_list(u, k); break;
	case SC_DETAIL: key_detail(u, k); break;
	case SC_HELP: break;
	}
}

struct err *cmd_browse(struct session *s, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return err_new(ERR_USAGE, "browse takes no arguments");
	if (s->json)
		return err_new(ERR_USAGE, "browse is interactive: no --json");
	if (!isatty(0) || !isatty(1))
		return err_new(ERR_USAGE, "browse needs a terminal");
	struct ui *u = calloc(1, sizeof(*u));
	if (!u)
		return err_new(ERR_NOMEM, "out of memory");
	u->s = s;
	u->map_vm = -1;
	u->stack[u->depth++] = SC_VMS;
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	u->color = has_colors() && !getenv("NO_COLOR");
	if (u->color) {
		static const short fg[GP_NSTATES] = { COLOR_WHITE, COLOR_BLUE, COLOR_CYAN, COLOR_GREEN,
						      COLOR_RED, COLOR_YELLOW, COLOR_MAGENTA, COLOR_WHITE,
						      COLOR_RED };
		start_color();
		use_default_colors();
		for (int i = 0; i < GP_NSTATES; i++)
			init_pair((short)(i + 1), fg[i], i == GP_FINDING ? COLOR_YELLOW : -1);
	}
	if (!s->H.nvms)
		status(u, "no VMs in this dump");
	while (!u->quit) {
		draw(u);
		int k = getch();
		if (k == ERR) /* no timeout is set: the terminal is gone */
			break;
		if (k == KEY_RESIZE)
			continue;
		key(u, k);
	}
	endwin();
	gpmap_free(&u->map);
	free(u->items);
	free(u);
	return NULL;
}
