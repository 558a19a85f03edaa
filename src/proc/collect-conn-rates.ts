// collect*: per-connection rates and UNIX peers for one snapshot, from `ss` (read-ss-info.ts)
// joined to the snapshot's sockets (model/conn-rates.ts, model/unix-peers.ts). The rates source
// keeps the previous counters between refreshes and spaces its reads when they get expensive.

import { computeConnRates, joinTcpInfo, nextTcpInfoReadAtMs, type ConnRates, type ConnRatesState } from '../model/conn-rates.js';
import { joinUnixPeers, type UnixPeer } from '../model/unix-peers.js';
import type { Snapshot } from '../model/types.js';
import { readSsTcpInfo, readSsUnixPeers, ssPortFilterArgs, type SsDeps, type SsOptions } from './read-ss-info.js';

export type ConnRatesStatus =
  | {
      readonly ok: true;
      readonly rates: ConnRates;
      /** ss output hit the byte cap: some connections have no rates. */
      readonly truncated: boolean;
      /** Cost of the last ss read, ms. */
      readonly costMs: number;
      /** True when ss was restricted to the ports the filter shows. */
      readonly partial: boolean;
    }
  | { readonly ok: false; readonly message: string };

export interface ConnRatesSource {
  /**
   * Rates for this snapshot: reads `ss -tinH` when due (or always when `force`), else returns
   * the last rates (their asOfMs tells how old). `ports`: restrict ss to these ports (the
   * filter's connections), null for everything.
   */
  refresh(snapshot: Snapshot, ports?: readonly number[] | null, force?: boolean): Promise<ConnRatesStatus>;
}

export interface ConnRatesSourceOptions {
  readonly intervalMs: number;
  /** Share of the time ss may take (0.1: a 300 ms read runs at most every 3 s). */
  readonly budgetFraction: number;
}

export function createConnRatesSource(deps: SsDeps, ss: SsOptions, options: ConnRatesSourceOptions): ConnRatesSource {
  let state: ConnRatesState | null = null;
  let last: ConnRatesStatus | null = null;
  let nextAtMs = -Infinity;
  let lastPortsKey = '';
  let failures = 0;
  return {
    async refresh(snapshot, ports = null, force = false) {
      const nowMono = deps.monotonicMs();
      const portsKey = ports === null ? '' : ports.join(',');
      // What is read changed (other filter ports): read now. Counters are cumulative, so the
      // deltas of connections read both times stay right.
      if (portsKey !== lastPortsKey) nextAtMs = -Infinity;
      lastPortsKey = portsKey;
      if (!force && last !== null && nowMono < nextAtMs) return last;
      const started = nowMono;
      const r = await readSsTcpInfo(deps, ss, ports === null ? [] : ssPortFilterArgs(ports));
      if (!r.ok) {
        failures++;
        // Back off after repeated failures (a missing ss answers in microseconds, a hung one at the timeout).
        nextAtMs = started + options.intervalMs * Math.min(30, 2 ** failures);
        last = { ok: false, message: r.message };
        return last;
      }
      failures = 0;
      const joined = joinTcpInfo(snapshot.sockets, r.value.connections);
      const rates = computeConnRates(state, joined, r.value.takenAtMs);
      state = rates.state;
      nextAtMs = nextTcpInfoReadAtMs(started, r.value.costMs, options.intervalMs, options.budgetFraction);
      last = { ok: true, rates, truncated: r.value.truncated, costMs: r.value.costMs, partial: ports !== null };
      return last;
    },
  };
}

export type UnixPeersStatus =
  { readonly ok: true; readonly peers: ReadonlyMap<number, UnixPeer> } | { readonly ok: false; readonly message: string };

/** UNIX peers of one snapshot's sockets (one `ss -xH`). */
export async function collectUnixPeers(deps: SsDeps, ss: SsOptions, snapshot: Snapshot): Promise<UnixPeersStatus> {
  const r = await readSsUnixPeers(deps, ss);
  if (!r.ok) return r;
  return { ok: true, peers: joinUnixPeers(snapshot.sockets, r.value) };
}
