// Thresholds of the findings rules: the one table of defaults, and overrides merged over it.

export interface FindingThresholds {
  readonly closeWait: {
    /** CLOSE_WAIT sockets in one group (service port or remote port) before it is reported. */
    readonly minCount: number;
    /** Snapshots over which the count must not fall and must end higher (including the current one). */
    readonly risingSamples: number;
    /** A group that has held at least minCount in every snapshot for this long (ms of snapshot time) is reported even if it never grew. */
    readonly steadyMs: number;
    readonly critCount: number;
  };
  readonly timeWait: {
    /** TIME_WAIT sockets to one peer as a share of the ephemeral port range. */
    readonly warnShare: number;
    readonly critShare: number;
  };
  readonly synRecv: {
    /** Half-open connections on one port. */
    readonly warnCount: number;
    readonly critCount: number;
  };
  readonly acceptQueue: {
    /** Report 'queue-filling' listeners (>= 50 %) as info findings. */
    readonly reportFilling: boolean;
  };
  readonly resets: {
    /** Tcp.EstabResets + Tcp.OutRsts, per second, always reported above this. */
    readonly perSec: number;
    readonly critPerSec: number;
    /** A jump: this many times the recent average… */
    readonly jumpFactor: number;
    /** …and at least this many per second… */
    readonly jumpMinPerSec: number;
    /** …over the average of up to this many previous samples (at least 3 needed). */
    readonly baselineSamples: number;
  };
  readonly retransmits: {
    /** Tcp.RetransSegs rate / Tcp.OutSegs rate. */
    readonly warnShare: number;
    readonly critShare: number;
    /** Below this many segments sent per second the share is noise. */
    readonly minOutSegsPerSec: number;
  };
  readonly finWait2: {
    /** FIN_WAIT2 sockets in one group (service port or remote port). */
    readonly warnCount: number;
    readonly critCount: number;
  };
}

export const DEFAULT_FINDING_THRESHOLDS: FindingThresholds = {
  closeWait: { minCount: 20, risingSamples: 3, steadyMs: 30_000, critCount: 500 },
  timeWait: { warnShare: 0.5, critShare: 0.8 },
  synRecv: { warnCount: 100, critCount: 1000 },
  acceptQueue: { reportFilling: true },
  resets: { perSec: 100, critPerSec: 1000, jumpFactor: 5, jumpMinPerSec: 10, baselineSamples: 10 },
  retransmits: { warnShare: 0.02, critShare: 0.1, minOutSegsPerSec: 50 },
  finWait2: { warnCount: 100, critCount: 1000 },
};

export type FindingThresholdOverrides = { readonly [K in keyof FindingThresholds]?: Partial<FindingThresholds[K]> };

export function resolveThresholds(overrides: FindingThresholdOverrides = {}): FindingThresholds {
  const d = DEFAULT_FINDING_THRESHOLDS;
  return {
    closeWait: { ...d.closeWait, ...overrides.closeWait },
    timeWait: { ...d.timeWait, ...overrides.timeWait },
    synRecv: { ...d.synRecv, ...overrides.synRecv },
    acceptQueue: { ...d.acceptQueue, ...overrides.acceptQueue },
    resets: { ...d.resets, ...overrides.resets },
    retransmits: { ...d.retransmits, ...overrides.retransmits },
    finWait2: { ...d.finWait2, ...overrides.finWait2 },
  };
}

/** Linux's ip_local_port_range default, used when the sysctl could not be read. */
export const DEFAULT_EPHEMERAL_RANGE = { low: 32768, high: 60999 } as const;
