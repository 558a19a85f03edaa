// State metadata: short labels, colours, troubleshooting explanations and the TCP state machine.
// Pure data and lookups: no I/O, no UI library (colours are plain blessed colour names).

import { PROTOCOL_GROUP } from './aggregate.js';
import type { DatagramState, Protocol, ProtocolGroup, SocketState, TcpState, TimerKind, UnixState } from './types.js';

// ---------------------------------------------------------------------------------------------
// Runtime lists of every state, so callers (and tests) can iterate the unions.

/** TCP states in lifecycle order: open, handshake, data, close (active then passive), gone. */
export const TCP_STATES = [
  'LISTEN',
  'SYN_SENT',
  'SYN_RECV',
  'NEW_SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'CLOSE_WAIT',
  'CLOSING',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
] as const satisfies readonly TcpState[];

/** UDP and raw socket states (/proc/net/udp, /proc/net/raw). */
export const DATAGRAM_STATES = ['UNCONN', 'ESTABLISHED'] as const satisfies readonly DatagramState[];

/** UNIX socket states (/proc/net/unix). */
export const UNIX_STATES = ['LISTENING', 'CONNECTED', 'UNCONNECTED', 'CONNECTING', 'DISCONNECTING'] as const satisfies readonly UnixState[];

// Compile-time proof that the lists above name every member of their union.
type Missing<All, Listed> = Exclude<All, Listed>;
const listsAreComplete: [
  Missing<TcpState, (typeof TCP_STATES)[number]>,
  Missing<DatagramState, (typeof DATAGRAM_STATES)[number]>,
  Missing<UnixState, (typeof UNIX_STATES)[number]>,
] extends [never, never, never]
  ? true
  : never = true;
void listsAreComplete;

/** Which family of state tables a protocol uses ("tcp6" uses the tcp tables). */
export function protocolGroup(protocol: Protocol): ProtocolGroup {
  return PROTOCOL_GROUP[protocol];
}

// ---------------------------------------------------------------------------------------------
// Short column labels.

/**
 * Short TCP labels (≤ 10 chars) as ss prints them. Two differences from ss: ss prints TCP_CLOSE
 * as "UNCONN" (kept as "CLOSE" here, the TCP name), and ss never prints NEW_SYN_RECV because the
 * kernel reports request socks as SYN_RECV.
 */
export const TCP_STATE_SHORT = {
  ESTABLISHED: 'ESTAB',
  SYN_SENT: 'SYN-SENT',
  SYN_RECV: 'SYN-RECV',
  FIN_WAIT1: 'FIN-WAIT-1',
  FIN_WAIT2: 'FIN-WAIT-2',
  TIME_WAIT: 'TIME-WAIT',
  CLOSE: 'CLOSE',
  CLOSE_WAIT: 'CLOSE-WAIT',
  LAST_ACK: 'LAST-ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
  NEW_SYN_RECV: 'NEWSYNRECV',
} as const satisfies Record<TcpState, string>;

/** UDP/raw labels as ss prints them. */
export const DATAGRAM_STATE_SHORT = {
  UNCONN: 'UNCONN',
  ESTABLISHED: 'ESTAB',
} as const satisfies Record<DatagramState, string>;

/**
 * UNIX labels. LISTEN/ESTAB/UNCONN match ss; for the two transient states ss borrows TCP
 * names (SYN-SENT, CLOSING), which mislead for UNIX sockets, so they keep their own names.
 */
export const UNIX_STATE_SHORT = {
  LISTENING: 'LISTEN',
  CONNECTED: 'ESTAB',
  UNCONNECTED: 'UNCONN',
  CONNECTING: 'CONNECTING',
  DISCONNECTING: 'DISCONN',
} as const satisfies Record<UnixState, string>;

function isTcpState(state: SocketState): state is TcpState {
  return Object.hasOwn(TCP_STATE_SHORT, state);
}

function isDatagramState(state: SocketState): state is DatagramState {
  return Object.hasOwn(DATAGRAM_STATE_SHORT, state);
}

function isUnixState(state: SocketState): state is UnixState {
  return Object.hasOwn(UNIX_STATE_SHORT, state);
}

/**
 * Short label of a state for a protocol. A state that does not belong to the protocol (which a
 * correct parser never produces) is shown as its kernel name with dashes.
 */
