// The session store keeps counts, listener health and the findings' aggregates from the
// tracker's turnover instead of recounting every socket per snapshot. Property: over random
// sequences of snapshots (arrivals, departures, state changes, lines that change, reordering,
// the way to TIME_WAIT under a new key, filters and sysctls that change) every incremental
// result equals the full recomputation over the snapshot.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../src/filter/index.js';
import { countByState } from '../src/model/aggregate.js';
import { FindingsEngine, createDefaultRules } from '../src/model/findings.js';
import { UNKNOWN_SYSCTLS, buildListenerHealth, summarizeListenersByPort, type NetSysctls } from '../src/model/listener-health.js';
import { computeRates } from '../src/model/rates.js';
import { SessionStore, type ViewFilter } from '../src/model/session-store.js';
import { diffRecordObjects, diffSnapshots } from '../src/model/tracker.js';
import type { Protocol, Snapshot, SocketRecord, SocketState } from '../src/model/types.js';
import { rec } from './helpers/records.js';
import { makeSnapshot } from './helpers/snapshots.js';

const T0 = 1_700_000_000_000;

// Small value sets, so that listeners, service sides, groups and thresholds collide often.
const ADDRESSES = ['127.0.0.1', '127.0.0.2', '0.0.0.0', '::', '::1', '::ffff:127.0.0.1'] as const;
const PORTS = [80, 8080, 34771, 40000, 40001, 50000] as const;
const REMOTE_PORTS = [80, 443, 5432, 34771, 40000, 50001] as const;
const STATES: readonly SocketState[] = ['ESTABLISHED', 'CLOSE_WAIT', 'FIN_WAIT2', 'TIME_WAIT', 'SYN_RECV', 'LISTEN', 'LAST_ACK'];
const PROTOCOLS: readonly Protocol[] = ['tcp', 'tcp', 'tcp', 'tcp6', 'udp', 'unix'];
const OWNERS = [null, { pid: 10, command: 'nginx' }, { pid: 20, command: 'postgres' }] as const;

/** What a socket is, before it becomes a record: the generator's unit. */
interface Spec {
  readonly protocol: Protocol;
  readonly state: SocketState;
  readonly local: number;
  readonly port: number;
  readonly remote: number;
  readonly remotePort: number;
  readonly owner: number;
  readonly retransmits: number;
  readonly recvQ: number;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  protocol: fc.constantFrom(...PROTOCOLS),
  state: fc.constantFrom(...STATES),
  local: fc.nat(ADDRESSES.length - 1),
  port: fc.nat(PORTS.length - 1),
  remote: fc.nat(ADDRESSES.length - 1),
  remotePort: fc.nat(REMOTE_PORTS.length - 1),
  owner: fc.nat(OWNERS.length - 1),
  retransmits: fc.constantFrom(0, 0, 1),
  recvQ: fc.nat(3),
});

let uid = 1;

/** A record for a spec; `id` keeps keys unique (inode, or the remote port of an inode-0 socket). */
function recordOf(spec: Spec, id: number, inode: number): SocketRecord {
  const v6 = spec.protocol === 'tcp6';
  const unix = spec.protocol === 'unix';
  const udp = spec.protocol === 'udp';
  const state: SocketState = unix ? 'CONNECTED' : udp ? (spec.state === 'LISTEN' ? 'UNCONN' : 'ESTABLISHED') : spec.state;
  const listens = state === 'LISTEN' || state === 'UNCONN';
  const addr = (k: number): string => {
    const a = ADDRESSES[k] as string;
    return v6 ? (a.includes(':') ? a : `::ffff:${a}`) : a.includes(':') ? '127.0.0.1' : a;
  };
  return rec({
    protocol: spec.protocol,
    state,
    localAddress: unix ? '' : addr(spec.local),
    localPort: unix ? 0 : (PORTS[spec.port] as number),
    remoteAddress: unix ? '' : listens ? (v6 ? '::' : '0.0.0.0') : addr(spec.remote),
    // inode-0 sockets (TIME_WAIT) need distinct endpoints: the id moves their remote port.
    remotePort: unix || listens ? 0 : inode === 0 ? 20_000 + id : (REMOTE_PORTS[spec.remotePort] as number),
    inode,
    owner: OWNERS[spec.owner] ?? null,
    retransmits: spec.retransmits,
    recvQ: spec.recvQ,
  });
}

interface Live {
  readonly id: number;
  spec: Spec;
  record: SocketRecord;
}

