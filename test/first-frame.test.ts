// The first frame never waits for owners: the dashboard's live collection (createLiveCollector,
// as src/main.ts builds it) over a recorded /proc tree and an owner source whose first full scan
// answers only when the test releases it. Before the release the real poller has drawn the
// socket table and the header says "owners: scanning…"; after it the owner column is filled
// without waiting for the (here one-minute) refresh interval. No times are asserted.

import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { UNKNOWN_SYSCTLS } from '../src/model/listener-health.js';
import type { OwnerScanStats, Snapshot, SocketOwner } from '../src/model/types.js';
import { createLiveCollector, type AsyncOwnerSource, type OwnerLookup } from '../src/proc/collect-snapshot.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { runDashboard, type DashboardDeps } from '../src/ui/run-dashboard.js';
import { OWNERS_PENDING_TEXT } from '../src/view/dashboard-view.js';
import { procRoots } from './helpers/proc-roots.js';
import { owner, rec } from './helpers/records.js';
import { createHeadless, makeSnapshot, settle, type Headless } from './helpers/snapshots.js';

const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}(\\[[0-9;?]*[ -/]*[@-~]|\\][^\\x07]*\\x07|[()][0-9A-B]|[=>78])`, 'g');
/** The recorded tcp table's listener on 0.0.0.0:2024 (0x07E8), inode 1065. */
const LISTENER_INODE = 1065;
const LATE_OWNER: SocketOwner = owner(4242, 'latecomer');

const roots = procRoots('sockscope-first-frame-');
const recordedTree = (): string => roots.recorded(['tcp', 'tcp6', 'unix', 'snmp', 'netstat']);

/** An owner source whose prime (the first full fd scan) answers only when released. */
function lateOwnerSource(): { source: AsyncOwnerSource; release(): void; scansAsked: { count: number } } {
  let release = (): void => undefined;
  const primed = new Promise<void>((resolve) => {
    release = resolve;
  });
  const scansAsked = { count: 0 };
  const stats: OwnerScanStats = { enabled: true, unreadableProcesses: 0, scannedProcesses: 1, linksRead: 1, durationMs: 0 };
  const source: AsyncOwnerSource = {
    prime: () => primed,
    scan: (): Promise<OwnerLookup> => {
      scansAsked.count++;
      return Promise.resolve({
        stats,
        lookup: (inode) => (inode === LISTENER_INODE ? LATE_OWNER : null),
        sharedBy: () => 0,
      });
    },
    close: () => Promise.resolve(),
  };
  return { source, release: () => release(), scansAsked };
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never happened: ${what}`);
}

const running: { signals: EventEmitter; exit: Promise<number> }[] = [];
afterEach(async () => {
  for (const r of running) r.signals.emit('SIGTERM');
  await Promise.all(running.splice(0).map((r) => r.exit));
});

describe('the first frame does not wait for owners', () => {
  it('the poller draws rows and "owners: scanning…" before the owner scan answers, and the owners right after it does', async () => {
    const late = lateOwnerSource();
    const collector = createLiveCollector({
      procFs: createProcFs(recordedTree()),
      owners: late.source,
      userName: (uid) => `u${uid}`,
      hostname: () => 'testhost',
      now: () => Date.now(),
      monotonicMs: () => performance.now(),
    });
    const chunks: string[] = [];
    const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
    const output = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk.toString('utf8'));
          callback();
        },
      }),
      { columns: 160, rows: 45, isTTY: true },
    );
    // Blessed moves the cursor over unchanged cells: compare without blanks.
    const text = (): string => chunks.join('').replace(ANSI, '').replace(/\s+/g, '');
    const squeezed = (s: string): string => s.replace(/\s+/g, '');
    const recorded: Snapshot[] = [];
    const ssReads = { rates: 0, peers: 0 };
    const signals = new EventEmitter();
    const deps: DashboardDeps = {
      stdin: input,
      stdout: output,
      stderr: { write: () => true },
      env: { TERM: 'xterm-256color', LANG: 'C.UTF-8' },
      signals: signals as unknown as DashboardDeps['signals'],
      raiseSignal: () => undefined,
      monotonicMs: () => performance.now(),
      timeZoneOffsetMin: 0,
      // One refresh a minute: owners can only show up by the refresh their arrival triggers.
      intervalMs: 60_000,
      color: false,
      filterText: '',
      scopeLabel: null,
      source: {
        kind: 'live',
        open: () => ({
          prime: () => collector.prime(),
          collect: () => collector.collect(),
          targetGone: () => null,
          readSysctls: () => UNKNOWN_SYSCTLS,
          readBacklogs: null,
          readConnRates: () => {
            ssReads.rates++;
            return Promise.resolve({ ok: false, message: 'not in this test' });
          },
          readUnixPeers: () => {
            ssReads.peers++;
            return Promise.resolve(null);
          },
          close: () => late.source.close(),
        }),
      },
      fetchTcpInfo: () => Promise.resolve(null),
      recorder: { write: (s) => void recorded.push(s), close: () => undefined },
      writeStats: null,
    };
    const exit = runDashboard(deps);
    running.push({ signals, exit });

    await until(() => text().includes(':2024'), 'the listener row drawn');
    expect(text()).toContain(squeezed(OWNERS_PENDING_TEXT));
    expect(text()).not.toContain('latecomer');
    // Nothing asked the owner source for owners: the snapshot was taken without them.
    expect(late.scansAsked.count).toBe(0);
    expect(recorded.length).toBeGreaterThanOrEqual(1);
    expect(recorded[0]?.owners.pending).toBe(true);
    expect(recorded[0]?.sockets.every((s) => s.owner === null)).toBe(true);
    // Nor are ss's per-connection rates and UNIX peers read yet: the owners' refresh goes first.
    expect(ssReads).toEqual({ rates: 0, peers: 0 });

    late.release();
    await until(() => text().includes('4242/latecomer'), 'the owner drawn after the scan answered');
    const last = recorded.at(-1);
    expect(last?.owners.pending).toBeUndefined();
    expect(last?.sockets.find((s) => s.inode === LISTENER_INODE)?.owner).toEqual(LATE_OWNER);
    expect(late.scansAsked.count).toBeGreaterThanOrEqual(1);
    await until(() => ssReads.rates > 0 && ssReads.peers > 0, 'ss read once owners are in');

    input.write('q');
    expect(await exit).toBe(0);
  });

  it('without a prime (no owner worker) the collector asks for owners from the first snapshot', async () => {
    const late = lateOwnerSource();
    const { prime: _unused, ...withoutPrime } = late.source;
    void _unused;
    const collector = createLiveCollector({
      procFs: createProcFs(recordedTree()),
      owners: withoutPrime,
      userName: (uid) => `u${uid}`,
      hostname: () => 'testhost',
      now: () => 1_000,
      monotonicMs: () => 0,
    });
    await collector.prime();
    const snapshot = await collector.collect();
    expect(snapshot.owners.pending).toBeUndefined();
    expect(snapshot.sockets.find((s) => s.inode === LISTENER_INODE)?.owner).toEqual(LATE_OWNER);
  });
});

