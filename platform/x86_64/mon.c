/*
 * mon.c: the built-in monitor. Reads bytes from COM1 and key presses from
 * the PS/2 keyboard, echoes them on both consoles with line editing
 * (Left/Right, Home/End, Delete, Backspace, Ctrl-A/Ctrl-E) and runs
 * commands:
 *   help, mem, ps, spawn N, echo TEXT, uptime, sleep MS, fault [gp|ud], overflow,
 *   cpu, fpu, forth
 * `forth` runs a Forth VM (include/mneme/forth.h) on the same consoles:
 * edited lines are its terminal input, BYE returns to the monitor; host
 * words SPAWN ( xt -- id ) run xt in a child VM on its own kernel task,
 * STATUS ( -- ) shows uptime, heap and tasks.
 * It is a kernel task: it holds the serial and console port services
 * and waits on x86_input_wq, which their rx tasks wake; it writes through
 * plat_console_write, to both.
 *
 * Interface: mon_task, mon_exec.
 */
#include "mon.h"

#include <stdint.h>
#include <string.h>

#include "apic.h"
#include "boot.h"
#include "console_svc.h"
#include "cpu.h"
#include "fbcon.h"
#include "fpu.h"
#include "kbd.h"
#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/forth.h"
#include "mneme/heap.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/platform.h"
#include "mneme/serial.h"
#include "mneme/task.h"
#include "mneme/waitq.h"
#include "serial.h"
#include "serial_svc.h"
#include "x86.h"
#include "xprintf.h"

#define PROMPT "mneme> "

static char line[256];
static size_t len, cur; /* line length and cursor position in it */
static int esc;         /* 1 after ESC, 2 in a CSI (ESC [) or SS3 (ESC O) */
static int esc_num;     /* the CSI's number (3 in ESC [ 3 ~) */

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
  struct heap_stats hs;
  heap_stats(kmem_heap(), &hs);
  xprintf("heap: %zu KiB total, %zu KiB in use, %zu KiB free, largest free %zu KiB\n",
          hs.total >> 10, hs.in_use >> 10, hs.free >> 10, hs.largest_free >> 10);
}

static void cmd_ps(void) {
  struct task_info ti[32];
  size_t n = task_list(ti, 32);
  xprintf("  id name                     state    stack used/size  switches\n");
  for (size_t i = 0; i < n && i < 32; i++)
    xprintf("%4u %-24s %-8s %6zu/%-6zu %10lu\n", ti[i].id, ti[i].name,
            task_state_name(ti[i].state), ti[i].stack_used_max,
            ti[i].stack_size, ti[i].switches);
}

static int worker(void *arg) {
  uint64_t n = (uint64_t)(uintptr_t)arg;
  for (uint64_t i = 1; i <= n; i++) {
    task_sleep(MN_MSEC(100));
    xprintf("worker %u: tick %lu of %lu\n", task_current()->id, i, n);
  }
  return 0;
}

static void cmd_spawn(uint64_t n) {
  struct task *t;
  int rc = task_spawn("worker", worker, (void *)(uintptr_t)(n ? n : 3), 0, &t);
  if (rc) {
    xprintf("spawn: %s\n", mn_strerror(rc));
    return;
  }
  xprintf("spawned task %u\n", t->id);
  task_detach(t);
}

static void cmd_cpu(void) {
  uint32_t cols = 0, rows = 0;
  fbcon_size(&cols, &rows);
  xprintf("tsc %lu kHz, xsave mask 0x%lx (%u bytes), console %ux%u cells\n",
          apic_tsc_hz() / 1000, x86_xsave_mask, x86_xsave_size, cols, rows);
  xprintf("lost input: %lu serial bytes (receive ring full), %lu key events; "
          "%lu NMIs\n", serial_rx_dropped(), kbd_lost(), cpu_nmis);
}

static void cmd_sleep(uint64_t ms) {
  uint64_t t0 = plat_now_ns();
  task_sleep(MN_MSEC(ms));
  xprintf("slept %lu us\n", (plat_now_ns() - t0) / 1000);
}

