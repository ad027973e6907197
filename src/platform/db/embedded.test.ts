import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from './embedded.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Where the server says the connection came in: null over a Unix socket, the address over TCP. */
async function serverAddress(url: string): Promise<string | null> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<{ addr: string | null }>('select inet_server_addr() as addr')).rows[0]!.addr;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL', () => {
  it('gives connection strings over its Unix socket, and still listens on 127.0.0.1 for tools', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'jarima-emb-'));
    dirs.push(base);
    const db = await startEmbeddedPostgres({ dir: path.join(base, 'pg') });
    try {
      expect(db.url).toContain('?host=');
      expect(await serverAddress(db.url)).toBeNull();
      expect(await serverAddress(db.adminUrl)).toBeNull();
      expect(await serverAddress(db.url.replace(/\?.*$/, ''))).toBe('127.0.0.1');
    } finally {
      await db.stop();
    }
  }, 60_000);

  it('keeps to TCP where the socket’s path would be too long for one', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'jarima-emb-'));
    dirs.push(base);
    const deep = path.join(base, 'a'.repeat(60), 'b'.repeat(30), 'pg');
    // Directories the server's own user can enter (as root it runs as `postgres`).
    await mkdir(path.dirname(deep), { recursive: true });
    for (const d of [base, path.join(base, 'a'.repeat(60))]) await chmod(d, 0o755);
    const db = await startEmbeddedPostgres({ dir: deep });
    try {
      expect(db.url).not.toContain('?host=');
      expect(await serverAddress(db.url)).toBe('127.0.0.1');
    } finally {
      await db.stop();
    }
  }, 60_000);
});
