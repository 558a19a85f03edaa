// read*: /etc/services through an injected reader (tests and recorded trees pass their own).
// The file is outside /proc, so it is not read through the ProcFs opener. At most
// MAX_SERVICES_BYTES are read: the file is world-readable text any admin can grow.

import { closeSync, openSync, readSync } from 'node:fs';
import { EMPTY_SERVICES, parseServices, type ServiceTable } from './parse-services.js';

export const MAX_SERVICES_BYTES = 1024 * 1024;

/** Reads at most maxBytes of a file as UTF-8; null when it cannot be read. */
export type ReadBoundedText = (path: string, maxBytes: number) => string | null;

export const readBoundedText: ReadBoundedText = (path, maxBytes) => {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(maxBytes);
    let got = 0;
    while (got < maxBytes) {
      const n = readSync(fd, buf, got, maxBytes - got, null);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
};

/** The service table, or an empty one when the file is missing (minimal containers). */
export function readServices(read: ReadBoundedText = readBoundedText, path = '/etc/services'): ServiceTable {
  const text = read(path, MAX_SERVICES_BYTES);
  if (text === null) return EMPTY_SERVICES;
  // A cut last line is dropped rather than parsed as a wrong entry.
  const whole = text.length >= MAX_SERVICES_BYTES ? text.slice(0, text.lastIndexOf('\n') + 1) : text;
  return parseServices(whole);
}
