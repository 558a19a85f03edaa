// collect*: per-connection rates and UNIX peers for one snapshot, from `ss` (read-ss-info.ts)
// joined to the snapshot's sockets (model/conn-rates.ts, model/unix-peers.ts). The rates source
// keeps the previous counters between refreshes and spaces its reads by their CPU (ss's and ours).

import fs from 'node:fs';

import { joinConnRatesSteps, nextTcpInfoReadAtMs, type ConnRates, type ConnRatesState } from '../model/conn-rates.js';
import { runInSlices, type SliceOptions } from '../model/slices.js';
import { joinUnixPeers, type UnixPeer } from '../model/unix-peers.js';
import type { Snapshot } from '../model/types.js';
import { readSsTcpInfo, readSsUnixPeers, ssPortFilterArgs, type SsDeps, type SsOptions } from './read-ss-info.js';

export type ConnRatesStatus =
  | {
      readonly ok: true;
      readonly rates: ConnRates;
      /** ss output hit the byte cap: some connections have no rates. */
      readonly truncated: boolean;
      /** Cost of the last ss read, ms (wall). */
      readonly costMs: number;
      /** CPU of the last read, ms: ss's (user + system) and ours (parse, join, rates). */
      readonly cpuMs: number;
      /** ms from the start of the last read to the next one (the interval, or longer when the read is expensive). */
      readonly nextInMs: number;
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
  /**
   * Share of one core the rates may take: ss's CPU (the child's user + system time) and ours
   * (parsing its output, the join, the rates). 0.1: a read that costs 1.2 s of CPU (100k
   * connections) runs at most every 12 s.
   */
  readonly budgetFraction: number;
  /** CPU time of this process's finished children so far, ms (default: readChildrenCpuMs). */
  readonly childrenCpuMs?: () => number | null;
  /** The pause between two slices of the join (default: setImmediate). */
  readonly pause?: () => Promise<void>;
}

/** The join and the rates run in slices of about this many ms of this thread, keys and frames between them. */
const JOIN_SLICE_MS = 10;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on Linux whatever the kernel's HZ). */
const USER_HZ = 100;

/**
 * CPU time (user + system) of this process's children that have exited and been waited for, ms:
 * cutime + cstime of /proc/self/stat (fields 16 and 17; the real /proc, whatever --proc-root
 * says: this is our own process). null when it cannot be read.
 */
export function readChildrenCpuMs(): number | null {
  try {
    const text = fs.readFileSync('/proc/self/stat', 'latin1');
    // After the command's ")": field 3 (state) is index 0, so field n is index n - 3.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[13]) + Number(fields[14]);
    return Number.isFinite(ticks) ? (ticks * 1000) / USER_HZ : null;
  } catch {
    return null;
  }
}

export function createConnRatesSource(deps: SsDeps, ss: SsOptions, options: ConnRatesSourceOptions): ConnRatesSource {
  const childrenCpuMs = options.childrenCpuMs ?? readChildrenCpuMs;
  const slices: SliceOptions = { sliceMs: JOIN_SLICE_MS, clock: deps.monotonicMs, pause: options.pause ?? nextTurn };
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
      const children0 = childrenCpuMs();
      const r = await readSsTcpInfo(deps, ss, ports === null ? [] : ssPortFilterArgs(ports));
      const children1 = childrenCpuMs();
      if (!r.ok) {
        failures++;
        // Back off after repeated failures (a missing ss answers in microseconds, a hung one at the timeout).
        nextAtMs = started + options.intervalMs * Math.min(30, 2 ** failures);
        last = { ok: false, message: r.message };
        return last;
      }
      failures = 0;
      // The join and the rates in ~10 ms slices: at 100k connections they are tens of ms.
      const { value: rates, busyMs: joinMs } = await runInSlices(
        joinConnRatesSteps(state, snapshot.sockets, r.value.table, r.value.takenAtMs),
        slices,
      );
      state = rates.state;
      // CPU of this read: ss's (the child's, when it can be read; else its wall time stands in)
      // and ours (the parse while ss printed, the join and the rates: synchronous slices, so wall = CPU).
      const ssCpuMs = children0 !== null && children1 !== null ? children1 - children0 : r.value.costMs - r.value.parseMs;
      const cpuMs = ssCpuMs + r.value.parseMs + joinMs;
      nextAtMs = nextTcpInfoReadAtMs(started, cpuMs, options.intervalMs, options.budgetFraction);
      last = {
        ok: true,
        rates,
        truncated: r.value.truncated,
        costMs: r.value.costMs,
        cpuMs,
        nextInMs: nextAtMs - started,
        partial: ports !== null,
      };
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
