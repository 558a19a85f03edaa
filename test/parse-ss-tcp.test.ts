import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { SsTcpParser, parseSsEndpoint, parseSsTcpTable, ssStateName, type SsTcpTable } from '../src/proc/parse-ss-tcp.js';
import { canonicalAddress } from '../src/model/conn-rates.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/ss-output/${name}`, import.meta.url), 'utf8');

/** The rows of a parsed table as objects (NaN RTT as null), to compare with what ss printed. */
function rowsOf(t: SsTcpTable) {
  const nullable = (v: number): number | null => (Number.isNaN(v) ? null : v);
  return Array.from({ length: t.count }, (_, r) => ({
    state: ssStateName(t, r),
    localAddress: t.addresses[t.localAddressId[r]!]!,
    localPort: t.localPort[r]!,
    remoteAddress: t.addresses[t.remoteAddressId[r]!]!,
    remotePort: t.remotePort[r]!,
    bytesAcked: t.bytesAcked[r]!,
    bytesReceived: t.bytesReceived[r]!,
    retransTotal: t.retransTotal[r]!,
    rttMs: nullable(t.rttMs[r]!),
    rttVarMs: nullable(t.rttVarMs[r]!),
  }));
}

/** A parse as plain data, columns and all (for comparing two parses). */
const plain = (t: SsTcpTable) => ({ skipped: t.skipped, rows: rowsOf(t) });

describe('parseSsTcpTable on recorded `ss -tinH` (loopback stream, IPv4, IPv6, v4-mapped)', () => {
  const table = parseSsTcpTable(fixture('tin-loopback.txt'));
  const connections = rowsOf(table);

  it('reads every connection and skips nothing', () => {
    expect(table.skipped).toBe(0);
    expect(table.count).toBe(7);
  });

  it.each([
    // local, lport, remote, rport, acked, received, rtt, rttvar
    ['127.0.0.1', 43868, '127.0.0.1', 33455, 2001, 0, 0.006, 0.003],
    ['192.0.2.2', 45956, '203.0.113.80', 443, 59487, 37471468, 0.331, 0.037],
    ['127.0.0.1', 52520, '127.0.0.1', 42565, 100001, 5000, 0.142, 0.23],
    ['127.0.0.1', 42565, '127.0.0.1', 52520, 5000, 100000, 0.02, 0.009],
    ['::1', 44945, '::1', 42456, 0, 3000, 0.011, 0.005],
    ['::1', 42456, '::1', 44945, 3001, 0, 0.014, 0.007],
    ['::ffff:127.0.0.1', 33455, '::ffff:127.0.0.1', 43868, 0, 2000, 0.007, 0.003],
  ])('%s:%i → %s:%i', (la, lp, ra, rp, acked, received, rtt, rttVar) => {
    const c = connections.find((x) => x.localAddress === la && x.localPort === lp);
    expect(c).toBeDefined();
    expect(c).toMatchObject({
      state: 'ESTAB',
      remoteAddress: ra,
      remotePort: rp,
      bytesAcked: acked,
      bytesReceived: received,
      rttMs: rtt,
      rttVarMs: rttVar,
      retransTotal: 0,
    });
  });

  it('does not take rtt from the bbr:(…mrtt:…) block, minrtt or rcv_rtt', () => {
    const c = connections.find((x) => x.localPort === 43868);
    expect(c?.rttMs).toBe(0.006);
    expect(connections.find((x) => x.localPort === 45956)?.rttMs).toBe(0.331);
  });

  it('one address text per address: the ids of equal texts are equal', () => {
    expect(new Set(table.addresses).size).toBe(table.addresses.length);
    expect(table.addresses).toEqual(expect.arrayContaining(['127.0.0.1', '::1', '::ffff:127.0.0.1', '192.0.2.2', '203.0.113.80']));
  });
});

