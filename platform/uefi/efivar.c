/*
 * efivar.c: UEFI non-volatile variables after ExitBootServices, through
 * the firmware's runtime services (efi.h). mneme never calls
 * SetVirtualAddressMap: paging.c keeps the identity mapping and leaves
 * the runtime code executable, so the firmware runs at its physical
 * addresses. Calls are made with interrupts off (the firmware is not
 * reentrant; only one core ever calls it).
 *
 * Variables live under mneme's own vendor GUID with the attributes
 * NV+BS+RT: "MnemeSettings" holds the settings' TOML text (settings.h),
 * "MnemeChats" the conversations the chat keeps there when there is no
 * disk (chat/chat_store.c).
 *
 * Interface: uefi_efivar_get, uefi_efivar_put, plat_settings_get,
 * plat_settings_put, plat_chats_get, plat_chats_put.
 */
#include "efivar.h"

#include "boot.h"
#include "efi.h"
#include "mneme/err.h"
#include "mneme/platform.h"
#include "mneme/chat_session.h"
#include "mneme/settings.h"

/* 6d6e656d-6500-4c6c-9d2a-5c3f1e0b7a11 */
static const efi_guid mneme_guid = {0x6d6e656d, 0x6500, 0x4c6c,
                                    {0x9d, 0x2a, 0x5c, 0x3f, 0x1e, 0x0b, 0x7a, 0x11}};
#define ATTRS (EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS | \
               EFI_VARIABLE_RUNTIME_ACCESS)

static efi_runtime_services *rt(void) {
  efi_runtime_services *r = uefi_boot.runtime;
  if (!r || r->hdr.signature != 0x56524553544e5552ull) return NULL; /* "RUNTSERV" */
  return r;
}

static void to_ucs2(const char *s, char16 *out, size_t cap) {
  size_t i = 0;
  for (; s[i] && i + 1 < cap; i++) out[i] = (char16)(uint8_t)s[i];
  out[i] = 0;
}

int uefi_efivar_get(const char *name, void *buf, size_t cap) {
  efi_runtime_services *r = rt();
  if (!r) return MN_ENOTSUP;
  char16 n[32];
  to_ucs2(name, n, 32);
  uint32_t attr = 0;
  uint64_t size = cap;
  unsigned long s = plat_irq_save();
  efi_status st = r->get_variable(n, &mneme_guid, &attr, &size, buf);
  plat_irq_restore(s);
  if (st == EFI_NOT_FOUND) return MN_ENOENT;
  if (st == EFI_BUFFER_TOO_SMALL) return MN_ENOSPC;
  if (st != EFI_SUCCESS) return MN_EIO;
  return size > (uint64_t)0x7fffffff ? MN_EIO : (int)size;
}

int uefi_efivar_put(const char *name, const void *buf, size_t len) {
  efi_runtime_services *r = rt();
  if (!r) return MN_ENOTSUP;
  char16 n[32];
  to_ucs2(name, n, 32);
  unsigned long s = plat_irq_save();
  efi_status st = r->set_variable(n, &mneme_guid, ATTRS, len, buf);
  plat_irq_restore(s);
  if (st == EFI_SUCCESS || (len == 0 && st == EFI_NOT_FOUND)) return 0;
  if (st == EFI_OUT_OF_RESOURCES || st == EFI_INVALID_PARAMETER) return MN_ENOSPC;
  return MN_EIO;
}

int uefi_efivar_space(uint64_t *remaining, uint64_t *max_var) {
  efi_runtime_services *r = rt();
  if (!r || r->hdr.revision < (2u << 16)) return MN_ENOTSUP;
  uint64_t total = 0;
  unsigned long s = plat_irq_save();
  efi_status st = r->query_variable_info(ATTRS, &total, remaining, max_var);
  plat_irq_restore(s);
  return st == EFI_SUCCESS ? 0 : MN_EIO;
}

int plat_settings_get(void *buf, size_t cap) { return uefi_efivar_get("MnemeSettings", buf, cap); }

int plat_settings_put(const void *buf, size_t len) {
  return uefi_efivar_put("MnemeSettings", buf, len);
}

int plat_chats_get(void *buf, size_t cap) { return uefi_efivar_get("MnemeChats", buf, cap); }

int plat_chats_put(const void *buf, size_t len) { return uefi_efivar_put("MnemeChats", buf, len); }

/* The largest variable the firmware takes, less room for the name and
 * its header, at most 32 KiB; 0 without runtime services. */
size_t plat_chats_cap(void) {
  uint64_t remaining = 0, max_var = 0;
  if (!rt()) return 0;
  if (uefi_efivar_space(&remaining, &max_var) || max_var < 1024) return 4096;
  uint64_t cap = max_var - 512;
  if (cap > remaining) cap = remaining > 1024 ? remaining - 512 : 0;
  return cap > 32768 ? 32768 : (size_t)cap;
}

const char *plat_chats_where(void) { return "UEFI variable"; }
