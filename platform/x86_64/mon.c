/*
 * mon.c: the built-in monitor. Reads bytes from COM1 and key presses from
 * the PS/2 keyboard, echoes them on both consoles with simple line
 * editing (backspace; escape sequences are skipped) and runs commands:
 *   help, mem, echo TEXT, uptime, sleep MS, fault, overflow, cpu
 *
 * Interface: mon_run, mon_exec.
 */
#include "mon.h"

#include <stdint.h>
#include <string.h>

#include "apic.h"
#include "boot.h"
#include "cpu.h"
#include "fbcon.h"
#include "kbd.h"
#include "mneme/platform.h"
#include "serial.h"
#include "x86.h"
#include "xprintf.h"

#define PROMPT "mneme> "

static char line[256];
static size_t len;
static int esc; /* skipping an escape sequence: 1 after ESC, 2 in CSI */

static uint64_t parse_u64(const char *s) {
  uint64_t v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (uint64_t)(*s++ - '0');
  return v;
}

static void cmd_mem(void) {
  const struct boot_info *bi = &x86_boot.info;
  xprintf("mem: %lu KiB usable (%lu MiB) in %zu regions\n",
          x86_boot.ram_total >> 10, x86_boot.ram_total >> 20, bi->nregions);
  for (size_t i = 0; i < bi->nregions && i < 8; i++)
    xprintf("  %016lx-%016lx %lu KiB\n", (uint64_t)bi->regions[i].base,
            (uint64_t)(bi->regions[i].base + bi->regions[i].size),
            (uint64_t)bi->regions[i].size >> 10);
  if (bi->nregions > 8) xprintf("  ... %zu more\n", bi->nregions - 8);
}

static void cmd_cpu(void) {
  uint32_t cols = 0, rows = 0;
  fbcon_size(&cols, &rows);
  xprintf("tsc %lu kHz, xsave mask 0x%lx (%u bytes), console %ux%u cells\n",
          apic_tsc_hz() / 1000, x86_xsave_mask, x86_xsave_size, cols, rows);
}

static void cmd_sleep(uint64_t ms) {
  uint64_t t0 = plat_now_ns(), deadline = t0 + ms * 1000000ull;
  while (plat_now_ns() < deadline) plat_wait_event(deadline);
  xprintf("slept %lu us\n", (plat_now_ns() - t0) / 1000);
}

static void cmd_fault(void) {
  uintptr_t a = 0x10;
  __asm__ volatile("" : "+r"(a)); /* hide the constant from the optimizer */
  xprintf("reading address %lx\n", (uint64_t)a);
  xprintf("read %lx\n", (uint64_t)*(volatile uint64_t *)a);
}

/* overflow: recursion on a small stack with a guard page below it. */
__attribute__((aligned(4096))) static uint8_t ovf_stack[8 * 4096];
static struct plat_context ovf_ctx, mon_ctx;
static const char *ovf_name(void) { return "overflow-test"; }

static volatile uint64_t ovf_limit = UINT64_MAX;

static __attribute__((noinline)) uint64_t recurse(uint64_t n) {
  volatile uint8_t pad[256];
  pad[0] = (uint8_t)n;
  if (n >= ovf_limit) return n;
  return recurse(n + 1) + pad[0];
}

static void ovf_entry(void) {
  recurse(0);
  for (;;) {}
}

static void cmd_overflow(void) {
  int rc = plat_stack_guard(ovf_stack, 4096, 1);
  if (rc) {
    xprintf("overflow: plat_stack_guard failed (%d)\n", rc);
    return;
  }
  xprintf("overflowing a %zu byte stack with a guard page at %p\n",
          sizeof ovf_stack - 4096, (void *)ovf_stack);
  cpu_task_name_hook = ovf_name;
  plat_context_init(&ovf_ctx, ovf_stack + 4096, sizeof ovf_stack - 4096,
                    ovf_entry);
  plat_context_switch(&mon_ctx, &ovf_ctx);
}

void mon_exec(char *l) {
  while (*l == ' ') l++;
  char *arg = strchr(l, ' ');
  if (arg) {
    *arg++ = 0;
    while (*arg == ' ') arg++;
  } else {
    arg = l + strlen(l);
  }
  if (!*l) return;
  if (!strcmp(l, "help"))
    xprintf("commands: help mem echo uptime sleep MS cpu fault overflow\n");
  else if (!strcmp(l, "mem")) cmd_mem();
  else if (!strcmp(l, "echo")) xprintf("%s\n", arg);
  else if (!strcmp(l, "uptime")) xprintf("uptime %lu ms\n", plat_now_ns() / 1000000);
  else if (!strcmp(l, "sleep")) cmd_sleep(parse_u64(arg));
  else if (!strcmp(l, "cpu")) cmd_cpu();
  else if (!strcmp(l, "fault")) cmd_fault();
  else if (!strcmp(l, "overflow")) cmd_overflow();
  else xprintf("%s: unknown command (try help)\n", l);
}

static void input(uint8_t b) {
  if (esc == 1) {
    esc = b == '[' ? 2 : 0;
    return;
  }
  if (esc == 2) {
    if (b >= 0x40 && b <= 0x7e) esc = 0;
    return;
  }
  if (b == 0x1b) {
    esc = 1;
  } else if (b == '\r' || b == '\n') {
    plat_console_write("\n", 1);
    line[len] = 0;
    mon_exec(line);
    len = 0;
    plat_console_write(PROMPT, sizeof PROMPT - 1);
  } else if (b == 0x7f || b == 0x08) {
    if (len) {
      len--;
      plat_console_write("\b \b", 3);
    }
  } else if (b >= 0x20 && b < 0x7f && len + 1 < sizeof line) {
    line[len++] = (char)b;
    plat_console_write((const char *)&b, 1);
  }
}

_Noreturn void mon_run(void) {
  plat_console_write(PROMPT, sizeof PROMPT - 1);
  for (;;) {
    uint8_t buf[64];
    size_t n = serial_read(buf, sizeof buf);
    for (size_t i = 0; i < n; i++) input(buf[i]);
    struct key_event ev[16];
    size_t k = kbd_read(ev, 16);
    for (size_t i = 0; i < k; i++) {
      char b[8];
      size_t m = kbd_to_bytes(&ev[i], b);
      for (size_t j = 0; j < m; j++) input((uint8_t)b[j]);
    }
    if (!n && !k) plat_wait_event(UINT64_MAX);
  }
}
