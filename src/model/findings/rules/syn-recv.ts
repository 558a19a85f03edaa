// Findings rule: Half-open connections (SYN_RECV) piling up on a listener: a SYN flood or a slow accept.

import { unmapIpv4 } from '../../address.js';
import type { FindingThresholds } from '../thresholds.js';
import { bySeverity, type FindingRule, type RawFinding } from '../types.js';
import { isTcp, proc, newTally, tallyOwner, topOwner } from './shared.js';

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
      const byPort = new Map<number, { count: number; sources: Set<string> }>();
      for (const s of input.snapshot.sockets) {
        if ((s.state !== 'SYN_RECV' && s.state !== 'NEW_SYN_RECV') || !isTcp(s)) continue;
        let e = byPort.get(s.localPort);
        if (e === undefined) {
          e = { count: 0, sources: new Set() };
          byPort.set(s.localPort, e);
        }
        e.count++;
        if (e.sources.size < 10_000) e.sources.add(unmapIpv4(s.remoteAddress));
      }
      const out: RawFinding[] = [];
      for (const [port, e] of byPort) {
        if (e.count < t.warnCount) continue;
        const listeners = input.listeners.filter((l) => l.localPort === port);
        const tally = newTally();
        for (const l of listeners) tallyOwner(tally, l.owner);
        const owner = topOwner(tally);
        const who = owner === null ? '' : ` (${proc(owner.command)}, pid ${owner.pid})`;
        const queueFull = listeners.some((l) => l.flags.includes('queue-full'));
        const many = e.sources.size >= 10;
        const cause = queueFull
          ? 'The accept queue of this listener is full as well: the application is not accepting fast enough, and the kernel drops the final ACKs of new handshakes, which stay half-open.'
          : many
            ? `They come from ${e.sources.size} different addresses, which looks like a SYN flood (often with spoofed sources).`
            : `They come from ${e.sources.size} address${e.sources.size === 1 ? '' : 'es'}: the final ACKs are lost on the way back (a firewall, asymmetric routing) or a client does not finish its handshakes.`;
        const synBacklog =
          input.sysctls.tcpMaxSynBacklog === null
            ? ''
            : ` The SYN queue is capped by net.ipv4.tcp_max_syn_backlog = ${input.sysctls.tcpMaxSynBacklog}.`;
        out.push({
          key: `sport ${port}`,
          severity: e.count >= t.critCount ? 'crit' : 'warn',
          title: `Many half-open connections (SYN_RECV) on port ${port}`,
          detail:
            `${e.count} handshakes to port ${port}${who} are waiting for the client's final ACK. ${cause} ` +
            `${syncookiesAdvice(input.sysctls.tcpSyncookies)}${synBacklog}`,
          subject: { port, ...(owner === null ? {} : { pid: owner.pid, process: proc(owner.command) }) },
          filter: `state syn-recv and sport ${port}`,
        });
      }
      return out.sort(bySeverity);
    },
  };
}
