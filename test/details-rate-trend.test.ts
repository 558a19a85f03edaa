// The rate trend in details: the session store keeps each connection's last rates (one point per
// ss read), the frame draws them as two sparklines (out, in) under the bytes/s line, and the
// headless dashboard puts them on the screen, in ASCII when the terminal has no UTF-8.

import { afterEach, describe, expect, it } from 'vitest';
import type { ConnRate } from '../src/model/conn-rates.js';
import { SessionStore } from '../src/model/session-store.js';
import { buildFrame, type FrameContext } from '../src/view/frame.js';
import { initialUiState } from '../src/view/ui-state.js';
import { rec } from './helpers/records.js';
import { ASCII_THEME, createHeadless, makeSnapshot, type Headless } from './helpers/snapshots.js';

const T0 = 1_700_000_000_000;
const CONTEXT: FrameContext = {
  modeLabel: null,
  cost: null,
  scopeLabel: null,
  timeZoneOffsetMin: 0,
  replay: false,
  tcpInfo: null,
  details: null,
};
const sock = rec({ localPort: 40100, remotePort: 5432, inode: 777 });
const other = rec({ localPort: 40101, remotePort: 5432, inode: 778 });
// Out climbs 1, 2, 4, 8 kB/s; in stays at 500 B/s.
const OUT = [1000, 2000, 4000, 8000];
const rate = (out: number, inBytesPerSec = 500): ConnRate => ({
  sendBytesPerSec: out,
  recvBytesPerSec: inBytesPerSec,
  retransPerSec: 0,
  rttMs: 0.05,
  rttVarMs: 0.01,
  bytesAcked: 0,
  bytesReceived: 0,
  retransTotal: 0,
});
const total = (out: number) => ({ connections: 2, withRate: 2, sendBytesPerSec: out, recvBytesPerSec: 500, retransPerSec: 0 });

/** One snapshot and one ss read per refresh, as the poller hands them over. */
function refreshes(feed: { ingest: (t: number) => void; rates: (t: number, out: number) => void }, reads: readonly number[]): void {
  reads.forEach((out, i) => {
    const t = T0 + i * 1000;
    feed.ingest(t);
    feed.rates(t, out);
  });
}

function detailsTexts(store: SessionStore, ascii = false): string[] {
  const ui = { ...initialUiState({ intervalMs: 1000 }), detailsKey: sock.key };
  const frame = buildFrame({
    session: store.state,
    ui,
    size: { width: 120, height: 50 },
    theme: { ascii },
    filter: null,
    context: CONTEXT,
  });
  return (frame.details?.lines ?? []).map((l) => l.text);
}

function storeAfter(reads: readonly number[]): SessionStore {
  const store = new SessionStore();
  refreshes(
    {
      ingest: (t) => store.ingest(makeSnapshot([sock, other], { takenAtMs: t })),
      rates: (t, out) =>
        store.setConnRates({
          ok: true,
          rates: new Map([
            [sock.key, rate(out)],
            [other.key, rate(0, 0)],
          ]),
          total: total(out),
          asOfMs: t,
        }),
    },
    reads,
  );
  return store;
}

describe('rate trend in the frame', () => {
  it('after several reads the details show out and in sparklines with their peaks', () => {
    const texts = detailsTexts(storeAfter(OUT));
    const out = texts.find((t) => t.startsWith('  out trend'));
    const inn = texts.find((t) => t.startsWith('  in trend'));
    // 1, 2, 4, 8 kB/s scaled to 8: the last point is the highest block, the first the lowest.
    expect(out).toMatch(/^ {2}out trend {8}([▁▂▃▄▅▆▇█]{4}) {2}peak 8\.00 kB\/s$/);
    const bars = /([▁▂▃▄▅▆▇█]{4})/.exec(out ?? '')?.[1] ?? '';
    expect([...bars].at(-1)).toBe('█');
    expect([...bars][0]).not.toBe('█');
    expect(inn).toMatch(/^ {2}in trend {9}█{4} {2}peak 500 B\/s$/);
    // Right under the bytes/s line of the last read.
    const at = texts.findIndex((t) => t.startsWith('  bytes/s'));
    expect(texts[at]).toContain('out 8.00 kB/s');
    expect(texts[at + 1]).toBe(out);
  });

  it('no trend after a single read, nor for a connection that never moved a byte', () => {
    expect(detailsTexts(storeAfter([4000])).some((t) => t.startsWith('  out trend'))).toBe(false);
    const store = storeAfter(OUT);
    const ui = { ...initialUiState({ intervalMs: 1000 }), detailsKey: other.key };
    const frame = buildFrame({
      session: store.state,
      ui,
      size: { width: 120, height: 50 },
      theme: { ascii: false },
      filter: null,
      context: CONTEXT,
    });
    const texts = (frame.details?.lines ?? []).map((l) => l.text);
    expect(texts.some((t) => t.startsWith('  bytes/s'))).toBe(true);
    expect(texts.some((t) => t.startsWith('  out trend') || t.startsWith('  in trend'))).toBe(false);
  });

  it('ASCII sparklines without UTF-8', () => {
    const out = detailsTexts(storeAfter(OUT), true).find((t) => t.startsWith('  out trend')) ?? '';
    expect(out).toMatch(/^ {2}out trend {8}\S{4} {2}peak 8\.00 kB\/s$/);
    expect(out).not.toMatch(/[^\x20-\x7e]/);
  });
});

const open: Headless[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.destroy();
});

describe('rate trend on the screen', () => {
  for (const [name, theme] of [
    ['UTF-8', undefined],
    ['ASCII', ASCII_THEME],
  ] as const) {
    it(`details opened on the connection show the trend lines (${name})`, async () => {
      const h = createHeadless({ width: 100, height: 40, theme });
      open.push(h);
      refreshes(
        {
          ingest: (t) => h.dashboard.onSnapshot(makeSnapshot([sock, other], { takenAtMs: t })),
          rates: (t, out) =>
            h.dashboard.setConnRates({
              ok: true,
              rates: new Map([
                [sock.key, rate(out)],
                [other.key, rate(0, 0)],
              ]),
              total: total(out),
              asOfMs: t,
            }),
        },
        OUT,
      );
      await h.press('');
      // The default sort puts port 40100 first: Enter opens its details.
      await h.press('\r');
      const frame = h.dashboard.currentFrame();
      const expected = (frame.details?.lines ?? []).map((l) => l.text).filter((t) => t.includes(' trend '));
      expect(expected).toHaveLength(2);
      const screen = h.lines();
      for (const line of expected) {
        const onScreen = screen.find((l) => l.includes(line.trim().slice(0, 10)));
        expect(onScreen?.replace(/^\W+/, '').replace(/\W+$/, '')).toContain(line.trim());
      }
      if (theme !== undefined) expect(screen.join('\n')).not.toMatch(/[▁▂▃▄▅▆▇█]/);
    });
  }
});
