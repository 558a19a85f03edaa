// Every part of a frame reaches the screen: the real Dashboard and widgets on a headless blessed
// screen (injected streams), a troubled scene handed over as snapshots, keys typed as a terminal
// sends them. What the frame holds (header badge, N of M, bars, rows, footer keys, details, help)
// is looked for in the screen's text.

import { afterEach, describe, expect, it } from 'vitest';
import { UNKNOWN_SYSCTLS } from '../src/model/listener-health.js';
import type { Frame } from '../src/view/frame.js';
import { rec } from './helpers/records.js';
import { MONO_THEME, createHeadless, makeSnapshot, type Headless, type HeadlessOptions } from './helpers/snapshots.js';

const T0 = 1_700_000_000_000;
const ENTER = '\r';
const ESC = '\x1b';
const DOWN = '\x1b[B';
const py = { pid: 4242, command: 'python3' };
const listener = rec({
  state: 'LISTEN',
  localAddress: '127.0.0.1',
  localPort: 8080,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  recvQ: 2,
  owner: py,
  inode: 1,
});
const listener9090 = rec({
  state: 'LISTEN',
  localAddress: '0.0.0.0',
  localPort: 9090,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  owner: py,
  inode: 2,
});
const closeWaits = [0, 1, 2].map((i) =>
  rec({ state: 'CLOSE_WAIT', localPort: 9090, remotePort: 50000 + i, owner: py, inode: 10 + i, recvQ: 1 }),
);
const synSent = rec({ state: 'SYN_SENT', localPort: 52000, remoteAddress: '192.0.2.1', remotePort: 81, inode: 40 });
const estabs = [0, 1].map((i) => rec({ localPort: 51000 + i, remotePort: 8080, inode: 20 + i }));
const udp = rec({
  protocol: 'udp',
  state: 'UNCONN',
  localAddress: '127.0.0.53',
  localPort: 53,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  inode: 30,
});
const SCENE = [listener, listener9090, ...closeWaits, synSent, ...estabs, udp];

const open: Headless[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.destroy();
});