export function stateLabel(protocol: Protocol, state: SocketState): string {
  switch (protocolGroup(protocol)) {
    case 'tcp':
      if (isTcpState(state)) return TCP_STATE_SHORT[state];
      break;
    case 'udp':
    case 'raw':
      if (isDatagramState(state)) return DATAGRAM_STATE_SHORT[state];
      break;
    case 'unix':
      if (isUnixState(state)) return UNIX_STATE_SHORT[state];
      break;
  }
  return state.replaceAll('_', '-');
}

// ---------------------------------------------------------------------------------------------
// Colours.

/**
 * Colour names accepted by blessed (lib/colors.js colorNames). Only the eight base colours and
 * their "light" variants, which blessed folds back to the base colour on 8-colour terminals.
 * Gray is avoided on purpose: on 8 colours it becomes black, invisible on a dark background.
 */
export type StateColor =
  | 'red'
  | 'green'
  | 'yellow'
  | 'blue'
  | 'magenta'
  | 'cyan'
  | 'white'
  | 'lightred'
  | 'lightgreen'
  | 'lightyellow'
  | 'lightblue'
  | 'lightmagenta'
  | 'lightcyan';

/**
 * One colour per state. Healthy states are calm (green, cyan, white), closing states that are
 * normal in small numbers are yellow/blue, and the states whose piles signal a problem stand
 * out: CLOSE_WAIT red (application bug), the handshake states magenta (flood or unreachable
 * peer). ESTABLISHED is shared by TCP and UDP and is green for both.
 */
export const STATE_COLOR = {
  // TCP
  LISTEN: 'cyan',
  SYN_SENT: 'lightmagenta',
  SYN_RECV: 'magenta',
  NEW_SYN_RECV: 'magenta',
  ESTABLISHED: 'green',
  FIN_WAIT1: 'yellow',
  FIN_WAIT2: 'yellow',
  CLOSE_WAIT: 'red',
  CLOSING: 'lightyellow',
  LAST_ACK: 'lightyellow',
  TIME_WAIT: 'blue',
  CLOSE: 'white',
  // UDP / raw (ESTABLISHED above)
  UNCONN: 'cyan',
  // UNIX
  LISTENING: 'cyan',
  CONNECTED: 'green',
  UNCONNECTED: 'white',
  CONNECTING: 'yellow',
  DISCONNECTING: 'lightyellow',
} as const satisfies Record<SocketState, StateColor>;

// ---------------------------------------------------------------------------------------------
// Explanations.

/**
 * Which end of a connection is in the state:
 * - client: the end that called connect() (active open);
 * - server: the end that called listen()/accept() (passive open);
 * - both: both ends go through it;
 * - either: depends on who closes first, not on who connected.
 */
export type StateSide = 'client' | 'server' | 'both' | 'either';

export interface StateExplanation {
  /** Human name of the state, e.g. "Close wait". */
  readonly title: string;
  /** What the state means, in a sentence or two. */
  readonly meaning: string;
  readonly side: StateSide;
  /** How a socket gets into this state. */
  readonly cause: string;
  /** How long a socket normally stays, and what ends it (Linux defaults). */
  readonly typicalDuration: string;
  /** What it means when many sockets are in this state. */
  readonly pileUp: string;
  /** What to check or do about a pile-up, when there is something to do. */
  readonly action?: string;
}

