#include "cmd/session.h"
struct err *cmd_diff(struct session *s, int argc, char **argv) { (void)s; (void)argc; (void)argv; return err_new(ERR_USAGE, "todo"); }
