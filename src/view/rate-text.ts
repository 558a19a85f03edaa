// Text for rates and service names in views: "1.9 MB/s", "0.21 ms", "5432 postgresql". Pure.

/** Bytes per second, 3 significant figures: "0 B/s", "512 B/s", "1.95 kB/s", "2.0 MB/s"; "-" for null (no rate yet). */
export function formatBytesPerSec(bytesPerSec: number | null): string {
  if (bytesPerSec === null || !Number.isFinite(bytesPerSec)) return '-';
  const v = Math.max(0, bytesPerSec);
  if (v < 1000) return `${Math.round(v)} B/s`;
  const units = ['kB/s', 'MB/s', 'GB/s', 'TB/s'] as const;
  let x = v / 1000;
  let i = 0;
  while (x >= 1000 && i < units.length - 1) {
    x /= 1000;
    i++;
  }
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)} ${units[i]}`;
}

/** Milliseconds of RTT: "0.021 ms", "3.25 ms", "180 ms"; "-" when unknown. */
export function formatRttMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 100) return `${ms.toFixed(2)} ms`;
  return `${Math.round(ms)} ms`;
}

/** Retransmits per second: "0", "0.5/s", "12/s"; "-" for null. */
export function formatPerSec(perSec: number | null): string {
  if (perSec === null || !Number.isFinite(perSec)) return '-';
  if (perSec === 0) return '0';
  return perSec < 10 ? `${perSec.toFixed(1)}/s` : `${Math.round(perSec)}/s`;
}

/**
 * A port with its service name when it has one: "5432 postgresql", "40000". Only well-known and
 * registered ports (below 49152) are named: an ephemeral port that happens to be listed in
 * /etc/services is a client's random port, not that service.
 */
export function portWithService(port: number, nameOf: ReadonlyMap<number, string> | null): string {
  if (nameOf === null || port <= 0 || port >= 49152) return String(port);
  const name = nameOf.get(port);
  return name === undefined ? String(port) : `${port} ${name}`;
}
