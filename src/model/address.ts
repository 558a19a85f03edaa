// Addresses and endpoints as /proc, ss and the filter language write them: IPv4/IPv6 text →
// numbers (used by the filter's evaluator on every socket, so: no allocation, no regex), and the
// "addr:port" forms shown to people and used as map keys. Pure.

import type { Protocol } from './types.js';

/** Dotted-quad IPv4 in text[start, end) → unsigned 32-bit value, or -1 when it is not one. */
export function parseIpv4(text: string, start = 0, end = text.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      digits += 1;
      if (digits > 3 || octet > 255) return -1;
    } else if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots += 1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/** Value of one hex digit char code ('0'-'9', 'a'-'f', 'A'-'F'), or -1. */
export function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  const l = c | 32; // fold to lower case
  if (l >= 97 && l <= 102) return l - 87; // a-f
  return -1;
}

/** Scratch for parseIpv6Into: the eight 16-bit groups. Only used synchronously inside one call. */
const IPV6_GROUPS = new Uint16Array(8);

/**
 * Textual IPv6 (full, '::'-compressed, or with a dotted IPv4 tail like ::ffff:1.2.3.4) → four
 * 32-bit words, most significant first, written into `out`. Returns false (out undefined) when the
 * text is not an IPv6 address. No zone ids ("%eth0"): /proc never shows them.
 */
export function parseIpv6Into(text: string, out: Int32Array): boolean {
  const len = text.length;
  const g = IPV6_GROUPS;
  let n = 0;
  let gap = -1;
  let i = 0;
  if (len < 2) return false;
  if (text.charCodeAt(0) === 58 /* : */) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < len) {
    if (n === 8) return false;
    let value = 0;
    let j = i;
    for (; j < len; j++) {
      const d = hexDigit(text.charCodeAt(j));
      if (d < 0) break;
      value = value * 16 + d;
    }
    if (j < len && text.charCodeAt(j) === 46 /* . */) {
      if (n > 6) return false;
      const v4 = parseIpv4(text, i, len);
      if (v4 < 0) return false;
      g[n++] = Math.floor(v4 / 65536);
      g[n++] = v4 % 65536;
      i = len;
      break;
    }
    if (j === i || j - i > 4) return false;
    g[n++] = value;
    i = j;
    if (i === len) break;
    if (text.charCodeAt(i) !== 58) return false;
    i += 1;
    if (i === len) return false;
    if (text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i += 1;
    }
  }
  if (gap < 0) {
    if (n !== 8) return false;
  } else {
    if (n > 7) return false;
    const tail = n - gap;
    for (let k = 0; k < tail; k++) g[7 - k] = g[n - 1 - k] as number;
    for (let k = gap; k < 8 - tail; k++) g[k] = 0;
  }
  for (let w = 0; w < 4; w++) out[w] = ((g[2 * w] as number) << 16) | (g[2 * w + 1] as number);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Endpoints as text

/** Map key for an endpoint, as ss prints it: "127.0.0.1:80", "[::1]:80", "*:80". */
export function endpointKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** "::ffff:1.2.3.4" → "1.2.3.4" (how /proc shows IPv4 peers of dual-stack sockets); else unchanged. */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** For people: "1.2.3.4:80", "[::1]:443", "*:*" for unbound; '' for unix sockets (no address). */
export function formatEndpoint(address: string, port: number, protocol: Protocol): string {
  if (protocol === 'unix') return '';
  const host = address === '0.0.0.0' || address === '::' ? '*' : address.includes(':') ? `[${address}]` : address;
  return `${host}:${port === 0 ? '*' : String(port)}`;
}
