/*
 * main.c: mneme as a Linux process.
 *
 * Usage: mneme [--heap SIZE] [--serial stdio|tcp:PORT|none] [--log LEVEL]
 *              [--config FILE] [--key-echo PORT] [--net slirp[,hostfwd=H:G]]
 *              [--disk IMAGE]... [--settings FILE] [--model FILE.gguf] [--serve PORT]
 *
 * The heap is one mmapped region of SIZE bytes (K/M/G suffixes), all the
 * memory the kernel may use. The configuration (config/hosted.toml baked
 * in, or --config FILE: the .bin tools/mkconfig.py writes, or a .toml it
 * converts) says which services start, in dependency order: the serial
 * port over stdin/stdout or a TCP listener on 127.0.0.1, the serial mux
 * and its port users, the keyboard mux, tracing, status. The userspace
 * message bridge runs on sermux port 4, or on the bare serial port when
 * the mux is disabled. Command-line options override the configuration.
 * --net slirp gives the network service a NIC over libslirp
 * (platform/hosted/slirp.c); the service runs with [services.net]'s
 * settings, or DHCP when the configuration has none, and the default
 * heap grows to 32 MiB. --net tap:NAME uses an existing Linux TAP device
 * instead (platform/hosted/tap.c).
 * Each --disk is a block device (disk.c; the first is disk 0, whose EFI
 * system partition or first FAT volume is /boot) and the files service
 * mounts what they hold; with disks the heap is at least DISK_HEAP.
 * --model maps a GGUF file (outside the heap, read-only) and starts
 * llm-local over it (GENERATE, the chat); the heap is then at least
 * MODEL_HEAP for the conversations' state. --serve starts the
 * OpenAI-compatible server (llmserve/) on that port of the network
 * service (with --net slirp,hostfwd=tcp:127.0.0.1:H-:PORT the host
 * reaches it).
 * --settings FILE is the settings store (TOML, settings_file.c; the
 * conversations go to FILE.chats without a disk); --model serves a GGUF
 * model with llm-local (the chat's local backend, GENERATE).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "console.h"
#include "hosted.h"
#include "mneme/blockdev.h"
#include "mneme/chat_words.h"
#include "mneme/gguf.h"
#include "mneme/llm.h"
#include "mneme/config.h"
#include "mneme/files.h"
#include "mneme/err.h"
#include "mneme/forth_shell.h"
#include "mneme/forth_task.h"
#include "mneme/ktime.h"
#include "mneme/kernel.h"
#include "mneme/llm.h"
#include "mneme/llmserve.h"
#include "mneme/log.h"
#include "mneme/net.h"
#include "mneme/sermux.h"
#include "mneme/svcstart.h"
#include "mneme/task.h"

#define NET_HEAP_MIN ((size_t)32 << 20)  /* default heap with --net */
#define DISK_HEAP (16u << 20)
#define MODEL_HEAP ((size_t)128 << 20)  /* default heap with --model */

struct opts {
  const char *disks[BLOCKDEV_MAX_DISKS];
  unsigned ndisks;
  size_t heap;                 /* 0: from the configuration */
  const char *serial;          /* NULL: from the configuration */
  int log_level;               /* -1: from the configuration */
  const char *config;          /* NULL: the baked one */
  int key_echo;                /* sermux port, -1: none */
  const char *net;             /* NULL: no NIC */
  const char *model;           /* --model FILE, or NULL */
  const void *model_data;      /* its bytes (mapped) */
  size_t model_size;
  int serve;                   /* --serve PORT, -1: none */
  const char *llm;             /* --llm PROVIDER,BASE_URL,MODEL[,nostream][,timeout=MS] */
  struct mn_config cfg;
  uint8_t *cfg_bytes;
  char serial_spec[64];
};

static int
parse_size(const char *s, size_t *out)
{
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  switch (*end) {
  case 'k': case 'K': v <<= 10; end++; break;
  case 'm': case 'M': v <<= 20; end++; break;
  case 'g': case 'G': v <<= 30; end++; break;
  }
  if (end == s || *end || v == 0)
    return -1;
  *out = (size_t)v;
  return 0;
}

