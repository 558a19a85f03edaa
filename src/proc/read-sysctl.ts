// read*/parse*: the network sysctls that findings quote (port range, backlog caps, FIN timeout,
// syncookies, TIME_WAIT reuse), read through a ProcFs so a recorded tree works as well as /proc.
// Parsers take the files' text; readNetSysctls is the only function here that touches files.

import type { NetSysctls } from '../model/listener-health.js';
import { parsePortRange } from './parse-counters.js';
import type { ProcFs } from './proc-fs.js';

export type { NetSysctls };

/** Which file (relative to the proc root) each field comes from. */
export const NET_SYSCTL_PATHS = {
  ephemeralPortRange: 'sys/net/ipv4/ip_local_port_range',
  somaxconn: 'sys/net/core/somaxconn',
  tcpFinTimeoutSec: 'sys/net/ipv4/tcp_fin_timeout',
  tcpMaxSynBacklog: 'sys/net/ipv4/tcp_max_syn_backlog',
  tcpSyncookies: 'sys/net/ipv4/tcp_syncookies',
  tcpTwReuse: 'sys/net/ipv4/tcp_tw_reuse',
} as const satisfies Record<keyof NetSysctls, string>;

/** One integer sysctl file ("4096\n"), or null when the text is not exactly one integer. */
export function parseSysctlInt(text: string): number | null {
  const t = text.trim();
  return /^-?\d{1,15}$/.test(t) ? Number(t) : null;
}

/** File texts by field (null = missing) → values; a malformed file gives null for its field. */
export function parseNetSysctls(texts: { readonly [K in keyof NetSysctls]: string | null }): NetSysctls {
  const int = (t: string | null): number | null => (t === null ? null : parseSysctlInt(t));
  return {
    ephemeralPortRange: texts.ephemeralPortRange === null ? null : parsePortRange(texts.ephemeralPortRange),
    somaxconn: int(texts.somaxconn),
    tcpFinTimeoutSec: int(texts.tcpFinTimeoutSec),
    tcpMaxSynBacklog: int(texts.tcpMaxSynBacklog),
    tcpSyncookies: int(texts.tcpSyncookies),
    tcpTwReuse: int(texts.tcpTwReuse),
  };
}

/** Read the six files under <proc root>/sys/net (six tiny synchronous reads). */
export function readNetSysctls(procFs: ProcFs): NetSysctls {
  return parseNetSysctls({
    ephemeralPortRange: procFs.readText(NET_SYSCTL_PATHS.ephemeralPortRange),
    somaxconn: procFs.readText(NET_SYSCTL_PATHS.somaxconn),
    tcpFinTimeoutSec: procFs.readText(NET_SYSCTL_PATHS.tcpFinTimeoutSec),
    tcpMaxSynBacklog: procFs.readText(NET_SYSCTL_PATHS.tcpMaxSynBacklog),
    tcpSyncookies: procFs.readText(NET_SYSCTL_PATHS.tcpSyncookies),
    tcpTwReuse: procFs.readText(NET_SYSCTL_PATHS.tcpTwReuse),
  });
}
