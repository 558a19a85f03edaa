// Parse the tcp_info block that `ss -ti` prints for one connection (the indented second line):
// "cubic wscale:7,7 rto:204 rtt:0.03/0.015 … send 87381333bps … delivery_rate 1.2Gbps …".

export interface TcpInfo {
  /** Ordered (label, value) pairs for display: the fields people look at first. */
  readonly fields: readonly (readonly [string, string])[];
  /** Every key:value found, raw. */
  readonly raw: Readonly<Record<string, string>>;
}

/** Keys shown, in this order, with a label. */
const SHOWN: readonly (readonly [string, string])[] = [
  ['cc', 'congestion ctl'],
  ['rtt', 'rtt/var (ms)'],
  ['minrtt', 'min rtt (ms)'],
  ['rto', 'rto (ms)'],
  ['cwnd', 'cwnd (segs)'],
  ['ssthresh', 'ssthresh'],
  ['mss', 'mss (bytes)'],
  ['bytes_sent', 'bytes sent'],
  ['bytes_acked', 'bytes acked'],
  ['bytes_received', 'bytes received'],
  ['bytes_retrans', 'bytes retrans'],
  ['retrans', 'retrans (cur/total)'],
  ['lost', 'lost'],
  ['unacked', 'unacked'],
  ['send', 'send rate'],
  ['delivery_rate', 'delivery rate'],
  ['pacing_rate', 'pacing rate'],
  ['lastsnd', 'last send (ms)'],
  ['lastrcv', 'last recv (ms)'],
  ['busy', 'busy'],
  ['rwnd_limited', 'rwnd limited'],
  ['sndbuf_limited', 'sndbuf limited'],
];

/** Keys printed as "key value" (space) rather than "key:value" by ss. */
const SPACED = new Set(['send', 'pacing_rate', 'delivery_rate']);
const CONGESTION = new Set([
  'cubic',
  'reno',
  'bbr',
  'bbr2',
  'bbr3',
  'dctcp',
  'vegas',
  'westwood',
  'htcp',
  'bic',
  'hybla',
  'illinois',
  'scalable',
  'yeah',
  'veno',
  'lp',
  'nv',
  'cdg',
  'highspeed',
]);

/** Parse `ss -tinH` output for one connection; null when there is no tcp_info line. */
export function parseSsTcpInfo(output: string): TcpInfo | null {
  const lines = output.split('\n');
  const infoLine = lines.find((l) => /^\s/.test(l) && l.trim() !== '');
  if (infoLine === undefined) return null;
  const tokens = infoLine.trim().split(/\s+/);
  const raw: Record<string, string> = {};
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    if (CONGESTION.has(t)) raw['cc'] = t;
    else if (SPACED.has(t) && tokens[i + 1] !== undefined) raw[t] = tokens[++i] ?? '';
    else {
      const colon = t.indexOf(':');
      // Skip nested blocks like "bbr:(bw:…,mrtt:…)", keep "rwnd_limited:1032ms(100.0%)".
      if (colon > 0 && t[colon + 1] !== '(') raw[t.slice(0, colon)] = t.slice(colon + 1);
    }
  }
  const fields = SHOWN.filter(([k]) => raw[k] !== undefined).map(([k, label]) => [label, formatValue(k, raw[k] ?? '')] as const);
  return { fields, raw };
}

function formatValue(key: string, value: string): string {
  // ss -n prints plain bps; without -n iproute2's sprint_bw uses k (older: K), M, G, T.
  const bps = /^(\d+(?:\.\d+)?)([kKMGT]?)bps$/.exec(value);
  if (bps !== null && (key === 'send' || key.endsWith('_rate'))) {
    const scale = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[bps[2] as '' | 'k' | 'K' | 'M' | 'G' | 'T'];
    const v = Number(bps[1]) * scale;
    return v >= 1e9
      ? `${(v / 1e9).toFixed(1)} Gbit/s`
      : v >= 1e6
        ? `${(v / 1e6).toFixed(1)} Mbit/s`
        : v >= 1e3
          ? `${(v / 1e3).toFixed(1)} kbit/s`
          : `${v} bit/s`;
  }
  return value;
}
