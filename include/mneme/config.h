/*
 * config.h: a target's configuration as the kernel sees it at boot.
 *
 * tools/mkconfig.py validates config/<target>.toml and bakes it into
 * postcard bytes (docs/config.md describes the keys and the byte layout);
 * mn_config_decode() turns those bytes into a struct mn_config: kernel
 * settings, the enabled services with their typed settings in dependency
 * order, and the platform's settings. Strings in the struct point into the
 * bytes, which must outlive it (a baked const array always does).
 * Freestanding: no allocation.
 */
#ifndef MNEME_CONFIG_H
#define MNEME_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define MN_CONFIG_VERSION 1
#define MN_CONFIG_MAX_SHELLS 8

/* Service kinds: the variant index on the wire (tools/mkconfig.py SERVICES).
 * Append only. */
#define MN_SERVICE_KINDS(X) \
  X(MN_SVC_SERIAL, "serial") \
  X(MN_SVC_SERMUX, "sermux") \
  X(MN_SVC_LOOPBACK, "loopback") \
  X(MN_SVC_HELLO, "hello") \
  X(MN_SVC_PSEUDO_KEYBOARD, "pseudo_keyboard") \
  X(MN_SVC_KEYBOARD_MUX, "keyboard_mux") \
  X(MN_SVC_TRACING, "tracing") \
  X(MN_SVC_STATUS, "status") \
  X(MN_SVC_FORTH_SHELLS, "forth_shells") \
  X(MN_SVC_NET, "net")

enum mn_service_kind {
#define MN_SVC_ENUM(name, text) name,
  MN_SERVICE_KINDS(MN_SVC_ENUM)
#undef MN_SVC_ENUM
  MN_SVC_COUNT
};

enum mn_platform_kind { MN_PLATFORM_HOSTED, MN_PLATFORM_X86_64, MN_PLATFORM_AARCH64 };

/* Log levels, as mnemOS numbers them. */
enum mn_log_level { MN_LOG_TRACE, MN_LOG_DEBUG, MN_LOG_INFO, MN_LOG_WARN,
                    MN_LOG_ERROR };

struct mn_str {
  const char *ptr; /* into the config bytes, not NUL-terminated */
  size_t len;
};

struct mn_config_service {
  enum mn_service_kind kind;
  uint8_t ndeps;
  uint8_t deps[MN_SVC_COUNT]; /* kinds this one needs; all listed earlier */
  union {
    struct { uint16_t ports; uint32_t max_frame; } sermux;
    struct { uint16_t port; } loopback;
    struct { uint16_t port; uint32_t interval_ms; struct mn_str message; } hello;
    struct { uint16_t port; } pseudo_keyboard;
    struct { uint16_t port; uint8_t max_level; uint32_t heartbeat_ms; } tracing;
    struct { uint16_t ports[MN_CONFIG_MAX_SHELLS]; uint8_t nports;
             uint32_t data_bytes, heap_bytes;
             uint16_t stack_cells, rstack_cells, child_stack_cells, child_rstack_cells;
    } forth_shells;
    struct { uint8_t dhcp; uint32_t address, netmask, gateway; uint8_t ndns;
             uint32_t dns[2]; uint16_t dns_port; } net; /* IPv4 a<<24|b<<16|c<<8|d */
  } u; /* serial, keyboard_mux and status have no settings */
};

struct mn_config {
  struct {
    uint64_t heap;       /* bytes */
    uint16_t max_tasks;
    uint32_t stack_size; /* default task stack, bytes */
    uint8_t log_level;   /* enum mn_log_level */
  } kernel;
  struct mn_config_service services[MN_SVC_COUNT]; /* dependency order */
  size_t nservices;
  struct {
    enum mn_platform_kind kind;
    union {
      struct { struct mn_str serial; } hosted; /* "stdio" or "tcp:PORT" */
      struct { uint16_t serial_port; uint8_t framebuffer; } x86_64;
      struct { uint8_t framebuffer; } aarch64;
    } u;
  } platform;
};

/*
 * Decodes baked configuration bytes into *c (fully overwritten).
 * Returns 0, or an error for bytes that are not a valid configuration:
 * MN_EFORMAT (wrong magic or version), MN_ETRUNC, MN_EDECODE (malformed
 * postcard, unknown service or platform, a service twice, a dependency
 * not listed before its user, bytes left over), MN_EOVERFLOW (a varint
 * too large for its field), MN_ERANGE (a value outside what the schema
 * allows: log level, zero ports, too many shells).
 */
int mn_config_decode(struct mn_config *c, const void *bytes, size_t len);

/* The enabled service of that kind, or NULL. */
const struct mn_config_service *mn_config_find(const struct mn_config *c,
                                               enum mn_service_kind kind);

/* "sermux", ...; "?" for an unknown kind. */
const char *mn_service_name(enum mn_service_kind kind);

/* The configuration baked into the image (generated from config/<target>.toml by
 * tools/mkconfig.py into library config_<target>). */
extern const uint8_t mn_config_baked[];
extern const size_t mn_config_baked_len;

#endif