static void
usage(void)
{
  fprintf(stderr,
          "usage: mneme [--heap SIZE] [--serial stdio|tcp:PORT|none] [--log LEVEL]\n"
          "             [--config FILE] [--key-echo PORT] [--net slirp[,hostfwd=H:G]]\n"
          "             [--disk IMAGE]... [--settings FILE] [--model FILE.gguf] [--serve PORT]\n"
          "  --heap SIZE     memory the kernel may use (K/M/G; default: config)\n"
          "  --serial SPEC   serial port: stdin/stdout, or 127.0.0.1:PORT (tcp:0: a\n"
          "                  free port, named in the log line \"serial: listening on\")\n"
          "  --log LEVEL     trace, debug, info, warn or error (default: config)\n"
          "  --config FILE   configuration: a .bin from tools/mkconfig.py, or a\n"
          "                  .toml (converted with python3 tools/mkconfig.py)\n"
          "  --key-echo PORT write every key event as a text line to sermux PORT\n"
          "  --net slirp     a NIC on slirp's user-mode network (10.0.2.15 by DHCP;\n"
          "                  10.0.2.2 is the host's 127.0.0.1); hostfwd=H:G forwards\n"
          "                  127.0.0.1:H to the guest's port G\n"
          "  --net tap:NAME  a NIC on the existing TAP device NAME (ip tuntap add)\n"
          "  --disk IMAGE    a disk image file as the next block device (up to 8);\n"
          "                  its FAT volumes appear as /boot, /disk1, ...\n"
          "  --model FILE    a GGUF model for llm-local (GENERATE, the chat)\n"
          "  --llm PROVIDER,BASE_URL,MODEL[,nostream][,timeout=MS]\n"
          "                  llm-remote (ASK, the chat); the API key from the\n"
          "                  environment variable MNEME_LLM_API_KEY\n"
          "  --serve PORT    the OpenAI-compatible server on the network service\n"
          "                  (with --net slirp,hostfwd=tcp:127.0.0.1:H-:PORT)\n"
          "  --settings FILE the user's settings (TOML; created by SETTING! or the\n"
          "                  wizard); conversations in FILE.chats without a disk\n");
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
  static const char *levels[] = { "trace", "debug", "info", "warn", "error" };
  o->heap = 0;
  o->serial = 0;
  o->log_level = -1;
  o->config = 0;
  o->key_echo = -1;
  o->net = 0;
  o->model = 0;
  o->serve = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : 0;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage();
      exit(0);
    } else if (!strcmp(a, "--heap") && v) {
      if (parse_size(v, &o->heap))
        return -1;
      i++;
    } else if (!strcmp(a, "--disk") && v) {
      if (o->ndisks == BLOCKDEV_MAX_DISKS)
        return -1;
      o->disks[o->ndisks++] = v;
      i++;
    } else if (!strcmp(a, "--serial") && v) {
      o->serial = v;
      i++;
    } else if (!strcmp(a, "--net") && v) {
      o->net = v;
      i++;
    } else if (!strcmp(a, "--llm") && v) {
      o->llm = v;
      i++;
    } else if (!strcmp(a, "--settings") && v) {
      hosted_settings_path = v;
      i++;
    } else if (!strcmp(a, "--model") && v) {
      o->model = v;
      i++;
    } else if (!strcmp(a, "--serve") && v) {
      char *end;
      long p = strtol(v, &end, 10);
      if (*end || p < 1 || p > 65535)
        return -1;
      o->serve = (int)p;
      i++;
    } else if (!strcmp(a, "--config") && v) {
      o->config = v;
      i++;
    } else if (!strcmp(a, "--key-echo") && v) {
      o->key_echo = atoi(v);
      if (o->key_echo < 0 || o->key_echo > 65535)
        return -1;
      i++;
    } else if (!strcmp(a, "--log") && v) {
      int l = -1;
      for (int k = 0; k < 5; k++)
        if (!strcmp(v, levels[k]))
          l = k;
      if (l < 0)
        return -1;
      o->log_level = l;
      i++;
    } else {
      return -1;
    }
  }
  return 0;
}

/* Reads a whole file into a malloc'd buffer. Returns 0 or -1. */
static int
read_file(const char *path, uint8_t **out, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  size_t cap = 4096, n = 0;
  uint8_t *b = malloc(cap);
  size_t r;
  while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap)
      b = realloc(b, cap *= 2);
  }
  fclose(f);
  if (!b)
    return -1;
  *out = b;
  *len = n;
  return 0;
}

