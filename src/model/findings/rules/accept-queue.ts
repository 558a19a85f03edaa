// Findings rule: Listeners whose accept queue is filling or full (the application accepts too slowly).

import type { ListenerHealth } from '../../listener-health.js';
import type { FindingThresholds } from '../thresholds.js';
import { bySeverity, type FindingRule, type RawFinding } from '../types.js';
import { proc, newTally, tallyOwner, topOwner, ownerSubject, fmt } from './shared.js';

export function acceptQueueRule(t: FindingThresholds['acceptQueue']): FindingRule {
  return {
    id: 'accept-queue-full',
    evaluate(input) {
      const out: RawFinding[] = [];
      // SO_REUSEPORT siblings share an endpoint: one finding per protocol + endpoint.
      const byEndpoint = new Map<string, ListenerHealth[]>();
      for (const l of input.listeners) {
        const flagged =
          l.flags.includes('queue-full') || l.flags.includes('dropping') || (t.reportFilling && l.flags.includes('queue-filling'));
        if (!flagged) continue;
        const k = `${l.protocol} ${l.endpoint}`;
        const list = byEndpoint.get(k);
        if (list === undefined) byEndpoint.set(k, [l]);
        else list.push(l);
      }
      for (const [key, ls] of byEndpoint) {
        const l = ls[0] as ListenerHealth;
        const queue = ls.reduce((n, x) => n + x.acceptQueue, 0);
        const backlog = ls.every((x) => x.backlog !== null) ? ls.reduce((n, x) => n + (x.backlog ?? 0), 0) : null;
        const dropping = ls.some((x) => x.flags.includes('dropping'));
        const full = ls.some((x) => x.flags.includes('queue-full'));
        const over = ls.some((x) => x.fillRatio !== null && x.fillRatio > 1);
        const tally = newTally();
        for (const x of ls) if (x.owner !== null) tallyOwner(tally, x.owner);
        const owner = topOwner(tally);
        const who = owner === null ? 'the application (owner unknown)' : `${proc(owner.command)} (pid ${owner.pid})`;
        const limit =
          backlog === null
            ? 'an unknown backlog'
            : l.backlogIsEstimate
              ? `a backlog of at most ${backlog} (net.core.somaxconn; the real limit is the listen() argument, which /proc does not show)`
              : `a backlog of ${backlog}`;
        const drops = dropping
          ? ` The kernel is dropping connections: TcpExt.ListenOverflows ${fmt(l.overflowsPerSec)}/s, ListenDrops ${fmt(l.dropsPerSec)}/s. These counters are machine-wide (per network namespace), not per listener: they are attributed to every listener whose accept queue is non-empty.`
          : '';
        out.push({
          key,
          severity: dropping || over ? 'crit' : full ? 'warn' : 'info',
          title: `${full || dropping ? 'Accept queue full' : 'Accept queue filling'} on port ${l.localPort}: ${who} is not accepting fast enough`,
          detail:
            `The listener ${l.endpoint} has ${queue} connection${queue === 1 ? '' : 's'} waiting for accept() with ${limit}. ` +
            `These handshakes are complete; new ones are dropped once the queue is full, and clients see slow or failed connects.${drops} ` +
            `Look for a blocked or overloaded accept loop in ${who}, add workers, or raise the backlog (the listen() argument, capped by net.core.somaxconn${input.sysctls.somaxconn === null ? '' : ` = ${input.sysctls.somaxconn}`}).`,
          subject: { port: l.localPort, ...ownerSubject(tally) },
          filter: `state listen and src ${l.endpoint}`,
        });
      }
      // Overflows with no listener to blame: queues that fill and drain between samples.
      const overflowsPerSec = input.rates['TcpExt.ListenOverflows'] ?? 0;
      const dropsPerSec = input.rates['TcpExt.ListenDrops'] ?? 0;
      if ((overflowsPerSec > 0 || dropsPerSec > 0) && !input.listeners.some((l) => l.flags.includes('dropping'))) {
        out.push({
          key: 'unattributed',
          severity: 'warn',
          title: 'Listen queue overflows, no listener caught with a full queue',
          detail:
            `TcpExt.ListenOverflows ${fmt(overflowsPerSec)}/s, ListenDrops ${fmt(dropsPerSec)}/s: some listener dropped connections, ` +
            `but every accept queue was empty when sampled (queues that fill and drain between refreshes, or a listener in a ` +
            `short burst). These counters are machine-wide (per network namespace). Watch the LISTEN sockets' Recv-Q.`,
          subject: {},
          filter: 'state listen',
        });
      }
      return out.sort(bySeverity);
    },
  };
}
