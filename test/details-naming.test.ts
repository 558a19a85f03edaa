import { describe, expect, it } from 'vitest';

import { buildDetailsView } from '../src/view/details-view.js';
import { parseSsTcpInfo } from '../src/model/tcp-info.js';
import { rec } from './helpers/records.js';

describe('details: one naming on screen, labels inside their column', () => {
  const record = rec({ state: 'CLOSE_WAIT', localPort: 8080, remotePort: 51000, recvQ: 17 });
  const lines = (): string[] =>
    buildDetailsView({
      record,
      info: {
        firstSeenMs: 0,
        presentAtStart: false,
        changes: [
          { atMs: 0, from: null, to: 'ESTABLISHED' },
          { atMs: 5000, from: 'ESTABLISHED', to: 'CLOSE_WAIT' },
        ],
        peakRecvQ: 17,
        peakSendQ: 0,
      },
      closedAtMs: null,
      samples: [],
      tcpInfo: TCP_INFO,
      nowMs: 60_000,
      width: 100,
      ascii: false,
    }).map((l) => l.text);
  const TCP_INFO = parseSsTcpInfo(
    'ESTAB 0 0 127.0.0.1:8080 127.0.0.1:51000\n\t cubic wscale:7,7 rto:204 rtt:0.05/0.025 mss:32768 cwnd:10 bytes_sent:100 bytes_retrans:5 retrans:0/3 rcv_space:65483',
  );

  it('states are written the way ss writes them (CLOSE-WAIT, ESTAB), under a CLOSE-WAIT title', () => {
    const text = lines();
    expect(text[0]).toContain('CLOSE-WAIT');
    expect(text.find((l) => /^ {2}state /.test(l))).toMatch(/^ {2}state +CLOSE-WAIT$/);
    expect(text.join('\n')).toMatch(/ESTAB → CLOSE-WAIT/);
    expect(text.join('\n')).toMatch(/appeared as ESTAB/);
    // Only the prose explanation at the end may quote the kernel's names; the fields never do.
    const fields = text.slice(
      0,
      text.findIndex((l) => l.startsWith('What ')),
    );
    expect(fields.join('\n')).not.toMatch(/CLOSE_WAIT|ESTABLISHED|TIME_WAIT/);
  });

  it('every field value starts in the same column, "retrans (cur/total)" included', () => {
    const text = lines();
    const labelled = ['state', 'Recv-Q / Send-Q', 'inode', 'retrans (cur/total)', 'bytes retrans', 'first seen'];
    for (const label of labelled) {
      const l = text.find((x) => x.startsWith(`  ${label} `));
      expect([label, l === undefined]).toEqual([label, false]);
      // Label column: 2 + 19 cells, a space, then the value.
      expect([label, l?.[21], l?.[22] !== ' ']).toEqual([label, ' ', true]);
    }
  });
});