/* Loads --config (converting a .toml with mkconfig.py) or the baked bytes. */
static int
load_config(struct opts *o)
{
  const uint8_t *bytes = mn_config_baked;
  size_t len = mn_config_baked_len;
  if (o->config) {
    char bin[] = "/tmp/mneme-config-XXXXXX";
    const char *path = o->config;
    size_t pl = strlen(path);
    if (pl > 5 && !strcmp(path + pl - 5, ".toml")) {
      int fd = mkstemp(bin);
      if (fd < 0)
        return -1;
      close(fd);
      const char *tool = getenv("MNEME_MKCONFIG");
      char cmd[1024];
      snprintf(cmd, sizeof cmd, "python3 '%s' '%s' --bin '%s'",
               tool ? tool : "tools/mkconfig.py", path, bin);
      int rc = system(cmd);
      path = bin;
      if (rc != 0) {
        unlink(bin);
        return -1;
      }
    }
    int err = read_file(path, &o->cfg_bytes, &len);
    if (path == bin)
      unlink(bin);
    if (err) {
      fprintf(stderr, "mneme: cannot read %s\n", o->config);
      return -1;
    }
    bytes = o->cfg_bytes;
  }
  int err = mn_config_decode(&o->cfg, bytes, len);
  if (err) {
    fprintf(stderr, "mneme: bad configuration: %s\n", mn_strerror(err));
    return -1;
  }
  if (o->cfg.platform.kind != MN_PLATFORM_HOSTED) {
    fprintf(stderr, "mneme: the configuration is not for the hosted platform\n");
    return -1;
  }
  forth_task_configure(mn_config_find(&o->cfg, MN_SVC_FORTH_SHELLS));
  if (!o->serial) {
    const struct mn_str *s = &o->cfg.platform.u.hosted.serial;
    size_t n = s->len < sizeof o->serial_spec - 1 ? s->len : sizeof o->serial_spec - 1;
    memcpy(o->serial_spec, s->ptr, n);
    o->serial_spec[n] = 0;
    o->serial = o->serial_spec;
  }
  if (!o->heap) {
    o->heap = (size_t)o->cfg.kernel.heap;
    if (o->net && o->heap < NET_HEAP_MIN)
      o->heap = NET_HEAP_MIN;    /* rings of 128 KiB per TCP connection */
    if (o->ndisks && o->heap < DISK_HEAP)
      o->heap = DISK_HEAP;
    if (o->model && o->heap < MODEL_HEAP)
      o->heap = MODEL_HEAP;
  }
  if (o->log_level < 0)
    o->log_level = o->cfg.kernel.log_level;
  return 0;
}

static int
hosted_serial(void *arg)
{
  return hosted_serial_start(arg);
}

/* Forth shells on the configured sermux ports (services/forth_shell.c). */
static int
hosted_forth_shells(const uint16_t *ports, size_t n, void *arg)
{
  (void)arg;
  return forth_shells_start(ports, n);
}

/* A Forth shell on the console (stdin/stdout) when the serial line is
 * elsewhere (--serial tcp:PORT or none). */
static void
start_console_shell(const struct opts *o)
{
  struct bbq *in, *out;
  int tty;
  if (!strcmp(o->serial, "stdio"))
    return;
  int err = hosted_console_open(&in, &out, &tty);
  if (!err)
    err = forth_console_start(in, out, tty ? LE_TERMINAL : LE_PLAIN);
  if (err)
    klog(LOG_ERROR, "console shell: %s", mn_strerror(err));
}

/* --llm PROVIDER,BASE_URL,MODEL[,nostream][,timeout=MS]: llm-remote. */
static void
start_llm_remote(const char *spec)
{
  static char buf[512];
  snprintf(buf, sizeof buf, "%s", spec);
  char *f[5] = { 0 };
  int n = 0;
  for (char *p = buf; p && n < 5; n++) {
    f[n] = p;
    p = strchr(p, ',');
    if (p)
      *p++ = 0;
  }
  struct llm_remote_config c = { .provider = f[0], .base_url = f[1], .model = f[2],
                                 .api_key = getenv("MNEME_LLM_API_KEY"), .temperature = -1.0f,
                                 .stream = 1 };
  for (int i = 3; i < n; i++) {
    if (!strcmp(f[i], "nostream"))
      c.stream = 0;
    else if (!strncmp(f[i], "timeout=", 8))
      c.timeout_ms = (uint32_t)strtoul(f[i] + 8, 0, 10);
  }
  int err = n >= 3 ? llm_remote_start(&c) : MN_EINVAL;
  if (err)
    klog(LOG_ERROR, "--llm: %s (PROVIDER,BASE_URL,MODEL)", mn_strerror(err));
}

