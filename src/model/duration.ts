// Durations in the short form every part of the screen uses ("45s", "3m20s", "2h05m"), here in
// the model so a finding's text and the views' columns read alike. Pure.

/** 4200 → "4s", 192000 → "3m12s", 7_500_000 → "2h05m", days → "3d04h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}