export const TCP_STATE_EXPLANATION = {
  LISTEN: {
    title: 'Listening',
    meaning:
      'A server socket waiting for incoming connections. It carries no data itself: each accepted connection gets its own ESTABLISHED socket on the same local port.',
    side: 'server',
    cause: 'The application called listen() on a bound address and port.',
    typicalDuration: 'As long as the service runs.',
    pileUp:
      'Many LISTEN sockets are normal: one per port and address, or several per port with SO_REUSEPORT. What matters is the accept queue: Recv-Q of a LISTEN socket is the number of completed connections waiting for accept(), and ss shows the backlog limit as Send-Q. When the queue is full, new handshakes are dropped and TcpExt.ListenOverflows / ListenDrops grow. This is not SYN_RECV: those connections are complete.',
    action:
      'If Recv-Q stays near the backlog, the application does not call accept() fast enough: look for a blocked or overloaded process, add workers, or raise the backlog (the listen() argument, capped by net.core.somaxconn).',
  },
  SYN_SENT: {
    title: 'SYN sent',
    meaning: 'connect() sent a SYN and is waiting for the SYN-ACK from the peer.',
    side: 'client',
    cause: 'An outgoing connect() whose peer has not answered yet.',
    typicalDuration:
      'One round trip, usually milliseconds. With no answer, Linux resends the SYN net.ipv4.tcp_syn_retries times (default 6, about 127 s in all), then connect() fails with ETIMEDOUT.',
    pileUp:
      'The peer is unreachable, or a firewall silently drops the SYNs. A closed port or a REJECT rule answers with RST, which fails at once (ECONNREFUSED) and does not pile up. A peer whose listen queue is full may also drop SYNs.',
    action:
      'Group by remote address and port to find the peer. Check routing and firewalls on the path; lower tcp_syn_retries or use a connect timeout in the application to fail faster.',
  },
  SYN_RECV: {
    title: 'SYN received',
    meaning:
      "A server got a SYN and answered with SYN-ACK; it waits for the client's ACK to finish the handshake. On Linux a half-open connection is a small request sock (kernel state NEW_SYN_RECV) attached to the listener; /proc/net/tcp and ss show it as SYN_RECV, with no inode and no owning process.",
    side: 'server',
    cause: 'A client started a handshake with a local LISTEN socket. A full socket is in SYN_RECV only briefly, or with TCP Fast Open.',
    typicalDuration:
      'One round trip. Without the ACK, the SYN-ACK is resent net.ipv4.tcp_synack_retries times (default 5, about 63 s in all), then the request is dropped.',
    pileUp:
      'A SYN flood (many sources, often spoofed), or ACKs lost on the way back (asymmetric routing, a firewall dropping them). net.ipv4.tcp_syncookies (default 1) lets the server answer without keeping state once the SYN queue overflows. A full accept queue is a different problem: those connections are complete and show as Recv-Q of the LISTEN socket.',
    action:
      'Group by remote address: many distinct sources suggest a flood (check that syncookies are on and watch TcpExt.SyncookiesSent); one peer suggests a broken network path to it.',
  },
  NEW_SYN_RECV: {
    title: 'SYN received (request sock)',
    meaning:
      "The kernel's own name for a half-open connection kept as a small request sock: a SYN was received and answered with SYN-ACK, and the final ACK has not arrived. /proc/net/tcp and ss report these as SYN_RECV, so this name is rarely seen; the meaning is the same.",
    side: 'server',
    cause: 'A client started a handshake with a local LISTEN socket.',
    typicalDuration:
      'One round trip. Without the ACK, the SYN-ACK is resent net.ipv4.tcp_synack_retries times (default 5, about 63 s in all), then the request is dropped.',
    pileUp:
      'A SYN flood or lost ACKs, as for SYN_RECV. With net.ipv4.tcp_syncookies on (the default), an overflowing SYN queue is answered with cookies instead of more request socks.',
    action: 'Group by remote address to tell a flood (many sources) from one broken path.',
  },
  ESTABLISHED: {
    title: 'Established',
    meaning: 'The handshake is complete; data can flow both ways.',
    side: 'both',
    cause: "connect() succeeded on the client, or the server's kernel completed the handshake (accepted or waiting for accept()).",
    typicalDuration:
      'As long as the application keeps the connection open: milliseconds for one request, days for a pooled or long-lived connection.',
    pileUp:
      'Usually just load or healthy connection pools. Worry when the count only grows: a connection leak (connections opened and never closed, often idle) or no pooling (one connection per request, which also leaves TIME_WAIT behind). A large Send-Q means the peer or the network is not keeping up; a large Recv-Q means the local application is not reading.',
    action:
      'Group by process and by remote peer. A steadily growing number of idle connections to one peer points to a leak: check pool sizes and idle timeouts.',
  },
  FIN_WAIT1: {
    title: 'FIN wait 1',
    meaning: 'This end has closed (sent FIN) and waits for the peer to acknowledge it.',
    side: 'either',
    cause:
      'The local application called close() or shutdown(SHUT_WR) on an established connection: this end closes first. The FIN goes out after any data still in the send queue.',
    typicalDuration: 'One round trip, plus the time to drain the send queue. Then FIN_WAIT2, or CLOSING/TIME_WAIT.',
    pileUp:
      'The peer does not acknowledge: it is dead or unreachable, or its receive window is full (zero window), so queued data and the FIN cannot be sent. Once the application has closed the socket (orphan), Linux gives up after net.ipv4.tcp_orphan_retries retransmissions (0, the default, means 8) and drops the connection.',
    action:
      'Look at Send-Q and the timer: a large Send-Q with a zero-window probe timer means the peer stopped reading; retransmits mean it does not answer at all.',
  },
  FIN_WAIT2: {
    title: 'FIN wait 2',
    meaning: 'Our FIN was acknowledged; this end waits for the peer to close its side (send its FIN). The peer can still send data.',
    side: 'either',
    cause: 'This end closed first and the peer acknowledged, but the peer application has not closed yet: it is in CLOSE_WAIT.',
    typicalDuration:
      'Until the peer closes. An orphaned socket (the application called close()) is dropped after net.ipv4.tcp_fin_timeout (default 60 s). A socket the application still holds after shutdown() can stay forever if the peer never closes.',
    pileUp:
      "The peer is slow to close or never closes (it will show CLOSE_WAIT on its side), or a firewall or NAT forgot the connection so the peer's FIN never arrives.",
    action: 'Check the remote host for CLOSE_WAIT. Orphans go away after tcp_fin_timeout; lower it only if they use too much memory.',
  },
  CLOSE_WAIT: {
    title: 'Close wait',
    meaning: 'The peer has closed its side (its FIN arrived), and the local application has not called close() yet.',
    side: 'either',
    cause:
      'The remote end finished or hung up. The kernel acknowledged the FIN; reads now return end-of-file (0 bytes), and the kernel waits for the application to close.',
    typicalDuration: 'Until the application closes the socket. No kernel timer ends it: the application must act.',
    pileUp:
      'An application bug: the application has not closed sockets whose peer hung up. It ignores end-of-file, leaks the socket on an error path, or a connection pool keeps dead connections. A growing count is a file-descriptor leak in the owning process.',
    action:
      'Find the owning process (the PID/command column) and the code that talks to that peer. Restarting the process clears them, but the leak comes back until the code closes the socket on end-of-file and on errors.',
  },
  CLOSING: {
    title: 'Closing',
    meaning:
      "Both ends closed at about the same time (simultaneous close): our FIN is sent, the peer's FIN arrived before our FIN was acknowledged, and this end waits for that ACK.",
    side: 'both',
    cause: 'Both applications called close() at nearly the same moment.',
    typicalDuration: 'One round trip, then TIME_WAIT.',
    pileUp: 'Rare. Many of them mean ACKs are being lost, or the peer vanished in the middle of the close.',
    action: 'Check the path to the peer for packet loss.',
  },
  LAST_ACK: {
    title: 'Last ACK',
    meaning: 'The peer closed first, then the local application closed too: this end sent its FIN and waits for the final ACK.',
    side: 'either',
    cause: 'close() on a socket in CLOSE_WAIT: this end is the one that closed second.',
    typicalDuration:
      'One round trip. Without an ACK, the FIN is resent until the retries run out (net.ipv4.tcp_orphan_retries for orphaned sockets), then the socket is dropped.',
    pileUp: 'The peer is gone, or a firewall or NAT between the two has already forgotten the connection and drops the FIN.',
    action: 'Group by remote address and check that the peer is still reachable.',
  },
  TIME_WAIT: {
    title: 'Time wait',
    meaning:
      'The connection is over; this end closed first. The kernel keeps a small record for 60 s so late packets of the old connection are not taken for a new one on the same addresses and ports, and so the final ACK can be resent. No process holds it (no inode).',
    side: 'either',
    cause:
      'The normal end of every connection, on the side that sent the first FIN: often the client, but the server for servers that close first (e.g. some HTTP servers).',
    typicalDuration:
      '60 s on Linux (TCP_TIMEWAIT_LEN, fixed in the kernel; no sysctl changes it, and net.ipv4.tcp_fin_timeout does not apply).',
    pileUp:
      'Many short connections, each closed first by this host. Tens of thousands cost little memory, but many to the same remote address and port can exhaust local ephemeral ports (net.ipv4.ip_local_port_range, /proc/sys/net/ipv4/ip_local_port_range, default 32768-60999, about 28,000 per destination); connect() then fails with EADDRNOTAVAIL. net.ipv4.tcp_max_tw_buckets caps the total.',
    action:
      'Reuse connections (keep-alive, connection pools) instead of one connection per request. net.ipv4.tcp_tw_reuse=1 lets new outgoing connections reuse TIME_WAIT ports when TCP timestamps make it safe (the default 2 does so for loopback only). Widening ip_local_port_range also helps. tcp_tw_recycle no longer exists (removed in Linux 4.12).',
  },
  CLOSE: {
    title: 'Closed',
    meaning:
      'The socket is not part of any connection: created or bound but neither listening nor connected, or a connection that has ended (reset, failed connect) while the application still holds the socket.',
    side: 'either',
    cause: 'bind() without listen() or connect(), a failed connect(), or a connection reset by the peer.',
    typicalDuration:
      'Until the application closes or reuses the socket. The kernel removes sockets from its lookup tables in this state, so /proc/net/tcp seldom lists them (ss -B lists bound, inactive sockets on recent kernels).',
    pileUp: 'Rare in /proc/net/tcp. Many of them suggest an application that keeps sockets after errors instead of closing them.',
    action: 'Find the owning process and check how it handles failed or reset connections.',
  },
} as const satisfies Record<TcpState, StateExplanation>;

