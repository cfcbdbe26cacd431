/*
 * efivar.h: UEFI non-volatile variables under mneme's vendor GUID, after
 * ExitBootServices (efivar.c).
 */
#ifndef MNEME_X86_EFIVAR_H
#define MNEME_X86_EFIVAR_H

#include <stddef.h>
#include <stdint.h>

/* Reads variable name (ASCII) into buf. Returns its length, MN_ENOENT,
 * MN_ENOSPC (cap too small), MN_ENOTSUP (no runtime services), MN_EIO. */
int uefi_efivar_get(const char *name, void *buf, size_t cap);
/* Writes (len 0: deletes) it. 0, MN_ENOSPC (no room), MN_ENOTSUP, MN_EIO. */
int uefi_efivar_put(const char *name, const void *buf, size_t len);
/* Room left for NV variables and the largest one. 0, MN_ENOTSUP, MN_EIO. */
int uefi_efivar_space(uint64_t *remaining, uint64_t *max_var);

#endif
