// render*: per-connection rates summed per listening port, per process and for the host, as
// Prometheus metric families for `serve` (gauges: connections come and go, so the sums of their
// byte counters are not monotonic counters). Pure.

import type { RateGroup, RateTotals } from './conn-rates.js';
import type { MetricFamily, MetricSample } from './metrics.js';

export interface RateMetricsInput {
  readonly byPort: readonly RateGroup[];
  readonly byProcess: readonly RateGroup[];
  readonly total: RateTotals;
  /** When the counters behind the rates were read, ms since epoch. */
  readonly asOfMs: number;
  /** At most this many ports and as many processes (the busiest). */
  readonly maxGroups: number;
}

function top(groups: readonly RateGroup[], max: number): RateGroup[] {
  return [...groups]
    .sort((a, b) => b.sendBytesPerSec + b.recvBytesPerSec - (a.sendBytesPerSec + a.recvBytesPerSec) || a.key.localeCompare(b.key))
    .slice(0, Math.max(0, max));
}

export function buildRateMetricFamilies(input: RateMetricsInput): MetricFamily[] {
  const ports = top(input.byPort, input.maxGroups);
  // Connections without a known owner ("-") have no pid to label.
  const procs = top(
    input.byProcess.filter((g) => g.pid !== null),
    input.maxGroups,
  );
  const portSamples = (pick: (g: RateGroup) => number): MetricSample[] => ports.map((g) => ({ labels: [['port', g.key]], value: pick(g) }));
  const procSamples = (pick: (g: RateGroup) => number): MetricSample[] =>
    procs.map((g) => ({
      labels: [
        ['pid', String(g.pid)],
        ['process', g.process ?? ''],
      ],
      value: pick(g),
    }));
  return [
    {
      name: 'sockscope_port_send_bytes_per_second',
      help: 'Bytes per second acknowledged by peers on connections to a listening TCP port (tcp_info bytes_acked deltas via ss -ti).',
      type: 'gauge',
      samples: portSamples((g) => g.sendBytesPerSec),
    },
    {
      name: 'sockscope_port_receive_bytes_per_second',
      help: 'Bytes per second received on connections to a listening TCP port (tcp_info bytes_received deltas via ss -ti).',
      type: 'gauge',
      samples: portSamples((g) => g.recvBytesPerSec),
    },
    {
      name: 'sockscope_process_send_bytes_per_second',
      help: "Bytes per second acknowledged by peers on a process's TCP connections (tcp_info bytes_acked deltas).",
      type: 'gauge',
      samples: procSamples((g) => g.sendBytesPerSec),
    },
    {
      name: 'sockscope_process_receive_bytes_per_second',
      help: "Bytes per second received on a process's TCP connections (tcp_info bytes_received deltas).",
      type: 'gauge',
      samples: procSamples((g) => g.recvBytesPerSec),
    },
    {
      name: 'sockscope_tcp_send_bytes_per_second',
      help: 'Bytes per second acknowledged by peers over every TCP connection with tcp_info.',
      type: 'gauge',
      samples: [{ labels: [], value: input.total.sendBytesPerSec }],
    },
    {
      name: 'sockscope_tcp_receive_bytes_per_second',
      help: 'Bytes per second received over every TCP connection with tcp_info.',
      type: 'gauge',
      samples: [{ labels: [], value: input.total.recvBytesPerSec }],
    },
    {
      name: 'sockscope_tcp_retransmits_per_second',
      help: 'Segments retransmitted per second over every TCP connection with tcp_info (retrans total deltas).',
      type: 'gauge',
      samples: [{ labels: [], value: input.total.retransPerSec }],
    },
    {
      name: 'sockscope_rates_timestamp_seconds',
      help: 'When the tcp_info counters behind the rates were read, seconds since the epoch.',
      type: 'gauge',
      samples: [{ labels: [], value: input.asOfMs / 1000 }],
    },
  ];
}
