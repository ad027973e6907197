import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import type { PictureAnalysis } from './analysis.js';
import { UNSAFE } from './probe.js';

/** Its niceness: below the server (0) and level with ffmpeg and ffprobe (media-tools.ts). */
const NICENESS = 10;

/**
 * Large photos are decoded in a process of their own at a lower CPU priority, so decoding a 49-megapixel photo
 * (about a second of a core) yields to the requests the server is answering instead of competing with them on
 * libuv's threads: with them decoded in the server, ordinary uploads beside a stream of such photos waited 1.5–2 s
 * (bench/README.md, `hostile`). One picture at a time (Media.large admits one); the process starts on the first
 * large photo, is killed with the picture when it passes its time limit, and ends after IDLE_MS without work.
 */
export class LargeDecoder {
  private child: ChildProcess | null = null;
  private ready: Promise<ChildProcess> | null = null;
  private idle: NodeJS.Timeout | null = null;
  private seq = 0;

  constructor(private readonly limits: { timeoutMs: number; maxPixels: number; idleMs?: number }) {}

  /** The picture's analysis, decoded in the decoder process; throws with the reason when it could not be made. */
  async analyze(source: Buffer): Promise<PictureAnalysis> {
    if (this.idle) clearTimeout(this.idle);
    const child = await this.start();
    const id = ++this.seq;
    try {
      return await new Promise<PictureAnalysis>((resolve, reject) => {
        const done = (fn: () => void) => {
          clearTimeout(timer);
          child.off('message', onMessage);
          child.off('exit', onExit);
          fn();
        };
        const onMessage = (m: { id?: number; ok?: boolean; picture?: PictureAnalysis; message?: string }) => {
          if (m.id !== id) return;
          done(() =>
            m.ok
              ? resolve({ ...m.picture!, thumb: Buffer.from(m.picture!.thumb) })
              : reject(new Error(m.message ?? 'decoding failed')),
          );
        };
        const onExit = (code: number | null, signal: string | null) =>
          done(() => reject(new Error(`${UNSAFE} (decoder ended: ${signal ?? code})`)));
        const timer = setTimeout(() => {
          done(() => reject(new Error(`${UNSAFE} (timeout)`)));
          this.kill();
        }, this.limits.timeoutMs);
        child.on('message', onMessage);
        child.on('exit', onExit);
        child.send({ id, source, maxPixels: this.limits.maxPixels });
      });
    } finally {
      this.idle = setTimeout(() => this.kill(), this.limits.idleMs ?? 60_000);
      this.idle.unref();
    }
  }

  /** The decoder process's id while one runs. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Ends the decoder process, if one runs. */
  close(): void {
    if (this.idle) clearTimeout(this.idle);
    this.kill();
  }

  private kill(): void {
    const child = this.child;
    this.child = null;
    this.ready = null;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  private start(): Promise<ChildProcess> {
    if (this.ready) return this.ready;
    const child = fork(new URL('./large-decoder.child.ts', import.meta.url), [], {
      // TypeScript runs through tsx's loader, as in bin/jarima.mjs; resolved from here so any working directory works.
      execArgv: ['--import', pathToFileURL(require.resolve('tsx')).href],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    if (child.pid) {
      try {
        os.setPriority(child.pid, NICENESS);
      } catch {}
    }
    // The decoder never keeps the server running.
    child.unref();
    child.channel?.unref();
    child.on('exit', () => {
      if (this.child === child) {
        this.child = null;
        this.ready = null;
      }
    });
    this.ready = new Promise<ChildProcess>((resolve, reject) => {
      const onReady = (m: { ready?: boolean }) => {
        if (!m.ready) return;
        child.off('message', onReady);
        child.off('exit', onExit);
        resolve(child);
      };
      const onExit = (code: number | null) =>
        reject(new Error(`large photo decoder did not start (exit ${code})`));
      child.on('message', onReady);
      child.once('exit', onExit);
      child.once('error', reject);
    });
    this.ready.catch(() => this.kill());
    return this.ready;
  }
}

const require = createRequire(import.meta.url);
