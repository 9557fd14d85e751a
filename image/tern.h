/* The tern tool's commands. */
#ifndef TERN_H
#define TERN_H

#include <stdbool.h>

int cmd_run(int argc, char **argv, bool probe_only);

/* tern build (build.c; the image itself: image.h) */
int cmd_build(int argc, char **argv);

/* ROFS images (rofs_cmds.c) */
int cmd_ls(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_mkrofs(int argc, char **argv);

/* Static Linux programs for Tern: gcc with musl or glibc (cc.c) */
int cmd_cc(int argc, char **argv);

#endif
