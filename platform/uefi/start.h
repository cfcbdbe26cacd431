/*
 * start.h: what both UEFI platforms (x86_64, aarch64) do once the kernel
 * runs: the configuration, the first task (PCI and its drivers, the
 * configured services, files, the console port, the chat screen, the
 * shells), the other cores and llm-local over a model from the ESP, the
 * OpenAI-compatible server when the command line asks for it, and the
 * ESP's extra TLS trust anchors. A platform's main.c brings up its
 * hardware (interrupts, clock, serial, framebuffer) and hands the rest to
 * uefi_start with the few things that differ (struct uefi_start_ops).
 */
#ifndef MNEME_UEFI_START_H
#define MNEME_UEFI_START_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/config.h"
#include "mneme/par.h"

struct uefi_start_ops {
  /* Starts the other cores (runs in a task of its own, may take a while). */
  void (*start_cores)(void);
  /* The parallel-for over every core, once start_cores returned. */
  const struct par_ops *(*par)(void);
  /* The framebuffer console's port service (use_mux: the keyboard mux). */
  int (*console_start)(int use_mux);
  /* Microseconds since the firmware entered mneme. */
  uint64_t (*us_since_entry)(void);
};

/* The configuration: \mneme\config.bin from the ESP when it decodes and is
 * for this platform (kind, named arch in the warning), else the built-in
 * one; halts the machine when neither decodes. */
void uefi_config_load(struct mn_config *cfg, enum mn_platform_kind kind, const char *arch);

/* Spawns the first task, which starts everything (the list above) from
 * cfg (kept by the caller for the kernel's lifetime). 0 or MN_E*. */
int uefi_start(const struct uefi_start_ops *ops, const struct mn_config *cfg);

/* The value of key=VALUE on the command line (\mneme\cmdline), copied
 * into out (NUL-terminated, at most n-1 bytes); 1 when found, else 0. */
int uefi_cmdline_arg(const char *key, char *out, size_t n);

#endif