static int
start_services(void *arg)
{
  const struct opts *o = arg;
  struct svcstart_hooks h = { 0, hosted_forth_shells, (void *)o->serial, net_svcstart };
  int cw = chat_words_register();
  if (cw)
    klog(LOG_ERROR, "chat words: %s", mn_strerror(cw));
  for (unsigned i = 0; i < o->ndisks; i++) {
    int err = hosted_disk_start(i, o->disks[i]);
    if (err)
      klog(LOG_ERROR, "disk %s: %s", o->disks[i], mn_strerror(err));
  }
  if (o->ndisks) {
    int err = files_start();
    if (err)
      klog(LOG_ERROR, "files: %s", mn_strerror(err));
  }
  if (strcmp(o->serial, "none"))
    h.serial = hosted_serial;
  if (o->net) {
    int err = strncmp(o->net, "tap:", 4) ? hosted_slirp_start(o->net)
                                         : hosted_tap_start(o->net);
    if (err)
      klog(LOG_ERROR, "--net %s: %s", o->net, mn_strerror(err));
  }
  if (o->net && !mn_config_find(&o->cfg, MN_SVC_NET)) {
    /* --net without [services.net]: the service with DHCP */
    static struct mn_config_service dhcp = { .kind = MN_SVC_NET, .u.net.dhcp = 1 };
    int err = net_svcstart(&dhcp, 0);
    if (err)
      klog(LOG_ERROR, "net: %s", mn_strerror(err));
  }
  svcstart_run(&o->cfg, &h);
  if (o->model_data) {
    const char *base = strrchr(o->model, '/');
    struct llm_local_config lc = { .gguf = o->model_data, .gguf_size = o->model_size,
                                   .file_name = base ? base + 1 : o->model };
    const char *why = 0;
    int err = llm_local_start(&lc, &why);
    if (err)
      klog(LOG_ERROR, "model %s: %s (%s)", o->model, why ? why : "", mn_strerror(err));
    else
      klog(LOG_INFO, "llm-local: model %s, %zu KiB", o->model, o->model_size >> 10);
  }
  if (o->llm)
    start_llm_remote(o->llm);
  if (o->serve >= 0) {
    int err = llmserve_start((uint16_t)o->serve);
    if (err)
      klog(LOG_ERROR, "--serve %d: %s", o->serve, mn_strerror(err));
  }
  start_console_shell(o);
  if (o->key_echo >= 0) {
    int err = sermux_keyecho_start((uint16_t)o->key_echo);
    if (err)
      klog(LOG_ERROR, "key echo: %s", mn_strerror(err));
  }
  klog(LOG_INFO, "mneme is up");
  return 0;
}

int
main(int argc, char **argv)
{
  static struct opts o;
  if (parse_args(argc, argv, &o)) {
    usage();
    return 2;
  }
  if (load_config(&o))
    return 2;
  if (!strcmp(o.serial, "stdio") && isatty(1) && mn_config_find(&o.cfg, MN_SVC_SERMUX))
    fprintf(stderr, "mneme: the serial line carries sermux frames; to watch it, run\n"
                    "  build/hosted/mnemeterm \"exec:build/hosted/mneme --serial stdio\"\n");
  if (o.model) {
    int fd = open(o.model, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || st.st_size == 0) {
      fprintf(stderr, "mneme: cannot read the model %s\n", o.model);
      return 2;
    }
    o.model_size = (size_t)st.st_size;
    o.model_data = mmap(0, o.model_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (o.model_data == MAP_FAILED) {
      perror("mneme: mmap the model");
      return 1;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  hosted_fault_init();
  void *mem = mmap(0, o.heap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("mneme: mmap");
    return 1;
  }
  struct mem_region region = { (uintptr_t)mem, o.heap };
  struct boot_info bi = { &region, 1, 0, 0, 0 };
  klog_set_level(o.log_level);
  if (kernel_init(&bi)) {
    fprintf(stderr, "mneme: a heap of %zu bytes is too small\n", o.heap);
    return 1;
  }
  klog(LOG_INFO, "mneme (hosted): heap %zu KiB", o.heap >> 10);
  if (hosted_clockrng_start())
    klog(LOG_ERROR, "cannot start the entropy service");
  if (task_spawn("init", start_services, &o, 0, 0)) {
    fprintf(stderr, "mneme: a heap of %zu bytes is too small to start the first task\n", o.heap);
    return 1;
  }
  return kernel_run();
}
