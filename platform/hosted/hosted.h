/*
 * hosted.h: services of the hosted platform to its own drivers.
 *
 * A host file descriptor becoming ready is the hosted platform's
 * interrupt: plat_wait_event() runs the watcher's callback, which (like an
 * interrupt handler) only wakes tasks. Watches are edge-triggered: a task
 * must read or write until EAGAIN before it waits again.
 */
#ifndef MNEME_HOSTED_H
#define MNEME_HOSTED_H

#include <stdint.h>

typedef void (*hosted_fd_fn)(int fd, uint32_t events, void *arg);

/* events: EPOLLIN / EPOLLOUT bits. Returns 0 or MN_EIO. */
int hosted_watch(int fd, uint32_t events, hosted_fd_fn fn, void *arg);
void hosted_unwatch(int fd);

/* Turns faults in stack guard pages into panics naming the task. */
void hosted_fault_init(void);

/*
 * Starts the serial port driver and registers the serial port service.
 * spec: "stdio" (stdin/stdout) or "tcp:PORT" (a listener on 127.0.0.1;
 * PORT 0: a free port, logged as "serial: listening on 127.0.0.1:N").
 * Returns 0, MN_EINVAL (bad spec), MN_EIO (cannot listen), MN_ENOMEM.
 */
int hosted_serial_start(const char *spec);

/*
 * Starts the NIC driver over libslirp and registers it as the netdev
 * service (netdev.h). spec: "slirp", optionally followed by
 * ",hostfwd=H:G" (127.0.0.1:H on the host reaches guest port G), more
 * than once. Returns 0, MN_EINVAL (bad spec), MN_EADDRINUSE, MN_ENOMEM,
 * MN_EIO.
 */
int hosted_slirp_start(const char *spec);

/*
 * Serves the disk image file at path as block device n (BLOCKDEV_UUID_N,
 * blockdev.h). Returns 0, MN_ENOENT (cannot open), MN_EINVAL (n too
 * large, or smaller than a sector), MN_ENOMEM, MN_EEXIST.
 */
int hosted_disk_start(unsigned n, const char *path);

/*
 * Starts the NIC driver over the Linux TAP device of spec "tap:NAME" (it
 * must exist: ip tuntap add dev NAME mode tap) and registers it as the
 * netdev service. Returns 0, MN_EINVAL (bad spec), MN_EIO (no such
 * device or no permission), MN_ENOMEM.
 */
int hosted_tap_start(const char *spec);

/* Sets the time service from the host's clock and starts the entropy
 * service with getrandom() as its source (clockrng.c). */
int hosted_clockrng_start(void);
/* --settings FILE (settings_file.c); NULL: no settings store. */
extern const char *hosted_settings_path;

#endif
