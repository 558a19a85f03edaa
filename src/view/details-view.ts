// buildDetailsView: everything known about one socket, as lines for the details pane. Pure.

import { formatEndpoint } from '../model/address.js';
import { safeText } from '../model/safe-text.js';
import { STATE_COLOR, TIMER_LABEL, explainState, stateLabel, type StateColor } from '../model/state-info.js';
import type { ListenerHealth } from '../model/listener-health.js';
import type { QueueSample, TrackInfo } from '../model/tracker.js';
import type { SocketRecord } from '../model/types.js';
import type { TcpInfo } from '../model/tcp-info.js';
import { formatDuration, sparkline } from './text.js';

export interface DetailLine {
  readonly text: string;
  readonly style: 'title' | 'heading' | 'normal' | 'muted';
  readonly color: StateColor | null;
}

const line = (text: string, style: DetailLine['style'] = 'normal', color: StateColor | null = null): DetailLine => ({ text, style, color });
/** Cells of the label column: the longest label, tcp_info's "retrans (cur/total)", fits. */
const LABEL_WIDTH = 19;
const field = (name: string, value: string): DetailLine => line(`  ${name.padEnd(LABEL_WIDTH)} ${value}`);

/** Wrap prose to `width` columns on spaces. */
export function wrap(text: string, width: number, indent = '  '): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    if (current !== '' && indent.length + current.length + 1 + word.length > width) {
      out.push(indent + current);
      current = word;
    } else current = current === '' ? word : `${current} ${word}`;
  }
  if (current !== '') out.push(indent + current);
  return out;
}

export interface DetailsInput {
  readonly record: SocketRecord;
  /** null: the socket is gone (tombstone) or was never tracked. */
  readonly info: TrackInfo | null;
  readonly closedAtMs: number | null;
  readonly samples: readonly QueueSample[];
  readonly tcpInfo: TcpInfo | 'pending' | 'unavailable' | null;
  readonly nowMs: number;
  readonly width: number;
  readonly ascii: boolean;
  /** For a LISTEN socket: its accept queue against the backlog (listener health), or null. */
  readonly listener?: ListenerHealth | null;
}

/** "2 of backlog 1: full" — the accept queue against its limit, as ss -ltn shows Recv-Q / Send-Q. */
export function acceptQueueText(l: ListenerHealth): string {
  const limit =
    l.backlog === null ? 'an unknown backlog' : l.backlogIsEstimate ? `backlog ≤ ${l.backlog} (somaxconn)` : `backlog ${l.backlog}`;
  const full = l.backlog !== null && !l.backlogIsEstimate && l.acceptQueue >= l.backlog;
  return `${l.acceptQueue} waiting for accept() of ${limit}${full ? ': full' : l.flags.includes('queue-filling') ? ': filling' : ''}`;
}

const when = (atMs: number, nowMs: number): string => `${formatDuration(nowMs - atMs)} ago`;