describe('the header while owners are pending (headless screen)', () => {
  let h: Headless | null = null;
  afterEach(() => {
    h?.destroy();
    h = null;
  });

  it('says "owners: scanning…" over rows without owners, and drops it when a snapshot with owners arrives', async () => {
    h = createHeadless({ width: 160, height: 45 });
    const listener = rec({ state: 'LISTEN', localPort: 2024, remoteAddress: '0.0.0.0', remotePort: 0, inode: LISTENER_INODE });
    const pending = makeSnapshot([{ ...listener, owner: null }]);
    h.dashboard.onSnapshot({ ...pending, owners: { ...pending.owners, enabled: false, pending: true } });
    await settle();
    const before = h.lines();
    expect(before.slice(0, 3).join('\n')).toContain(OWNERS_PENDING_TEXT);
    expect(before.some((l) => l.includes(':2024'))).toBe(true);
    expect(h.text()).not.toContain('latecomer');

    h.dashboard.onSnapshot(makeSnapshot([{ ...listener, owner: LATE_OWNER }], { takenAtMs: 1_700_000_001_000 }));
    await settle();
    expect(h.text()).not.toContain(OWNERS_PENDING_TEXT);
    expect(h.lines().find((l) => l.includes(':2024'))).toContain('4242/latecomer');
  });
});

describe('an owner source that competes with the table reads primes after the first snapshot', () => {
  it('the first snapshot is taken (owners pending) before the prime starts; after it, owners join', async () => {
    const procFs = createProcFs(recordedTree());
    const events: string[] = [];
    const stats: OwnerScanStats = { enabled: true, unreadableProcesses: 0, scannedProcesses: 1, linksRead: 1, durationMs: 0 };
    const source: AsyncOwnerSource = {
      primeAfterFirstSnapshot: true,
      prime: () => {
        events.push('prime');
        return Promise.resolve();
      },
      scan: () => {
        events.push('scan');
        return Promise.resolve({ stats, lookup: (inode) => (inode === LISTENER_INODE ? LATE_OWNER : null), sharedBy: () => 0 });
      },
      close: () => Promise.resolve(),
    };
    const collector = createLiveCollector({
      procFs,
      owners: source,
      userName: () => 'root',
      hostname: () => 'test',
      now: () => 0,
      monotonicMs: () => 0,
    });
    const primed = collector.prime();
    const first = await collector.collect();
    events.push('first snapshot');
    expect(first.owners.pending).toBe(true);
    expect(first.sockets.find((s) => s.inode === LISTENER_INODE)?.owner).toBeNull();
    await primed;
    expect(events).toEqual(['first snapshot', 'prime']);
    const second = await collector.collect();
    expect(second.owners.pending).toBeUndefined();
    expect(second.sockets.find((s) => s.inode === LISTENER_INODE)?.owner).toEqual(LATE_OWNER);
    expect(events).toEqual(['first snapshot', 'prime', 'scan']);
  });
});
