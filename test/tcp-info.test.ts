import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { parseSsTcpInfo } from '../src/model/tcp-info.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/ss-output/${name}`, import.meta.url), 'utf8');

/** The display fields as a plain object: label → formatted value. */
function fieldsOf(output: string): Record<string, string> | null {
  const info = parseSsTcpInfo(output);
  return info === null ? null : Object.fromEntries(info.fields);
}

describe('parseSsTcpInfo on recorded `ss -tinH` output', () => {
  it.each<[string, Record<string, string>]>([
    [
      'bbr-client.txt',
      {
        'congestion ctl': 'bbr',
        'rtt/var (ms)': '0.017/0.009',
        'min rtt (ms)': '0.015',
        'rto (ms)': '204',
        'cwnd (segs)': '13',
        'mss (bytes)': '47616',
        'bytes sent': '100000',
        'bytes acked': '100001',
        'send rate': '291.3 Gbit/s',
        'delivery rate': '30.5 Gbit/s',
        'pacing rate': '499.0 Gbit/s',
        'last send (ms)': '108',
        'last recv (ms)': '108',
      },
    ],
    [
      'bbr-server-app-limited.txt',
      {
        'congestion ctl': 'bbr',
        'rtt/var (ms)': '0.016/0.008',
        'min rtt (ms)': '0.016',
        'rto (ms)': '200',
        'cwnd (segs)': '10',
        'mss (bytes)': '2048',
        'bytes received': '100000',
        'send rate': '10.2 Gbit/s',
        'pacing rate': '29.3 Gbit/s',
        'last send (ms)': '188',
        'last recv (ms)': '188',
      },
    ],
    [
      'bbr-rwnd-limited.txt',
      {
        'congestion ctl': 'bbr',
        'rtt/var (ms)': '5.183/10.339',
        'min rtt (ms)': '0.016',
        'rto (ms)': '208',
        'cwnd (segs)': '12',
        'mss (bytes)': '2048',
        'bytes sent': '4096',
        'bytes acked': '4096',
        'bytes received': '100000',
        'send rate': '37.9 Mbit/s',
        'delivery rate': '528.5 Mbit/s',
        'pacing rate': '29.3 Gbit/s',
        'last send (ms)': '1032',
        'last recv (ms)': '1276',
        busy: '1032ms',
        // The field that explains a stalled sender: the peer's window is full.
        'rwnd limited': '1032ms(100.0%)',
      },
    ],
    ['bbr-listener.txt', { 'congestion ctl': 'bbr', 'cwnd (segs)': '10' }],
    [
      'cubic-client-recvq.txt',
      {
        'congestion ctl': 'cubic',
        'rtt/var (ms)': '0.034/0.034',
        'min rtt (ms)': '0.005',
        'rto (ms)': '204',
        'cwnd (segs)': '10',
        'mss (bytes)': '65483',
        'bytes sent': '300000',
        'bytes acked': '300001',
        'bytes received': '1000',
        'send rate': '154.1 Gbit/s',
        'delivery rate': '104.8 Gbit/s',
        'pacing rate': '308.2 Gbit/s',
        'last send (ms)': '208',
        'last recv (ms)': '208',
      },
    ],
    [
      'bbr-client-human.txt',
      {
        'congestion ctl': 'bbr',
        'rtt/var (ms)': '0.025/0.008',
        'min rtt (ms)': '0.017',
        'rto (ms)': '204',
        'cwnd (segs)': '13',
        'mss (bytes)': '47616',
        'bytes sent': '100000',
        'bytes acked': '100001',
        'send rate': '198.0 Gbit/s',
        'delivery rate': '29.3 Gbit/s',
        'pacing rate': '299.0 Gbit/s',
        'last send (ms)': '104',
        'last recv (ms)': '104',
      },
    ],
  ])('%s', (name, expected) => {
    expect(fieldsOf(fixture(name))).toEqual(expected);
  });

  it('fields come in display order (congestion control, rtt, …, rates, timings)', () => {
    const labels = parseSsTcpInfo(fixture('bbr-rwnd-limited.txt'))?.fields.map(([label]) => label);
    expect(labels).toEqual([
      'congestion ctl',
      'rtt/var (ms)',
      'min rtt (ms)',
      'rto (ms)',
      'cwnd (segs)',
      'mss (bytes)',
      'bytes sent',
      'bytes acked',
      'bytes received',
      'send rate',
      'delivery rate',
      'pacing rate',
      'last send (ms)',
      'last recv (ms)',
      'busy',
      'rwnd limited',
    ]);
  });

  it('reno is recognised as a congestion control', () => {
    expect(fieldsOf(fixture('reno-client-recvq.txt'))?.['congestion ctl']).toBe('reno');
  });

  it('raw keeps every key:value, and the bbr:(…) block does not leak keys', () => {
    const raw = parseSsTcpInfo(fixture('bbr-rwnd-limited.txt'))?.raw ?? {};
    expect(raw).toMatchObject({ wscale: '0,10', backoff: '2', ato: '40', notsent: '2985984', segs_out: '6' });
    expect('snd_wnd' in raw).toBe(false);
    expect(raw['bbr']).toBeUndefined();
    expect(raw['bw']).toBeUndefined();
    expect(raw['mrtt']).toBeUndefined();
  });

  it.each([
    ['TIME-WAIT: the info line is empty', 'time-wait.txt'],
    ['no matching socket: empty output', 'no-match.txt'],
  ])('%s → null', (_name, file) => {
    expect(parseSsTcpInfo(fixture(file))).toBeNull();
  });
});

describe('rate formatting (send, pacing_rate, delivery_rate)', () => {
  it.each([
    ['0bps', '0 bit/s'],
    ['999bps', '999 bit/s'],
    ['1000bps', '1.0 kbit/s'],
    ['999999bps', '1000.0 kbit/s'],
    ['1000000bps', '1.0 Mbit/s'],
    ['37933243bps', '37.9 Mbit/s'],
    ['1000000000bps', '1.0 Gbit/s'],
    ['291297882353bps', '291.3 Gbit/s'],
    // ss without -n: older releases print K, current ones k and T (iproute2 sprint_bw).
    ['12.5Kbps', '12.5 kbit/s'],
    ['980kbps', '980.0 kbit/s'],
    ['9.92Mbps', '9.9 Mbit/s'],
    ['55Gbps', '55.0 Gbit/s'],
    ['1.2Tbps', '1200.0 Gbit/s'],
  ])('send %s → %s', (value, expected) => {
    for (const key of ['send', 'pacing_rate', 'delivery_rate']) {
      const info = parseSsTcpInfo(`ESTAB 0 0 10.0.0.1:1 10.0.0.2:2\n\t cubic ${key} ${value}\n`);
      expect(info?.raw[key]).toBe(value);
      expect(Object.fromEntries(info?.fields ?? [])).toEqual({
        'congestion ctl': 'cubic',
        [{ send: 'send rate', pacing_rate: 'pacing rate', delivery_rate: 'delivery rate' }[key] ?? '']: expected,
      });
    }
  });

  it('values that are not rates are shown as ss printed them', () => {
    const info = parseSsTcpInfo('x\n\t bytes_sent:1000 busy:20ms send junk\n');
    expect(Object.fromEntries(info?.fields ?? [])).toEqual({ 'bytes sent': '1000', busy: '20ms', 'send rate': 'junk' });
  });
});