type Step =
  | { readonly kind: 'arrive'; readonly specs: readonly Spec[] }
  | { readonly kind: 'depart'; readonly picks: readonly number[] }
  | { readonly kind: 'change'; readonly picks: readonly number[]; readonly state: SocketState }
  | { readonly kind: 'line'; readonly picks: readonly number[]; readonly recvQ: number }
  | { readonly kind: 'timeWait'; readonly picks: readonly number[] }
  | { readonly kind: 'shuffle'; readonly seed: number }
  | { readonly kind: 'filter'; readonly text: string | null }
  | { readonly kind: 'range'; readonly low: number };

const picksArb = fc.array(fc.nat(1000), { maxLength: 6 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('arrive' as const), specs: fc.array(specArb, { maxLength: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('depart' as const), picks: picksArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('change' as const), picks: picksArb, state: fc.constantFrom(...STATES) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('line' as const), picks: picksArb, recvQ: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('timeWait' as const), picks: picksArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('shuffle' as const), seed: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('filter' as const),
      text: fc.constantFrom(null, 'state established', 'sport 8080', 'tcp and not state listen', 'src 127.0.0.2'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('range' as const), low: fc.constantFrom(32768, 34000, 50_000) }) },
);

function filterOf(text: string): ViewFilter {
  const c = compileFilter(text);
  if (!c.ok) throw new Error(text);
  return { text, matches: c.filter };
}

function sysctlsWith(low: number): NetSysctls {
  // A range of 4 ports at 50000: a few TIME_WAIT sockets are a large share of it.
  return { ...UNKNOWN_SYSCTLS, somaxconn: 2, ephemeralPortRange: { low, high: low === 50_000 ? 50_003 : 60_999 } };
}

/** Low thresholds, so that every rule fires on a few sockets. */
function createEngine(): FindingsEngine {
  const rules = createDefaultRules({
    closeWait: { minCount: 2, risingSamples: 2, steadyMs: 3_000, critCount: 5 },
    timeWait: { warnShare: 0.2, critShare: 0.5 },
    synRecv: { warnCount: 2, critCount: 4 },
    finWait2: { warnCount: 2, critCount: 4 },
    resets: { perSec: 50 },
    retransmits: { minOutSegsPerSec: 10 },
  });
  return new FindingsEngine(rules, { holdDownMs: 3_000, maxPerRule: 3 });
}

const keysOf = (list: readonly SocketRecord[]): string[] => list.map((s) => s.key).sort();

/** The same objects (by identity), each once. */
function expectSameObjects(actual: readonly SocketRecord[], expected: readonly SocketRecord[]): void {
  const want = new Set(expected);
  expect(new Set(actual).size).toBe(actual.length);
  expect(actual.length).toBe(want.size);
  expect(actual.every((r) => want.has(r))).toBe(true);
}

describe('incremental session ingest', () => {
  // sliced: ingestSliced, pausing at every slice; at each pause the state must still be the last
  // complete one, and a filter set meanwhile must come out right.
  it.each([
    ['ingest', false],
    ['ingestSliced, with the filter changed between slices', true],
  ])('%s equals the full recomputation over random sequences of snapshots', async (_name, sliced) => {
    const fired = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 40 }), async (steps) => {
        const store = new SessionStore({ createFindingsEngine: createEngine });
        const reference = createEngine();
        let sysctls = sysctlsWith(50_000);
        store.setEnvironment({ sysctls, backlogs: null });
        let filter: ViewFilter | null = null;
        let pendingFilter: ViewFilter | null | undefined;
        let live: Live[] = [];
        let previous: Snapshot | null = null;
        let atMs = T0;
        const pick = (n: number): Live | undefined => live[n % Math.max(1, live.length)];
        for (const step of steps) {
          switch (step.kind) {
            case 'arrive':
              for (const spec of step.specs) {
                const id = uid++;
                live.push({ id, spec, record: recordOf(spec, id, spec.state === 'TIME_WAIT' ? 0 : 1_000_000 + id) });
              }
              break;
            case 'depart': {
              const gone = new Set(step.picks.map(pick));
              live = live.filter((l) => !gone.has(l));
              break;
            }
            case 'change':
              for (const l of new Set(step.picks.map(pick))) {
                if (l === undefined || l.record.inode === 0) continue;
                l.spec = { ...l.spec, state: step.state === 'TIME_WAIT' ? 'CLOSE_WAIT' : step.state };
                l.record = recordOf(l.spec, l.id, l.record.inode);
              }
              break;
            case 'line':
              for (const l of new Set(step.picks.map(pick))) {
                if (l === undefined) continue;
                l.spec = { ...l.spec, recvQ: step.recvQ, retransmits: step.recvQ % 2 };
                l.record = recordOf(l.spec, l.id, l.record.inode);
              }
              break;
            case 'timeWait':
              // The same connection under a new key: the inode goes to 0 on the way to TIME_WAIT.
              for (const l of new Set(step.picks.map(pick))) {
                if (l === undefined || l.record.inode === 0 || l.spec.protocol === 'unix' || l.spec.protocol === 'udp') continue;
                if (l.record.remotePort === 0) continue;
                l.spec = { ...l.spec, state: 'TIME_WAIT' };
                const r = recordOf(l.spec, l.id, 0);
                l.record = { ...r, remotePort: l.record.remotePort, key: r.key.replace(`:${r.remotePort} `, `:${l.record.remotePort} `) };
              }
              break;
            case 'shuffle': {
              let x = step.seed;
              live = live
                .map((l) => {
                  x = (x * 1103515245 + 12345) % 2147483648;
                  return { l, r: x };
                })
                .sort((a, b) => a.r - b.r)
                .map((e) => e.l);
              break;
            }
            case 'filter':
              filter = step.text === null ? null : filterOf(step.text);
              // Sliced: set while the next snapshot goes in.
              if (sliced) pendingFilter = filter;
              else store.setFilter(filter);
              continue;
            case 'range':
              sysctls = sysctlsWith(step.low);
              store.setEnvironment({ sysctls, backlogs: null });
              continue;
          }
          // No two live sockets with one key (a TIME_WAIT successor may meet an older one).
          const seen = new Set<string>();
          live = live.filter((l) => !seen.has(l.record.key) && (seen.add(l.record.key), true));
          atMs += 1000;
          const snapshot = makeSnapshot(
            live.map((l) => l.record),
            {
              takenAtMs: atMs,
              counters: { 'Tcp.EstabResets': atMs / 10, 'Tcp.OutRsts': 0, 'Tcp.RetransSegs': atMs / 100, 'Tcp.OutSegs': atMs / 10 },
            },
          );
          let state = store.state;
          if (!sliced) state = store.ingest(snapshot);
          else {
            const before = store.state;
            const turnoverBefore = before.tracker.lastTurnover();
            let pauses = 0;
            const pause = async (): Promise<void> => {
              pauses++;
              expect(store.state.live).toBe(before.live);
              expect(store.state.tracker.lastTurnover()).toBe(turnoverBefore);
              if (pendingFilter !== undefined && pauses === 2) {
                store.setFilter(pendingFilter);
                expect(store.state.live?.matched ?? null).toEqual(
                  pendingFilter === null || before.live === null
                    ? null
                    : { filterText: pendingFilter.text, counts: countByState(before.live.snapshot.sockets.filter(pendingFilter.matches)) },
                );
                pendingFilter = undefined;
              }
              await Promise.resolve();
            };
            state = (await store.ingestSliced(snapshot, { sliceMs: 0, clock: () => 0, pause })).state;
            if (pendingFilter !== undefined) {
              store.setFilter(pendingFilter);
              pendingFilter = undefined;
              state = store.state;
            }
          }
          const picture = state.live;
          expect(picture).not.toBeNull();
          if (picture === null) return;
          // Turnover: exactly the record objects that left and arrived.
          const turnover = state.tracker.lastTurnover();
          const before = new Set(previous?.sockets ?? []);
          const after = new Set(snapshot.sockets);
          expectSameObjects(
            turnover.added,
            snapshot.sockets.filter((s) => !before.has(s)),
          );
          expectSameObjects(
            turnover.removed,
            (previous?.sockets ?? []).filter((s) => !after.has(s)),
          );
          // The diff: as diffSnapshots computes it from the two snapshots.
          if (previous !== null) {
            const full = diffSnapshots(previous, snapshot);
            expect(keysOf(picture.diff?.opened ?? [])).toEqual(keysOf(full.opened));
            expect(keysOf(picture.diff?.closed ?? [])).toEqual(keysOf(full.closed));
            expect(keysOf((picture.diff?.changed ?? []).map((c) => c.after))).toEqual(keysOf(full.changed.map((c) => c.after)));
          }
          // Counts, all and under the filter.
          expect(picture.counts).toEqual(countByState(snapshot.sockets));
          if (filter === null) expect(picture.matched).toBeNull();
          else expect(picture.matched).toEqual({ filterText: filter.text, counts: countByState(snapshot.sockets.filter(filter.matches)) });
          // Listener health and its per-port summary.
          const rates =
            previous === null ? {} : computeRates(previous.counters, snapshot.counters, snapshot.takenAtMs - previous.takenAtMs);
          const listeners = buildListenerHealth(snapshot, rates, sysctls, null);
          expect(picture.listeners).toEqual(listeners);
          expect(picture.listenerSummary).toEqual(summarizeListenersByPort(listeners));
          // Findings: a second engine whose rules count every socket of the snapshot.
          const findings = reference.update({
            snapshot,
            previous,
            diff: previous === null ? null : picture.diff,
            rates,
            sysctls,
            listeners,
          });
          expect(picture.findings).toEqual(findings);
          for (const f of findings) fired.add(f.rule);
          previous = snapshot;
        }
      }),
      { numRuns: 120 },
    );
    // The sequences reach every rule (else the comparison above proves little about them).
    expect([...fired].sort()).toEqual([
      'accept-queue-full',
      'close-wait-rising',
      'fin-wait2-pileup',
      'reset-burst',
      'retransmits-rising',
      'syn-recv-pileup',
      'time-wait-exhaustion',
    ]);
  });
});

