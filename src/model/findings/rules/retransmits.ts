// Findings rule: Retransmitted segments rising as a share of segments sent.

import type { FindingThresholds } from '../thresholds.js';
import type { FindingRule } from '../types.js';
import { aggregatesOf, fmt, pct, topKey } from './shared.js';

export function retransmitRule(t: FindingThresholds['retransmits']): FindingRule {
  return {
    id: 'retransmits-rising',
    evaluate(input) {
      const retrans = input.rates['Tcp.RetransSegs'];
      const outSegs = input.rates['Tcp.OutSegs'];
      if (retrans === undefined || outSegs === undefined || outSegs < t.minOutSegsPerSec) return [];
      const share = retrans / outSegs;
      if (share < t.warnShare) return [];
      // Which peers have unrecovered retransmits now (retrnsmt column of /proc/net/tcp).
      const top = topKey(aggregatesOf(input).retransmitsByPeer());
      return [
        {
          key: 'machine',
          severity: share >= t.critShare ? 'crit' : 'warn',
          title: `Retransmits at ${pct(share)} of segments sent`,
          detail:
            `Tcp.RetransSegs ${fmt(retrans)}/s of Tcp.OutSegs ${fmt(outSegs)}/s (${pct(share)}; a healthy network stays well under 1%). ` +
            `Packets are being lost or delayed: congestion, a bad link, a peer that is overloaded or gone.` +
            (top === null
              ? ' No socket shows unrecovered retransmits right now.'
              : ` ${top.count} socket${top.count === 1 ? '' : 's'} to ${top.key} ${top.count === 1 ? 'has' : 'have'} unrecovered retransmits now (the most of any peer).`),
          subject: top === null ? {} : { peer: top.key },
          filter: top === null ? 'tcp' : `tcp and dst ${top.key}`,
        },
      ];
    },
  };
}
