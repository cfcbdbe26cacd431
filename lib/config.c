/*
 * config.c: decodes the configuration bytes that tools/mkconfig.py bakes
 * (layout in docs/config.md) with the postcard decoder. Every field is
 * checked; the bytes may come from a file at boot, so nothing in them is
 * trusted.
 *
 * Layout: "MNCF", version (varint), kernel {heap u64, max_tasks u16,
 * stack_size u32, log_level u8}, services: seq of {variant index, the
 * variant's fields, deps: seq of variant indexes}, platform: {variant
 * index, fields}. Field order follows the schema in tools/mkconfig.py.
 *
 * Interface:
 *   mn_config_decode, mn_config_find, mn_service_name
 */
#include <mneme/config.h>
#include <mneme/err.h>
#include <mneme/postcard.h>

static const char *const service_names[] = {
#define MN_SVC_NAME(name, text) text,
    MN_SERVICE_KINDS(MN_SVC_NAME)
#undef MN_SVC_NAME
};

const char *mn_service_name(enum mn_service_kind kind) {
  return (unsigned)kind < MN_SVC_COUNT ? service_names[kind] : "?";
}

const struct mn_config_service *mn_config_find(const struct mn_config *c,
                                               enum mn_service_kind kind) {
  for (size_t i = 0; i < c->nservices; i++)
    if (c->services[i].kind == kind)
      return &c->services[i];
  return NULL;
}

static int get_level(struct pc_dec *d, uint8_t *level) {
  int rc = pc_dec_u8(d, level);
  return rc ? rc : *level > MN_LOG_ERROR ? MN_ERANGE : 0;
}

static int get_str(struct pc_dec *d, struct mn_str *s) {
  return pc_dec_str(d, &s->ptr, &s->len);
}

static int decode_kernel(struct pc_dec *d, struct mn_config *c) {
  pc_dec_u64(d, &c->kernel.heap);
  pc_dec_u16(d, &c->kernel.max_tasks);
  pc_dec_u32(d, &c->kernel.stack_size);
  int rc = pc_dec_error(d);
  if (rc)
    return rc;
  if (c->kernel.heap < 4096 || c->kernel.max_tasks == 0 ||
      c->kernel.stack_size < 1024)
    return MN_ERANGE; /* the limits of tools/mkconfig.py */
  return get_level(d, &c->kernel.log_level);
}

static int decode_shells(struct pc_dec *d, struct mn_config_service *s) {
  size_t n;
  int rc = pc_dec_seq_len(d, &n);
  if (rc)
    return rc;
  if (n == 0 || n > MN_CONFIG_MAX_SHELLS)
    return MN_ERANGE;
  s->u.forth_shells.nports = (uint8_t)n;
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = pc_dec_u16(d, &s->u.forth_shells.ports[i]);
  if (rc)
    return rc;
  pc_dec_u32(d, &s->u.forth_shells.data_bytes);
  pc_dec_u32(d, &s->u.forth_shells.heap_bytes);
  pc_dec_u16(d, &s->u.forth_shells.stack_cells);
  pc_dec_u16(d, &s->u.forth_shells.rstack_cells);
  pc_dec_u16(d, &s->u.forth_shells.child_stack_cells);
  pc_dec_u16(d, &s->u.forth_shells.child_rstack_cells);
  if ((rc = pc_dec_error(d)))
    return rc;
  /* the limits of tools/mkconfig.py */
  if (s->u.forth_shells.data_bytes < 1024 || s->u.forth_shells.data_bytes > (1u << 24) ||
      s->u.forth_shells.heap_bytes > (1u << 24))
    return MN_ERANGE;
  const uint16_t cells[] = { s->u.forth_shells.stack_cells, s->u.forth_shells.rstack_cells,
                             s->u.forth_shells.child_stack_cells,
                             s->u.forth_shells.child_rstack_cells };
  for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++)
    if (cells[i] < 16 || cells[i] > 4096)
      return MN_ERANGE;
  return 0;
}

static int decode_net(struct pc_dec *d, struct mn_config_service *s) {
  bool dhcp = false;
  size_t n;
  pc_dec_bool(d, &dhcp);
  pc_dec_u32(d, &s->u.net.address);
  pc_dec_u32(d, &s->u.net.netmask);
  pc_dec_u32(d, &s->u.net.gateway);
  int rc = pc_dec_error(d);
  if (rc == 0)
    rc = pc_dec_seq_len(d, &n);
  if (rc)
    return rc;
  s->u.net.dhcp = dhcp;
  if (n > 2 || (!dhcp && s->u.net.address == 0))
    return MN_ERANGE;
  s->u.net.ndns = (uint8_t)n;
  s->u.net.dns_port = 53;
  for (size_t i = 0; i < n && rc == 0; i++) {
    uint16_t port;
    pc_dec_u32(d, &s->u.net.dns[i]);
    rc = pc_dec_u16(d, &port);
    if (rc == 0 && port == 0)
      rc = MN_ERANGE;
    if (rc == 0 && i > 0 && port != s->u.net.dns_port)
      rc = MN_ERANGE;
    s->u.net.dns_port = port;
  }
  return rc;
}