describe('parseSsTcpTable on handmade edge cases', () => {
  const table = parseSsTcpTable(fixture('tin-handmade.txt'));
  const at = (port: number) => rowsOf(table).find((c) => c.localPort === port);

  it('drops the scope of link-local IPv6 and the Netid column, reads users: after the tuple', () => {
    expect(at(22)).toMatchObject({
      state: 'ESTAB',
      localAddress: 'fe80::1',
      remoteAddress: 'fe80::2',
      remotePort: 50000,
      bytesAcked: 900,
      bytesReceived: 555,
      retransTotal: 7,
      rttMs: 18.5,
      rttVarMs: 4.25,
    });
  });

  it('keys are whole words: rcv_rtt, bbr mrtt, minrtt and bytes_retrans are not rtt or retrans', () => {
    const t = parseSsTcpTable(
      'ESTAB 0 0 10.0.0.1:1 10.0.0.2:2\n\t bbr bbr:(bw:1bps,mrtt:3,cwnd_gain:2) rcv_rtt:5 minrtt:4 bytes_retrans:700 bytes_sent:9\n',
    );
    expect(rowsOf(t)[0]).toMatchObject({ rttMs: null, retransTotal: 0, bytesAcked: 0, bytesReceived: 0 });
  });

  it('a key first on the line (no blank before it) and the first of two tokens of a key count', () => {
    const t = parseSsTcpTable('ESTAB 0 0 10.0.0.1:1 10.0.0.2:2\n\trtt:7/3 bytes_acked:5 bytes_acked:9 retrans:0/2 retrans:0/8\n');
    expect(rowsOf(t)[0]).toMatchObject({ rttMs: 7, rttVarMs: 3, bytesAcked: 5, retransTotal: 2 });
  });

  it('padding after the last field, and blanks that are not padding', () => {
    const pad = ' '.repeat(2000);
    const t = parseSsTcpTable(
      `ESTAB 0 0 10.0.0.1:1 10.0.0.2:2\n\t rtt:1/1 bytes_acked:5${pad}\nESTAB 0 0 10.0.0.1:3 10.0.0.2:4\n\t rtt:2/1  bytes_acked:6   bytes_received:7 \n`,
    );
    expect(rowsOf(t).map((r) => [r.rttMs, r.bytesAcked, r.bytesReceived])).toEqual([
      [1, 5, 0],
      [2, 6, 7],
    ]);
  });

  it('drops an IPv4 interface scope', () => {
    expect(at(443)).toMatchObject({ localAddress: '10.0.0.5', remoteAddress: '10.0.0.9', rttMs: 2, bytesAcked: 0 });
  });

  it('reads counters beyond 2^32 exactly', () => {
    expect(at(80)).toMatchObject({ bytesAcked: 12345678901234, bytesReceived: 98765432109876, retransTotal: 3 });
  });

  it('a socket line without a state column (ss given one state) still parses', () => {
    expect(at(8080)).toMatchObject({ state: '', bytesReceived: 42, rttMs: 0.1 });
  });

  it('TIME-WAIT with an empty info line and a last line without one get zero counters, null rtt', () => {
    expect(at(40001)).toMatchObject({ state: 'TIME-WAIT', bytesAcked: 0, rttMs: null });
    expect(at(81)).toMatchObject({ state: 'ESTAB', bytesReceived: 0, rttMs: null });
    expect(at(40000)).toMatchObject({ state: 'SYN-SENT', remotePort: 5432 });
  });

  it('skips a port out of range and a non-numeric queue', () => {
    expect(table.skipped).toBe(2);
    expect(
      rowsOf(table)
        .map((c) => c.localPort)
        .sort((a, b) => a - b),
    ).toEqual([22, 80, 81, 443, 8080, 40000, 40001]);
  });

  it('skips the header of `ss -tin` and survives a cut last line', () => {
    const header = 'State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n';
    const text = fixture('tin-loopback.txt');
    expect(parseSsTcpTable(header + text).count).toBe(7);
    const cut = text.slice(0, text.indexOf('bytes_received:37471468') + 'bytes_rec'.length);
    const part = parseSsTcpTable(cut);
    expect(part.count).toBe(2);
    expect(rowsOf(part)[1]).toMatchObject({ bytesAcked: 59487, bytesReceived: 0, rttMs: 0.331 });
  });
});

