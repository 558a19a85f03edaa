import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { compileFilter, describeFilter, parseFilter } from '../src/filter/index.js';
import { parseServices, MAX_SERVICE_ENTRIES } from '../src/proc/parse-services.js';
import { MAX_SERVICES_BYTES, readServices, type ReadBoundedText } from '../src/proc/read-services.js';
import { rec } from './helpers/records.js';

// Debian 12's /etc/services (netbase), recorded.
const recorded = readFileSync(new URL('./fixtures/etc/services', import.meta.url), 'utf8');

describe('parseServices', () => {
  const table = parseServices(recorded);

  it.each([
    ['http', 80],
    ['www', 80],
    ['https', 443],
    ['postgresql', 5432],
    ['postgres', 5432],
    ['ssh', 22],
    ['domain', 53],
    ['http-alt', 8080],
  ])('%s → %i', (name, port) => {
    expect(table.portOf.get(name)).toBe(port);
  });

  it('names next to ports, tcp first', () => {
    expect(table.nameOf.get(5432)).toBe('postgresql');
    expect(table.nameOf.get(443)).toBe('https');
    expect(table.nameOf.get(8080)).toBe('http-alt');
    expect(table.nameOf.has(40000)).toBe(false);
    expect(table.skipped).toBe(0);
  });

  it('prefers tcp over an earlier udp line; skips malformed lines; ignores comments', () => {
    const t = parseServices('foo 9999/udp\nfoo 1234/tcp\n# x 1/tcp\nbad line\nbig 70000/tcp\n\nbar 7/tcp baz # comment 8/tcp\n');
    expect(t.portOf.get('foo')).toBe(1234);
    expect(t.nameOf.get(9999)).toBe('foo');
    expect(t.portOf.get('baz')).toBe(7);
    expect(t.portOf.has('x')).toBe(false);
    expect(t.skipped).toBe(2);
  });

  it('keeps at most MAX_SERVICE_ENTRIES entries', () => {
    const lines = Array.from({ length: MAX_SERVICE_ENTRIES + 10 }, (_, i) => `s${i} ${i % 65536}/tcp`).join('\n');
    const t = parseServices(lines);
    expect(t.portOf.size).toBe(MAX_SERVICE_ENTRIES);
  });
});

describe('readServices', () => {
  it('reads through the injected reader with a byte bound, missing file → empty table', () => {
    const asked: [string, number][] = [];
    const read: ReadBoundedText = (path, max) => {
      asked.push([path, max]);
      return path === '/etc/services' ? 'http 80/tcp\n' : null;
    };
    expect(readServices(read).portOf.get('http')).toBe(80);
    expect(asked).toEqual([['/etc/services', MAX_SERVICES_BYTES]]);
    expect(readServices(read, '/nope').portOf.size).toBe(0);
  });

  it('drops a line cut by the bound', () => {
    // 131070 comment lines of 8 bytes, an entry of 12, then "zz 2" of "zz 22/tcp": exactly the bound.
    const text = `${'# 34567\n'.repeat(131_070)}b 2/tcp    \nzz 2`;
    expect(text.length).toBe(MAX_SERVICES_BYTES);
    expect(parseServices(text).skipped).toBe(1);
    const t = readServices(() => text);
    expect(t.skipped).toBe(0);
    expect(t.portOf.has('zz')).toBe(false);
    expect(t.portOf.get('b')).toBe(2);
  });

  it('the real file, when present, names port 22', () => {
    const t = readServices();
    if (t.portOf.size > 0) expect(t.nameOf.get(22)).toBe('ssh');
  });
});

describe('service names in the filter', () => {
  const services = parseServices(recorded);
  const options = { servicePort: (name: string) => services.portOf.get(name) };

  it.each([
    ['port http', 'port 80'],
    ['p postgresql', 'port 5432'],
    ['P Postgres', 'port 5432'],
    ['dport = https', 'dport 443'],
    ['sport != ssh', 'not sport 22'],
    ['tcp and p 5432', 'proto tcp and port 5432'],
  ])('%s → %s', (text, described) => {
    const r = parseFilter(text, options);
    if (!r.ok) throw new Error(r.error.message);
    expect(describeFilter(r.ast)).toBe(described);
  });

  it('an unknown name points at its column', () => {
    const r = parseFilter('tcp and port nosuchsvc', options);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.column).toBe(14);
      expect(r.error.message).toMatch(/unknown service 'nosuchsvc'/);
    }
  });

  it('without a table names are not ports (as before)', () => {
    const r = parseFilter('port http');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/expected a port number after 'port', got 'http'/);
  });

  it('the compiled filter matches by the resolved port', () => {
    const c = compileFilter('p postgresql', options);
    if (!c.ok) throw new Error(c.error.message);
    expect(c.filter(rec({ localPort: 5432 }))).toBe(true);
    expect(c.filter(rec({ localPort: 40000, remotePort: 5432 }))).toBe(true);
    expect(c.filter(rec({ localPort: 40000, remotePort: 80 }))).toBe(false);
  });
});
