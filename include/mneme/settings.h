/*
 * settings.h: the user's saved settings (docs/settings.md).
 *
 * Where they live is the platform's business: x86_64 and aarch64 keep
 * them in UEFI non-volatile variables (runtime services, after
 * ExitBootServices), hosted in a TOML file (`mneme --settings FILE`).
 * The chat, the wizard and the network read them at boot. The API key is
 * never printed, logged or traced; screens show its last four characters.
 */
#ifndef MNEME_SETTINGS_H
#define MNEME_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

struct mn_settings {
  char provider[16];         /* openai anthropic groq xai openrouter local; "" unset */
  char api_key[256];
  char model[96];
  char base_url[256];        /* "" : the provider's */
  char system[1024];         /* system prompt */
  float temperature;         /* < 0: unset */
  uint32_t max_tokens;       /* 0: default */
  uint8_t tool_forth;        /* the model may run Forth (the `forth` tool) */
  uint8_t tool_network;      /* ... and that Forth may use the network (HTTP-GET) */
  uint8_t tool_files;        /* ... and the files (File-Access words, INCLUDED) */
  uint8_t net_dhcp;          /* else the static address below */
  uint32_t net_ip, net_netmask, net_gateway, net_dns;  /* IPv4, host order */
  uint8_t wizard_done;       /* the setup wizard ran (or was skipped) */
};

/* Defaults: nothing chosen, DHCP, temperature unset, tool on (without the
 * network or the files). */
void settings_defaults(struct mn_settings *s);

/* Loads the saved settings (defaults where nothing is saved). 0, or
 * MN_ENOENT when nothing is saved yet, MN_EFORMAT when the store is
 * corrupt (defaults are returned and the reason logged). */
int settings_load(struct mn_settings *s);

/* Saves them. 0, MN_ENOSPC (no room in the store), MN_EIO. */
int settings_save(const struct mn_settings *s);

/* Platform hooks: the raw store (one blob). get returns its length, or
 * MN_ENOENT; put returns 0 or MN_E*. */
int plat_settings_get(void *buf, size_t cap);
int plat_settings_put(const void *buf, size_t len);

/* ---- the stored form: TOML text (lib/settings.c, no kernel needed) ---- */

#define SETTINGS_TEXT_MAX 4096     /* the longest text settings_to_toml writes */

/* Writes s as TOML into out (NUL-terminated). Returns the length, or
 * MN_ENOSPC when cap is too small. Strings are escaped (TOML basic
 * strings); the output always parses back to s. */
int settings_to_toml(const struct mn_settings *s, char *out, size_t cap);

/* Parses TOML text (len bytes, no NUL needed) into s. Keys not named are
 * left at their defaults; unknown keys are ignored. 0, or MN_EFORMAT
 * with s set to the defaults and the reason ("line 3: ...", never the
 * API key's value) in why. */
int settings_from_toml(struct mn_settings *s, const char *text, size_t len,
                       char *why, size_t why_cap);

/* The API key for a screen: "none", or "...abcd" (its last four). */
void settings_key_hint(const struct mn_settings *s, char *out, size_t cap);

/* IPv4 "a.b.c.d" <-> host-order value. 0 or MN_EINVAL. */
int settings_parse_ip(const char *s, size_t len, uint32_t *ip);
void settings_format_ip(uint32_t ip, char *out, size_t cap); /* cap >= 16 */

#endif