describe('diffRecordObjects', () => {
  it('finds exactly the objects that left and arrived, whatever the order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.tuple(fc.constantFrom('keep', 'drop', 'replace', 'insert', 'move'), fc.nat(20)), { maxLength: 400 }),
        (size, edits) => {
          const prev = Array.from({ length: size }, (_, i) => rec({ inode: 10_000 + i }));
          const next = [...prev];
          for (const [op, n] of edits) {
            const at = next.length === 0 ? 0 : n % next.length;
            if (op === 'drop') next.splice(at, 1);
            else if (op === 'replace' && next.length > 0) next[at] = rec({ inode: (next[at] as SocketRecord).inode });
            else if (op === 'insert') next.splice(at, 0, rec());
            else if (op === 'move' && next.length > 1) next.splice((at + n) % next.length, 0, ...next.splice(at, 1));
          }
          const { arrived, left } = diffRecordObjects(prev, next);
          const p = new Set(prev);
          const q = new Set(next);
          expectSameObjects(
            arrived,
            next.filter((r) => !p.has(r)),
          );
          expectSameObjects(
            left,
            prev.filter((r) => !q.has(r)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('findings: the service side is a listened address and port', () => {
  it('a client on 127.0.0.2 whose ephemeral port equals a port listened on at 127.0.0.1 is not a service socket', () => {
    const listener = rec({ state: 'LISTEN', localAddress: '127.0.0.1', localPort: 34771, remoteAddress: '0.0.0.0', remotePort: 0 });
    // FIN_WAIT2 from 127.0.0.2:34771 (an ephemeral port) to a database on 10.0.0.x:5432.
    const clients = [1, 2, 3].map((k) =>
      rec({ state: 'FIN_WAIT2', localAddress: '127.0.0.2', localPort: 34771, remoteAddress: `10.0.0.${k}`, remotePort: 5432 }),
    );
    // And on the listened address: accepted connections, the service side.
    const served = [1, 2, 3].map((k) =>
      rec({ state: 'FIN_WAIT2', localAddress: '127.0.0.1', localPort: 34771, remoteAddress: `10.0.1.${k}`, remotePort: 50_000 + k }),
    );
    const store = new SessionStore({ createFindingsEngine: createEngine });
    const sockets = [listener, ...clients, ...served];
    store.ingest(makeSnapshot(sockets, { takenAtMs: T0 }));
    const picture = store.ingest(makeSnapshot(sockets, { takenAtMs: T0 + 1000 })).live;
    const finWait2 = (picture?.findings ?? []).filter((f) => f.rule === 'fin-wait2-pileup');
    expect(finWait2.map((f) => [f.key, f.filter]).sort()).toEqual([
      ['dport 5432', 'state fin-wait-2 and dport 5432'],
      ['sport 34771', 'state fin-wait-2 and sport 34771'],
    ]);
    expect(finWait2.find((f) => f.key === 'sport 34771')?.title).toContain('3 sockets');
    // The rules built over the snapshot alone (no session aggregates) say the same.
    const alone = createEngine().update({
      snapshot: makeSnapshot(sockets, { takenAtMs: T0 }),
      diff: null,
      rates: {},
      sysctls: UNKNOWN_SYSCTLS,
      listeners: [],
    });
    expect(
      alone
        .filter((f) => f.rule === 'fin-wait2-pileup')
        .map((f) => f.key)
        .sort(),
    ).toEqual(['dport 5432', 'sport 34771']);
  });
});
