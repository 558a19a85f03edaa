// Live-test helpers for the throughput tests: whether ss (iproute2) is installed, and a loopback
// TCP stream paced at a known rate in a child process (the oracle for bytes/s on screen).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export const hasSs = ((): boolean => {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
})();

/**
 * A child process that listens on 127.0.0.1, connects to itself and sends `bytesPerSec` (paced
 * every 20 ms) for `lifetimeMs`; resolves with the listening port once the stream runs. The
 * caller kills `child`.
 */
export async function startPacedStream(bytesPerSec: number, lifetimeMs: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const net=require('net');const s=net.createServer(c=>c.on('data',()=>{})).listen(0,'127.0.0.1',()=>{const c=net.connect(s.address().port,'127.0.0.1',()=>{const t0=Date.now();let sent=0;setInterval(()=>{const due=Math.floor(${bytesPerSec}*(Date.now()-t0)/1000)-sent;if(due>0){c.write(Buffer.alloc(due,120));sent+=due}},20);console.log(s.address().port)})});setTimeout(()=>{},${lifetimeMs})`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`paced stream exited early (${code})`)));
  });
  return { child, port };
}
