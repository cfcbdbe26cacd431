/*
 * stdlib.h for lwIP on the freestanding kernel: lwIP's netif.c includes
 * it for atoi, which net/lwip_port.c provides there.
 */
#ifndef MNEME_NET_STDLIB_H
#define MNEME_NET_STDLIB_H
int atoi(const char *s);
#endif
