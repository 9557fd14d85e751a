/*
 * Detached runs (tern run -d) and the commands that manage them: tern ps,
 * stop, logs, console, rm (instances.c).
 *
 * An instance is a directory under $XDG_RUNTIME_DIR/tern (or
 * ~/.cache/tern/run) named after it, holding:
 *   pid          QEMU's process id (QEMU runs on its own, in its own session)
 *   image        the image directory it boots
 *   started      when, in seconds since the epoch
 *   console.log  the kernel log (QEMU's serial console logfile)
 *   output.log   the app's stdout and stderr (virtio-serial ports to a file)
 *   console.sock the serial console, for tern console
 *   ctl.sock     the port tern.ctl: a byte there asks the app to stop
 *   qemu.log     QEMU's own messages
 * An instance whose QEMU has ended stays listed as exited, with its status,
 * until tern rm (or a new run -d of the same name) removes it.
 */
#ifndef TERN_INSTANCES_H
#define TERN_INSTANCES_H

struct argv_buf;

/* Start QEMU (argv, run in image_dir; "-serial stdio" is replaced) as
 * instance name (NULL: after the image), detached; timeout_s > 0 stops it
 * after that long. Prints the name on stdout. Returns tern's exit status. */
int instance_start(const char *name, const char *image_dir, struct argv_buf *argv,
                   long timeout_s);

int cmd_ps(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_rm(int argc, char **argv);

#endif
