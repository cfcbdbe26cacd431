/*
 * rxcheck.c: a look at DHCP and DNS replies on their way into lwIP, to
 * count the malformed ones (lwIP drops them silently). The frame goes to
 * lwIP either way; this only reads it, within its length.
 *
 * Interface: net_rx_check.
 *
 * DHCP (UDP 67 -> 68): at least the fixed part and the magic cookie, a
 * BOOTREPLY for Ethernet, options that stay inside the message, and a
 * message type (option 53) of 1..8. DNS (UDP from the DNS port): a
 * response with a header, one question, and every record's name (labels
 * up to 63 bytes, compression pointers only backwards, a bounded number
 * of them) and data inside the message.
 */
#include <stddef.h>
#include <stdint.h>

#include "net_int.h"

static unsigned
be16(const uint8_t *p)
{
  return (unsigned)p[0] << 8 | p[1];
}

static int
dhcp_ok(const uint8_t *m, size_t len)
{
  if (len < 240 || m[0] != 2 || m[1] != 1 || m[2] != 6)
    return 0;
  if (m[236] != 99 || m[237] != 130 || m[238] != 83 || m[239] != 99)
    return 0;
  int type = 0;
  for (size_t i = 240; i < len;) {
    uint8_t code = m[i];
    if (code == 0) {
      i++;
      continue;
    }
    if (code == 255)
      break;
    if (i + 2 > len || i + 2 + m[i + 1] > len)
      return 0;                      /* an option past the end */
    if (code == 53) {
      if (m[i + 1] != 1 || m[i + 2] < 1 || m[i + 2] > 8)
        return 0;
      type = m[i + 2];
    }
    i += 2 + (size_t)m[i + 1];
  }
  return type != 0;
}

/* Skips a (possibly compressed) name at *pos. 0 if it is malformed. */
static int
dns_name(const uint8_t *m, size_t len, size_t *pos)
{
  size_t p = *pos, end = 0;
  int jumps = 0;
  for (;;) {
    if (p >= len)
      return 0;
    uint8_t l = m[p];
    if (l == 0) {
      *pos = end ? end : p + 1;
      return 1;
    }
    if ((l & 0xc0) == 0xc0) {
      if (p + 2 > len || ++jumps > 16)
        return 0;
      size_t to = (size_t)(l & 0x3f) << 8 | m[p + 1];
      if (to >= p)
        return 0;                    /* pointers go backwards only */
      if (!end)
        end = p + 2;
      p = to;
      continue;
    }
    if (l > 63 || p + 1 + l > len)
      return 0;
    p += 1 + (size_t)l;
  }
}

static int
dns_ok(const uint8_t *m, size_t len)
{
  if (len < 12 || !(m[2] & 0x80) || be16(m + 4) != 1)
    return 0;
  size_t p = 12;
  if (!dns_name(m, len, &p) || p + 4 > len)
    return 0;
  p += 4;
  unsigned records = be16(m + 6) + be16(m + 8) + be16(m + 10);
  for (unsigned r = 0; r < records; r++) {
    if (!dns_name(m, len, &p) || p + 10 > len)
      return 0;
    size_t rdlen = be16(m + p + 8);
    p += 10;
    if (p + rdlen > len)
      return 0;
    p += rdlen;
  }
  return 1;
}

int
net_rx_check(const uint8_t *f, size_t len, uint16_t dns_port)
{
  /* Ethernet II, IPv4 without fragments, UDP */
  if (len < 14 + 20 + 8 || be16(f + 12) != 0x0800)
    return NET_RX_OTHER;
  const uint8_t *ip = f + 14;
  size_t ihl = (size_t)(ip[0] & 15) * 4;
  if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 17 || (be16(ip + 6) & 0x3fff))
    return NET_RX_OTHER;
  size_t total = be16(ip + 2);
  if (total > len - 14)
    total = len - 14;
  if (total < ihl + 8)
    return NET_RX_OTHER;
  const uint8_t *udp = ip + ihl;
  unsigned sport = be16(udp), dport = be16(udp + 2);
  size_t ulen = be16(udp + 4);
  if (ulen < 8 || ulen > total - ihl)
    ulen = total - ihl;              /* lwIP refuses it; judge what is there */
  const uint8_t *payload = udp + 8;
  size_t plen = ulen - 8;
  if (sport == 67 && dport == 68)
    return dhcp_ok(payload, plen) ? NET_RX_OTHER : NET_RX_BAD_DHCP;
  if (sport == dns_port)
    return dns_ok(payload, plen) ? NET_RX_OTHER : NET_RX_BAD_DNS;
  return NET_RX_OTHER;
}
