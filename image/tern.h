/* The tern tool's commands. */
#ifndef TERN_H
#define TERN_H

#include <stdbool.h>

int cmd_run(int argc, char **argv, bool probe_only);

#endif
