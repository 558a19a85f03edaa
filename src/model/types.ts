// Core data types shared by every layer. Pure declarations: no I/O, no UI.

/** Which /proc/net table a socket came from. */
export type Protocol = 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'raw' | 'raw6' | 'unix';

/** Protocol family groups used for counts ("tcp" covers tcp and tcp6). */
export type ProtocolGroup = 'tcp' | 'udp' | 'raw' | 'unix';

/** Kernel TCP states (include/net/tcp_states.h), by their kernel names. */
export type TcpState =
  | 'ESTABLISHED'
  | 'SYN_SENT'
  | 'SYN_RECV'
  | 'FIN_WAIT1'
  | 'FIN_WAIT2'
  | 'TIME_WAIT'
  | 'CLOSE'
  | 'CLOSE_WAIT'
  | 'LAST_ACK'
  | 'LISTEN'
  | 'CLOSING'
  | 'NEW_SYN_RECV';

/**
 * UDP and raw sockets reuse the TCP state numbers: 01 = connected (ESTABLISHED),
 * 07 (TCP_CLOSE) = not connected, shown as UNCONN like ss does.
 */
export type DatagramState = 'ESTABLISHED' | 'UNCONN';

/**
 * UNIX socket states from /proc/net/unix: the St column (socket_state: 1 unconnected,
 * 2 connecting, 3 connected, 4 disconnecting) plus the __SO_ACCEPTCON flag (listening).
 */
export type UnixState = 'LISTENING' | 'CONNECTED' | 'UNCONNECTED' | 'CONNECTING' | 'DISCONNECTING';

export type SocketState = TcpState | DatagramState | UnixState;

/** The tr column of /proc/net/tcp (kernel get_tcp4_sock): which timer is pending. */
export type TimerKind = 'off' | 'on' | 'keepalive' | 'timewait' | 'probe';

export type UnixType = 'stream' | 'dgram' | 'seqpacket' | 'unknown';

/** One socket as read from one line of a /proc/net table. Immutable. */
export interface SocketEntry {
  /** Stable identity across snapshots: protocol + endpoints + inode. */
  readonly key: string;
  readonly protocol: Protocol;
  readonly state: SocketState;
  /** Textual address: dotted IPv4, compressed IPv6 ("::1"), "::ffff:1.2.3.4" for v4-mapped, "" for unix. */
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Bytes (tcp: rx_queue; for LISTEN the current accept queue length). */
  readonly recvQ: number;
  /** Bytes (tcp: tx_queue; always 0 for LISTEN in /proc — the backlog limit is only in netlink). */
  readonly sendQ: number;
  readonly timer: TimerKind;
  /** Time left on the pending timer, milliseconds (tm->when, jiffies converted with USER_HZ). */
  readonly timerMs: number;
  /** Unrecovered retransmits (retrnsmt column), or probes for the probe timer. */
  readonly retransmits: number;
  /**
   * Owner uid from the table; -1 when there is none: UNIX sockets (no uid column), and TCP
   * timewait socks (TIME_WAIT, FIN_WAIT2 short lines) for which the kernel prints 0.
   */
  readonly uid: number;
  /** Socket inode: 0 for TIME_WAIT and orphaned sockets, which no process holds. */
  readonly inode: number;
  /** TCP extras from /proc/net/tcp (null when the line does not carry them). Milliseconds for rto/ato. */
  readonly rtoMs: number | null;
  readonly atoMs: number | null;
  readonly cwnd: number | null;
  /** -1 from the kernel means "not yet known" (initial ssthresh); kept as given. */
  readonly ssthresh: number | null;
  /** UDP: drops column of /proc/net/udp. */
  readonly drops: number | null;
  /** UNIX only: bound path ("@name" for abstract), null for unnamed sockets and for inet sockets. */
  readonly path: string | null;
  /** UNIX only: socket type; null for inet sockets. */
  readonly unixType: UnixType | null;
}