describe('SsTcpParser: the output as a pipe hands it over, in chunks split anywhere', () => {
  const texts = [fixture('tin-loopback.txt'), fixture('tin-handmade.txt')];

  it.each([0, 1])('fixture %i: every split point gives what the whole text gives', (n) => {
    const bytes = Buffer.from(texts[n]!, 'utf8');
    const whole = plain(parseSsTcpTable(texts[n]!));
    expect(whole.rows.length).toBeGreaterThan(5);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const p = new SsTcpParser();
      p.push(bytes.subarray(0, cut));
      p.push(bytes.subarray(cut));
      expect(plain(p.end())).toEqual(whole);
    }
  });

  it('byte by byte, and in three pieces around every newline', () => {
    const bytes = Buffer.from(texts.join(''), 'utf8');
    const whole = plain(parseSsTcpTable(texts.join('')));
    const p = new SsTcpParser();
    for (let i = 0; i < bytes.length; i++) p.push(bytes.subarray(i, i + 1));
    expect(plain(p.end())).toEqual(whole);
    for (let nl = bytes.indexOf(10); nl >= 0; nl = bytes.indexOf(10, nl + 1)) {
      const q = new SsTcpParser();
      q.push(bytes.subarray(0, nl));
      q.push(bytes.subarray(nl, nl + 1));
      q.push(bytes.subarray(nl + 1));
      expect(plain(q.end())).toEqual(whole);
    }
  });

  it('more connections than the first columns hold: they grow, rows stay in order', () => {
    const lines = Array.from(
      { length: 3000 },
      (_, i) => `ESTAB 0 0 10.0.${i >> 8}.${i & 255}:${1000 + i} 10.1.0.1:80\n\t rtt:${i}/1 bytes_acked:${i * 2}\n`,
    );
    const rows = rowsOf(parseSsTcpTable(lines.join('')));
    expect(rows).toHaveLength(3000);
    expect(rows[2999]).toMatchObject({ localAddress: '10.0.11.183', localPort: 3999, rttMs: 2999, bytesAcked: 5998 });
    expect(rows.every((r, i) => r.localPort === 1000 + i && r.bytesAcked === 2 * i)).toBe(true);
  });

  it('a cut last line is parsed as far as it goes, or dropped when the output hit its byte cap', () => {
    const text = fixture('tin-loopback.txt');
    const cut = Buffer.from(text.slice(0, text.indexOf('bytes_received:37471468') + 'bytes_rec'.length), 'utf8');
    const kept = new SsTcpParser();
    kept.push(cut);
    expect(rowsOf(kept.end())[1]).toMatchObject({ bytesAcked: 59487, rttMs: 0.331 });
    const dropped = new SsTcpParser();
    dropped.push(cut);
    // The second socket's info line is dropped whole: its counters are not half read.
    expect(rowsOf(dropped.end(true))[1]).toMatchObject({ bytesAcked: 0, rttMs: null });
  });

  it('numbers read from the bytes equal Number() of their text', () => {
    const values = ['0.007', '0.5', '12.25', '1e3', '5.', '.5', '00012', '123456789012345', '1234567890123456789', '18446744073709551615'];
    for (const v of values) {
      const t = parseSsTcpTable(`ESTAB 0 0 10.0.0.1:1 10.0.0.2:2\n\t rtt:${v}/${v} bytes_acked:${v} bytes_received:${v}\n`);
      expect(rowsOf(t)[0]).toMatchObject({ rttMs: Number(v), rttVarMs: Number(v), bytesAcked: Number(v), bytesReceived: Number(v) });
    }
  });
});

describe('endpoints and tuple keys', () => {
  it.each([
    ['127.0.0.1:80', '127.0.0.1', 80],
    ['[::1]:443', '::1', 443],
    ['[::ffff:127.0.0.1]:5432', '::ffff:127.0.0.1', 5432],
    ['[FE80::1]%eth0:22', 'fe80::1', 22],
    ['0.0.0.0:*', '0.0.0.0', 0],
    ['*:*', '0.0.0.0', 0],
  ])('%s', (text, address, port) => {
    expect(parseSsEndpoint(text)).toEqual({ address, port });
  });

  it.each(['127.0.0.1', '[::1:80', '1.2.3.4:65536', 'host.example:80', ':80'])('rejects %s', (text) => {
    expect(parseSsEndpoint(text)).toBeNull();
  });

  it('one canonical text per IPv6 spelling, v4-mapped included', () => {
    expect(canonicalAddress('::1')).toBe(canonicalAddress('0:0:0:0:0:0:0:1'));
    expect(canonicalAddress('::ffff:127.0.0.1')).toBe(canonicalAddress('::ffff:7f00:1'));
    expect(canonicalAddress('2001:DB8::1')).toBe(canonicalAddress('2001:db8:0:0::1'));
    expect(canonicalAddress('::ffff:127.0.0.1')).not.toBe(canonicalAddress('127.0.0.1'));
    expect(canonicalAddress('10.1.2.3')).toBe('10.1.2.3');
  });
});
