/* `browse`: a full-screen ncurses browser of the VMs in a dump and of each
 * VM's guest-physical space, built as a small state machine like ncdu: a
 * stack of screens, each with a draw function and a key handler. */
#ifndef BROWSE_BROWSE_H
#define BROWSE_BROWSE_H

#include "cmd/session.h"

struct err *cmd_browse(struct session *s, int argc, char **argv);

#endif