export const UDP_STATE_EXPLANATION = {
  UNCONN: {
    title: 'Unconnected (UDP)',
    meaning:
      'A bound UDP socket with no fixed peer: it can receive from and send to any address. The normal state of UDP servers (DNS, NTP, syslog, DHCP) and of most UDP clients.',
    side: 'either',
    cause: 'socket() and bind(), or a first sendto(), which binds an ephemeral port.',
    typicalDuration: 'As long as the application keeps the socket.',
    pileUp:
      'Many ports owned by one process usually mean a client that opens one socket per query (DNS resolvers do this on purpose). A count that only grows is a file-descriptor leak. Watch the drops column: drops mean the receive buffer overflowed because the application does not read fast enough.',
    action: 'For drops: make the reader faster, or raise its buffer (SO_RCVBUF, capped by net.core.rmem_max).',
  },
  ESTABLISHED: {
    title: 'Connected (UDP)',
    meaning:
      'A UDP socket on which connect() fixed the peer: it only receives datagrams from that peer and send() needs no address. No handshake took place, so "connected" says nothing about whether the peer exists or answers.',
    side: 'either',
    cause:
      'connect() on a UDP socket: DNS and QUIC clients, or a program that only wants the kernel to pick a source address for a destination.',
    typicalDuration: 'As long as the application keeps the socket, often one query or one QUIC connection.',
    pileUp: 'Usually reflects the query or connection rate of clients. A count that only grows for one process is a file-descriptor leak.',
    action: 'Group by process and remote address; check drops for readers that fall behind.',
  },
} as const satisfies Record<DatagramState, StateExplanation>;

