import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Writable } from 'node:stream';
import type { Config } from '../platform/config/config.js';

/** A file being written into the store; committed under its content hash once fully received, else discarded. */
export interface BlobUpload {
  stream: Writable;
  /**
   * Everything written, when it was small enough to be kept in memory (then probes and picture analysis need not
   * read the file back); null once the upload went to a file.
   */
  content(): Buffer | null;
  commit(sha256Hex: string): Promise<void>;
  discard(): Promise<void>;
}

/**
 * Content-addressed storage for evidence. One interface so an S3-compatible store can replace the local directory
 * for scale-out without touching callers.
 */
export interface BlobStore {
  createUpload(): Promise<BlobUpload>;
  /** The blob's bytes, or the inclusive byte range of them (for HTTP Range requests from a video player). */
  read(sha256Hex: string, range?: { start: number; end: number }): Readable;
  has(sha256Hex: string): Promise<boolean>;
  /** Stores derived bytes (a thumbnail, a poster frame) under their own hash; returns it. */
  putBuffer(content: Buffer): Promise<string>;
  /** Runs `fn` with a local path to the blob (tools such as ffprobe need a file); a remote store downloads first. */
  withLocalFile<T>(sha256Hex: string, fn: (path: string) => Promise<T>): Promise<T>;
  /** Removes uploads left unfinished by a crash (untouched for `olderThanMs`); returns how many. */
  sweepAbandoned(olderThanMs: number): Promise<number>;
  /** Deletes a blob; returns the bytes it held (0 when there was none). */
  delete(sha256Hex: string): Promise<number>;
}

/**
 * The blob store BLOB_STORE names: a directory under JARIMA_DATA_DIR, or an S3-compatible bucket. The S3 one is
 * imported only when chosen: the AWS SDK takes ~300 ms to load, which a process on the local store need not pay.
 */
export async function createBlobStore(config: Config): Promise<BlobStore> {
  const memory = {
    memoryPerUpload: config.EVIDENCE_MEMORY_PER_UPLOAD_BYTES,
    memoryBudget: config.EVIDENCE_MEMORY_BUDGET_BYTES,
  };
  if (config.BLOB_STORE === 'local')
    return new LocalBlobStore(path.join(config.JARIMA_DATA_DIR, 'blobs'), memory);
  if (!config.S3_BUCKET) throw new Error('BLOB_STORE=s3 needs S3_BUCKET');
  const { S3BlobStore, s3ClientFor } = await import('./s3-blob-store.js');
  return new S3BlobStore({
    client: s3ClientFor(config),
    bucket: config.S3_BUCKET,
    prefix: config.S3_PREFIX,
    spoolDir: path.join(config.JARIMA_DATA_DIR, 's3-spool'),
    ...memory,
  });
}

export interface LocalBlobStoreOptions {
  /** An upload up to this size is held in memory until it is committed (default 8 MiB: a phone's photo). */
  memoryPerUpload?: number;
  /** All uploads held in memory at once stay under this; one that would pass it goes to a file (default 64 MiB). */
  memoryBudget?: number;
}

/** Blobs under DIR/sha256/ab/cd/<hash>; uploads land in DIR/tmp first and are renamed (atomic) into place. */
export class LocalBlobStore implements BlobStore {
  /**
   * Directories known to exist: a recursive mkdir per upload and per thumbnail was ~0.7 ms of CPU per report in
   * `npm run bench -- pipeline` (profiled). One removed from under us is made again when a write finds it gone.
   */
  private readonly made = new Set<string>();
  private readonly memoryPerUpload: number;
  private readonly memoryBudget: number;
  /** Bytes of uploads held in memory right now. */
  private held = 0;

  constructor(
    private readonly dir: string,
    options: LocalBlobStoreOptions = {},
  ) {
    this.memoryPerUpload = options.memoryPerUpload ?? 8 * 1024 * 1024;
    this.memoryBudget = options.memoryBudget ?? 64 * 1024 * 1024;
  }

  /** Bytes of uploads held in memory right now (tests and metrics). */
  get heldInMemory(): number {
    return this.held;
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.made.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.made.add(dir);
  }

