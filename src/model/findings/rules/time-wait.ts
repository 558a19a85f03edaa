// Findings rule: TIME_WAIT using up the ephemeral ports towards one peer.

import { DEFAULT_EPHEMERAL_RANGE, type FindingThresholds } from '../thresholds.js';
import { bySeverity, type FindingRule, type RawFinding } from '../types.js';
import { aggregatesOf, pct } from './shared.js';

function twReuseAdvice(value: number | null, peer: string): string {
  const loopback = peer.startsWith('127.') || peer === '::1';
  switch (value) {
    case 0:
      return 'net.ipv4.tcp_tw_reuse is 0: setting it to 1 lets new outgoing connections reuse TIME_WAIT ports (safe with TCP timestamps).';
    case 1:
      return 'net.ipv4.tcp_tw_reuse is 1, so new outgoing connections can reuse these ports when TCP timestamps are on; the pile still shows many short-lived connections.';
    case 2:
      return loopback
        ? 'net.ipv4.tcp_tw_reuse is 2 (loopback only), which covers this peer.'
        : 'net.ipv4.tcp_tw_reuse is 2, which reuses TIME_WAIT ports for loopback only: setting it to 1 extends that to this peer.';
    default:
      return 'net.ipv4.tcp_tw_reuse could not be read (1 lets new outgoing connections reuse TIME_WAIT ports).';
  }
}

export function timeWaitRule(t: FindingThresholds['timeWait']): FindingRule {
  return {
    id: 'time-wait-exhaustion',
    evaluate(input) {
      const range = input.sysctls.ephemeralPortRange ?? DEFAULT_EPHEMERAL_RANGE;
      const size = range.high - range.low + 1;
      const out: RawFinding[] = [];
      // TIME_WAIT sockets from an ephemeral local port (of `range`), by peer.
      for (const [peer, e] of aggregatesOf(input).timeWaitByPeer()) {
        const share = e.count / size;
        if (share < t.warnShare) continue;
        const assumed = input.sysctls.ephemeralPortRange === null ? ' (Linux default; the sysctl could not be read)' : '';
        out.push({
          key: `peer ${peer}`,
          severity: share >= t.critShare ? 'crit' : 'warn',
          title: `Port exhaustion risk towards ${peer}: ${e.count} TIME_WAIT sockets`,
          detail:
            `${e.count} connections to ${peer} are in TIME_WAIT, holding ${pct(share)} of the ephemeral port range ` +
            `${range.low}-${range.high} (${size} ports)${assumed}. This host closed them first, and each keeps its local port ` +
            `for 60 s (fixed in the kernel; tcp_fin_timeout does not change it). When the range is used up, connect() to this ` +
            `peer fails with EADDRNOTAVAIL ("Cannot assign requested address"). ${twReuseAdvice(input.sysctls.tcpTwReuse, e.address)} ` +
            `Reusing connections (keep-alive, a pool) or a wider net.ipv4.ip_local_port_range removes the pressure.`,
          subject: { port: e.port, peer },
          filter: `state time-wait and dst ${peer} and sport ${range.low}-${range.high}`,
        });
      }
      return out.sort(bySeverity);
    },
  };
}