static const char *verdict(int r) {
  return r > 0 ? "ok" : r == 0 ? "FAILED" : "not checked";
}

static void cmd_fpu(void) {
  xprintf("fpu: ymm0-15 and MXCSR across interrupts: %s\n", verdict(fpu_test_irq()));
  xprintf("fpu: xmm6-15 and MXCSR across task switches: %s\n",
          verdict(fpu_test_switch()));
}

static void cmd_fault(const char *kind) {
  if (!strcmp(kind, "ud")) {
    xprintf("executing ud2\n");
    __asm__ volatile("ud2");
  }
  uintptr_t a = !strcmp(kind, "gp") ? 0x8000000000000000ull : 0x10;
  __asm__ volatile("" : "+r"(a)); /* hide the constant from the optimizer */
  xprintf("reading address %lx\n", (uint64_t)a);
  xprintf("read %lx\n", (uint64_t)*(volatile uint64_t *)a);
}

/* overflow: a task recursing into the guard page below its stack. */
static volatile uint64_t ovf_limit = UINT64_MAX;

static __attribute__((noinline)) uint64_t recurse(uint64_t n) {
  volatile uint8_t pad[256];
  pad[0] = (uint8_t)n;
  if (n >= ovf_limit) return n;
  return recurse(n + 1) + pad[0];
}

static int ovf_task(void *arg) {
  (void)arg;
  return (int)recurse(0);
}

static void cmd_overflow(void) {
  int rc = task_spawn("overflow-test", ovf_task, 0, 16 * 1024, 0);
  if (rc) xprintf("overflow: %s\n", mn_strerror(rc));
  else task_sleep(MN_SEC(5));
}

static void cmd_forth(void);

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
    xprintf("commands: help mem ps spawn N echo uptime sleep MS cpu fpu fault [gp|ud] overflow forth\n");
  else if (!strcmp(l, "mem")) cmd_mem();
  else if (!strcmp(l, "ps")) cmd_ps();
  else if (!strcmp(l, "spawn")) cmd_spawn(parse_u64(arg));
  else if (!strcmp(l, "echo")) xprintf("%s\n", arg);
  else if (!strcmp(l, "uptime")) xprintf("uptime %lu ms\n", plat_now_ns() / 1000000);
  else if (!strcmp(l, "sleep")) cmd_sleep(parse_u64(arg));
  else if (!strcmp(l, "cpu")) cmd_cpu();
  else if (!strcmp(l, "fpu")) cmd_fpu();
  else if (!strcmp(l, "fault")) cmd_fault(arg);
  else if (!strcmp(l, "overflow")) cmd_overflow();
  else if (!strcmp(l, "forth")) cmd_forth();
  else xprintf("%s: unknown command (try help)\n", l);
}

/* ---- Forth mode --------------------------------------------------------- */

static forth_vm *vm;
static char fin[1024];           /* lines typed for the VM */
static size_t fin_head, fin_len;
static struct bbq *ports_rx[2];
static uint8_t pending[256];     /* raw input not yet edited */
static size_t npending;

static void *f_alloc(void *ctx, void *old, size_t osz, size_t nsz) {
  (void)ctx;
  (void)osz;
  if (!nsz) {
    kfree(old);
    return NULL;
  }
  return krealloc(old, nsz);
}

static void f_write(void *ctx, const char *buf, size_t n) {
  (void)ctx;
  plat_console_write(buf, n);
}

static int f_key(void *ctx) {
  (void)ctx;
  if (!fin_len) return FORTH_KEY_WAIT;
  int c = (uint8_t)fin[fin_head];
  fin_head = (fin_head + 1) % sizeof fin;
  fin_len--;
  return c;
}

static uint64_t f_now_ms(void *ctx) {
  (void)ctx;
  return plat_now_ns() / 1000000u;
}