/* The fields of one service variant. */
static int decode_settings(struct pc_dec *d, struct mn_config_service *s) {
  switch (s->kind) {
  case MN_SVC_SERIAL:
  case MN_SVC_KEYBOARD_MUX:
  case MN_SVC_STATUS:
    return 0;
  case MN_SVC_SERMUX:
    pc_dec_u16(d, &s->u.sermux.ports);
    pc_dec_u32(d, &s->u.sermux.max_frame);
    if (pc_dec_error(d))
      return pc_dec_error(d);
    return s->u.sermux.ports == 0 || s->u.sermux.max_frame < 8 ? MN_ERANGE : 0;
  case MN_SVC_LOOPBACK:
    return pc_dec_u16(d, &s->u.loopback.port);
  case MN_SVC_HELLO:
    pc_dec_u16(d, &s->u.hello.port);
    pc_dec_u32(d, &s->u.hello.interval_ms);
    if (get_str(d, &s->u.hello.message))
      return pc_dec_error(d);
    return s->u.hello.interval_ms == 0 ? MN_ERANGE : 0;
  case MN_SVC_PSEUDO_KEYBOARD:
    return pc_dec_u16(d, &s->u.pseudo_keyboard.port);
  case MN_SVC_TRACING: {
    pc_dec_u16(d, &s->u.tracing.port);
    int rc = get_level(d, &s->u.tracing.max_level);
    if (rc == 0)
      rc = pc_dec_u32(d, &s->u.tracing.heartbeat_ms);
    if (rc == 0 && s->u.tracing.heartbeat_ms == 0)
      rc = MN_ERANGE;
    return rc;
  }
  case MN_SVC_FORTH_SHELLS:
    return decode_shells(d, s);
  case MN_SVC_NET:
    return decode_net(d, s);
  default:
    return MN_EDECODE;
  }
}

/* The dependency list: each must be a kind listed before this service. */
static int decode_deps(struct pc_dec *d, const struct mn_config *c,
                       struct mn_config_service *s) {
  size_t n;
  int rc = pc_dec_seq_len(d, &n);
  if (rc)
    return rc;
  if (n > MN_SVC_COUNT)
    return MN_EDECODE;
  for (size_t i = 0; i < n; i++) {
    uint32_t kind;
    rc = pc_dec_variant(d, &kind);
    if (rc)
      return rc;
    if (kind >= MN_SVC_COUNT || !mn_config_find(c, (enum mn_service_kind)kind))
      return MN_EDECODE;
    s->deps[i] = (uint8_t)kind;
  }
  s->ndeps = (uint8_t)n;
  return 0;
}

static int decode_services(struct pc_dec *d, struct mn_config *c) {
  size_t n;
  int rc = pc_dec_seq_len(d, &n);
  if (rc)
    return rc;
  if (n > MN_SVC_COUNT)
    return MN_EDECODE;
  for (size_t i = 0; i < n; i++) {
    struct mn_config_service *s = &c->services[i];
    uint32_t kind;
    rc = pc_dec_variant(d, &kind);
    if (rc)
      return rc;
    if (kind >= MN_SVC_COUNT || mn_config_find(c, (enum mn_service_kind)kind))
      return MN_EDECODE; /* unknown, or listed twice */
    s->kind = (enum mn_service_kind)kind;
    rc = decode_settings(d, s);
    if (rc == 0)
      rc = decode_deps(d, c, s);
    if (rc)
      return rc;
    c->nservices = i + 1;
  }
  return 0;
}

static int decode_platform(struct pc_dec *d, struct mn_config *c) {
  uint32_t kind;
  int rc = pc_dec_variant(d, &kind);
  if (rc)
    return rc;
  switch (kind) {
  case MN_PLATFORM_HOSTED:
    c->platform.kind = MN_PLATFORM_HOSTED;
    return get_str(d, &c->platform.u.hosted.serial);
  case MN_PLATFORM_X86_64: {
    bool fb = false;
    c->platform.kind = MN_PLATFORM_X86_64;
    pc_dec_u16(d, &c->platform.u.x86_64.serial_port);
    rc = pc_dec_bool(d, &fb);
    c->platform.u.x86_64.framebuffer = fb;
    return rc;
  }
  case MN_PLATFORM_AARCH64: {
    bool fb = false;
    c->platform.kind = MN_PLATFORM_AARCH64;
    rc = pc_dec_bool(d, &fb);
    c->platform.u.aarch64.framebuffer = fb;
    return rc;
  }
  default:
    return MN_EDECODE;
  }
}

static int decode_header(struct pc_dec *d) {
  const uint8_t *magic;
  uint32_t version;
  int rc = pc_dec_raw(d, &magic, 4);
  if (rc)
    return rc == MN_ETRUNC ? MN_EFORMAT : rc;
  if (magic[0] != 'M' || magic[1] != 'N' || magic[2] != 'C' || magic[3] != 'F')
    return MN_EFORMAT;
  rc = pc_dec_u32(d, &version);
  if (rc)
    return rc;
  return version == MN_CONFIG_VERSION ? 0 : MN_EFORMAT;
}

int mn_config_decode(struct mn_config *c, const void *bytes, size_t len) {
  struct pc_dec d;
  int rc;
  *c = (struct mn_config){0};
  pc_dec_init(&d, bytes, len);
  rc = decode_header(&d);
  if (rc == 0)
    rc = decode_kernel(&d, c);
  if (rc == 0)
    rc = decode_services(&d, c);
  if (rc == 0)
    rc = decode_platform(&d, c);
  if (rc == 0)
    rc = pc_dec_finish(&d);
  if (rc)
    *c = (struct mn_config){0};
  return rc;
}
