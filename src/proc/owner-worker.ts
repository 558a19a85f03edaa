// Worker-thread entry for owner mapping (see owner-source.ts). Does nothing unless started as
// sockscope's owner worker.

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createProcFs } from './proc-fs.js';
import { createOwnerScanner } from './read-owners.js';
import { OWNER_WORKER_MARK, packOwnerScan, type OwnerScanRequest } from './owner-source.js';

const data = workerData as { mark?: string; procRoot?: string } | null;
if (!isMainThread && parentPort !== null && data?.mark === OWNER_WORKER_MARK && typeof data.procRoot === 'string') {
  const port = parentPort;
  const scanner = createOwnerScanner(createProcFs(data.procRoot));
  port.on('message', (request: OwnerScanRequest) => {
    const reply = packOwnerScan(scanner, request);
    port.postMessage(reply, [reply.rows.buffer as ArrayBuffer]);
  });
}