export function buildDetailsView(input: DetailsInput): DetailLine[] {
  const { record: s, info, nowMs, width } = input;
  const out: DetailLine[] = [];
  const label = stateLabel(s.protocol, s.state);
  const ends =
    s.protocol === 'unix'
      ? `unix ${s.unixType ?? ''} ${safeText(s.path ?? '(unnamed)', 300)}`
      : `${s.protocol}  ${formatEndpoint(s.localAddress, s.localPort, s.protocol)}  →  ${formatEndpoint(s.remoteAddress, s.remotePort, s.protocol)}`;
  out.push(line(`${ends}   ${input.closedAtMs === null ? label : `CLOSED (was ${label})`}`, 'title', STATE_COLOR[s.state]));
  out.push(line(''));

  out.push(line('Socket', 'heading'));
  out.push(field('state', `${label}${input.closedAtMs !== null ? `, gone ${when(input.closedAtMs, nowMs)}` : ''}`));
  const l = input.listener ?? null;
  if (s.state === 'LISTEN' && l !== null && input.closedAtMs === null) {
    const shownSendQ = l.backlog !== null && !l.backlogIsEstimate ? l.backlog : s.sendQ;
    out.push(field('Recv-Q / Send-Q', `${s.recvQ} / ${shownSendQ} (accept queue / backlog, as ss -ltn shows them)`));
    out.push(field('accept queue', acceptQueueText(l)));
  } else
    out.push(
      field(
        'Recv-Q / Send-Q',
        `${s.recvQ} / ${s.sendQ} bytes${s.state === 'LISTEN' ? ' (Recv-Q = connections waiting for accept())' : ''}`,
      ),
    );
  if (s.protocol !== 'unix') {
    out.push(field('timer', s.timer === 'off' ? 'off' : `${TIMER_LABEL[s.timer]}, ${(s.timerMs / 1000).toFixed(2)} s left`));
    out.push(field('retransmits', String(s.retransmits)));
  }
  if (s.rtoMs !== null) out.push(field('rto / ato', `${s.rtoMs} ms / ${s.atoMs ?? '?'} ms`));
  if (s.cwnd !== null)
    out.push(field('cwnd / ssthresh', `${s.cwnd} / ${s.ssthresh === -1 ? 'initial (slow start)' : String(s.ssthresh ?? '?')}`));
  if (s.drops !== null) out.push(field('drops', String(s.drops)));
  out.push(field('inode', s.inode === 0 ? '0 (no file: TIME-WAIT, orphaned or request socket)' : String(s.inode)));
  out.push(field('uid / user', `${s.uid} / ${safeText(s.user, 64)}`));
  out.push(line(''));

  out.push(line('Process', 'heading'));
  if (s.owner === null) {
    out.push(
      line(
        s.inode === 0
          ? '  no process holds it (kernel-owned until it expires)'
          : '  unknown (not visible to this user, or held by the kernel)',
        'muted',
      ),
    );
  } else {
    out.push(field('pid / command', `${s.owner.pid} / ${safeText(s.owner.command, 64)}`));
    for (const [i, l] of wrap(safeText(s.owner.commandLine, 2000) || '(empty)', width - 20, '').entries()) {
      out.push(field(i === 0 ? 'command line' : '', l));
    }
    out.push(field('fd', String(s.owner.fd)));
    out.push(field('process uid', String(s.owner.uid)));
    if (s.sharedBy > 0) out.push(field('shared', `also held by ${s.sharedBy} other process${s.sharedBy === 1 ? '' : 'es'}/fds`));
  }
  out.push(line(''));

  out.push(line('Observed', 'heading'));
  if (info === null) out.push(line('  not tracked', 'muted'));
  else {
    out.push(field('first seen', `${info.presentAtStart ? 'already open when sockscope started, ' : ''}${when(info.firstSeenMs, nowMs)}`));
    for (const c of info.changes.slice(-6)) {
      out.push(
        field(
          '',
          `${when(c.atMs, nowMs).padEnd(10)} ${c.from === null ? 'appeared as' : `${stateLabel(s.protocol, c.from)} →`} ${stateLabel(s.protocol, c.to)}`,
        ),
      );
    }
    if (info.peakRecvQ > 0 || info.peakSendQ > 0) out.push(field('peak queues', `Recv-Q ${info.peakRecvQ}, Send-Q ${info.peakSendQ}`));
  }
  if (input.samples.length > 1) {
    // As wide as the samples (up to the room there is), so the trend starts beside its label.
    const w = Math.max(2, Math.min(input.samples.length, 60, width - LABEL_WIDTH - 6));
    out.push(
      field(
        'Recv-Q trend',
        sparkline(
          input.samples.map((q) => q.recvQ),
          w,
          input.ascii,
        ),
      ),
    );
    out.push(
      field(
        'Send-Q trend',
        sparkline(
          input.samples.map((q) => q.sendQ),
          w,
          input.ascii,
        ),
      ),
    );
  }
  out.push(line(''));

  if (s.protocol === 'tcp' || s.protocol === 'tcp6') {
    out.push(line('tcp_info (from ss)', 'heading'));
    const t = input.tcpInfo;
    if (t === 'pending') out.push(line('  asking ss…', 'muted'));
    else if (t === 'unavailable' || t === null) out.push(line('  not available (ss missing, or the connection is gone)', 'muted'));
    else {
      for (const [k, v] of t.fields) out.push(field(k, v));
    }
    out.push(line(''));
  }

  const e = explainState(s.protocol, s.state);
  out.push(line(`What ${label} means`, 'heading', STATE_COLOR[s.state]));
  for (const l of wrap(e.meaning, width)) out.push(line(l));
  out.push(line(`  Side: ${e.side}.`, 'muted'));
  for (const l of wrap(`How it gets here: ${e.cause}`, width)) out.push(line(l));
  for (const l of wrap(`How long: ${e.typicalDuration}`, width)) out.push(line(l));
  for (const l of wrap(`Many of them: ${e.pileUp}`, width)) out.push(line(l));
  if (e.action !== undefined) for (const l of wrap(`What to do: ${e.action}`, width)) out.push(line(l));
  return out;
}
