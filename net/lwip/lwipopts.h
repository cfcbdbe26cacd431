/*
 * lwipopts.h: lwIP's configuration for mneme (docs/net.md).
 *
 * No operating system layer (NO_SYS): one task, the network service,
 * owns lwIP and calls it through the raw API; nothing else touches it.
 * IPv4 with ARP, DHCP, DNS, ICMP, UDP, TCP and raw ICMP (for ping).
 * Memory comes from the kernel heap (net_lwip_malloc and friends in
 * net/lwip_port.c): pools are plain allocations, so the limits below
 * are lwIP's bookkeeping, not reserved memory.
 */
#ifndef MNEME_LWIPOPTS_H
#define MNEME_LWIPOPTS_H

#include <stddef.h>

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_TIMERS 1

/* memory: the kernel heap */
void *net_lwip_malloc(size_t size);
void *net_lwip_calloc(size_t n, size_t size);
void net_lwip_free(void *p);
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define mem_clib_malloc net_lwip_malloc
#define mem_clib_calloc net_lwip_calloc
#define mem_clib_free net_lwip_free
#define MEM_ALIGNMENT 8

/* protocols */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define ARP_QUEUEING 1
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define DHCP_DOES_ARP_CHECK 0
#define LWIP_DHCP_GET_NTP_SRV 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 1
#define DNS_MAX_SERVERS 2
#define DNS_TABLE_SIZE 8
#define DNS_MAX_NAME_LENGTH 255
/* lwIP's own DNS give-up is far beyond the service's request timeout, so
 * a server that never answers is reported as a timeout by the service;
 * an answer saying the name does not exist comes back at once. */
#define DNS_MAX_RETRIES 8
/* The server port is a variable: [services.net] may name "addr:port". */
extern unsigned short net_dns_port;
#define DNS_SERVER_PORT net_dns_port
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define IP_DEFAULT_TTL 64

/* TCP: a window of 16 segments each way */
#define TCP_MSS 1460
#define TCP_WND (16 * TCP_MSS)
#define TCP_SND_BUF (16 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_SNDLOWAT (TCP_SND_BUF / 2)
#define TCP_QUEUE_OOSEQ 1
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 16
#define LWIP_TCP_KEEPALIVE 1
#define TCP_OVERSIZE TCP_MSS
#define LWIP_WND_SCALE 0
#define MEMP_NUM_TCP_PCB 128
#define MEMP_NUM_TCP_PCB_LISTEN 16
#define MEMP_NUM_UDP_PCB 16
#define MEMP_NUM_RAW_PCB 4
#define MEMP_NUM_TCP_SEG 1024
#define MEMP_NUM_PBUF 256
#define MEMP_NUM_ARP_QUEUE 64
#define PBUF_POOL_SIZE 256
#define PBUF_POOL_BUFSIZE 1536
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)

/* interfaces */
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_SINGLE_NETIF 0
#define LWIP_NETIF_TX_SINGLE_PBUF 0

/* checksums in software, the fast algorithm */
#define LWIP_CHKSUM_ALGORITHM 3

/* statistics: the service counts what it reports itself */
#define LWIP_STATS 0
#define LWIP_DEBUG 0

#endif
