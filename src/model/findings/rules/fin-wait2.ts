// Findings rule: FIN_WAIT2 piling up: peers that do not close their side.

import type { FindingThresholds } from '../thresholds.js';
import { bySeverity, type FindingRule, type RawFinding } from '../types.js';
import { describeOwners, ownerSubject, aggregatesOf, topKey, groupPlace } from './shared.js';

export function finWait2Rule(t: FindingThresholds['finWait2']): FindingRule {
  return {
    id: 'fin-wait2-pileup',
    evaluate(input) {
      const out: RawFinding[] = [];
      const finTimeout = input.sysctls.tcpFinTimeoutSec;
      for (const g of aggregatesOf(input).groupsOf('FIN_WAIT2').values()) {
        if (g.count < t.warnCount) continue;
        const held = g.count - g.orphans;
        const peer = topKey(g.peers);
        out.push({
          key: g.key,
          severity: g.count >= t.critCount ? 'crit' : 'warn',
          title: `FIN_WAIT2 piling up on ${groupPlace(g)}: ${g.count} sockets`,
          detail:
            `${g.count} connections on ${groupPlace(g)} are in FIN_WAIT2: this side closed and the peer acknowledged, but the peer ` +
            `has not closed its end (its application may be stuck with the socket in CLOSE_WAIT)` +
            (peer === null ? '. ' : `; most go to ${peer.key} (${peer.count}). `) +
            `${g.orphans} are orphaned (already closed here), and the kernel frees those after net.ipv4.tcp_fin_timeout` +
            `${finTimeout === null ? '' : ` = ${finTimeout} s`}; ${held} are still held by a process (shutdown() without close()) and wait for the peer indefinitely.` +
            (held > 0 ? ` ${describeOwners(g.owners, 'sockets')}` : ''),
          subject: { port: g.port, ...ownerSubject(g.owners), ...(peer === null ? {} : { peer: peer.key }) },
          filter: `state fin-wait-2 and ${g.key}`,
        });
      }
      return out.sort(bySeverity);
    },
  };
}