/* Moves what the ports received into pending (as much as fits). */
static void poll_input(void) {
  for (int i = 0; i < 2; i++) {
    const uint8_t *p;
    size_t n;
    if (!ports_rx[i] || bbq_read(ports_rx[i], &p, &n) != 0) continue;
    size_t take = n < sizeof pending - npending ? n : sizeof pending - npending;
    memcpy(pending + npending, p, take);
    npending += take;
    bbq_release(ports_rx[i], take);
  }
}

/* Runs the VM until it needs input; Ctrl-C interrupts a running word.
 * Returns 1 while the VM lives, 0 once it ended (BYE). */
static int run_forth(void) {
  for (;;) {
    int r = forth_run(vm, 20000);
    if (r == FORTH_YIELD) {
      poll_input();
      for (size_t i = 0; i < npending; i++)
        if (pending[i] == 3) {
          forth_interrupt(vm);
          memmove(pending + i, pending + i + 1, --npending - i);
          i--;
        }
      task_yield();
      continue;
    }
    if (r == FORTH_WAIT) {
      uint64_t dl = forth_wait_deadline(vm);
      if (!dl) return 1; /* waits for input */
      task_sleep_until(dl * 1000000u);
      continue;
    }
    forth_destroy(vm);
    vm = NULL;
    return 0;
  }
}

/* A SPAWNed VM's task: runs until it ends (it has no terminal input). */
static int forth_child_task(void *arg) {
  forth_vm *c = arg;
  for (;;) {
    int r = forth_run(c, 20000);
    if (r == FORTH_YIELD) {
      task_yield();
      continue;
    }
    uint64_t dl = r == FORTH_WAIT ? forth_wait_deadline(c) : 0;
    if (!dl) break;
    if (task_sleep_until(dl * 1000000u)) break; /* killed */
  }
  forth_destroy(c);
  return 0;
}

static int f_no_key(void *ctx) {
  (void)ctx;
  return FORTH_KEY_EOF;
}

/* SPAWN ( xt -- id ): runs xt in a new VM on its own kernel task. */
static int w_spawn(forth_vm *v, void *ctx) {
  (void)ctx;
  static const struct forth_host child_host = {
      .alloc = f_alloc, .write = f_write, .key = f_no_key, .now_ms = f_now_ms};
  forth_cell xt;
  if (forth_pop(v, &xt)) return -4;
  forth_vm *c;
  int rc = forth_spawn(v, xt, &child_host, &c);
  if (rc) return rc == MN_ENOMEM ? -59 : -21;
  struct task *t;
  if (task_spawn("forth", forth_child_task, c, 64 * 1024, &t)) {
    forth_destroy(c);
    return -59;
  }
  forth_push(v, (forth_cell)t->id);
  task_detach(t);
  return 0;
}

/* STATUS ( -- ): uptime, the kernel heap and the tasks. */
static int w_status(forth_vm *v, void *ctx) {
  (void)v;
  (void)ctx;
  xprintf("\nuptime %lu ms\n", plat_now_ns() / 1000000u);
  cmd_mem();
  cmd_ps();
  return 0;
}

static void cmd_forth(void) {
  static const struct forth_host host = {
      .alloc = f_alloc, .write = f_write, .key = f_key, .now_ms = f_now_ms};
  struct forth_config cfg = {0};
  cfg.interactive = 1;
  int rc = forth_create(&vm, &host, &cfg);
  if (!rc) rc = forth_define(vm, "SPAWN", w_spawn, NULL);
  if (!rc) rc = forth_define(vm, "STATUS", w_status, NULL);
  if (rc) {
    if (vm) forth_destroy(vm);
    vm = NULL;
    xprintf("forth: %s\n", mn_strerror(rc));
    return;
  }
  fin_head = fin_len = 0;
  xprintf("Forth on mneme (BYE returns to the monitor; Ctrl-C interrupts)\n");
  run_forth();
}

/* A finished line goes to the VM (with its newline), then the VM runs. */
static void forth_line(const char *l, size_t n) {
  for (size_t i = 0; i <= n && fin_len < sizeof fin; i++) {
    fin[(fin_head + fin_len) % sizeof fin] = i < n ? l[i] : '\n';
    fin_len++;
  }
  if (!run_forth()) plat_console_write(PROMPT, sizeof PROMPT - 1);
}