export const RAW_STATE_EXPLANATION = {
  UNCONN: {
    title: 'Unconnected (raw)',
    meaning:
      'A raw IP socket receiving every packet of one IP protocol (the protocol number shows as the local port): ping, DHCP clients, routing or monitoring daemons.',
    side: 'either',
    cause: 'socket(AF_INET/AF_INET6, SOCK_RAW, protocol), which needs CAP_NET_RAW.',
    typicalDuration: 'As long as the application keeps the socket.',
    pileUp:
      'Usually a handful. Many of them, or one owned by an unexpected process, deserve a look: raw sockets see traffic other programs send and receive.',
    action: 'Check the owning process; watch drops for a reader that falls behind.',
  },
  ESTABLISHED: {
    title: 'Connected (raw)',
    meaning: 'A raw IP socket on which connect() fixed the peer address, so it only receives packets from that address.',
    side: 'either',
    cause: 'connect() on a raw socket; uncommon.',
    typicalDuration: 'As long as the application keeps the socket.',
    pileUp: 'Rare. Many of them point to a tool opening one raw socket per target (e.g. a scanner or prober).',
    action: 'Check the owning process.',
  },
} as const satisfies Record<DatagramState, StateExplanation>;

export const UNIX_STATE_EXPLANATION = {
  LISTENING: {
    title: 'Listening (UNIX)',
    meaning:
      'A stream or seqpacket UNIX socket waiting for local connections: the server end of D-Bus, systemd, Docker, databases and the like.',
    side: 'server',
    cause: 'The application called listen() on a bound path or abstract name.',
    typicalDuration: 'As long as the service runs.',
    pileUp: 'Normal: one per local service endpoint. Queued connections waiting for accept() appear as CONNECTING sockets.',
    action: 'If CONNECTING sockets pile up behind it, the service is not accepting connections.',
  },
  CONNECTED: {
    title: 'Connected (UNIX)',
    meaning:
      'One end of a local connection, or a datagram socket connected to a peer. Both ends are on this host; socketpair() creates connected pairs with no path.',
    side: 'both',
    cause: 'connect() to a listening UNIX socket, accept(), or socketpair().',
    typicalDuration: 'As long as the two processes keep the connection.',
    pileUp:
      'Hundreds to thousands are normal on a desktop or a busy host (D-Bus, journald, display servers, container runtimes). A count that keeps growing for one process is a file-descriptor leak.',
    action: 'Group by process; compare against its open-file limit (ulimit -n).',
  },
  UNCONNECTED: {
    title: 'Unconnected (UNIX)',
    meaning:
      'A UNIX socket with no peer: usually a datagram socket that receives from anyone (e.g. /dev/log, /run/systemd/notify), or a stream socket not yet connected or listening.',
    side: 'either',
    cause: 'socket() (and maybe bind()) without connect() or listen().',
    typicalDuration: 'As long as the application keeps the socket.',
    pileUp: 'Usually a few per service. A count that keeps growing for one process is a file-descriptor leak.',
    action: 'Group by process and path.',
  },
  CONNECTING: {
    title: 'Queued for accept (UNIX)',
    meaning:
      "The server-side end of a new connection waiting in a listening socket's queue: the client's connect() has completed, but the server has not called accept() yet, so no process holds it.",
    side: 'server',
    cause: 'A client connected to a listening UNIX socket (the kernel shows a connected socket with no file as CONNECTING).',
    typicalDuration: 'Until the server calls accept(): normally microseconds.',
    pileUp:
      'The server is slow or stuck and does not accept(). When its backlog (listen() argument, capped by net.core.somaxconn) is full, clients block in connect() or get EAGAIN.',
    action: 'Find the listening socket with the same path and check that its process is alive and not blocked.',
  },
  DISCONNECTING: {
    title: 'Detached (UNIX)',
    meaning:
      'A UNIX socket no longer attached to any file: a queued connection whose client already went away before accept(), or a socket being torn down, e.g. kept alive because it is in flight inside an SCM_RIGHTS message.',
    side: 'either',
    cause: 'The client closed before the server accepted, or the last file descriptor was closed while the kernel still holds a reference.',
    typicalDuration: 'Until the server accepts and closes it, or the kernel releases the last reference: normally very short.',
    pileUp:
      'A stuck server whose clients gave up (look for its listening socket), or file descriptors passed over UNIX sockets and never received.',
    action: 'Check the listening service with the same path, and programs that pass file descriptors.',
  },
} as const satisfies Record<UnixState, StateExplanation>;