/** Which process holds a socket (found through /proc/<pid>/fd). */
export interface SocketOwner {
  readonly pid: number;
  /** /proc/<pid>/comm, untrusted text. */
  readonly command: string;
  /** /proc/<pid>/cmdline with NULs turned into spaces, untrusted text. */
  readonly commandLine: string;
  readonly uid: number;
  readonly fd: number;
}

/** A socket joined with what the snapshot knows about it. */
export interface SocketRecord extends SocketEntry {
  /** Owner of the socket, null when unknown (no permission, orphaned, TIME_WAIT). */
  readonly owner: SocketOwner | null;
  /** Number of other (pid, fd) pairs holding the same socket (fork, dup, SCM_RIGHTS). */
  readonly sharedBy: number;
  /** User name for `uid`, or the uid as text when it has no name; '' when uid is -1 (no owner). */
  readonly user: string;
}

/** Lines skipped while parsing, per file, so a user can be told what was not understood. */
export interface ParseIssues {
  readonly skippedLines: number;
  readonly files: Readonly<Record<string, number>>;
  /**
   * Tables that exist but could not be read, file ("net/tcp") → reason ("permission denied",
   * "not a regular file", "larger than 500 MB"). Missing tables (IPv6 disabled) are not listed.
   */
  readonly unreadable?: Readonly<Record<string, string>>;
}

/** Kernel counters from /proc/net/snmp and /proc/net/netstat: "Tcp.ActiveOpens", "TcpExt.ListenDrops", … */
export type KernelCounters = Readonly<Record<string, number>>;

export interface OwnerScanStats {
  /** True when owner mapping ran for this snapshot. */
  readonly enabled: boolean;
  /**
   * True when owners are wanted but the owner scan's first full pass had not finished: the
   * snapshot was taken without them (a live screen's first frame never waits on the fd scan).
   */
  readonly pending?: boolean;
  /** Processes whose fd table could not be read (permission), a hint for non-root users. */
  readonly unreadableProcesses: number;
  readonly scannedProcesses: number;
  /** readlink calls done this time (0 when everything came from the cache). */
  readonly linksRead: number;
  readonly durationMs: number;
}

/** One immutable picture of the machine's sockets at one instant. */
export interface Snapshot {
  readonly takenAtMs: number;
  readonly host: string;
  readonly sockets: readonly SocketRecord[];
  readonly counters: KernelCounters;
  readonly issues: ParseIssues;
  readonly owners: OwnerScanStats;
  /** Timing of the collection itself, for the cost meter. */
  readonly cost: CollectCost;
  /**
   * Set only on a live screen's first refresh of large tables, handed over before the tables are
   * parsed whole: `sockets` then holds only the first lines of each large table, and the full
   * snapshot of the same read follows. Absent on every complete snapshot.
   */
  readonly partial?: PartialRead;
}

/** What a partial snapshot read (see Snapshot.partial). */
export interface PartialRead {
  /** Sockets parsed into `sockets`. */
  readonly socketsRead: number;
  /** Sockets in the tables read, exact (TCP states counted on every line, small tables parsed whole); null when a group is pending. */
  readonly socketsTotal: number | null;
  /** Exact counts per protocol group and state of every socket in the tables read (a pending group: those parsed so far). */
  readonly counts: Readonly<Record<ProtocolGroup, Partial<Record<SocketState, number>>>>;
  /** Groups whose counts are not known yet (a large UDP, raw or UNIX table: only its first lines were parsed). */
  readonly pendingGroups: readonly ProtocolGroup[];
}

export interface CollectCost {
  readonly readMs: number;
  readonly parseMs: number;
  readonly ownersMs: number;
  readonly rows: number;
  /** Rows whose record was reused unchanged from the previous snapshot (same object). */
  readonly reusedRows?: number;
  /** Duplicate lines dropped (a socket listed twice by a chunked read of a table under churn). */
  readonly duplicateRows?: number;
  /**
   * CPU time of the whole process (every thread: main, libuv's pool reading /proc/net, the owner
   * worker, GC helpers) from the start of the collection to its end, ms (process.cpuUsage).
   */
  readonly cpuMs?: number;
}
