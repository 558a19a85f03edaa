import { describe, expect, it } from 'vitest';

import { compileFilter } from '../src/filter/index.js';
import {
  DEFAULT_FINDING_THRESHOLDS,
  FindingsEngine,
  RULE_INFO,
  createDefaultRules,
  type Finding,
  type FindingRule,
  type FindingsEngineOptions,
  type FindingThresholdOverrides,
} from '../src/model/findings.js';
import { buildListenerHealth, type NetSysctls } from '../src/model/listener-health.js';
import { computeRates } from '../src/model/rates.js';
import { SocketTracker } from '../src/model/tracker.js';
import type { Snapshot, SocketRecord } from '../src/model/types.js';
import { rec, snap, type RecordOverrides } from './helpers/records.js';

const SYSCTLS: NetSysctls = {
  ephemeralPortRange: { low: 32768, high: 60999 },
  somaxconn: 4096,
  tcpFinTimeoutSec: 60,
  tcpMaxSynBacklog: 2048,
  tcpSyncookies: 1,
  tcpTwReuse: 2,
};

const STEP_MS = 1000;
const T0 = 1_700_000_000_000;

/** One recorded refresh: the sockets and the cumulative kernel counters at that time. */
interface Step {
  readonly sockets: readonly SocketRecord[];
  readonly counters?: Record<string, number>;
}

interface Run {
  readonly snapshots: Snapshot[];
  /** Findings after each step. */
  readonly findings: Finding[][];
}

/** Feed a snapshot sequence through tracker → rates → listener health → engine, as the dashboard would. */
function runSequence(
  steps: readonly Step[],
  opts: {
    thresholds?: FindingThresholdOverrides;
    engine?: Partial<FindingsEngineOptions>;
    sysctls?: NetSysctls;
    backlogs?: Map<string, number>;
    rules?: readonly FindingRule[];
    stepMs?: number;
  } = {},
): Run {
  const engine = new FindingsEngine(opts.rules ?? createDefaultRules(opts.thresholds), opts.engine);
  const tracker = new SocketTracker();
  const sysctls = opts.sysctls ?? SYSCTLS;
  const snapshots: Snapshot[] = [];
  const findings: Finding[][] = [];
  let previous: Snapshot | null = null;
  steps.forEach((step, i) => {
    const snapshot: Snapshot = { ...snap(T0 + i * (opts.stepMs ?? STEP_MS), step.sockets), counters: step.counters ?? {} };
    const diff = tracker.ingest(snapshot);
    const rates = previous === null ? {} : computeRates(previous.counters, snapshot.counters, snapshot.takenAtMs - previous.takenAtMs);
    const listeners = buildListenerHealth(snapshot, rates, sysctls, opts.backlogs ?? null);
    findings.push(engine.update({ snapshot, previous, diff, rates, sysctls, listeners }));
    snapshots.push(snapshot);
    previous = snapshot;
  });
  return { snapshots, findings };
}

const ofRule = (fs: readonly Finding[], rule: Finding['rule']): Finding[] => fs.filter((f) => f.rule === rule);

/** The filter must compile and select exactly `expected` among the snapshot's sockets. */
function expectFilterSelects(f: Finding, snapshot: Snapshot, expected: readonly SocketRecord[]): void {
  const compiled = compileFilter(f.filter);
  if (!compiled.ok) throw new Error(`filter '${f.filter}' does not compile: ${compiled.error.message}`);
  const selected = snapshot.sockets
    .filter(compiled.filter)
    .map((s) => s.key)
    .sort();
  expect(selected).toEqual(expected.map((s) => s.key).sort());
}

const listener = (port: number, o: RecordOverrides = {}): SocketRecord =>
  rec({ state: 'LISTEN', localAddress: '0.0.0.0', localPort: port, remoteAddress: '0.0.0.0', remotePort: 0, ...o });