/** Every explanation, per protocol group; each table covers its whole state union. */
export const STATE_EXPLANATION = {
  tcp: TCP_STATE_EXPLANATION,
  udp: UDP_STATE_EXPLANATION,
  raw: RAW_STATE_EXPLANATION,
  unix: UNIX_STATE_EXPLANATION,
} as const satisfies Record<ProtocolGroup, Readonly<Record<string, StateExplanation>>>;

/** Returned by explainState for a state that does not belong to the protocol. */
export const UNKNOWN_STATE_EXPLANATION: StateExplanation = {
  title: 'Unknown state',
  meaning: 'The kernel reported a state this protocol does not normally use.',
  side: 'either',
  cause: 'An unusual kernel or a parsing problem.',
  typicalDuration: 'Unknown.',
  pileUp: 'Compare with ss output for the same sockets.',
};

/** Troubleshooting explanation of a state, for the protocol it was reported for. */
export function explainState(protocol: Protocol, state: SocketState): StateExplanation {
  switch (protocolGroup(protocol)) {
    case 'tcp':
      return isTcpState(state) ? TCP_STATE_EXPLANATION[state] : UNKNOWN_STATE_EXPLANATION;
    case 'udp':
      return isDatagramState(state) ? UDP_STATE_EXPLANATION[state] : UNKNOWN_STATE_EXPLANATION;
    case 'raw':
      return isDatagramState(state) ? RAW_STATE_EXPLANATION[state] : UNKNOWN_STATE_EXPLANATION;
    case 'unix':
      return isUnixState(state) ? UNIX_STATE_EXPLANATION[state] : UNKNOWN_STATE_EXPLANATION;
  }
}

