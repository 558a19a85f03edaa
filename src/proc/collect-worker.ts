// Worker-thread entry for collection (see collect-source.ts). Does nothing unless started as
// sockscope's collect worker.

import fs from 'node:fs';
import os from 'node:os';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { SocketRecord } from '../model/types.js';
import { createLiveCollector, type AsyncCollectDeps } from './collect-snapshot.js';
import {
  COLLECT_WORKER_MARK,
  encodeSockets,
  type CollectNotice,
  type CollectReply,
  type CollectRequest,
  type CollectWorkerData,
} from './collect-source.js';
import { createWorkerOwnerSource, setOwnerWorkerPath } from './owner-source.js';
import { createProcFs } from './proc-fs.js';
import { createOwnerScanner } from './read-owners.js';
import { createUserNames } from './read-users.js';

const data = workerData as Partial<CollectWorkerData> | null;
if (!isMainThread && parentPort !== null && data?.mark === COLLECT_WORKER_MARK && typeof data.procRoot === 'string') {
  const port = parentPort;
  const procFs = createProcFs(data.procRoot);
  if (typeof data.ownerWorkerPath === 'string') setOwnerWorkerPath(data.ownerWorkerPath);
  const owners = data.processes === true ? createWorkerOwnerSource(data.procRoot, () => createOwnerScanner(procFs)) : null;
  const users = createUserNames(() => {
    try {
      return fs.readFileSync('/etc/passwd', 'utf8');
    } catch {
      return null;
    }
  });
  const deps: AsyncCollectDeps = {
    procFs,
    owners,
    userName: (uid) => users.nameOf(uid),
    hostname: () => os.hostname(),
    now: () => Date.now(),
    monotonicMs: () => performance.now(),
  };
  // The first frame does not wait for the owner worker's first full scan: snapshots go without
  // owners ("owners: scanning…") until it is done; the main thread hears 'primed' and refreshes.
  const collector = createLiveCollector(deps);
  let sent = new Map<SocketRecord, number>();
  // One collection at a time, in order: each reply is a delta against the one before it.
  let queue = Promise.resolve();
  port.on('message', (request: CollectRequest) => {
    if (request.type === 'prime') {
      void collector.prime().then(() => port.postMessage({ type: 'primed' } satisfies CollectNotice));
      return;
    }
    queue = queue.then(async () => {
      let reply: CollectReply;
      try {
        const snapshot = await collector.collect();
        const encoded = encodeSockets(snapshot.sockets, sent);
        sent = encoded.sent;
        const { takenAtMs, host, counters, issues, owners: ownerStats, cost } = snapshot;
        const meta = { takenAtMs, host, counters, issues, owners: ownerStats, cost };
        reply = { id: request.id, ok: true, meta, sources: encoded.sources, fresh: encoded.fresh };
        port.postMessage(reply, [encoded.sources.buffer as ArrayBuffer]);
      } catch (err) {
        reply = { id: request.id, ok: false, message: err instanceof Error ? err.message : String(err) };
        port.postMessage(reply);
      }
    });
  });
}
