/*
 * arch/cc.h: lwIP's port header for mneme (compiler and platform).
 *
 * The same for the hosted builds and the freestanding x86_64 kernel: no
 * printf, no stdio; diagnostics and assertions go to the network
 * service's functions (net/lwip_port.c), which log through klog and
 * panic. On the freestanding build there is no inttypes.h or ctype.h.
 */
#ifndef MNEME_LWIP_ARCH_CC_H
#define MNEME_LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>

#define BYTE_ORDER LITTLE_ENDIAN

#define LWIP_NO_INTTYPES_H 1
#define X8_F  "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

#define LWIP_NO_CTYPE_H 1

void net_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void net_lwip_assert(const char *msg, const char *file, int line);
uint32_t net_lwip_rand(void);

#define LWIP_PLATFORM_DIAG(x) do { net_lwip_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) net_lwip_assert((x), __FILE__, __LINE__)
#define LWIP_RAND() net_lwip_rand()

#endif
