/* The tern tool's commands. */
#ifndef TERN_H
#define TERN_H

#include <stdbool.h>

int cmd_run(int argc, char **argv, bool probe_only);

/* ROFS images (rofs_cmds.c) */
int cmd_ls(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_mkrofs(int argc, char **argv);

#endif
