import { existsSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { locateCluster, startEmbeddedPostgres } from './embedded.js';

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

const root = process.getuid?.() === 0;

/** A private directory (0700, as `mktemp -d` makes) inside `where`. */
async function privateDir(where: string): Promise<string> {
  const dir = await mkdtemp(path.join(where, 'jarima-loc-'));
  await chmod(dir, 0o700);
  dirs.push(dir);
  return dir;
}

/** Removes a moved cluster's directory (/…/<key>) once the test is done. */
function forget(location: { dir: string; moved: boolean }) {
  if (location.moved) dirs.push(path.dirname(location.dir));
}

describe('where the cluster lives', () => {
  it.skipIf(root)('not root: in the data directory, as always', async () => {
    const data = path.join(await privateDir(os.tmpdir()), 'data');
    expect(await locateCluster(data)).toEqual({ dir: path.join(data, 'pg'), moved: false });
  });

  it.runIf(root)('as root: in the data directory when the postgres user can enter it', async () => {
    const base = await privateDir(os.tmpdir());
    await chmod(base, 0o711);
    const data = path.join(base, 'data');
    expect(await locateCluster(data)).toEqual({ dir: path.join(data, 'pg'), moved: false });
  });

  it.runIf(root)(
    'as root from a private directory: moves it to a directory of its own, the same one every time, opening nothing',
    async () => {
      const base = await privateDir(os.tmpdir());
      const data = path.join(base, 'data');
      const first = await locateCluster(data);
      forget(first);
      expect(first.moved).toBe(true);
      expect(path.dirname(path.dirname(first.dir))).toBe(path.join(os.tmpdir(), 'jarima-db'));
      expect(path.basename(path.dirname(first.dir))).toMatch(/^[0-9a-f]{12}$/);
      expect(await locateCluster(data)).toEqual(first);
      expect(await locateCluster(path.join(base, '.', 'data'))).toEqual(first);
      expect(statSync(base).mode & 0o777).toBe(0o700);
      expect((await readFile(path.join(data, 'pg-location'), 'utf8')).trim()).toBe(first.dir);
      expect(existsSync(path.join(data, 'pg'))).toBe(false);

      const other = await locateCluster(path.join(base, 'other'));
      forget(other);
      expect(other.dir).not.toBe(first.dir);
    },
  );

  it.runIf(root)('a data directory outside the temp directory moves under /var/lib/jarima', async () => {
    const data = path.join(await privateDir(os.homedir()), 'data');
    const location = await locateCluster(data);
    forget(location);
    expect(location.moved).toBe(true);
    expect(path.dirname(path.dirname(location.dir))).toBe('/var/lib/jarima');
  });

  it.runIf(root)('stays moved once the data directory is opened up', async () => {
    const base = await privateDir(os.tmpdir());
    const data = path.join(base, 'data');
    const moved = await locateCluster(data);
    forget(moved);
    await chmod(base, 0o755);
    expect(await locateCluster(data)).toEqual(moved);
  });

  it.runIf(root)('keeps a cluster the data directory already has', async () => {
    const base = await privateDir(os.tmpdir());
    const data = path.join(base, 'data');
    await mkdir(path.join(data, 'pg'), { recursive: true });
    await writeFile(path.join(data, 'pg', 'PG_VERSION'), '18\n');
    await chmod(base, 0o755);
    expect(await locateCluster(data)).toEqual({ dir: path.join(data, 'pg'), moved: false });
    // Out of reach now: said so, rather than moved away from its data or opened up.
    await chmod(base, 0o700);
    await expect(locateCluster(data)).rejects.toThrow(/holds a database.*cannot enter/);
    expect(statSync(base).mode & 0o777).toBe(0o700);
  });

  it.runIf(root)(
    'starts a moved cluster afresh when its data directory was deleted and made again',
    async () => {
      const base = await privateDir(os.tmpdir());
      const data = path.join(base, 'data');
      const moved = await locateCluster(data);
      forget(moved);
      await mkdir(moved.dir, { recursive: true });
      await writeFile(path.join(moved.dir, 'PG_VERSION'), '18\n');
      expect(await locateCluster(data)).toEqual(moved);
      expect(existsSync(path.join(moved.dir, 'PG_VERSION'))).toBe(true);

      await rm(data, { recursive: true });
      const lines: string[] = [];
      expect(await locateCluster(data, (l) => lines.push(l))).toEqual(moved);
      expect(existsSync(path.join(moved.dir, 'PG_VERSION'))).toBe(false);
      expect(lines.join('\n')).toMatch(/starting that database afresh/);
    },
  );

  it.runIf(root)('removes moved clusters of temporary data directories that are gone', async () => {
    const gone = await privateDir(os.tmpdir());
    const stale = await locateCluster(path.join(gone, 'data'));
    forget(stale);
    await rm(gone, { recursive: true });
    const kept = await locateCluster(path.join(await privateDir(os.tmpdir()), 'data'));
    forget(kept);
    expect(existsSync(path.dirname(stale.dir))).toBe(false);
    expect(existsSync(path.dirname(kept.dir))).toBe(true);
  });

  it.runIf(root)(
    'refuses to start where the postgres user cannot enter, when told not to open it',
    async () => {
      const base = await privateDir(os.tmpdir());
      await expect(
        startEmbeddedPostgres({ dir: path.join(base, 'data', 'pg'), openParent: false }),
      ).rejects.toThrow(/cannot enter/);
      expect(statSync(base).mode & 0o777).toBe(0o700);
    },
  );
});