// ---------------------------------------------------------------------------------------------
// TCP state machine.

/** A state in the diagram: a kernel TCP state, or CLOSED (no socket / socket gone). */
export type TcpDiagramState = TcpState | 'CLOSED';

export interface TcpTransition {
  readonly from: TcpDiagramState;
  readonly to: TcpDiagramState;
  /** What triggers the edge and what is sent, "recv X, send Y" style. */
  readonly event: string;
}

/**
 * The RFC 793 state machine edges (figure 6), as Linux follows them. Left out: LISTEN→SYN_SENT
 * (send data on a listening socket), which Linux does not implement. NEW_SYN_RECV is Linux's
 * storage for SYN_RECV and CLOSE is the kernel's name for CLOSED, so neither has edges.
 */
export const TCP_TRANSITIONS: readonly TcpTransition[] = [
  { from: 'CLOSED', to: 'LISTEN', event: 'listen()' },
  { from: 'CLOSED', to: 'SYN_SENT', event: 'connect(): send SYN' },
  { from: 'LISTEN', to: 'SYN_RECV', event: 'recv SYN, send SYN+ACK' },
  { from: 'LISTEN', to: 'CLOSED', event: 'close()' },
  { from: 'SYN_SENT', to: 'ESTABLISHED', event: 'recv SYN+ACK, send ACK' },
  { from: 'SYN_SENT', to: 'SYN_RECV', event: 'recv SYN, send SYN+ACK (simultaneous open)' },
  { from: 'SYN_SENT', to: 'CLOSED', event: 'close(), RST, or timeout after tcp_syn_retries' },
  { from: 'SYN_RECV', to: 'ESTABLISHED', event: 'recv ACK' },
  { from: 'SYN_RECV', to: 'LISTEN', event: 'recv RST (half-open connection dropped)' },
  { from: 'SYN_RECV', to: 'FIN_WAIT1', event: 'close(): send FIN' },
  { from: 'ESTABLISHED', to: 'FIN_WAIT1', event: 'close(): send FIN' },
  { from: 'ESTABLISHED', to: 'CLOSE_WAIT', event: 'recv FIN, send ACK' },
  { from: 'FIN_WAIT1', to: 'FIN_WAIT2', event: 'recv ACK of FIN' },
  { from: 'FIN_WAIT1', to: 'CLOSING', event: 'recv FIN, send ACK' },
  { from: 'FIN_WAIT1', to: 'TIME_WAIT', event: 'recv FIN+ACK, send ACK' },
  { from: 'FIN_WAIT2', to: 'TIME_WAIT', event: 'recv FIN, send ACK' },
  { from: 'CLOSING', to: 'TIME_WAIT', event: 'recv ACK of FIN' },
  { from: 'CLOSE_WAIT', to: 'LAST_ACK', event: 'close(): send FIN' },
  { from: 'LAST_ACK', to: 'CLOSED', event: 'recv ACK of FIN' },
  { from: 'TIME_WAIT', to: 'CLOSED', event: 'after 60 s (2 MSL)' },
];

// ---------------------------------------------------------------------------------------------
// Timers.

/** The tr column of /proc/net/tcp, as words. "on" covers retransmit, early retransmit and loss probe. */
export const TIMER_LABEL = {
  off: 'off',
  on: 'retransmit',
  keepalive: 'keepalive',
  timewait: 'timewait',
  probe: 'zero-window probe',
} as const satisfies Record<TimerKind, string>;
