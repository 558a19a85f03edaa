// Findings rule: Half-open connections (SYN_RECV) piling up on a listener: a SYN flood or a slow accept.

import type { FindingThresholds } from '../thresholds.js';
import { bySeverity, type FindingRule, type RawFinding } from '../types.js';
import { aggregatesOf, proc, newTally, tallyOwner, topOwner } from './shared.js';

function syncookiesAdvice(value: number | null): string {
  switch (value) {
    case 0:
      return 'net.ipv4.tcp_syncookies is 0: with it at 1 the kernel keeps answering (with SYN cookies) once the SYN queue overflows.';
    case 1:
      return 'net.ipv4.tcp_syncookies is 1: SYN cookies take over when the SYN queue overflows (watch TcpExt.SyncookiesSent).';
    case 2:
      return 'net.ipv4.tcp_syncookies is 2: every SYN is answered with a cookie.';
    default:
      return 'net.ipv4.tcp_syncookies could not be read.';
  }
}

export function synRecvRule(t: FindingThresholds['synRecv']): FindingRule {
  return {
    id: 'syn-recv-pileup',
    evaluate(input) {
      const out: RawFinding[] = [];
      for (const [port, g] of aggregatesOf(input).synRecvByPort()) {
        if (g.count < t.warnCount) continue;
        // Distinct source addresses, counted up to 10,000 (a flood's spoofed sources are many more).
        const sources = Math.min(g.sources.size, 10_000);
        const listeners = input.listeners.filter((l) => l.localPort === port);
        const tally = newTally();
        for (const l of listeners) tallyOwner(tally, l.owner);
        const owner = topOwner(tally);
        const who = owner === null ? '' : ` (${proc(owner.command)}, pid ${owner.pid})`;
        const queueFull = listeners.some((l) => l.flags.includes('queue-full'));
        const many = sources >= 10;
        const cause = queueFull
          ? 'The accept queue of this listener is full as well: the application is not accepting fast enough, and the kernel drops the final ACKs of new handshakes, which stay half-open.'
          : many
            ? `They come from ${sources} different addresses, which looks like a SYN flood (often with spoofed sources).`
            : `They come from ${sources} address${sources === 1 ? '' : 'es'}: the final ACKs are lost on the way back (a firewall, asymmetric routing) or a client does not finish its handshakes.`;
        const synBacklog =
          input.sysctls.tcpMaxSynBacklog === null
            ? ''
            : ` The SYN queue is capped by net.ipv4.tcp_max_syn_backlog = ${input.sysctls.tcpMaxSynBacklog}.`;
        out.push({
          key: `sport ${port}`,
          severity: g.count >= t.critCount ? 'crit' : 'warn',
          title: `Many half-open connections (SYN_RECV) on port ${port}`,
          detail:
            `${g.count} handshakes to port ${port}${who} are waiting for the client's final ACK. ${cause} ` +
            `${syncookiesAdvice(input.sysctls.tcpSyncookies)}${synBacklog}`,
          subject: { port, ...(owner === null ? {} : { pid: owner.pid, process: proc(owner.command) }) },
          filter: `state syn-recv and sport ${port}`,
        });
      }
      return out.sort(bySeverity);
    },
  };
}
