import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { createProcFs } from '../src/proc/proc-fs.js';
import { UNKNOWN_SYSCTLS } from '../src/model/listener-health.js';
import { NET_SYSCTL_PATHS, parseNetSysctls, parseSysctlInt, readNetSysctls } from '../src/proc/read-sysctl.js';

describe('parseSysctlInt', () => {
  it.each([
    { text: '4096\n', value: 4096 },
    { text: '0', value: 0 },
    { text: '  60 \n', value: 60 },
    { text: '-1\n', value: -1 },
    { text: '', value: null },
    { text: 'abc\n', value: null },
    { text: '1 2\n', value: null },
    { text: '12.5\n', value: null },
  ])('$text → $value', ({ text, value }) => {
    expect(parseSysctlInt(text)).toBe(value);
  });
});

describe('parseNetSysctls', () => {
  const all = {
    ephemeralPortRange: '32768\t60999\n',
    somaxconn: '4096\n',
    tcpFinTimeoutSec: '60\n',
    tcpMaxSynBacklog: '2048\n',
    tcpSyncookies: '1\n',
    tcpTwReuse: '2\n',
  };
  it('reads every field', () => {
    expect(parseNetSysctls(all)).toEqual({
      ephemeralPortRange: { low: 32768, high: 60999 },
      somaxconn: 4096,
      tcpFinTimeoutSec: 60,
      tcpMaxSynBacklog: 2048,
      tcpSyncookies: 1,
      tcpTwReuse: 2,
    });
  });
  it.each([
    { name: 'missing files give null', texts: { ...all, somaxconn: null, ephemeralPortRange: null }, field: 'somaxconn', value: null },
    {
      name: 'a malformed port range gives null',
      texts: { ...all, ephemeralPortRange: '60999 32768\n' },
      field: 'ephemeralPortRange',
      value: null,
    },
    {
      name: 'a port range with one field gives null',
      texts: { ...all, ephemeralPortRange: '32768\n' },
      field: 'ephemeralPortRange',
      value: null,
    },
    { name: 'a malformed integer gives null', texts: { ...all, tcpSyncookies: 'yes\n' }, field: 'tcpSyncookies', value: null },
    {
      name: 'a narrow range with spaces',
      texts: { ...all, ephemeralPortRange: '1024 1100' },
      field: 'ephemeralPortRange',
      value: { low: 1024, high: 1100 },
    },
  ] as const)('$name', ({ texts, field, value }) => {
    expect(parseNetSysctls(texts)[field]).toEqual(value);
  });
  it('all null when nothing could be read', () => {
    const none = Object.fromEntries(Object.keys(all).map((k) => [k, null])) as unknown as Parameters<typeof parseNetSysctls>[0];
    expect(parseNetSysctls(none)).toEqual(UNKNOWN_SYSCTLS);
  });
});

describe('readNetSysctls', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  function tree(files: Record<string, string>): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-sysctl-'));
    dirs.push(root);
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), text);
    }
    return root;
  }

  it('reads a recorded tree through the ProcFs, paths relative to the proc root', () => {
    const root = tree({
      [NET_SYSCTL_PATHS.ephemeralPortRange]: fs.readFileSync('test/fixtures/proc-text/recorded/ip_local_port_range', 'utf8'),
      [NET_SYSCTL_PATHS.somaxconn]: '128\n',
      [NET_SYSCTL_PATHS.tcpFinTimeoutSec]: '30\n',
      [NET_SYSCTL_PATHS.tcpMaxSynBacklog]: '512\n',
      [NET_SYSCTL_PATHS.tcpSyncookies]: '0\n',
      [NET_SYSCTL_PATHS.tcpTwReuse]: '1\n',
    });
    const s = readNetSysctls(createProcFs(root));
    expect(s.ephemeralPortRange).not.toBeNull();
    expect(s).toMatchObject({ somaxconn: 128, tcpFinTimeoutSec: 30, tcpMaxSynBacklog: 512, tcpSyncookies: 0, tcpTwReuse: 1 });
  });

  it('gives null fields for a tree without sys/', () => {
    expect(readNetSysctls(createProcFs(tree({ 'net/tcp': '' })))).toEqual(UNKNOWN_SYSCTLS);
  });

  it('reads this machine (every field present on Linux)', () => {
    const s = readNetSysctls(createProcFs('/proc'));
    if (s.somaxconn === null) return; // not Linux /proc, or a restricted sandbox
    expect(s.somaxconn).toBeGreaterThan(0);
    expect(s.ephemeralPortRange?.low).toBeGreaterThan(0);
  });
});
