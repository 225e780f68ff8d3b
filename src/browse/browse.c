/* The browser: a stack of screens (VMs -> one VM -> guest-physical map ->
 * SPTE list -> SPTE detail, and help over any), each a draw function and a
 * key handler over shared state, redrawn whole after every key.  The checks
 * run once at start; a map is one streaming walk of one root; lists and
 * details are walked again on demand, so nothing grows with the SPTE count. */
#define _GNU_SOURCE
#include "browse/browse.h"

#include <curses.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "browse/gpmap.h"
#include "kobj/shadow.h"
#include "mmu/walk.h"

#define LIST_MAX 100000	/* SPTEs listed for one range; the rest is said */
#define STACK_MAX 8

enum ui_screen { SC_VMS, SC_VM, SC_MAP, SC_LIST, SC_DETAIL, SC_HELP };

enum list_filter {
	LF_ALL, LF_W, LF_D0, LF_W_D0, LF_FINDINGS, LF_4K, LF_2M, LF_1G, LF_NFILTERS
};
static const char *const filter_names[] = { "all", "W=1", "D=0", "W=1,D=0", "findings",
					    "4K", "2M", "1G" };
enum list_sort { LS_GFN, LS_LEVEL, LS_STATE, LS_NSORTS };
static const char *const sort_names[] = { "gfn", "level", "state" };

struct ui {
	struct session *s;
	enum ui_screen stack[STACK_MAX];
	int depth;
	bool color, quit;
	struct gp_findings F;
	int vm_sel, vm_top;
	int vm_scroll;		/* VM screen */
	struct gpmap map;	/* of (map_vm, map.root); map_vm -1: none */
	int map_vm;
	uint64_t zoom, cur, top;	/* gfns per cell, cursor cell, first gfn shown */
	uint64_t focus;		/* the gfn last jumped to: zooming in keeps it */
	struct gp_leaf *all;	/* SPTE list of the range, unfiltered */
	size_t nall;
	bool list_truncated;
	size_t *items;		/* filtered and sorted: indices into all */
	size_t nitems;
	int list_sel, list_top;
	uint64_t list_lo, list_hi;
	enum list_filter filter;
	enum list_sort sort;
	struct gp_leaf detail;
	int detail_top;
	struct check_host_page host;	/* the VMM's mapping of the detail's hva */
	char host_err[160];		/* why it is not known, "" if it is */
	char msg[160];
};

static enum ui_screen top(const struct ui *u) { return u->stack[u->depth - 1]; }