async function troubled(options: HeadlessOptions = {}): Promise<Headless> {
  const h = createHeadless(options);
  open.push(h);
  h.dashboard.setEnvironment({ sysctls: { ...UNKNOWN_SYSCTLS, somaxconn: 4096 }, backlogs: new Map([['127.0.0.1:8080', 1]]) });
  h.dashboard.onSnapshot(makeSnapshot(SCENE, { takenAtMs: T0 }));
  h.dashboard.onSnapshot(makeSnapshot(SCENE, { takenAtMs: T0 + 1000 }));
  await h.press('');
  return h;
}

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Each part of the frame is on the screen. */
function expectFrameOnScreen(h: Headless, f: Frame): void {
  const lines = h.lines();
  const screen = lines.join('\n');
  const flat = squash(screen);
  if (f.header !== null) {
    expect(lines[0]).toContain(f.header.title.split('  ')[0]);
    if (f.header.findings !== '') expect(lines[0]).toContain(` ${f.header.findings} `);
    if (f.header.worstFinding !== '') expect(lines[0]).toContain(f.header.worstFinding.slice(0, 12));
    expect(lines[1]).toContain(f.header.totals);
  }
  // The overlays cover the bars and the table.
  const covered = f.details !== null || f.help !== null;
  if (!covered) {
    for (const b of f.bars?.rows ?? []) expect(flat).toContain(squash(`${b.label} ${b.count}`));
    if (f.main?.kind === 'table') for (const r of f.main.table.rows) expect(flat).toContain(squash(r.cells.map((c) => c.text).join(' ')));
    if (f.main?.kind === 'diagram') for (const l of f.main.lines) expect(flat).toContain(squash(l.map((s) => s.text).join('')));
  }
  const footer = lines.at(-1) ?? '';
  const [firstKey, firstText] = f.footer.keys[0] ?? ['', ''];
  expect(footer).toContain(`${firstKey} ${firstText}`);
  if (f.details !== null) {
    for (const l of f.details.lines) if (l.text.trim() !== '') expect(flat).toContain(squash(l.text).slice(0, Math.max(1, f.width - 8)));
    // The label is on the border row, nowhere inside the text.
    const titleRows = lines.map((l, i) => (l.includes(` ${f.details?.title} `) ? i : -1)).filter((i) => i >= 0);
    expect(titleRows).toEqual([f.details.rect.top]);
  }
  if (f.help !== null) for (const l of f.help.lines) if (l.trim() !== '') expect(flat).toContain(squash(l.replace(/^#\s*/, '')));
}

describe('every part of the frame reaches the screen', () => {
  for (const [width, height] of [
    [80, 24],
    [160, 45],
  ] as const) {
    it(`at ${width}x${height}: header badge, bars, rows, footer; details; help`, async () => {
      const h = await troubled({ width, height });
      let f = h.dashboard.currentFrame();
      expect(f.header?.findings).not.toBe('');
      expectFrameOnScreen(h, f);
      expect(h.lines()[0]).toMatch(/\d (crit|warn)/);

      await h.press(ENTER);
      f = h.dashboard.currentFrame();
      expect(f.details).not.toBeNull();
      expectFrameOnScreen(h, f);
      expect(h.text()).toMatch(/accept queue\s+2 waiting for accept\(\) of backlog 1: full/);
      await h.press(ESC);

      await h.press('?');
      f = h.dashboard.currentFrame();
      expect(f.help).not.toBeNull();
      expectFrameOnScreen(h, f);
      expect(h.text()).toContain('jump to the worst finding');
    });
  }

  it('a filter: "shown N of M" in the header, the bars and rows under it', async () => {
    const h = await troubled({ width: 100, height: 30 });
    await h.press('s');
    await h.press('cw');
    await h.press(ENTER);
    const f = h.dashboard.currentFrame();
    expect(f.header?.totals).toMatch(/shown 3 of 9/);
    expectFrameOnScreen(h, f);
    expect(h.text()).toMatch(/CLOSE-WAIT\s+3 /);
    expect(h.text()).toMatch(/ESTAB\s+0 /);
  });

  it('! jumps to the worst finding from any view, with its text under the table', async () => {
    const h = await troubled({ width: 120, height: 40 });
    await h.press('3');
    await h.press('!');
    const f = h.dashboard.currentFrame();
    expect(h.dashboard.ui.view).toBe('findings');
    expect(f.selectedKey).toBe(f.findings[0]?.id);
    expectFrameOnScreen(h, f);
    expect(h.text()).toContain(`Enter: show these sockets (${f.findings[0]?.filter ?? '?'})`);
  });

  it('details scrolled down, closed, and opened on another socket start at the top; g goes to the top', async () => {
    const h = await troubled({ width: 80, height: 24, theme: MONO_THEME });
    await h.press(ENTER);
    for (let i = 0; i < 6; i++) await h.press(DOWN);
    expect(h.dashboard.currentFrame().details?.scroll).toBe(6);
    await h.press('g');
    expect(h.dashboard.currentFrame().details?.scroll).toBe(0);
    for (let i = 0; i < 6; i++) await h.press(DOWN);
    await h.press(ESC);
    await h.press(DOWN);
    await h.press(ENTER);
    const f = h.dashboard.currentFrame();
    expect(f.details?.scroll).toBe(0);
    expect(f.details?.lines[0]?.text).toMatch(/^tcp\s+0\.0\.0\.0:9090|^tcp\s+\*:9090/);
    expectFrameOnScreen(h, f);
  });
});

describe('the selection follows its connection (9)', () => {
  it('the selected ESTABLISHED row becomes TIME_WAIT under a new key: the bar stays on it, details too', async () => {
    const h = createHeadless({ width: 100, height: 30 });
    open.push(h);
    const a = rec({ localPort: 45000, remotePort: 8080, inode: 77 });
    const b = rec({ localPort: 45001, remotePort: 8080, inode: 78 });
    const c = rec({ localPort: 45002, remotePort: 8080, inode: 79 });
    h.dashboard.onSnapshot(makeSnapshot([a, b, c], { takenAtMs: T0 }));
    await h.press(DOWN);
    expect(h.dashboard.currentFrame().selectedKey).toBe(b.key);
    await h.press(ENTER);
    const tw = rec({ state: 'TIME_WAIT', localPort: 45001, remotePort: 8080, inode: 0 });
    h.dashboard.onSnapshot(makeSnapshot([a, tw, c], { takenAtMs: T0 + 1000 }));
    await h.press('');
    expect(h.dashboard.ui.detailsKey).toBe(tw.key);
    expect(h.text()).toMatch(/127\.0\.0\.1:45001 +→ +127\.0\.0\.1:8080 +TIME-WAIT/);
    await h.press(ESC);
    const f = h.dashboard.currentFrame();
    expect(f.selectedKey).toBe(tw.key);
    expect(h.lines().find((l) => l.includes('TIME-WAIT') && l.includes(':45001'))).toBeDefined();
  });
});

describe('replay keys (17)', () => {
  it('the footer and help list them; . ] , + act on the recording through the key map', async () => {
    const h = createHeadless({ width: 120, height: 30, replay: true });
    open.push(h);
    const frames = Array.from({ length: 20 }, (_, i) => makeSnapshot(SCENE.slice(0, 2 + (i % 8)), { takenAtMs: T0 + i * 1000 }));
    const recording = {
      header: { version: 1, host: 'testhost', startedAtMs: T0 } as never,
      frames: frames.length,
      snapshotAt: (i: number) => frames[i]!,
      timeAt: (i: number) => T0 + i * 1000,
    };
    const labels: string[] = [];
    const { ReplayFeed } = await import('../src/ui/replay-feed.js');
    const feed = new ReplayFeed(recording, {
      show: (snapshot, jumped) => {
        if (jumped) h.dashboard.resetSession();
        h.dashboard.onSnapshot(snapshot);
        h.dashboard.showLatestWhilePaused();
      },
      label: (text) => {
        labels.push(text);
        h.dashboard.setModeLabel(text);
        h.dashboard.render();
      },
      isPaused: () => h.dashboard.ui.paused,
      fail: (message) => {
        throw new Error(`replay failed: ${message}`);
      },
    });
    h.replay = feed;
    await h.press(' '); // paused before playback starts: only keys move it
    feed.start();
    await h.press('');
    expect(h.lines().at(-1)).toMatch(/\., step {2}\]\[ seek {2}\+- speed/);
    await h.press('.');
    expect(labels.at(-1)).toMatch(/frame 2\/20/);
    await h.press(']');
    expect(labels.at(-1)).toMatch(/frame 4\/20/);
    await h.press(',');
    expect(labels.at(-1)).toMatch(/frame 3\/20/);
    await h.press('+');
    expect(labels.at(-1)).toMatch(/×2/);
    expect(h.lines()[0]).toContain('REPLAY');
    await h.press('?');
    expect(h.text()).toMatch(/\. ,\s+replay: next \/ previous frame/);
    feed.stop();
  });
});
