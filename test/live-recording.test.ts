// Recording a live run: this machine's /proc is collected while a listener and connections this
// test opens come and go; each snapshot is written to a recording, and the replay must give back
// the same counts per state and the same counters, frame by frame.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { createRecorder, openRecording } from '../src/cli/recording-file.js';
import { countByState } from '../src/model/aggregate.js';
import type { Snapshot } from '../src/model/types.js';
import { collectSnapshot } from '../src/proc/collect-snapshot.js';
import { createProcFs } from '../src/proc/proc-fs.js';
import { createOwnerScanner } from '../src/proc/read-owners.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-live-rec-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('recording a live run', () => {
  it('replays the same counts per state that the live snapshots had', async () => {
    const procFs = createProcFs('/proc');
    const deps = {
      procFs,
      owners: createOwnerScanner(procFs),
      userName: String,
      hostname: () => 'live',
      now: () => Date.now(),
      monotonicMs: () => performance.now(),
    };
    // Some movement between frames: a listener and connections opening and closing.
    const server = net.createServer((c) => c.on('end', () => c.end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const file = path.join(dir, 'live.rec');
    const recorder = createRecorder(file, 'live', Date.now());
    const seen: Snapshot[] = [];
    const clients: net.Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        clients.push(net.connect(port, '127.0.0.1'));
        if (i === 2) clients.shift()?.end();
        await new Promise((r) => setTimeout(r, 100));
        const s = collectSnapshot(deps);
        seen.push(s);
        recorder.write(s);
      }
    } finally {
      recorder.close();
      for (const c of clients) c.destroy();
      server.close();
    }
    const replay = openRecording(file);
    expect(replay.frames).toBe(seen.length);
    for (let i = 0; i < seen.length; i++) {
      const back = replay.snapshotAt(i);
      expect(countByState(back.sockets), `frame ${i}`).toEqual(countByState((seen[i] as Snapshot).sockets));
      expect(back.counters).toEqual((seen[i] as Snapshot).counters);
    }
  });
});