function range(n: number, f: (i: number) => SocketRecord): SocketRecord[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

// ---------------------------------------------------------------------------------------------

describe('CLOSE_WAIT rising', () => {
  const api = { pid: 4242, command: 'api-server' };
  const lst = listener(8080, { owner: api });
  const other = listener(9000, { owner: { pid: 7, command: 'other' } });
  const cw = range(60, (i) =>
    rec({
      state: 'CLOSE_WAIT',
      localAddress: '10.0.0.1',
      localPort: 8080,
      remoteAddress: '10.1.0.2',
      remotePort: 40000 + i,
      owner: i < 50 ? api : { pid: 99, command: 'worker' },
    }),
  );
  const otherCw = range(3, (i) =>
    rec({ state: 'CLOSE_WAIT', localPort: 9000, remotePort: 41000 + i, owner: { pid: 7, command: 'other' } }),
  );
  const est = range(5, (i) => rec({ state: 'ESTABLISHED', localPort: 8080, remotePort: 42000 + i, owner: api }));
  const step = (n: number): Step => ({ sockets: [lst, other, ...cw.slice(0, n), ...otherCw, ...est] });

  it('fires when the count passes the threshold while growing, names the process, keeps sinceMs on a plateau', () => {
    const run = runSequence([step(0), step(10), step(25), step(40), step(60), step(60), step(60)]);
    expect(ofRule(run.findings[1]!, 'close-wait-rising')).toEqual([]); // 10 < 20
    const [f] = ofRule(run.findings[2]!, 'close-wait-rising');
    expect(f).toBeDefined();
    expect(f).toMatchObject({
      id: 'close-wait-rising:sport 8080',
      severity: 'warn',
      state: 'CLOSE_WAIT',
      sinceMs: T0 + 2 * STEP_MS,
      holding: true,
      subject: { port: 8080, pid: 4242, process: 'api-server' },
      filter: 'state close-wait and sport 8080',
    });
    expect(f!.title).toMatch(/api-server \(pid 4242\) is not closing sockets/);
    expect(f!.detail).toMatch(/25 connections on port 8080 are in CLOSE_WAIT \(grew from 0 to 25/);
    for (const i of [3, 4, 5, 6]) {
      const [g] = ofRule(run.findings[i]!, 'close-wait-rising');
      expect(g?.sinceMs).toBe(T0 + 2 * STEP_MS);
      expect(g?.lastHeldMs).toBe(T0 + i * STEP_MS);
    }
    const last = ofRule(run.findings[6]!, 'close-wait-rising')[0]!;
    expect(last.detail).toMatch(/grew earlier and is still at 60/);
    expect(last.title).toBe('CLOSE_WAIT still at 60 on port 8080: api-server (pid 4242) is not closing sockets');
    expect(ofRule(run.findings[3]!, 'close-wait-rising')[0]!.title).toMatch(/^CLOSE_WAIT rising on port 8080, 10 → 40: /);
    expect(last.detail).toMatch(/api-server \(pid 4242\), 50 of them; 1 other process holds the rest/);
    expectFilterSelects(last, run.snapshots[6]!, cw);
  });

  it('client side: groups by remote port when the local port is not a listener', () => {
    const app = { pid: 5, command: 'app' };
    const db = range(30, (i) =>
      rec({ state: 'CLOSE_WAIT', localPort: 50000 + i, remoteAddress: '10.2.0.9', remotePort: 5432, owner: app }),
    );
    const run = runSequence([{ sockets: db.slice(0, 5) }, { sockets: db.slice(0, 15) }, { sockets: db }]);
    const [f] = ofRule(run.findings[2]!, 'close-wait-rising');
    expect(f).toMatchObject({ id: 'close-wait-rising:dport 5432', subject: { port: 5432, pid: 5, process: 'app', peer: '10.2.0.9' } });
    expect(f!.title).toMatch(/connections to remote port 5432/);
    expectFilterSelects(f!, run.snapshots[2]!, db);
  });

  it('does not fire on a high but steady count, nor on a small rising one', () => {
    const steady = runSequence([step(30), step(30), step(30), step(30)]);
    expect(steady.findings.flat().filter((f) => f.rule === 'close-wait-rising')).toEqual([]);
    const small = runSequence([step(1), step(5), step(10), step(15)]);
    expect(small.findings.flat().filter((f) => f.rule === 'close-wait-rising')).toEqual([]);
  });

  it('hold-down: stays (holding: false) for holdDownMs after the condition stops, then goes', () => {
    const run = runSequence([step(0), step(20), step(40), step(0), step(0), step(0), step(0)], { engine: { holdDownMs: 2500 } });
    const at = (i: number) => ofRule(run.findings[i]!, 'close-wait-rising')[0];
    expect(at(2)?.holding).toBe(true);
    expect(at(3)).toMatchObject({ holding: false, lastHeldMs: T0 + 2 * STEP_MS, sinceMs: T0 + 2 * STEP_MS });
    expect(at(4)?.holding).toBe(false);
    expect(at(5)).toBeUndefined(); // 3000 ms after it last held
  });

  it('a condition that comes back within the hold-down keeps its sinceMs', () => {
    const run = runSequence([step(0), step(20), step(40), step(0), step(20), step(40), step(50)], { engine: { holdDownMs: 10_000 } });
    // Step 4 (20, after 40 → 0) is not a rising window: only the hold-down keeps it.
    expect(ofRule(run.findings[4]!, 'close-wait-rising')[0]).toMatchObject({ holding: false, sinceMs: T0 + 2 * STEP_MS });
    const f = ofRule(run.findings[6]!, 'close-wait-rising')[0];
    expect(f).toMatchObject({ holding: true, sinceMs: T0 + 2 * STEP_MS, lastHeldMs: T0 + 6 * STEP_MS });
  });
});

describe('CLOSE_WAIT pile that stays', () => {
  const api = { pid: 4242, command: 'api-server' };
  const lst = listener(8080, { owner: api });
  const cw = range(400, (i) =>
    rec({ state: 'CLOSE_WAIT', localAddress: '10.0.0.1', localPort: 8080, remoteAddress: '10.1.0.2', remotePort: 20000 + i, owner: api }),
  );
  const pile = (n: number): Step => ({ sockets: [lst, ...cw.slice(0, n)] });
  const cwOf = (fs: readonly Finding[]) => ofRule(fs, 'close-wait-rising')[0];

  it('400 CLOSE_WAIT on one port for minutes without growing: reported after steadyMs, naming port and process', () => {
    // Recorded every 5 s for 3 minutes: the count wobbles (398..400) and never rises over 3 refreshes.
    const counts = Array.from({ length: 37 }, (_, i) => 400 - (i % 3));
    const run = runSequence(counts.map(pile), { stepMs: 5000 });
    const at = (i: number) => cwOf(run.findings[i]!);
    for (let i = 0; i < 6; i++) expect(at(i)).toBeUndefined(); // 0..25 s
    const f = at(6)!; // 30 s
    expect(f).toMatchObject({
      id: 'close-wait-rising:sport 8080',
      severity: 'warn',
      sinceMs: T0 + 30_000,
      subject: { port: 8080, pid: 4242, process: 'api-server' },
    });
    expect(f.title).toBe('CLOSE_WAIT pile of 400 staying on port 8080 for 30s: api-server (pid 4242) is not closing sockets');
    expect(f.detail).toMatch(/^400 connections on port 8080 are in CLOSE_WAIT \(at least 20 in every refresh for 30s, 400 now\)/);
    const last = at(36)!;
    expect(last.title).toBe('CLOSE_WAIT pile of 400 staying on port 8080 for 3m00s: api-server (pid 4242) is not closing sockets');
    expect(last).toMatchObject({ holding: true, sinceMs: T0 + 30_000 });
    expectFilterSelects(last, run.snapshots[36]!, cw);
  });

  it('at any refresh interval: 100 ms refreshes over more snapshots than the engine remembers', () => {
    const run = runSequence(
      Array.from({ length: 320 }, () => pile(50)),
      { stepMs: 100 },
    );
    expect(cwOf(run.findings[299]!)).toBeUndefined(); // 29.9 s
    expect(cwOf(run.findings[300]!)?.title).toMatch(/^CLOSE_WAIT pile of 50 staying on port 8080 for 30s: /);
  });

  it('a dip below minCount starts the clock again; crit at critCount', () => {
    const seq = [...Array.from({ length: 5 }, () => pile(400)), pile(10), ...Array.from({ length: 7 }, () => pile(400))];
    const run = runSequence(seq, { stepMs: 5000, engine: { holdDownMs: 0 } });
    for (let i = 0; i < 7; i++) expect(cwOf(run.findings[i]!)).toBeUndefined(); // 20 s of pile, then the dip at 25 s
    // 10 → 400 → 400 is a rise; then a plateau; the pile counts from 30 s, so 30 s later at 60 s.
    expect(cwOf(run.findings[7]!)?.title).toMatch(/^CLOSE_WAIT rising on port 8080, 10 → 400: /);
    expect(cwOf(run.findings[11]!)?.title).toMatch(/^CLOSE_WAIT still at 400 on port 8080: /);
    expect(cwOf(run.findings[12]!)?.title).toMatch(/^CLOSE_WAIT pile of 400 staying on port 8080 for 30s: /);
    const crit = runSequence(
      Array.from({ length: 7 }, () => pile(400)),
      { stepMs: 5000, thresholds: { closeWait: { critCount: 400 } } },
    );
    expect(cwOf(crit.findings[6]!)?.severity).toBe('crit');
  });

  it('titles agree with texts in every refresh of a rise, a plateau and a long pile', () => {
    const counts = [0, 30, 60, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90];
    const run = runSequence(counts.map(pile), { stepMs: 5000 });
    const seen = new Set<string>();
    for (const fs of run.findings) {
      const f = cwOf(fs);
      if (f === undefined) continue;
      const kind = f.title.startsWith('CLOSE_WAIT rising')
        ? 'rising'
        : f.title.startsWith('CLOSE_WAIT still at')
          ? 'still'
          : f.title.startsWith('CLOSE_WAIT pile of')
            ? 'pile'
            : 'other';
      seen.add(kind);
      expect(kind).not.toBe('other');
      if (kind === 'rising') expect(f.detail).toMatch(/\(grew from \d+ to \d+/);
      if (kind === 'still') expect(f.detail).toMatch(/\(grew earlier and is still at \d+\)/);
      if (kind === 'pile') expect(f.detail).toMatch(/\(at least 20 in every refresh for /);
      expect(f.title).not.toMatch(/rising/.test(f.title) ? /still|staying/ : /rising/);
    }
    expect([...seen].sort()).toEqual(['pile', 'rising', 'still']);
  });
});

describe('TIME_WAIT towards one peer', () => {
  const narrow: NetSysctls = { ...SYSCTLS, ephemeralPortRange: { low: 40000, high: 40099 } }; // 100 ports
  const tw = (n: number, peer = '10.0.0.5', port = 443, base = 40000): SocketRecord[] =>
    range(n, (i) =>
      rec({ state: 'TIME_WAIT', inode: 0, localAddress: '10.0.0.1', localPort: base + i, remoteAddress: peer, remotePort: port }),
    );
  // Distractors: another peer, the same peer on another port, server-side TIME_WAIT on port 443.
  const noise = [
    ...tw(10, '10.0.0.6'),
    ...tw(5, '10.0.0.5', 80),
    rec({ state: 'TIME_WAIT', inode: 0, localPort: 443, remoteAddress: '10.0.0.5', remotePort: 443 }),
  ];

  it.each([
    { n: 60, severity: 'warn' },
    { n: 85, severity: 'crit' },
  ])('$n of 100 ports → $severity, mentions tcp_tw_reuse, filter selects exactly those sockets', ({ n, severity }) => {
    const mine = tw(n);
    const run = runSequence([{ sockets: [...mine, ...noise] }], { sysctls: narrow });
    const [f] = ofRule(run.findings[0]!, 'time-wait-exhaustion');
    expect(f).toMatchObject({ id: 'time-wait-exhaustion:peer 10.0.0.5:443', severity, subject: { peer: '10.0.0.5:443', port: 443 } });
    expect(f!.title).toMatch(/Port exhaustion risk towards 10\.0\.0\.5:443/);
    expect(f!.detail).toMatch(/tcp_tw_reuse is 2, which reuses TIME_WAIT ports for loopback only/);
    expect(f!.detail).toMatch(new RegExp(`${n}% of the ephemeral port range 40000-40099`));
    expectFilterSelects(f!, run.snapshots[0]!, mine);
  });

  it('v4-mapped peers count with their IPv4 form; IPv6 peers get brackets', () => {
    const mapped = range(30, (i) =>
      rec({
        protocol: 'tcp6',
        state: 'TIME_WAIT',
        inode: 0,
        localAddress: '::ffff:10.0.0.1',
        localPort: 40100 - 1 - i,
        remoteAddress: '::ffff:10.0.0.5',
        remotePort: 443,
      }),
    );
    const v6 = range(60, (i) =>
      rec({
        protocol: 'tcp6',
        state: 'TIME_WAIT',
        inode: 0,
        localAddress: '::1',
        localPort: 40000 + i,
        remoteAddress: '::1',
        remotePort: 8443,
      }),
    );
    const plain = tw(30);
    const run = runSequence([{ sockets: [...plain, ...mapped, ...v6] }], { sysctls: narrow });
    const fs = ofRule(run.findings[0]!, 'time-wait-exhaustion');
    expect(fs.map((f) => f.subject.peer).sort()).toEqual(['10.0.0.5:443', '[::1]:8443']);
    const v6f = fs.find((f) => f.subject.peer === '[::1]:8443')!;
    expect(v6f.detail).toMatch(/covers this peer/);
    expectFilterSelects(v6f, run.snapshots[0]!, v6);
    const v4f = fs.find((f) => f.subject.peer === '10.0.0.5:443')!;
    expect(v4f.detail).toMatch(/^60 connections to 10\.0\.0\.5:443/);
    expectFilterSelects(v4f, run.snapshots[0]!, [...plain, ...mapped]);
  });

  it('does not fire below half the range, nor for sockets outside the ephemeral range', () => {
    const outside = range(80, (i) =>
      rec({ state: 'TIME_WAIT', inode: 0, localPort: 30000 + i, remoteAddress: '10.0.0.5', remotePort: 443 }),
    );
    const run = runSequence([{ sockets: [...tw(40), ...outside, ...noise] }], { sysctls: narrow });
    expect(ofRule(run.findings[0]!, 'time-wait-exhaustion')).toEqual([]);
  });

  it('assumes the Linux default range when the sysctl is unknown, and says so', () => {
    const run = runSequence([{ sockets: tw(60) }], {
      sysctls: { ...SYSCTLS, ephemeralPortRange: null },
      thresholds: { timeWait: { warnShare: 0.001 } },
    });
    expect(ofRule(run.findings[0]!, 'time-wait-exhaustion')[0]?.detail).toMatch(/32768-60999 \(28232 ports\) \(Linux default/);
  });
});

describe('SYN_RECV pile-up', () => {
  const web = { pid: 80, command: 'nginx' };
  const half = (n: number, sources: number): SocketRecord[] =>
    range(n, (i) =>
      rec({
        state: 'SYN_RECV',
        inode: 0,
        localAddress: '10.0.0.1',
        localPort: 80,
        remoteAddress: `198.51.${(i % sources) >> 8}.${(i % sources) & 255}`,
        remotePort: 1024 + i,
      }),
    );

  it('many sources: a SYN flood, with the syncookies setting and the listener process', () => {
    const syn = half(150, 150);
    const run = runSequence([
      { sockets: [listener(80, { owner: web }), ...syn, rec({ state: 'SYN_RECV', inode: 0, localPort: 81, remotePort: 5 })] },
    ]);
    const [f] = ofRule(run.findings[0]!, 'syn-recv-pileup');
    expect(f).toMatchObject({
      id: 'syn-recv-pileup:sport 80',
      severity: 'warn',
      subject: { port: 80, pid: 80, process: 'nginx' },
      state: 'SYN_RECV',
    });
    expect(f!.detail).toMatch(/150 different addresses, which looks like a SYN flood/);
    expect(f!.detail).toMatch(/tcp_syncookies is 1/);
    expect(f!.detail).toMatch(/tcp_max_syn_backlog = 2048/);
    expectFilterSelects(f!, run.snapshots[0]!, syn);
  });

  it('few sources and a full accept queue: a slow accept loop', () => {
    const run = runSequence([{ sockets: [listener(80, { owner: web, recvQ: 9 }), ...half(120, 2)] }], {
      backlogs: new Map([['0.0.0.0:80', 8]]),
    });
    expect(ofRule(run.findings[0]!, 'syn-recv-pileup')[0]?.detail).toMatch(/accept queue of this listener is full/);
  });

  it('does not fire for a handful of handshakes in flight', () => {
    const run = runSequence([{ sockets: [listener(80), ...half(20, 20)] }]);
    expect(ofRule(run.findings[0]!, 'syn-recv-pileup')).toEqual([]);
  });
});

describe('accept queue full / listen overflows', () => {
  const app = { pid: 31, command: 'slow-app' };
  const target = listener(80, { owner: app, recvQ: 9 });
  const otherPort = listener(81, { owner: app, recvQ: 0 });
  const v6 = listener(80, { protocol: 'tcp6', localAddress: '::', remoteAddress: '::', owner: app, recvQ: 0 });
  const backlogs = new Map([
    ['0.0.0.0:80', 8],
    ['0.0.0.0:81', 8],
    ['[::]:80', 8],
  ]);
  const counters = (overflows: number) => ({ 'TcpExt.ListenOverflows': overflows, 'TcpExt.ListenDrops': overflows });

  it('fires from listener health, crit while overflows rise, says the counters are machine-wide', () => {
    const sockets = [target, otherPort, v6];
    const run = runSequence(
      [
        { sockets, counters: counters(100) },
        { sockets, counters: counters(130) },
      ],
      { backlogs },
    );
    const [f] = ofRule(run.findings[1]!, 'accept-queue-full');
    expect(f).toMatchObject({
      id: 'accept-queue-full:tcp 0.0.0.0:80',
      severity: 'crit',
      state: 'LISTEN',
      subject: { port: 80, pid: 31, process: 'slow-app' },
      filter: 'state listen and src 0.0.0.0:80',
    });
    expect(f!.title).toMatch(/Accept queue full on port 80: slow-app \(pid 31\)/);
    expect(f!.detail).toMatch(/9 connections waiting for accept\(\) with a backlog of 8/);
    expect(f!.detail).toMatch(/ListenOverflows 30\/s/);
    expect(f!.detail).toMatch(/machine-wide/);
    expectFilterSelects(f!, run.snapshots[1]!, [target]);
  });

  it('IPv6 listeners get a bracketed endpoint filter that selects only them', () => {
    const full6 = listener(80, { protocol: 'tcp6', localAddress: '::', remoteAddress: '::', owner: app, recvQ: 8 });
    const run = runSequence([{ sockets: [listener(80, { recvQ: 0 }), full6] }], { backlogs });
    const [f] = ofRule(run.findings[0]!, 'accept-queue-full');
    expect(f).toMatchObject({ id: 'accept-queue-full:tcp6 [::]:80', filter: 'state listen and src [::]:80' });
    expectFilterSelects(f!, run.snapshots[0]!, [full6]);
  });

  it('a full queue without drops is a warning; a filling one is info', () => {
    const full = runSequence([{ sockets: [listener(80, { recvQ: 8 })] }], { backlogs });
    expect(ofRule(full.findings[0]!, 'accept-queue-full')[0]?.severity).toBe('warn');
    const filling = runSequence([{ sockets: [listener(80, { recvQ: 5 })] }], { backlogs });
    expect(ofRule(filling.findings[0]!, 'accept-queue-full')[0]).toMatchObject({
      severity: 'info',
      title: expect.stringMatching(/filling/),
    });
    const quiet = runSequence([{ sockets: [listener(80, { recvQ: 5 })] }], {
      backlogs,
      thresholds: { acceptQueue: { reportFilling: false } },
    });
    expect(ofRule(quiet.findings[0]!, 'accept-queue-full')).toEqual([]);
  });

  it('overflows with every queue empty: one unattributed finding', () => {
    const sockets = [listener(80)];
    const run = runSequence(
      [
        { sockets, counters: counters(1) },
        { sockets, counters: counters(5) },
      ],
      { backlogs },
    );
    const fs = ofRule(run.findings[1]!, 'accept-queue-full');
    expect(fs.map((f) => f.id)).toEqual(['accept-queue-full:unattributed']);
    expect(fs[0]!.detail).toMatch(/machine-wide/);
    expectFilterSelects(fs[0]!, run.snapshots[1]!, sockets);
  });

  it('healthy listeners with steady counters: nothing', () => {
    const sockets = [listener(80, { recvQ: 1 }), otherPort];
    const run = runSequence(
      [
        { sockets, counters: counters(7) },
        { sockets, counters: counters(7) },
      ],
      { backlogs },
    );
    expect(run.findings.flat()).toEqual([]);
  });
});

describe('burst of resets', () => {
  const resets = (total: number) => ({ 'Tcp.EstabResets': Math.floor(total / 2), 'Tcp.OutRsts': total - Math.floor(total / 2) });
  /** Cumulative counters growing by `perSec[i]` each 1 s step. */
  const stepsOf = (perSec: readonly number[], sockets: readonly SocketRecord[] = []): Step[] => {
    let total = 1000;
    return [{ sockets, counters: resets(total) }, ...perSec.map((r) => ({ sockets, counters: resets((total += r)) }))];
  };

  it('a jump against the recent average fires even below the absolute threshold', () => {
    const run = runSequence(stepsOf([2, 2, 2, 2, 40]));
    expect(run.findings.slice(0, 5).flat()).toEqual([]);
    const [f] = ofRule(run.findings[5]!, 'reset-burst');
    expect(f).toMatchObject({ id: 'reset-burst:machine', severity: 'warn', filter: 'tcp' });
    expect(f!.detail).toMatch(/= 40\/s \(recent average 2\/s\)/);
  });

  it('above the absolute threshold at once; names the port where connections vanished from ESTABLISHED', () => {
    const conns = range(6, (i) => rec({ state: 'ESTABLISHED', localPort: 8443, remotePort: 50000 + i }));
    const sockets0 = [listener(8443), ...conns];
    const sockets1 = [listener(8443), ...conns.slice(0, 1)];
    const run = runSequence([
      { sockets: sockets0, counters: resets(0) },
      { sockets: sockets1, counters: resets(150) },
    ]);
    const [f] = ofRule(run.findings[1]!, 'reset-burst');
    expect(f).toMatchObject({ severity: 'warn', subject: { port: 8443 }, filter: 'sport 8443' });
    expect(f!.detail).toMatch(/5 connections vanished straight from ESTABLISHED on port 8443/);
    expect(compileFilter(f!.filter).ok).toBe(true);
  });

  it('steady moderate resets do not fire', () => {
    const run = runSequence(stepsOf([50, 50, 50, 55, 50, 45, 50]));
    expect(run.findings.flat()).toEqual([]);
  });
});

describe('retransmits rising', () => {
  const seq = (out: number, retrans: number, sockets: readonly SocketRecord[] = []): Step[] => [
    { sockets, counters: { 'Tcp.OutSegs': 10_000, 'Tcp.RetransSegs': 100 } },
    { sockets, counters: { 'Tcp.OutSegs': 10_000 + out, 'Tcp.RetransSegs': 100 + retrans } },
  ];

  it('fires above the share threshold and names the peer with unrecovered retransmits', () => {
    const lossy = range(3, (i) =>
      rec({ state: 'ESTABLISHED', remoteAddress: '10.0.0.77', remotePort: 443, localPort: 45000 + i, retransmits: 2, timer: 'on' }),
    );
    const fine = range(2, (i) => rec({ state: 'ESTABLISHED', remoteAddress: '10.0.0.78', remotePort: 443, localPort: 46000 + i }));
    const run = runSequence(seq(1000, 50, [...lossy, ...fine]));
    const [f] = ofRule(run.findings[1]!, 'retransmits-rising');
    expect(f).toMatchObject({ severity: 'warn', subject: { peer: '10.0.0.77' }, filter: 'tcp and dst 10.0.0.77' });
    expect(f!.title).toMatch(/5\.0% of segments sent/);
    expectFilterSelects(f!, run.snapshots[1]!, lossy);
    const crit = runSequence(seq(1000, 200));
    expect(ofRule(crit.findings[1]!, 'retransmits-rising')[0]).toMatchObject({ severity: 'crit', filter: 'tcp' });
  });

  it('does not fire for a healthy share or too little traffic', () => {
    expect(runSequence(seq(1000, 5)).findings.flat()).toEqual([]);
    expect(runSequence(seq(10, 5)).findings.flat()).toEqual([]);
  });
});

describe('FIN_WAIT2 piling up', () => {
  const fw2 = range(120, (i) =>
    rec({
      state: 'FIN_WAIT2',
      localPort: 50000 + i,
      remoteAddress: '10.0.0.9',
      remotePort: 8443,
      inode: i < 70 ? 0 : 900_000 + i,
      owner: i < 70 ? null : { pid: 12, command: 'client' },
    }),
  );

  it('fires with the fin_timeout, orphans and holders', () => {
    const run = runSequence([{ sockets: [...fw2, rec({ state: 'FIN_WAIT2', localPort: 51000, remotePort: 8444 })] }]);
    const [f] = ofRule(run.findings[0]!, 'fin-wait2-pileup');
    expect(f).toMatchObject({
      id: 'fin-wait2-pileup:dport 8443',
      severity: 'warn',
      subject: { port: 8443, peer: '10.0.0.9', pid: 12, process: 'client' },
    });
    expect(f!.detail).toMatch(/70 are orphaned/);
    expect(f!.detail).toMatch(/tcp_fin_timeout = 60 s; 50 are still held by a process/);
    expectFilterSelects(f!, run.snapshots[0]!, fw2);
  });

  it('does not fire for a few', () => {
    expect(runSequence([{ sockets: fw2.slice(0, 30) }]).findings.flat()).toEqual([]);
  });
});

describe('FindingsEngine', () => {
  it('a healthy sequence raises nothing', () => {
    const conns = range(50, (i) =>
      rec({ state: i % 10 === 0 ? 'TIME_WAIT' : 'ESTABLISHED', localPort: 40000 + i, remoteAddress: '10.0.0.5', remotePort: 443 }),
    );
    const steps: Step[] = range(10, () => rec()).map((_, i) => ({
      sockets: [listener(80, { recvQ: i % 2 }), ...conns],
      counters: { 'Tcp.OutSegs': 1000 * i, 'Tcp.RetransSegs': 2 * i, 'Tcp.EstabResets': i, 'Tcp.OutRsts': i, 'TcpExt.ListenOverflows': 3 },
    }));
    expect(runSequence(steps).findings.flat()).toEqual([]);
  });

  it('orders by severity then age, and ids are rule + subject', () => {
    const rules: FindingRule[] = [
      {
        id: 'reset-burst',
        evaluate: (input) =>
          input.snapshot.takenAtMs > T0 ? [{ key: 'b', severity: 'warn', title: 'b', detail: '', subject: {}, filter: 'tcp' }] : [],
      },
      {
        id: 'retransmits-rising',
        evaluate: () => [
          { key: 'a', severity: 'warn', title: 'a', detail: '', subject: {}, filter: 'tcp' },
          { key: 'c', severity: 'crit', title: 'c', detail: '', subject: {}, filter: 'tcp' },
        ],
      },
    ];
    const run = runSequence([{ sockets: [] }, { sockets: [] }], { rules });
    expect(run.findings[1]!.map((f) => f.id)).toEqual(['retransmits-rising:c', 'retransmits-rising:a', 'reset-burst:b']);
  });

  it('caps findings per rule and keeps history bounded (memory stays flat)', () => {
    let seen = 0;
    const rules: FindingRule<number>[] = [
      {
        id: 'fin-wait2-pileup',
        summarize: (input) => input.snapshot.takenAtMs,
        evaluate: (_input, history) => {
          seen = history.length;
          return range(50, (i) => rec({ localPort: i })).map((_, i) => ({
            key: String(i),
            severity: 'info' as const,
            title: '',
            detail: '',
            subject: {},
            filter: 'tcp',
          }));
        },
      },
    ];
    const engine = new FindingsEngine(rules, { historyLength: 60, maxPerRule: 10 });
    for (let i = 0; i < 500; i++) {
      const s = snap(T0 + i * 1000, []);
      expect(engine.update({ snapshot: s, diff: null, rates: {}, sysctls: SYSCTLS, listeners: [] }).length).toBe(10);
    }
    expect(seen).toBe(60);
    expect(engine.size()).toEqual({ findings: 10, historySamples: 60 });
    engine.reset();
    expect(engine.size()).toEqual({ findings: 0, historySamples: 0 });
  });

  it('a 1000-step soak with real rules stays flat', () => {
    const engine = new FindingsEngine(createDefaultRules({ closeWait: { minCount: 1 } }));
    const tracker = new SocketTracker();
    for (let i = 0; i < 1000; i++) {
      const sockets = range(i % 30, (k) =>
        rec({ state: 'CLOSE_WAIT', localPort: 20000 + ((i + k) % 200), remotePort: 1000 + k, key: `cw ${i % 7} ${k}` }),
      );
      const s = snap(T0 + i * 1000, sockets);
      engine.update({ snapshot: s, diff: tracker.ingest(s), rates: {}, sysctls: SYSCTLS, listeners: [] });
    }
    const { historySamples, findings } = engine.size();
    expect(historySamples).toBeLessThanOrEqual(60 * 7); // 60 summaries per rule that keeps any
    expect(findings).toBeLessThanOrEqual(10 * 7);
  });

  it('every rule has an info row; the threshold table is complete', () => {
    expect(
      createDefaultRules()
        .map((r) => r.id)
        .sort(),
    ).toEqual(Object.keys(RULE_INFO).sort());
    expect(Object.keys(DEFAULT_FINDING_THRESHOLDS).length).toBe(7);
  });
});
