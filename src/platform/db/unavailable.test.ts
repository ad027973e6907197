import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './unavailable.js';

/** The error a real connection attempt gives. */
async function connectError(config: pg.ClientConfig): Promise<unknown> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return null;
  } catch (err) {
    return err;
  }
}

describe('isDatabaseUnavailable', () => {
  it('knows a server that is away over TCP and over a Unix socket, and nothing else', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-nosocket-'));
    try {
      // Nothing listens: the socket file does not exist (a stopped server removes it).
      expect(isDatabaseUnavailable(await connectError({ host: dir, port: 5999 }))).toBe(true);
      expect(isDatabaseUnavailable(await connectError({ host: '127.0.0.1', port: 1 }))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // A missing file elsewhere is not the database.
    const missing = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', syscall: 'open' });
    expect(isDatabaseUnavailable(missing)).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '23505' }))).toBe(false);
  });
});
