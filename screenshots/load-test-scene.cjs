#!/usr/bin/env node
// A load test on loopback, for screenshots/capture.sh (not part of the tests):
//  - a "backend" listener that reads and drops what it gets;
//  - STREAMS client processes (one node child each, so the by-process view has one row per
//    client), each sending to the backend at its own paced rate (bytes/s in RATES): the sender
//    sends what rate × elapsed says is due every 20 ms, so timer lateness does not lower it;
//  - IDLE idle connections to a "pool" listener (a connection pool at rest: ESTABLISHED, 0 B/s).
// Prints one JSON line {"ready":true,"ports":{...},"rates":[...]} on stdout once everything runs,
// then holds the scene until SIGTERM/SIGINT (or until its parent goes away), and stops its children.
//
//   node screenshots/load-test-scene.cjs            # the scene
//   node screenshots/load-test-scene.cjs PORT RATE  # one paced client (started by the scene)
'use strict';
const net = require('node:net');
const { spawn } = require('node:child_process');

const HOST = '127.0.0.1';
const RATES = [4_000_000, 1_500_000, 600_000, 200_000, 50_000]; // bytes/s, one client process each
const IDLE = 300;

const held = []; // every socket is kept referenced: nothing is closed by garbage collection
const children = [];
const parentPid = process.ppid; // capture.sh (or the scene): if it goes without stopping us, stop too
setInterval(() => {
  if (process.ppid !== parentPid) stop();
}, 2000);

function stop() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

function pacedClient(port, bytesPerSec) {
  const c = net.connect({ port, host: HOST }, () => {
    const start = Date.now();
    const chunk = Buffer.alloc(64 * 1024, 120);
    let sent = 0;
    setInterval(() => {
      const due = Math.floor((bytesPerSec * (Date.now() - start)) / 1000) - sent;
      for (let left = due; left > 0; left -= chunk.length) c.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
      if (due > 0) sent += due;
    }, 20);
    process.stdout.write('streaming\n');
  });
  c.on('error', () => process.exit(1));
  held.push(c);
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, HOST, () => resolve(server.address().port)));
}

async function scene() {
  const backend = net.createServer((s) => {
    held.push(s);
    s.on('error', () => {});
    s.resume();
  });
  const backendPort = await listen(backend);
  await Promise.all(
    RATES.map(
      (rate) =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [__filename, String(backendPort), String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
          children.push(child);
          child.stdout.once('data', resolve);
          child.once('exit', (code) => reject(new Error(`a paced client exited (${code})`)));
        }),
    ),
  );

  const pool = net.createServer((s) => {
    held.push(s);
    s.on('error', () => {});
  });
  const poolPort = await listen(pool);
  await Promise.all(
    Array.from(
      { length: IDLE },
      () =>
        new Promise((resolve) => {
          const c = net.connect({ port: poolPort, host: HOST }, resolve);
          c.on('error', () => {});
          held.push(c);
        }),
    ),
  );
  process.stdout.write(JSON.stringify({ ready: true, ports: { backend: backendPort, pool: poolPort }, rates: RATES }) + '\n');
}

if (process.argv.length >= 4) pacedClient(Number(process.argv[2]), Number(process.argv[3]));
else
  scene().catch((e) => {
    process.stderr.write(`load-test-scene: ${e.message}\n`);
    for (const c of children) c.kill('SIGTERM');
    process.exit(1);
  });
