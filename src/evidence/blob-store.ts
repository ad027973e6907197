import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** A file being written into the store; committed under its content hash once fully received, else discarded. */
export interface BlobUpload {
  stream: Writable;
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
}

/** Blobs under DIR/sha256/ab/cd/<hash>; uploads land in DIR/tmp first and are renamed (atomic) into place. */
export class LocalBlobStore implements BlobStore {
  constructor(private readonly dir: string) {}

  pathOf(sha256Hex: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256Hex)) throw new Error(`not a sha256: ${sha256Hex}`);
    return path.join(this.dir, 'sha256', sha256Hex.slice(0, 2), sha256Hex.slice(2, 4), sha256Hex);
  }

  async createUpload(): Promise<BlobUpload> {
    const tmpDir = path.join(this.dir, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, randomUUID());
    const stream = createWriteStream(tmp, { flags: 'wx' });
    return {
      stream,
      commit: async (sha) => {
        const dest = this.pathOf(sha);
        await mkdir(path.dirname(dest), { recursive: true });
        // Same bytes already stored: the rename simply replaces identical content.
        await rename(tmp, dest);
      },
      discard: async () => {
        stream.destroy();
        await rm(tmp, { force: true });
      },
    };
  }

  read(sha256Hex: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(sha256Hex), range);
  }

  async putBuffer(content: Buffer): Promise<string> {
    const sha = createHash('sha256').update(content).digest('hex');
    const upload = await this.createUpload();
    await new Promise<void>((resolve, reject) =>
      upload.stream.end(content, () => resolve()).once('error', reject),
    );
    await upload.commit(sha);
    return sha;
  }

  withLocalFile<T>(sha256Hex: string, fn: (path: string) => Promise<T>): Promise<T> {
    return fn(this.pathOf(sha256Hex));
  }

  async has(sha256Hex: string): Promise<boolean> {
    return access(this.pathOf(sha256Hex)).then(
      () => true,
      () => false,
    );
  }
}