static void push(struct ui *u, enum ui_screen s)
{
	if (u->depth < STACK_MAX)
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

static const char *dirty_log_mode(const struct kvm_vm *vm)
{
	return vm->dirty_ring_size ? "ring" : vm->manual_dirty_log_protect ? "manual" : "bitmap";
}

static const char *level_size(int level)
{
	return level == 1 ? "4K" : level == 2 ? "2M" : level == 3 ? "1G" : level == 4 ? "512G" : "?";
}

/* ------------------------------------------------------------ drawing aids */

static void header(const char *title)
{
	attron(A_BOLD);
	mvhline(0, 0, ' ', COLS);
	mvprintw(0, 0, "spte-inspect  %.*s", COLS > 14 ? COLS - 14 : 0, title);
	attroff(A_BOLD);
}

static void footer(struct ui *u, const char *pos)
{
	static const char hint[] = " ?:help q:back ";
	char line[512];
	/* what was just said comes first: it answers the last key */
	int n = snprintf(line, sizeof(line), " %s%s%s", u->msg, u->msg[0] ? "  | " : "", pos);
	attron(A_REVERSE);
	mvhline(LINES - 1, 0, ' ', COLS);
	mvprintw(LINES - 1, 0, "%.*s", COLS, line);
	if (n + (int)sizeof(hint) < COLS) /* the hint yields to what is being said */
		mvprintw(LINES - 1, COLS - (int)sizeof(hint) + 1, "%s", hint);
	attroff(A_REVERSE);
}

/* A message in the middle of the screen while something takes time. */
static void busy(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void busy(const char *fmt, ...)
{
	char buf[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	mvhline(LINES / 2, 0, ' ', COLS);
	mvprintw(LINES / 2, 2, "%.*s", COLS - 4, buf);
	refresh();
}

static void map_progress(void *arg, uint64_t entries)
{
	const struct ui *u = arg;
	busy("walking root %zu of VM %d: %" PRIu64 " SPTEs ...", u->map.root, cur_vm(u)->pid,
	     entries);
}

static int map_cols(void);
static int map_rows(void);

/* The root a map opens on: the first valid one of address space 0. */
static size_t default_root(const struct kvm_vm *vm)
{
	for (size_t i = 0; i < vm->nroots; i++)
		if (!vm->roots[i].invalid && !vm->roots[i].smm)
			return i;
	return 0;
}

static bool open_map(struct ui *u, size_t root)
{
	if (u->map_vm == u->vm_sel && u->map.root == root)
		return true;
	gpmap_free(&u->map);
	u->map_vm = -1;
	u->map.root = root;
	busy("walking root %zu of VM %d ...", root, cur_vm(u)->pid);
	struct err *e = gpmap_build(u->s, &u->F, (uint32_t)u->vm_sel, root, map_progress, u, &u->map);
	if (e) {
		status(u, "%s", e->msg);
		err_free(e);
		return false;
	}
	u->map_vm = u->vm_sel;
	/* start with the whole span on one screen */
	uint64_t cells = (uint64_t)map_cols() * (uint64_t)map_rows();
	u->zoom = 1;
	while (u->zoom < (1ull << 30) && (u->map.hi - u->map.lo) / u->zoom >= cells)
		u->zoom *= 8;
	u->top = u->map.lo - u->map.lo % u->zoom;
	u->cur = u->focus = u->top;
	return true;
}

/* ------------------------------------------------------------ VM list */

static void draw_vms(struct ui *u)
{
	char title[96];
	snprintf(title, sizeof(title), "VMs  (%zu VMs, %zu findings)  %s", u->s->H.nvms, u->F.n,
		 dump_path(u->s->T->dump));
	header(title);
	mvprintw(2, 1, "%-8s %-12s %-18s %5s %5s %5s %-7s %8s", "PID", "COMMAND", "KVM", "VCPUS",
		 "SLOTS", "ROOTS", "LOG", "FINDINGS");
	int rows = LINES - 4;
	if (u->vm_sel < u->vm_top)
		u->vm_top = u->vm_sel;
	if (u->vm_sel >= u->vm_top + rows)
		u->vm_top = u->vm_sel - rows + 1;
	for (int i = u->vm_top; i < (int)u->s->H.nvms && i < u->vm_top + rows; i++) {
		const struct kvm_vm *vm = &u->s->H.vms[i];
		if (i == u->vm_sel)
			attron(A_REVERSE);
		mvprintw(3 + i - u->vm_top, 1, "%-8d %-12.12s 0x%016" PRIx64 " %5d %5zu %5zu %-7s %8zu%s",
			 vm->pid, vm->comm[0] ? vm->comm : "?", vm->addr, vm->online_vcpus, vm->nslots,
			 vm->nroots, dirty_log_mode(vm), gp_findings_count(&u->F, (uint32_t)i),
			 vm->incomplete ? " incomplete" : "");
		attroff(A_REVERSE);
	}
	if (!u->s->H.nvms)
		mvprintw(4, 1, "no VM on vm_list: is kvm loaded, and did the dump catch a VM?");
	char pos[64];
	snprintf(pos, sizeof(pos), "VM %d/%zu  Enter: open", u->s->H.nvms ? u->vm_sel + 1 : 0,
		 u->s->H.nvms);
	footer(u, pos);
}

static void key_vms(struct ui *u, int k)
{
	int n = (int)u->s->H.nvms, page = LINES - 4;
	switch (k) {
	case KEY_UP: case 'k': if (u->vm_sel > 0) u->vm_sel--; break;
	case KEY_DOWN: case 'j': if (u->vm_sel + 1 < n) u->vm_sel++; break;
	case KEY_PPAGE: u->vm_sel = u->vm_sel > page ? u->vm_sel - page : 0; break;
	case KEY_NPAGE: u->vm_sel = u->vm_sel + page < n ? u->vm_sel + page : (n ? n - 1 : 0); break;
	case KEY_HOME: case 'g': u->vm_sel = 0; break;
	case KEY_END: case 'G': u->vm_sel = n ? n - 1 : 0; break;
	case '\n': case KEY_ENTER: case KEY_RIGHT: case 'l':
		if (n) {
			u->vm_scroll = 0;
			push(u, SC_VM);
		}
		break;
	}
}

/* ------------------------------------------------------------ one VM */

/* Lines of a scrolling text screen. */
#define LINES_MAX 400
struct lines {
	char text[LINES_MAX][200];
	int n;
};

static void addl(struct lines *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addl(struct lines *L, const char *fmt, ...)
{
	if (L->n >= LINES_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(L->text[L->n++], sizeof(L->text[0]), fmt, ap);
	va_end(ap);
}

static void addwrapped(struct lines *L, const char *indent, const char *t)
{
	int w = COLS - (int)strlen(indent) - 3;
	if (w < 20)
		w = 20;
	if (w > (int)sizeof(L->text[0]) - 40)
		w = (int)sizeof(L->text[0]) - 40;
	bool first = true;
	while (*t) {
		int n = (int)strlen(t);
		if (n > w) {
			n = w;
			while (n > 0 && t[n] != ' ')
				n--;
			if (!n)
				n = w;
		}
		addl(L, "%s%.*s", first ? indent : "  ", n, t);
		first = false;
		t += n;
		while (*t == ' ')
			t++;
	}
}

/* Show L from *TOP on, clamping *TOP so that the end stays on screen. */
static void show_lines(const struct lines *L, int *topline)
{
	int rows = LINES - 3;
	if (*topline > L->n - rows)
		*topline = L->n - rows > 0 ? L->n - rows : 0;
	if (*topline < 0)
		*topline = 0;
	for (int i = 0; i < rows && *topline + i < L->n; i++)
		mvprintw(2 + i, 1, "%.*s", COLS - 2, L->text[*topline + i]);
}

static void add_finding(struct ui *u, struct lines *L, const struct gp_finding *f, bool doc)
{
	const struct check_def *c = &check_catalog[f->check];
	addl(L, "FINDING %s %s%s: %s", c->name, f->inconclusive ? "inconclusive " : "",
	     severity_name((enum severity)f->severity), c->title);
	if (strcmp(gp_finding_message(&u->F, f), c->title))
		addwrapped(L, "  ", gp_finding_message(&u->F, f));
	addwrapped(L, "  evidence: ", gp_finding_evidence(&u->F, f));
	if (doc)
		addwrapped(L, "  why: ", c->doc);
}

static void draw_vm(struct ui *u)
{
	static struct lines L;
	L.n = 0;
	const struct kvm_vm *vm = cur_vm(u);
	char title[128];
	snprintf(title, sizeof(title), "VM pid %d (%s)  kvm 0x%" PRIx64 "  dirty log: %s", vm->pid,
		 vm->comm[0] ? vm->comm : "?", vm->addr, dirty_log_mode(vm));
	header(title);
	addl(&L, "Memslots  %-2s %-5s %-12s %-9s %-16s %s", "AS", "SLOT", "BASE_GFN", "NPAGES", "HVA",
	     "FLAGS");
	for (size_t i = 0; i < vm->nslots; i++) {
		const struct kvm_memslot *m = &vm->slots[i];
		addl(&L, "          %-2d %-5d 0x%-10" PRIx64 " %-9" PRIu64 " 0x%-14" PRIx64 " %s%s%s",
		     m->as_id, m->id, m->base_gfn, m->npages, m->userspace_addr,
		     m->flags & KVM_MEM_LOG_DIRTY_PAGES ? "dirty-log " : "",
		     m->flags & KVM_MEM_READONLY ? "readonly " : "", m->dirty_bitmap ? "+bitmap" : "");
	}
	addl(&L, "%s", "");
	addl(&L, "Roots     %-18s %-8s %-3s %-3s %-4s %s", "KVM_MMU_PAGE", "ROLE", "LVL", "SMM", "REFS",
	     "STATE");
	for (size_t i = 0; i < vm->nroots; i++) {
		const struct kvm_root *r = &vm->roots[i];
		/* a special root has no kvm_mmu_page: its page's address, named */
		const char *special = kvm_root_special_name(r->special);
		addl(&L, "  %c%-5zu  0x%016" PRIx64 " 0x%-6x %-3d %-3d %-4" PRId64 " %s%s%s%s%s",
		     u->map_vm == u->vm_sel && u->map.root == i ? '*' : ' ', i,
		     kvm_root_id(r), r->role, r->level,
		     r->smm, r->refcount, r->invalid ? "invalid" : "valid",
		     r->guest_mode ? " guest-mode" : "", r->ad_disabled ? " A/D-disabled" : "",
		     special ? " " : "", special ? special : "");
	}
	addl(&L, "%s", "");
	addl(&L, "vCPUs     %-5s %-18s %s", "IDX", "ROOT.HPA", "MODE");
	for (size_t i = 0; i < vm->nvcpus; i++) {
		const struct kvm_vcpu_info *c = &vm->vcpus[i];
		char hpa[24] = "none";
		if (c->root_hpa != UINT64_MAX)
			snprintf(hpa, sizeof(hpa), "0x%" PRIx64, c->root_hpa);
		addl(&L, "          %-5d %-18s %s", c->idx, hpa, vm_mode_name(c->mode));
	}
	addl(&L, "%s", "");
	size_t nf = gp_findings_count(&u->F, (uint32_t)u->vm_sel);
	addl(&L, "Findings: %zu  (n on the map jumps to each)", nf);
	for (size_t i = gp_findings_lower_bound(&u->F, (uint32_t)u->vm_sel, UINT64_MAX);
	     i < u->F.n && u->F.v[i].vm == (uint32_t)u->vm_sel; i++)
		add_finding(u, &L, &u->F.v[i], false);
	show_lines(&L, &u->vm_scroll);
	footer(u, vm->nroots ? "Enter: guest-physical map of the first valid root" : "no TDP MMU root");
}

static void key_vm(struct ui *u, int k)
{
	const struct kvm_vm *vm = cur_vm(u);
	switch (k) {
	case KEY_UP: case 'k': if (u->vm_scroll > 0) u->vm_scroll--; break;
	case KEY_DOWN: case 'j': u->vm_scroll++; break;
	case KEY_PPAGE: u->vm_scroll = u->vm_scroll > 10 ? u->vm_scroll - 10 : 0; break;
	case KEY_NPAGE: u->vm_scroll += 10; break;
	case '\n': case KEY_ENTER: case KEY_RIGHT: case 'l': case 'm':
		if (!vm->nroots)
			status(u, "VM %d has no TDP MMU root to map", vm->pid);
		else if (open_map(u, u->map_vm == u->vm_sel ? u->map.root : default_root(vm)))
			push(u, SC_MAP);
		break;
	}
}

/* ------------------------------------------------------------ map */

#define MAP_X 12	/* after the row's gfn label: 40-bit gfns */

/* Cells per row: a multiple of 16 so that row labels stay round numbers. */
static int map_cols(void)
{
	/* a power of two: every row starts at a gfn aligned to its span */
	int n = COLS > MAP_X + 22 ? COLS - MAP_X - 6 : 16, p = 16;
	while (p * 2 <= n)
		p *= 2;
	return p;
}
static int map_rows(void) { return LINES > 9 ? LINES - 7 : 1; }

static const struct kvm_memslot *slot_in(const struct ui *u, uint64_t lo, uint64_t hi, bool start)
{
	const struct kvm_vm *vm = cur_vm(u);
	int as = u->map.root < vm->nroots ? vm->roots[u->map.root].smm : 0;
	for (size_t i = 0; i < vm->nslots; i++) {
		const struct kvm_memslot *s = &vm->slots[i];
		if (s->as_id != as || !s->npages)
			continue;
		if (start ? (s->base_gfn >= lo && s->base_gfn <= hi)
			  : (s->base_gfn <= hi && lo - s->base_gfn < s->npages) ||
			    (s->base_gfn >= lo && s->base_gfn <= hi))
			return s;
	}
	return NULL;
}

static void put_cell(struct ui *u, int y, int x, enum gp_state st, bool in_slot, bool boundary,
		     bool cursor)
{
	chtype ch = (chtype)(in_slot || st != GP_UNMAPPED ? gp_state_glyph(st) : ' ');
	if (boundary && st == GP_UNMAPPED)
		ch = '|';
	if (u->color)
		ch |= COLOR_PAIR(st + 1);
	if (boundary)
		ch |= A_UNDERLINE;
	if (cursor)
		ch |= A_REVERSE;
	mvaddch(y, x, ch);
}

static void draw_legend(struct ui *u, int y, int x0, int ymax)
{
	int x = x0;
	for (int st = 0; st < GP_NSTATES; st++) {
		char item[64];
		snprintf(item, sizeof(item), " %s", gp_state_name((enum gp_state)st));
		if (x + (int)strlen(item) + 3 >= COLS) {
			y++;
			x = x0;
			if (y > ymax)
				break;
		}
		put_cell(u, y, x, (enum gp_state)st, true, false, false);
		mvprintw(y, x + 1, "%s", item);
		x += (int)strlen(item) + 3;
	}
	/* the blank cell: gfns no memslot covers */
	const char *blank = "' ' no memslot";
	if (x + (int)strlen(blank) + 1 >= COLS) {
		y++;
		x = x0;
	}
	if (y <= ymax)
		mvprintw(y, x, "%s", blank);
}

static void draw_map(struct ui *u)
{
	const struct kvm_vm *vm = cur_vm(u);
	const struct kvm_root *r = &vm->roots[u->map.root];
	char title[160];
	char size[16];
	size_units(u->zoom * PAGE_SIZE, size, sizeof(size));
	const char *special = kvm_root_special_name(r->special);
	snprintf(title, sizeof(title), "VM %s root %zu/%zu 0x%" PRIx64 "%s%s%s%s  a cell = %" PRIu64
		 " gfn%s (%s)", vm_label(&u->s->H, vm), u->map.root + 1, vm->nroots,
		 kvm_root_id(r), special ? " " : "", special ? special : "", r->smm ? " SMM" : "",
		 r->invalid ? " invalid" : "", u->zoom, u->zoom > 1 ? "s" : "", size);
	header(title);
	int cols = map_cols(), rows = map_rows();
	uint64_t row_span = (uint64_t)cols * u->zoom;
	if (u->top % row_span)
		u->top -= u->top % row_span;
	if (u->cur < u->top || u->cur - u->top >= (uint64_t)rows * row_span) {
		/* off screen: put the cursor's row in the middle */
		uint64_t row0 = u->cur - u->cur % row_span, back = (uint64_t)(rows / 2) * row_span;
		u->top = row0 > back ? row0 - back : 0;
	}
	for (int row = 0; row < rows; row++) {
		uint64_t g0 = u->top + (uint64_t)row * row_span;
		if (g0 < u->top || (g0 > u->map.hi && g0 > u->cur)) /* past the end */
			break;
		mvprintw(2 + row, 0, "%010" PRIx64 " ", g0);
		for (int c = 0; c < cols; c++) {
			uint64_t lo = g0 + (uint64_t)c * u->zoom, hi = lo + u->zoom - 1;
			put_cell(u, 2 + row, MAP_X + c, gpmap_cell(&u->map, lo, hi),
				 slot_in(u, lo, hi, false) != NULL, slot_in(u, lo, hi, true) != NULL,
				 lo == u->cur);
		}
		/* every memslot that starts in the row, as far as the screen goes */
		int x = MAP_X + cols + 1;
		const struct kvm_vm *v = cur_vm(u);
		int as = u->map.root < v->nroots ? v->roots[u->map.root].smm : 0;
		for (size_t k = 0; k < v->nslots && x < COLS - 2; k++) {
			const struct kvm_memslot *s = &v->slots[k];
			if (s->as_id != as || !s->npages || s->base_gfn < g0 || s->base_gfn > g0 + row_span - 1)
				continue;
			char lab[16];
			int len = snprintf(lab, sizeof(lab), "s%d", s->id);
			if (x + len > COLS - 1)
				break;
			mvprintw(2 + row, x, "%s", lab);
			x += len + 1;
		}
	}
	draw_legend(u, LINES - 4, 1, LINES - 2);
	char pos[160];
	enum gp_state st = gpmap_cell(&u->map, u->cur, u->cur + u->zoom - 1);
	const struct kvm_memslot *s = slot_in(u, u->cur, u->cur + u->zoom - 1, false);
	char slot[24] = "no slot";
	if (s)
		snprintf(slot, sizeof(slot), "slot %d", s->id);
	snprintf(pos, sizeof(pos), "gfn 0x%" PRIx64 " %s, %s | %" PRIu64 " leaves, %zu findings",
		 u->cur, gp_state_name(st), slot, u->map.leaves,
		 gp_findings_count(&u->F, (uint32_t)u->vm_sel));
	footer(u, pos);
}

static void map_goto(struct ui *u, uint64_t gfn)
{
	u->focus = gfn;
	u->cur = gfn - gfn % u->zoom;
}

/* Zooming keeps the focus gfn if it is in the cursor's cell. */
static void map_zoom(struct ui *u, uint64_t zoom)
{
	uint64_t old = u->zoom;
	u->zoom = zoom;
	map_goto(u, u->focus - u->cur < old ? u->focus : u->cur);
}

/* Next (DIR 1) or previous (-1) finding of this VM from the cursor. */
static void map_next_finding(struct ui *u, int dir)
{
	uint32_t vm = (uint32_t)u->vm_sel;
	const struct gp_findings *F = &u->F;
	size_t lo = gp_findings_lower_bound(F, vm, 0), hi = gp_findings_lower_bound(F, vm, UINT64_MAX);
	size_t i;
	if (dir > 0) {
		i = gp_findings_lower_bound(F, vm, u->cur + u->zoom);
		if (u->cur + u->zoom < u->cur || i >= hi)
			i = hi;
	} else {
		i = gp_findings_lower_bound(F, vm, u->cur);
		i = i > lo ? i - 1 : hi;
	}
	if (i >= hi) {
		status(u, "no %s finding with a gfn", dir > 0 ? "next" : "previous");
		return;
	}
	map_goto(u, F->v[i].gfn);
	status(u, "%s at gfn 0x%" PRIx64, check_catalog[F->v[i].check].name, F->v[i].gfn);
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

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (!*s)
		return false;
	*v = strtoull(s, &end, 0);
	return !*end;
}

/* "/": a gfn, gpa:ADDR, hva:ADDR or pfn:N, in the current VM. */
static void jump(struct ui *u)
{
	char buf[64];
	if (!prompt("jump to (gfn, gpa:ADDR, hva:ADDR, pfn:N): ", buf, sizeof(buf)))
		return;
	const struct kvm_vm *vm = cur_vm(u);
	if (!vm->nroots || !open_map(u, u->map_vm == u->vm_sel ? u->map.root : default_root(vm))) {
		if (!u->msg[0])
			status(u, "VM %d has no TDP MMU root", vm->pid);
		return;
	}
	uint64_t v, gfn = UINT64_MAX;
	if (!strncmp(buf, "gpa:", 4) && parse_u64(buf + 4, &v)) {
		gfn = v >> PAGE_SHIFT;
	} else if (!strncmp(buf, "hva:", 4) && parse_u64(buf + 4, &v)) {
		int as = vm->roots[u->map.root].smm;
		for (size_t i = 0; i < vm->nslots; i++) {
			const struct kvm_memslot *s = &vm->slots[i];
			if (s->as_id == as && v >= s->userspace_addr &&
			    (v - s->userspace_addr) >> PAGE_SHIFT < s->npages)
				gfn = s->base_gfn + ((v - s->userspace_addr) >> PAGE_SHIFT);
		}
	} else if (!strncmp(buf, "pfn:", 4) && parse_u64(buf + 4, &v)) {
		busy("searching root %zu for pfn 0x%" PRIx64 " ...", u->map.root, v);
		gfn = gpmap_find_pfn(u->s, &u->map, v);
	} else if (!parse_u64(buf, &gfn)) {
		gfn = UINT64_MAX;
	}
	if (gfn == UINT64_MAX) {
		status(u, "'%s': not a gfn of this VM's root (gfn, gpa:, hva:, pfn:)", buf);
		return;
	}
	while (u->depth > 1 && top(u) != SC_VM)
		u->depth--;
	if (top(u) == SC_VMS)
		push(u, SC_VM);
	push(u, SC_MAP);
	u->zoom = 1; /* one gfn a cell, so that Enter opens exactly this frame */
	map_goto(u, gfn);
	status(u, "jumped to gfn 0x%" PRIx64, gfn);
}

static void list_open(struct ui *u, uint64_t lo, uint64_t hi);
static const struct kvm_memslot *slot_of(const struct ui *u, uint64_t gfn);

/* The detail screen of leaf L; the host side is looked up once, here. */
static void open_detail(struct ui *u, const struct gp_leaf *l)
{
	u->detail = *l;
	u->detail_top = 0;
	u->host_err[0] = '\0';
	const struct kvm_memslot *s = slot_of(u, l->mem_gfn);
	if (!s) {
		snprintf(u->host_err, sizeof(u->host_err), "no memslot, no hva");
	} else {
		struct err *e = gpmap_host(u->s, &u->map,
					   s->userspace_addr + ((l->mem_gfn - s->base_gfn) << PAGE_SHIFT),
					   &u->host);
		if (e) {
			snprintf(u->host_err, sizeof(u->host_err), "%s", e->msg);
			err_free(e);
		}
	}
	push(u, SC_DETAIL);
}

static void key_map(struct ui *u, int k)
{
	uint64_t cols = (uint64_t)map_cols(), page = cols * (uint64_t)map_rows() * u->zoom;
	uint64_t last = UINT64_MAX - UINT64_MAX % u->zoom - u->zoom + 1;
	const struct kvm_vm *vm = cur_vm(u);
	uint64_t before = u->cur;
	switch (k) {
	case KEY_LEFT: case 'h': if (u->cur >= u->zoom) u->cur -= u->zoom; break;
	case KEY_RIGHT: case 'l': if (u->cur < last) u->cur += u->zoom; break;
	case KEY_UP: case 'k': if (u->cur >= cols * u->zoom) u->cur -= cols * u->zoom; break;
	case KEY_DOWN: case 'j': if (u->cur <= last - cols * u->zoom) u->cur += cols * u->zoom; break;
	case KEY_PPAGE: u->cur = u->cur > page ? u->cur - page : 0; break;
	case KEY_NPAGE: if (u->cur <= last - page) u->cur += page; break;
	case KEY_HOME: case 'g': map_goto(u, u->map.lo); break;
	case KEY_END: case 'G': map_goto(u, u->map.hi); break;
	case '+': case '=':
		if (u->zoom > 1)
			map_zoom(u, u->zoom / 8);
		break;
	case '-':
		if (u->zoom < (1ull << 30))
			map_zoom(u, u->zoom * 8);
		break;
	case 'n': map_next_finding(u, 1); break;
	case 'N': map_next_finding(u, -1); break;
	case 'r':
		if (vm->nroots > 1) {
			uint64_t cur = u->cur;
			if (open_map(u, (u->map.root + 1) % vm->nroots))
				map_goto(u, cur);
		} else {
			status(u, "VM %d has one root", vm->pid);
		}
		break;
	case '\n': case KEY_ENTER:
		list_open(u, u->cur, u->cur + u->zoom - 1);
		if (u->nitems == 1 && u->filter == LF_ALL)
			open_detail(u, &u->all[u->items[0]]);
		else
			push(u, SC_LIST);
		break;
	}
	if (u->cur != before && u->focus - u->cur >= u->zoom)
		u->focus = u->cur; /* moved away from it */
}

/* ------------------------------------------------------------ SPTE list */

static bool list_keep(const struct ui *u, const struct gp_leaf *l)
{
	struct spte_bits b;
	spte_decode(&u->s->H.masks, l->spte, l->level, &b);
	bool present = b.kind == SPTE_PRESENT;
	switch (u->filter) {
	case LF_W: return present && b.writable;
	case LF_D0: return present && !b.dirty;
	case LF_W_D0: return present && b.writable && !b.dirty;
	case LF_FINDINGS: return l->state == GP_FINDING;
	case LF_4K: return l->level == 1;
	case LF_2M: return l->level == 2;
	case LF_1G: return l->level == 3;
	default: return true;
	}
}

static const struct ui *sort_ui; /* qsort has no context argument */
static int list_cmp(const void *a, const void *b)
{
	const struct gp_leaf *x = &sort_ui->all[*(const size_t *)a];
	const struct gp_leaf *y = &sort_ui->all[*(const size_t *)b];
	int d = 0;
	if (sort_ui->sort == LS_LEVEL)
		d = (int)y->level - (int)x->level;
	else if (sort_ui->sort == LS_STATE)
		d = (int)y->state - (int)x->state;
	if (!d)
		d = x->gfn < y->gfn ? -1 : x->gfn > y->gfn;
	return d;
}

static void list_refilter(struct ui *u)
{
	u->nitems = 0;
	for (size_t i = 0; i < u->nall; i++)
		if (list_keep(u, &u->all[i]))
			u->items[u->nitems++] = i;
	sort_ui = u;
	qsort(u->items, u->nitems, sizeof(*u->items), list_cmp);
	u->list_sel = u->list_top = 0;
}

static void list_open(struct ui *u, uint64_t lo, uint64_t hi)
{
	free(u->all);
	free(u->items);
	u->all = NULL;
	u->items = NULL;
	u->nall = u->nitems = 0;
	u->list_lo = lo;
	u->list_hi = hi;
	busy("listing the SPTEs of gfns 0x%" PRIx64 "-0x%" PRIx64 " ...", lo, hi);
	struct err *e = gpmap_list(u->s, &u->F, &u->map, lo, hi, LIST_MAX, &u->all, &u->nall,
				   &u->list_truncated);
	if (e) {
		status(u, "%s", e->msg);
		err_free(e);
		return;
	}
	u->items = malloc((u->nall ? u->nall : 1) * sizeof(*u->items));
	if (!u->items) {
		u->nall = 0;
		status(u, "out of memory");
		return;
	}
	list_refilter(u);
}

static void draw_list(struct ui *u)
{
	char title[160];
	snprintf(title, sizeof(title), "SPTEs of VM %d, gfns 0x%" PRIx64 "-0x%" PRIx64 "  filter %s, sort %s",
		 cur_vm(u)->pid, u->list_lo, u->list_hi, filter_names[u->filter], sort_names[u->sort]);
	header(title);
	mvprintw(2, 1, "%-13s %3s %-18s %-10s %s", "GFN", "LVL", "SPTE", "PFN", "FLAGS / STATE");
	int rows = LINES - 4;
	if (u->list_sel < u->list_top)
		u->list_top = u->list_sel;
	if (u->list_sel >= u->list_top + rows)
		u->list_top = u->list_sel - rows + 1;
	for (int i = u->list_top; i < (int)u->nitems && i < u->list_top + rows; i++) {
		const struct gp_leaf *l = &u->all[u->items[i]];
		struct spte_bits b;
		char flags[96];
		spte_decode(&u->s->H.masks, l->spte, l->level, &b);
		if (b.kind == SPTE_PRESENT)
			spte_flags_str(&b, u->s->H.masks.ept, flags, sizeof(flags));
		else
			snprintf(flags, sizeof(flags), "%s", spte_kind_name(b.kind));
		if (i == u->list_sel)
			attron(A_REVERSE);
		mvprintw(3 + i - u->list_top, 1, "0x%-11" PRIx64 " %3s 0x%016" PRIx64 " 0x%-8" PRIx64 " %s  %c %s",
			 l->gfn, level_size(l->level), l->spte, b.kind == SPTE_MMIO ? b.mmio_gfn : b.pfn,
			 flags, gp_state_glyph((enum gp_state)l->state),
			 gp_state_name((enum gp_state)l->state));
		attroff(A_REVERSE);
	}
	if (!u->nitems)
		mvprintw(4, 1, "no SPTE in this range%s", u->filter ? " with this filter (f)" : "");
	char pos[128];
	char cut[32] = "";
	if (u->list_truncated)
		snprintf(cut, sizeof(cut), " (first %d only)", LIST_MAX);
	snprintf(pos, sizeof(pos), "%d/%zu%s  f:filter s:sort n:next finding",
		 u->nitems ? u->list_sel + 1 : 0, u->nitems, cut);
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
		list_refilter(u);
		break;
	case 's':
		u->sort = (enum list_sort)((u->sort + 1) % LS_NSORTS);
		list_refilter(u);
		break;
	case 'n': case 'N':
		for (int i = 1; i <= n; i++) {
			int j = ((u->list_sel + (k == 'n' ? i : -i)) % n + n) % n;
			if (u->all[u->items[j]].state == GP_FINDING) {
				u->list_sel = j;
				return;
			}
		}
		status(u, "no finding in this list");
		break;
	case '\n': case KEY_ENTER: case KEY_RIGHT: case 'l':
		if (n)
			open_detail(u, &u->all[u->items[u->list_sel]]);
		break;
	}
}

/* ------------------------------------------------------------ SPTE detail */

/* The memslot of the map root's address space holding GFN, or NULL. */
static const struct kvm_memslot *slot_of(const struct ui *u, uint64_t gfn)
{
	const struct kvm_vm *vm = cur_vm(u);
	int as = u->map.root < vm->nroots ? vm->roots[u->map.root].smm : 0;
	for (size_t i = 0; i < vm->nslots; i++)
		if (vm->slots[i].as_id == as && gfn - vm->slots[i].base_gfn < vm->slots[i].npages)
			return &vm->slots[i];
	return NULL;
}

/* Why a leaf is, or is not, a dirty-logging problem: the checks' verdict
 * (check_dirty_verdict), in words. */
static void explain_logging(struct ui *u, struct lines *L, const struct kvm_memslot *s,
			    const struct spte_bits *b, bool recorded)
{
	static const char *const why[] = {
		[DIRTY_NOT_LEAF] = "not a present leaf",
		[DIRTY_WRPROT] = "write-protected: a guest write faults and KVM records the gfn "
				 "before making it writable",
		[DIRTY_RECORDED] = "writable and recorded: the next harvest copies the page and "
				   "write-protects it again",
		[DIRTY_DBIT] = "writable with A/D on and PML in use: the D bit, not W, carries the "
			       "log (D3)",
		[DIRTY_MISSED] = "writable but NOT recorded: the next harvest will not copy this "
				 "page (D2)",
	};
	enum dirty_verdict v = check_dirty_verdict(u->map.pml, s, b, recorded);
	if (v == DIRTY_OFF) {
		addl(L, "dirty logging is off for slot %d: W carries no logging meaning", s->id);
		return;
	}
	addwrapped(L, "dirty log: ", why[v]);
}

static void draw_detail(struct ui *u)
{
	static struct lines L;
	L.n = 0;
	const struct gp_leaf *l = &u->detail;
	const struct kvm_vm *vm = cur_vm(u);
	const struct kvm_root *r = &vm->roots[u->map.root];
	const struct spte_masks *m = &u->s->H.masks;
	struct spte_bits b;
	spte_decode(m, l->spte, l->level, &b);
	char title[96];
	snprintf(title, sizeof(title), "SPTE of gfn 0x%" PRIx64 "  VM %d", l->gfn, vm->pid);
	header(title);
	char flags[96] = "";
	if (b.kind == SPTE_PRESENT)
		spte_flags_str(&b, m->ept, flags, sizeof(flags));
	if (b.kind == SPTE_PRESENT)
		addl(&L, "spte    0x%016" PRIx64 "  present leaf, level %d (%s)  [%s]", l->spte, l->level,
		     level_size(l->level), flags);
	else
		addl(&L, "spte    0x%016" PRIx64 "  %s SPTE at level %d (%s)", l->spte,
		     spte_kind_name(b.kind), l->level, level_size(l->level));
	if (l->mem_gfn != l->gfn)
		addl(&L, "maps    %sgfn 0x%" PRIx64 " (the shadow page's; gfn above: %s)",
		     kvm_root_l2(r) ? "L1 " : "", l->mem_gfn, kvm_root_l2(r) ? "L2" : "its position");
	addl(&L, "gpa     0x%" PRIx64 "   state %c %s%s%s%s", l->gfn << PAGE_SHIFT,
	     gp_state_glyph((enum gp_state)l->state), gp_state_name((enum gp_state)l->state),
	     l->state != l->base ? " (" : "", l->state != l->base ? gp_state_name((enum gp_state)l->base) : "",
	     l->state != l->base ? ")" : "");
	if (b.kind == SPTE_MMIO) {
		addl(&L, "MMIO    gfn 0x%" PRIx64 "  generation %u  access 0x%x", b.mmio_gfn, b.mmio_gen,
		     b.mmio_access);
	} else if (b.kind == SPTE_PRESENT) {
		addl(&L, "pfn     0x%" PRIx64 "   host physical 0x%" PRIx64, b.pfn, b.pfn << PAGE_SHIFT);
		addl(&L, "bits    present %d  %s %d  writable %d  executable %d  huge %d",
		     b.hw_present, m->ept ? "readable" : "user", b.readable, b.writable, b.executable,
		     b.huge);
		if (b.has_xu)
			addl(&L, "        user-executable %d (EPT bit 10)", b.user_executable);
		addl(&L, "        accessed %d  dirty %d", b.accessed, b.dirty);
		addl(&L, "        host-writable %d  MMU-writable %d  access-tracked %d  A/D type %s",
		     b.host_writable, b.mmu_writable, b.access_tracked, spte_ad_type_name(b.ad_type));
		if (b.access_tracked)
			addl(&L, "        saved R %d  saved X %d%s", b.saved_r, b.saved_x,
			     b.has_xu ? (b.saved_xu ? "  saved XU 1" : "  saved XU 0") : "");
		if (m->ept)
			addl(&L, "        memtype %d  ipat %d", b.memtype, b.ipat);
	}
	addl(&L, "%s", "");
	const char *special = kvm_root_special_name(r->special);
	addl(&L, "walk from %s 0x%" PRIx64 " (role 0x%x%s%s):", special ? special : "root",
	     kvm_root_id(r), r->role, r->smm ? ", SMM" : "", r->invalid ? ", invalid" : "");
	uint64_t pa = r->spt_pa;
	for (int lv = r->level; lv >= l->level && lv >= 1; lv--) {
		int idx = (int)((l->gfn >> (9 * (lv - 1))) & 511);
		uint64_t e = 0;
		struct err *err = dump_read_phys(u->s->T->dump, pa + (uint64_t)idx * 8, &e, 8);
		if (err) {
			addl(&L, "  %-6s table 0x%" PRIx64 ": %s", walk_level_name(lv), pa, err->msg);
			err_free(err);
			break;
		}
		struct spte_bits eb;
		char f[96] = "";
		walk_decode(m, r, e, lv, &eb);
		if (eb.kind == SPTE_PRESENT)
			spte_flags_str(&eb, m->ept, f, sizeof(f));
		else
			snprintf(f, sizeof(f), "%s", spte_kind_name(eb.kind));
		addl(&L, "  %-6s [0x%09" PRIx64 " + %3d*8]  0x%016" PRIx64 "  %s", walk_level_name(lv), pa,
		     idx, e, f);
		if (eb.kind != SPTE_PRESENT || eb.leaf)
			break;
		pa = eb.pfn << PAGE_SHIFT;
	}
	addl(&L, "%s", "");
	const struct kvm_memslot *s = slot_of(u, l->mem_gfn);
	if (s) {
		uint64_t rel = l->mem_gfn - s->base_gfn;
		addl(&L, "memslot %d (as %d)  base gfn 0x%" PRIx64 "  flags 0x%x%s%s  hva 0x%" PRIx64, s->id,
		     s->as_id, s->base_gfn, s->flags, s->flags & KVM_MEM_LOG_DIRTY_PAGES ? " dirty-log" : "",
		     s->flags & KVM_MEM_READONLY ? " readonly" : "",
		     s->userspace_addr + (rel << PAGE_SHIFT));
		bool recorded = l->base == GP_LOGGED_RECORDED;
		if (s->dirty_bitmap) {
			uint64_t w = 0;
			bool ok = dump_peek(u->s->T->dump, s->dirty_bitmap + rel / 64 * 8, &w, 8);
			addl(&L, "dirty bitmap word %" PRIu64 " at 0x%" PRIx64 " = %s0x%016" PRIx64
			     ", bit %" PRIu64 " %s", rel / 64, s->dirty_bitmap + rel / 64 * 8,
			     ok ? "" : "(unreadable) ", w, rel % 64,
			     w >> (rel % 64) & 1 ? "set" : "clear");
		} else if (vm->dirty_ring_size) {
			addl(&L, "dirty ring: %s", recorded ? "a pending entry records this gfn"
						      : "no pending entry for this gfn");
		}
		explain_logging(u, &L, s, &b, recorded);
		if (u->host_err[0]) {
			addl(&L, "host    %s", u->host_err);
		} else if (!u->host.present) {
			addl(&L, "host    the VMM has no page at this hva (entry 0x%016" PRIx64 ")",
			     u->host.entry);
		} else {
			uint64_t want = b.kind == SPTE_PRESENT ? b.pfn : 0;
			addl(&L, "host    VMM %s at 0x%" PRIx64 " = 0x%016" PRIx64,
			     u->host.level == 1 ? "PTE" : u->host.level == 2 ? "PMD" : "PUD",
			     u->host.entry_pa, u->host.entry);
			addl(&L, "        pfn 0x%" PRIx64 ", %s%s", u->host.pfn,
			     u->host.writable ? "writable" : "read-only",
			     b.kind != SPTE_PRESENT ? "" : u->host.pfn == want ? ": the SPTE's frame"
									: ": NOT the SPTE's frame (H1)");
		}
	} else {
		addl(&L, "no memslot of address space %d covers this gfn%s", r->smm,
		     b.kind == SPTE_MMIO ? " (an MMIO access)" : "");
	}
	addl(&L, "%s", "");
	int nf = 0;
	uint32_t vmi = (uint32_t)u->vm_sel;
	for (size_t i = gp_findings_lower_bound(&u->F, vmi, l->mem_gfn);
	     i < u->F.n && u->F.v[i].vm == vmi && u->F.v[i].gfn == l->mem_gfn; i++) {
		const struct gp_finding *f = &u->F.v[i];
		if (f->root >= 0 && (size_t)f->root != u->map.root)
			continue;
		nf++;
		add_finding(u, &L, f, true);
	}
	if (!nf)
		addl(&L, "no finding at this gfn: every check passed here");
	show_lines(&L, &u->detail_top);
	footer(u, "up/down: scroll");
}

static void key_detail(struct ui *u, int k)
{
	switch (k) {
	case KEY_UP: case 'k': if (u->detail_top > 0) u->detail_top--; break;
	case KEY_DOWN: case 'j': u->detail_top++; break;
	case KEY_PPAGE: u->detail_top = u->detail_top > 10 ? u->detail_top - 10 : 0; break;
	case KEY_NPAGE: u->detail_top += 10; break;
	case KEY_HOME: case 'g': u->detail_top = 0; break;
	}
}

/* ------------------------------------------------------------ help */

static void draw_help(struct ui *u)
{
	static const char *const keys[] = {
		"Enter, right, l   open: VM -> map -> SPTE list -> SPTE detail",
		"Esc, q, left, h   back (q on the VM list quits; h moves on the map)",
		"arrows, hjkl      move        PgUp, PgDn   page",
		"Home, End, g, G   first, last",
		"+, -              map: zoom in, out (a cell = 1 gfn ... 1 Gi gfns)",
		"r                 map: next root of this VM (SMM, invalid roots)",
		"/                 jump to a gfn, gpa:ADDR, hva:ADDR or pfn:N",
		"n, N              next, previous finding",
		"f                 SPTE list: filter (all, W=1, D=0, W=1,D=0, findings, 4K, 2M, 1G)",
		"s                 SPTE list: sort (gfn, level, state)",
		"?                 this help",
		"",
		"Map cells (a cell shows its most notable state; '|' marks a memslot start):",
	};
	header("help");
	int y = 2;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && y < LINES - 1; i++)
		mvprintw(y++, 2, "%.*s", COLS - 3, keys[i]);
	for (int st = 0; st < GP_NSTATES && y < LINES - 1; st++) {
		put_cell(u, y, 4, (enum gp_state)st, true, false, false);
		mvprintw(y++, 6, "%s", gp_state_name((enum gp_state)st));
	}
	footer(u, "any key: back");
}

/* ------------------------------------------------------------ main loop */

static void draw(struct ui *u)
{
	erase();
	if (LINES < 12 || COLS < 60) {
		mvprintw(0, 0, "terminal too small (%dx%d): 60x12 at least", COLS, LINES);
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

static void ui_free(struct ui *u)
{
	gpmap_free(&u->map);
	gp_findings_free(&u->F);
	free(u->all);
	free(u->items);
	free(u);
}

struct err *cmd_browse(struct session *s, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return err_new(ERR_USAGE, "browse: takes no arguments (use --vm PID to open one VM)");
	if (s->json)
		return err_new(ERR_USAGE, "browse: interactive, no --json");
	if (!isatty(0) || !isatty(1))
		return err_new(ERR_USAGE, "browse: needs a terminal on standard input and output");
	struct ui *u = calloc(1, sizeof(*u));
	if (!u)
		return err_new(ERR_NOMEM, "out of memory");
	u->s = s;
	u->map_vm = -1;
	u->stack[u->depth++] = SC_VMS;
	if (!newterm(NULL, stdout, stdin)) {
		free(u);
		return err_new(ERR_USAGE, "browse: terminal type '%s' unknown to ncurses",
			       getenv("TERM") ? getenv("TERM") : "");
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	u->color = has_colors() && !getenv("NO_COLOR");
	if (u->color) {
		static const short fg[GP_NSTATES] = { COLOR_WHITE, COLOR_BLUE, COLOR_CYAN, COLOR_GREEN,
						      COLOR_YELLOW, COLOR_MAGENTA, COLOR_WHITE, COLOR_RED,
						      COLOR_BLACK };
		start_color();
		use_default_colors();
		for (int i = 0; i < GP_NSTATES; i++)
			init_pair((short)(i + 1), fg[i], i == GP_FINDING ? COLOR_RED : -1);
	}
	busy("running the checks over %zu VMs ...", s->H.nvms);
	struct err *e = gp_findings_build(s, &u->F);
	if (e) {
		endwin();
		ui_free(u);
		return e;
	}
	if (u->F.dropped)
		status(u, "%" PRIu64 " findings beyond the first %zu not kept", u->F.dropped, u->F.n);
	/* --vm opens that VM directly */
	for (size_t i = 0; i < s->H.nvms; i++)
		if (s->sel.vm_spec && select_vm(&s->sel, &s->H.vms[i])) {
			u->vm_sel = (int)i;
			push(u, SC_VM);
			break;
		}
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
	/* what the checks could not do is said after the screen is gone */
	check_exit_bits(s, &u->F.stats); /* the same exit bits as `check` */
	text_notes(s);
	ui_free(u);
	return NULL;
}