/* ---- line editing -------------------------------------------------------- */

/* Moves the terminal cursor n cells left. */
static void back(size_t n) {
  while (n--) plat_console_write("\b", 1);
}

/* Reprints the line from the cursor on, blanks `extra` cells after its
 * end, and puts the terminal cursor back at cur. */
static void redraw_tail(size_t extra) {
  plat_console_write(line + cur, len - cur);
  for (size_t i = 0; i < extra; i++) plat_console_write(" ", 1);
  back(len - cur + extra);
}

/* The editing keys, as terminals send them: ESC [ C/D/H/F/3~ and ESC O H/F. */
static void edit_key(uint8_t final) {
  if (final == 'D' && cur > 0) {
    cur--;
    back(1);
  } else if (final == 'C' && cur < len) {
    plat_console_write(line + cur, 1);
    cur++;
  } else if (final == 'H' || (final == '~' && (esc_num == 1 || esc_num == 7))) {
    back(cur);
    cur = 0;
  } else if (final == 'F' || (final == '~' && (esc_num == 4 || esc_num == 8))) {
    plat_console_write(line + cur, len - cur);
    cur = len;
  } else if (final == '~' && esc_num == 3 && cur < len) {
    memmove(line + cur, line + cur + 1, len - cur - 1);
    len--;
    redraw_tail(1);
  }
}

static void enter(void) {
  plat_console_write("\n", 1);
  line[len] = 0;
  if (vm) {
    forth_line(line, len);
  } else {
    mon_exec(line);
    if (!vm) plat_console_write(PROMPT, sizeof PROMPT - 1);
  }
  len = cur = 0;
}

static void input(uint8_t b) {
  if (esc == 1) {
    esc = (b == '[' || b == 'O') ? 2 : 0;
    esc_num = 0;
    return;
  }
  if (esc == 2) {
    if (b >= '0' && b <= '9') {
      esc_num = esc_num * 10 + (b - '0');
    } else if (b >= 0x40 && b <= 0x7e) {
      esc = 0;
      edit_key(b);
    }
    return;
  }
  if (b == 0x1b) {
    esc = 1;
  } else if (b == '\r' || b == '\n') {
    enter();
  } else if (b == 0x7f || b == 0x08) {
    if (cur) {
      memmove(line + cur - 1, line + cur, len - cur);
      cur--;
      len--;
      back(1);
      redraw_tail(1);
    }
  } else if (b == 0x01) { /* Ctrl-A, Ctrl-E: home, end */
    edit_key('H');
  } else if (b == 0x05) {
    edit_key('F');
  } else if (b >= 0x20 && b < 0x7f && len + 1 < sizeof line) {
    memmove(line + cur + 1, line + cur, len - cur);
    line[cur] = (char)b;
    len++;
    plat_console_write((const char *)&b, 1);
    cur++;
    redraw_tail(0);
  }
}

int mon_task(void *arg) {
  (void)arg;
  struct bbq *tx;
  int rc = serial_get_port(MN_SEC(1), &ports_rx[0], &tx);
  if (rc) xprintf("shell: no serial port (%s)\n", mn_strerror(rc));
  rc = console_get_port(MN_SEC(1), &ports_rx[1], &tx);
  if (rc) xprintf("shell: no console port (%s)\n", mn_strerror(rc));
  xprintf("boot: %lu us from entry to prompt\n", apic_tsc_to_ns(rdtsc()) / 1000);
  plat_console_write(PROMPT, sizeof PROMPT - 1);
  for (;;) {
    uint32_t seq = waitq_seq(&x86_input_wq);
    poll_input();
    if (!npending) {
      if (waitq_wait_seq(&x86_input_wq, seq, UINT64_MAX) == MN_ECANCELED) return 0;
      continue;
    }
    uint8_t buf[sizeof pending];
    size_t n = npending;
    memcpy(buf, pending, n);
    npending = 0;
    for (size_t i = 0; i < n; i++) input(buf[i]);
  }
}
