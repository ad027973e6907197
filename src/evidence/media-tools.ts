import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Config, ConfigError } from '../platform/config/config.js';

const execFileP = promisify(execFile);
const require = createRequire(import.meta.url);

/**
 * Where ffmpeg and ffprobe come from: `system` is the host's (Debian's ffmpeg 5.1 gets security updates), `bundled`
 * the npm packages' binaries (an ffmpeg git snapshot of 2018-12-10 and an ffprobe of 2023, with memory-safety bugs
 * fixed since: a fallback for a machine with no ffmpeg, never the choice for untrusted video in production).
 */
export type MediaToolsSource = 'system' | 'bundled';

export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
  source: MediaToolsSource;
  /** ffmpeg's own first line of `-version`, e.g. "5.1.9-0+deb12u1". */
  version: string;
}

/** The demuxers and decoders untrusted evidence may reach; everything else ffmpeg knows stays out. */
export const ALLOWED_DEMUXERS = 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm';
export const ALLOWED_DECODERS =
  'h264,hevc,vp8,vp9,libvpx,libvpx-vp9,av1,libdav1d,libaom-av1,mjpeg,aac,opus,libopus';

/** Options every ffmpeg/ffprobe run over evidence starts with: local files only, known containers and codecs. */
export const SAFE_INPUT_OPTIONS = [
  '-protocol_whitelist',
  'file',
  '-format_whitelist',
  ALLOWED_DEMUXERS,
  '-codec_whitelist',
  ALLOWED_DECODERS,
];

/**
 * Finds the tools MEDIA_TOOLS asks for: `auto` takes the host's ffmpeg and ffprobe when both are on PATH, else the
 * bundled ones; `system` insists on the host's; `bundled` takes the npm binaries by name.
 */
export async function resolveMediaTools(
  wanted: 'auto' | 'system' | 'bundled',
  env: NodeJS.ProcessEnv = process.env,
): Promise<MediaTools> {
  const system = { ffmpeg: onPath('ffmpeg', env), ffprobe: onPath('ffprobe', env) };
  if (wanted === 'system' && !(system.ffmpeg && system.ffprobe))
    throw new ConfigError([
      {
        variable: 'MEDIA_TOOLS',
        message: 'system, but ffmpeg and ffprobe are not both on PATH (apt-get install ffmpeg)',
      },
    ]);
  const useSystem = wanted !== 'bundled' && system.ffmpeg !== null && system.ffprobe !== null;
  const tools = useSystem
    ? { ffmpeg: system.ffmpeg!, ffprobe: system.ffprobe!, source: 'system' as const }
    : {
        ffmpeg: require('@ffmpeg-installer/ffmpeg').path as string,
        ffprobe: require('@ffprobe-installer/ffprobe').path as string,
        source: 'bundled' as const,
      };
  const { stdout } = await execFileP(tools.ffmpeg, ['-hide_banner', '-version'], { timeout: 10_000 });
  const version = /ffmpeg version (\S+)/.exec(stdout)?.[1] ?? 'unknown';
  return { ...tools, version };
}

/**
 * The tools this configuration runs with. Production refuses to fall back to the bundled build on its own: it must be
 * asked for by name (MEDIA_TOOLS=bundled).
 */
export async function mediaToolsFor(
  config: Pick<Config, 'MEDIA_TOOLS' | 'NODE_ENV'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MediaTools> {
  const tools = await resolveMediaTools(config.MEDIA_TOOLS, env);
  if (config.NODE_ENV === 'production' && tools.source === 'bundled' && config.MEDIA_TOOLS !== 'bundled')
    throw new ConfigError([
      {
        variable: 'MEDIA_TOOLS',
        message:
          'no ffmpeg and ffprobe on PATH, so the bundled 2018 ffmpeg would decode untrusted video; install the maintained one (apt-get install ffmpeg), or accept the bundled one with MEDIA_TOOLS=bundled',
      },
    ]);
  return tools;
}

/** How the banner and /readyz name the tools. */
export function describeMediaTools(tools: MediaTools): string {
  return tools.source === 'system'
    ? `ffmpeg ${tools.version} (${tools.ffmpeg})`
    : `ffmpeg ${tools.version} BUNDLED 2018 BUILD — install the maintained one (apt-get install ffmpeg)`;
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return null;
}

/** How a bounded run of a tool ended. */
export type ToolOutcome =
  | { ok: true; stdout: Buffer; stderr: string }
  | { ok: false; reason: 'timeout' | 'memory' | 'output' | 'failed'; stderr: string };

export interface ToolLimits {
  /** Wall-clock limit; the child is killed (SIGKILL) when it passes. */
  timeoutMs: number;
  /** Address-space limit of the child (RLIMIT_AS), MiB: allocations past it fail inside the tool. */
  memoryMb: number;
  /** Most bytes of stdout kept; more kills the child. */
  maxOutputBytes: number;
}

const PRLIMIT = onPath('prlimit', process.env);
/** The tools' niceness (0 is the server's, 19 the lowest priority). */
const TOOL_NICENESS = 10;

/**
 * Runs ffmpeg or ffprobe over untrusted input with an address-space limit (util-linux prlimit, or the shell's
 * ulimit where prlimit is missing), a wall-clock limit, a cap on its output and a lower CPU priority. Never throws for what the tool does
 * with its input: a kill, a limit or a non-zero exit is an outcome.
 */
export function runTool(binary: string, args: string[], limits: ToolLimits): Promise<ToolOutcome> {
  const bytes = limits.memoryMb * 1024 * 1024;
  const [command, argv] = PRLIMIT
    ? [PRLIMIT, [`--as=${bytes}`, '--', binary, ...args]]
    : ['/bin/sh', ['-c', 'ulimit -v "$0" && exec "$@"', String(bytes / 1024), binary, ...args]];
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Below the server in CPU priority: a burst of probes and decodes yields the cores to the requests that wait
    // on them (prlimit and sh exec the tool, which keeps the niceness).
    if (child.pid) {
      try {
        os.setPriority(child.pid, TOOL_NICENESS);
      } catch {}
    }
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let killed: 'timeout' | 'output' | null = null;
    const kill = (why: 'timeout' | 'output') => {
      killed ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('timeout'), limits.timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > limits.maxOutputBytes) return kill('output');
      out.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      // Only the first lines matter for the reason; a flood of warnings is not kept.
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: 'failed', stderr: err.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const text = stderr.trim().slice(0, 2000);
      if (killed) return resolve({ ok: false, reason: killed, stderr: text });
      if (code === 0) return resolve({ ok: true, stdout: Buffer.concat(out), stderr: text });
      // Killed by a signal, or an allocation (or the loader mapping a library) refused under the address-space limit.
      const memory =
        signal !== null ||
        /cannot allocate memory|out of memory|ENOMEM|bad_alloc|failed to map segment/i.test(text);
      resolve({ ok: false, reason: memory ? 'memory' : 'failed', stderr: text });
    });
  });
}