  /** Runs `fn`; if it fails because `dir` is gone, makes the directory again and runs it once more. */
  private async inDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
    await this.ensureDir(dir);
    try {
      return await fn();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.made.delete(dir);
      await this.ensureDir(dir);
      return fn();
    }
  }

  pathOf(sha256Hex: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256Hex)) throw new Error(`not a sha256: ${sha256Hex}`);
    return path.join(this.dir, 'sha256', sha256Hex.slice(0, 2), sha256Hex.slice(2, 4), sha256Hex);
  }

  /**
   * An upload stays in memory while it fits `memoryPerUpload` and the store's budget, and moves to a temporary
   * file the moment it does not (videos, mostly). Either way nothing is named until commit.
   */
  async createUpload(): Promise<BlobUpload> {
    const tmpDir = path.join(this.dir, 'tmp');
    const tmp = path.join(tmpDir, randomUUID());
    const sink = new SpillingSink(
      (size, total) => {
        if (total > this.memoryPerUpload || this.held + size > this.memoryBudget) return false;
        this.held += size;
        return true;
      },
      (size) => {
        this.held -= size;
      },
      () => this.inDir(tmpDir, () => open(tmp, 'wx')),
    );
    return {
      stream: sink,
      content: () => sink.content(),
      commit: async (sha) => {
        const memory = sink.content();
        if (memory) {
          try {
            await this.writeDurably(memory, sha);
          } finally {
            await sink.dispose();
          }
          return;
        }
        const file = await sink.takeFile();
        try {
          await file.sync();
        } finally {
          await file.close();
        }
        await this.name(tmp, sha);
      },
      discard: async () => {
        sink.destroy();
        await sink.dispose();
        await rm(tmp, { force: true });
      },
    };
  }

  /**
   * On disk before anyone is told it is stored, as PostgreSQL's commit is: the bytes (written and fsynced through
   * one handle), then the rename that names them and its directory's fsync. A report accepted on this evidence
   * must survive the machine going down, not only the process. Measured here: ~0.5 ms of CPU per file.
   */
  private async writeDurably(content: Buffer, sha: string): Promise<void> {
    const tmpDir = path.join(this.dir, 'tmp');
    const tmp = path.join(tmpDir, randomUUID());
    const file = await this.inDir(tmpDir, () => open(tmp, 'wx'));
    try {
      await file.writeFile(content);
      await file.sync();
    } catch (err) {
      await file.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await file.close();
    await this.name(tmp, sha);
  }

  /** Names a synced file by its hash (the same bytes already stored: identical content replaced), durably. */
  private async name(tmp: string, sha: string): Promise<void> {
    const dest = this.pathOf(sha);
    await this.inDir(path.dirname(dest), () => rename(tmp, dest));
    await syncPath(path.dirname(dest));
  }

  read(sha256Hex: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(sha256Hex), range);
  }

  async putBuffer(content: Buffer): Promise<string> {
    const sha = createHash('sha256').update(content).digest('hex');
    await this.writeDurably(content, sha);
    return sha;
  }

  withLocalFile<T>(sha256Hex: string, fn: (path: string) => Promise<T>): Promise<T> {
    return fn(this.pathOf(sha256Hex));
  }

  /**
   * A process killed mid-upload leaves its temporary file behind (nothing names it, so nothing else would remove it).
   * An upload in progress writes to its file as bytes arrive, so one untouched for a day is abandoned.
   */
  async sweepAbandoned(olderThanMs: number, now = Date.now()): Promise<number> {
    const tmpDir = path.join(this.dir, 'tmp');
    let removed = 0;
    for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
      const file = path.join(tmpDir, name);
      const info = await stat(file).catch(() => null);
      if (info?.isFile() && now - info.mtimeMs > olderThanMs) {
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  async delete(sha256Hex: string): Promise<number> {
    const file = this.pathOf(sha256Hex);
    const info = await stat(file).catch(() => null);
    if (!info) return 0;
    await rm(file, { force: true });
    return info.size;
  }

  async has(sha256Hex: string): Promise<boolean> {
    return access(this.pathOf(sha256Hex)).then(
      () => true,
      () => false,
    );
  }
}

/** fsync of a file or a directory (for a directory: the names in it, such as a rename's). */
async function syncPath(p: string): Promise<void> {
  const handle = await open(p, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Collects written chunks in memory while the store lets it (`reserve`), and moves them to a file (`openFile`) the
 * first time it does not; later chunks go straight to the file. Shared by the local and the S3 store.
 */
export class SpillingSink extends Writable {
  private chunks: Buffer[] = [];
  private size = 0;
  private reserved = 0;
  private file: FileHandle | null = null;
  private spilled = false;
  /** The write to the file in progress, if any: a discard waits for it, or its file could appear after the removal. */
  private writing: Promise<unknown> | null = null;

  constructor(
    /** May `size` more bytes be held, making `total` for this upload? (Counted by the store when yes.) */
    private readonly reserve: (size: number, total: number) => boolean,
    private readonly release: (size: number) => void,
    private readonly openFile: () => Promise<FileHandle>,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (!this.spilled && this.reserve(chunk.length, this.size + chunk.length)) {
      this.reserved += chunk.length;
      this.chunks.push(chunk);
      this.size += chunk.length;
      done();
      return;
    }
    const writing = this.toFile(chunk);
    this.writing = writing;
    writing.then(
      () => done(),
      (err: Error) => done(err),
    );
  }

  private async toFile(chunk: Buffer): Promise<FileHandle> {
    if (!this.file) {
      this.spilled = true;
      const file = await this.openFile();
      if (this.destroyed) {
        await file.close();
        throw new Error('upload discarded');
      }
      this.file = file;
      const held = Buffer.concat(this.chunks, this.size);
      this.chunks = [];
      this.giveBack();
      await this.file.writeFile(held);
    }
    if (chunk.length) await this.file.writeFile(chunk);
    return this.file;
  }

  private giveBack(): void {
    this.release(this.reserved);
    this.reserved = 0;
  }

  content(): Buffer | null {
    if (this.spilled) return null;
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0]!;
  }

  /** The file the bytes went to (made now if they are still in memory); the caller closes it. */
  async takeFile(): Promise<FileHandle> {
    const file = await this.toFile(Buffer.alloc(0));
    this.file = null;
    return file;
  }

  /** Lets go of the memory and closes a file not taken. */
  async dispose(): Promise<void> {
    await this.writing?.catch(() => {});
    this.writing = null;
    this.chunks = [];
    this.giveBack();
    const file = this.file;
    this.file = null;
    await file?.close().catch(() => {});
  }
}
