// Recordings: frames carry only what changed, replay rebuilds the same sockets and counters as
// were recorded (timer countdowns aside), seeking works across keyframes, and a file cut short
// still opens. The live run (this machine's /proc recorded and replayed) is in live-recording.test.ts.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRecorder, openRecording } from '../src/cli/recording-file.js';
import { FrameDecoder, FrameEncoder, KEYFRAME_EVERY } from '../src/model/recording.js';
import type { Snapshot, SocketRecord } from '../src/model/types.js';
import { rec, snap, withChanges } from './helpers/records.js';

/** What a viewer sees of a socket; timerMs is not carried by unchanged sockets. */
const view = (s: Snapshot): string[] =>
  s.sockets.map((r: SocketRecord) => `${r.key} ${r.state} ${r.recvQ} ${r.sendQ} ${r.owner?.pid ?? '-'} ${r.owner?.command ?? '-'}`).sort();

function sequence(n: number): Snapshot[] {
  const listener = rec({ state: 'LISTEN', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0, owner: { pid: 42, command: 'nginx' } });
  let live: SocketRecord[] = [listener];
  const out: Snapshot[] = [];
  for (let i = 0; i < n; i++) {
    // every step: one new connection, the oldest non-listener closes every third step, one queue moves
    live = [...live, rec({ localPort: 8080, remotePort: 50_000 + i, owner: { pid: 42, command: 'nginx' } })];
    if (i % 3 === 2) live = live.filter((_s, j) => j !== 1);
    if (live[1] !== undefined) live[1] = withChanges(live[1], { recvQ: i * 10, key: live[1].key });
    out.push({ ...snap(1_000 * i, live), counters: { 'Tcp.ActiveOpens': i, 'Tcp.MaxConn': -1 } });
  }
  return out;
}

describe('frame encoding', () => {
  it('replays exactly what was recorded, frame by frame', () => {
    const snaps = sequence(20);
    const enc = new FrameEncoder();
    const dec = new FrameDecoder();
    for (const s of snaps) {
      const back = dec.apply(enc.encode(s));
      expect(view(back)).toEqual(view(s));
      expect(back.counters).toEqual(s.counters);
      expect(back.takenAtMs).toBe(s.takenAtMs);
    }
  });

  it('carries only changes: an unchanged socket is not re-sent, a timer countdown alone is no change', () => {
    const a = rec({ state: 'TIME_WAIT', timer: 'timewait', timerMs: 50_000, inode: 0 });
    const b = rec();
    const enc = new FrameEncoder();
    const first = enc.encode(snap(0, [a, b]));
    expect(first.k).toBe(true);
    expect(first.u).toHaveLength(2);
    const b2 = withChanges(b, { state: 'CLOSE_WAIT', key: b.key });
    const second = enc.encode(snap(1000, [{ ...a, timerMs: 49_000 }, b2]));
    expect(second.k).toBe(false);
    expect(second.u.map((p) => p[0])).toEqual([b.key]);
    expect(second.r).toEqual([]);
    const third = enc.encode(snap(2000, [b2]));
    expect(third.r).toEqual([a.key]);
    expect(third.u).toEqual([]);
    expect(third.c).toEqual({});
  });
});

describe('recording file', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-rec-'));
    dirs.push(dir);
    return path.join(dir, 'session.rec');
  };
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips through a file and seeks backwards and across keyframes', () => {
    const file = tmp();
    const snaps = sequence(KEYFRAME_EVERY + 25);
    const r = createRecorder(file, 'testhost', 0);
    for (const s of snaps) r.write(s);
    r.close();
    const rec2 = openRecording(file);
    expect(rec2.header.host).toBe('testhost');
    expect(rec2.frames).toBe(snaps.length);
    for (const i of [0, 1, 2, KEYFRAME_EVERY - 1, KEYFRAME_EVERY, KEYFRAME_EVERY + 24, 5, KEYFRAME_EVERY + 3, 3]) {
      expect(view(rec2.snapshotAt(i)), `frame ${i}`).toEqual(view(snaps[i] as Snapshot));
      expect(rec2.timeAt(i)).toBe(i * 1000);
    }
  });

  it('a recording cut short opens with its complete frames; other files are refused clearly', () => {
    const file = tmp();
    const r = createRecorder(file, 'h', 0);
    for (const s of sequence(5)) r.write(s);
    r.close();
    const data = fs.readFileSync(file);
    fs.writeFileSync(file, data.subarray(0, data.length - 7));
    expect(openRecording(file).frames).toBe(4);
    const notRec = path.join(path.dirname(file), 'x.txt');
    fs.writeFileSync(notRec, 'hello');
    expect(() => openRecording(notRec)).toThrow(/not a sockscope recording/);
    expect(() => openRecording(path.join(path.dirname(file), 'missing'))).toThrow(/cannot read recording .*ENOENT/);
  });
});
