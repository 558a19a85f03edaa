#!/usr/bin/env node
// A troubled server on loopback, for screenshots/capture.sh (not part of the tests):
//  - a listener with listen(1) that never accepts (a perl child: Node always accepts) and more
//    clients than its accept queue holds: the queue stays full and the kernel drops the later
//    SYNs, so those clients stay in SYN-SENT (the kernel retries for ~2 min, net.ipv4.tcp_syn_retries 6;
//    then the client connects again);
//  - a server that never closes what it accepted: its clients connect and close, leaving a
//    CLOSE_WAIT pile on one port that grows by CLOSE_WAIT_PER_SEC up to CLOSE_WAIT_TOTAL;
//  - ESTABLISHED connections to an echo server with a little traffic;
//  - TIME_WAIT churn: short connections, a few a second, closed first by their server.
// Prints one JSON line {"ready":true,"ports":{...}} on stdout once the scene is built, then
// holds it until SIGTERM/SIGINT (or until its parent goes away), and stops its perl child on exit.
'use strict';
const net = require('node:net');
const { spawn } = require('node:child_process');

const HOST = '127.0.0.1';
const STUCK_CLIENTS = 6; // listen(1) keeps 2 in its accept queue; the other 4 stay in SYN-SENT
const CLOSE_WAIT_TOTAL = 320;
const CLOSE_WAIT_PER_SEC = 16; // the pile grows for ~20 s, then stays
const ESTABLISHED = 40;
const CHURN_PER_SEC = 6;

const held = []; // every socket is kept referenced: nothing is closed by garbage collection
let perl;

function stop() {
  if (perl && perl.exitCode === null) perl.kill('SIGTERM');
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
const parentPid = process.ppid; // capture.sh: if it goes without stopping us, stop too
setInterval(() => { if (process.ppid !== parentPid) stop(); }, 2000);

function listen(server) {
  return new Promise((resolve) => server.listen(0, HOST, () => resolve(server.address().port)));
}

function startStuckListener() {
  // listen(1), never accept(); prints its port and sleeps until killed.
  perl = spawn('perl', ['-MIO::Socket::INET', '-e', `
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '${HOST}', LocalPort => 0, ReuseAddr => 1) or die "listen: $!";
    $| = 1; print $s->sockport, "\\n"; sleep 86400;`], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    perl.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    perl.once('exit', (code) => reject(new Error(`perl listener exited (${code})`)));
  });
}

async function main() {
  const stuckPort = await startStuckListener();
  // A client whose SYNs all went unanswered (ETIMEDOUT after ~2 min) tries again, as clients do.
  const stuckClient = () => {
    const c = net.connect({ port: stuckPort, host: HOST });
    c.on('error', () => setTimeout(stuckClient, 100));
    held.push(c);
  };
  for (let i = 0; i < STUCK_CLIENTS; i++) stuckClient();

  // The leaky server: half-open allowed, never ends or destroys what it accepted.
  const leaky = net.createServer({ allowHalfOpen: true }, (s) => { held.push(s); s.on('error', () => {}); s.resume(); });
  const leakyPort = await listen(leaky);
  let leaked = 0;
  const leakTimer = setInterval(() => {
    for (let i = 0; i < CLOSE_WAIT_PER_SEC && leaked < CLOSE_WAIT_TOTAL; i++, leaked++) {
      const c = net.connect({ port: leakyPort, host: HOST }, () => c.destroy());
      c.on('error', () => {});
    }
    if (leaked >= CLOSE_WAIT_TOTAL) clearInterval(leakTimer);
  }, 1000);

  // Echo server with steady ESTABLISHED traffic.
  const echo = net.createServer((s) => { held.push(s); s.on('error', () => {}); s.pipe(s); });
  const echoPort = await listen(echo);
  const clients = [];
  await Promise.all(Array.from({ length: ESTABLISHED }, () => new Promise((resolve) => {
    const c = net.connect({ port: echoPort, host: HOST }, resolve);
    c.on('error', () => {});
    c.resume();
    clients.push(c);
  })));
  setInterval(() => { for (const c of clients) c.write('x'.repeat(512)); }, 250);

  // TIME_WAIT churn: the server answers and closes first, so TIME_WAIT lands on its side.
  const churn = net.createServer((s) => { s.on('error', () => {}); s.on('data', () => s.end('ok\n')); s.on('end', () => s.end()); });
  const churnPort = await listen(churn);
  setInterval(() => {
    for (let i = 0; i < CHURN_PER_SEC; i++) {
      const c = net.connect({ port: churnPort, host: HOST }, () => c.write('hi\n'));
      c.on('data', () => c.end());
      c.on('error', () => {});
    }
  }, 1000);

  process.stdout.write(JSON.stringify({ ready: true, ports: { stuck: stuckPort, leaky: leakyPort, echo: echoPort, churn: churnPort } }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`troubled-scene: ${e.message}\n`);
  if (perl) perl.kill('SIGTERM');
  process.exit(1);
});
