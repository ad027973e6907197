import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Config } from '../platform/config/config.js';
import { type BlobStore, type BlobUpload, SpillingSink } from './blob-store.js';

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Put before every key (`jarima/` → `jarima/sha256/ab/cd/<hash>`), so one bucket can hold several deployments. */
  prefix?: string;
  /** Local directory for uploads too large for memory and for downloads that tools need as files. */
  spoolDir: string;
  /** As LocalBlobStore's: an upload up to this size is held in memory until commit (default 8 MiB). */
  memoryPerUpload?: number;
  /** As LocalBlobStore's: all uploads held in memory at once stay under this (default 64 MiB). */
  memoryBudget?: number;
  /** Bytes per part of a multipart upload (S3's minimum is 5 MiB; default 8 MiB). */
  partSize?: number;
}

/** Parts of one multipart upload in flight at once: lib-storage buffers at most this × partSize per upload. */
const PART_QUEUE = 2;
/** How long a committed upload's spool file waits for the probe that follows the commit; then it is removed. */
const KEEP_FOR_PROBE_MS = 60_000;

/**
 * Blobs as objects `<prefix>sha256/ab/cd/<hash>` in an S3-compatible bucket, for processes on several machines.
 *
 * An upload larger than memory spools to a local file while it is hashed, and goes to S3 only at commit, under its
 * final key (multipart through lib-storage, whose parts are buffers, so the SDK can retry a part). The other way,
 * streaming to a temporary key as the bytes arrive and then CopyObject, was measured against s3rver on this machine
 * for a 30 MB upload (5 runs): spooling 22–151 ms + commit 0.41–1.09 s, against streaming 0.30–0.54 s + copy and
 * delete 22–53 ms. So the spool adds up to a second after the last byte of a 30 MB video, which a phone takes tens
 * of seconds to send. What streaming would cost instead: lib-storage holds its parts in memory (queue × part size,
 * 16 MiB) for the whole of a slow client's upload, for every video in flight and outside the memory budget; bytes
 * refused at the end (over the quota, too large, not media) would already be in S3; an upload broken off leaves an
 * unfinished multipart upload rather than a local file swept by its age; the same video sent again is sent again
 * (here a HeadObject at commit finds it and nothing is sent); CopyObject stops at 5 GB; and the probe that follows
 * the commit would have to download the video again, where it reads the spool file here. The spool costs local disk
 * for the uploads in flight, as the local store does.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly spoolDir: string;
  private readonly memoryPerUpload: number;
  private readonly memoryBudget: number;
  private readonly partSize: number;
  private held = 0;
  /**
   * Spool files of uploads just committed, by hash. Intake probes a new video (ffprobe) right after its commit:
   * the first withLocalFile of those bytes takes this file instead of downloading what was just sent (30 MB: one
   * download of 0.16–0.36 s from s3rver here, against 3 ms for the kept file). Names start with `kept-`.
   */
  private readonly justCommitted = new Map<string, string>();

  constructor(options: S3BlobStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.spoolDir = options.spoolDir;
    this.memoryPerUpload = options.memoryPerUpload ?? 8 * 1024 * 1024;
    this.memoryBudget = options.memoryBudget ?? 64 * 1024 * 1024;
    this.partSize = Math.max(options.partSize ?? 8 * 1024 * 1024, 5 * 1024 * 1024);
  }

  /** Bytes of uploads held in memory right now (tests and metrics). */
  get heldInMemory(): number {
    return this.held;
  }

  keyOf(sha256Hex: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256Hex)) throw new Error(`not a sha256: ${sha256Hex}`);
    return `${this.prefix}sha256/${sha256Hex.slice(0, 2)}/${sha256Hex.slice(2, 4)}/${sha256Hex}`;
  }

  /**
   * A new file name in the spool directory, made each time (it is for uploads larger than memory and downloads,
   * both far costlier than a mkdir; and so it comes back when removed from under us).
   */
  private async spoolFile(kind: 'upload' | 'read'): Promise<string> {
    await mkdir(this.spoolDir, { recursive: true });
    return path.join(this.spoolDir, `${kind}-${randomUUID()}`);
  }

  async createUpload(): Promise<BlobUpload> {
    let tmp = '';
    const sink = new SpillingSink(
      (size, total) => {
        if (total > this.memoryPerUpload || this.held + size > this.memoryBudget) return false;
        this.held += size;
        return true;
      },
      (size) => {
        this.held -= size;
      },
      async () => {
        tmp = await this.spoolFile('upload');
        return open(tmp, 'wx');
      },
    );
    const removeSpool = async () => {
      if (tmp) await rm(tmp, { force: true });
    };
    return {
      stream: sink,
      content: () => sink.content(),
      commit: async (sha) => {
        try {
          const memory = sink.content();
          if (memory) return await this.put(sha, memory);
          const file = await sink.takeFile();
          await file.close();
          // The same bytes stored before: nothing to send (a video is the case where that saves the most).
          if (!(await this.has(sha))) await this.send(sha, createReadStream(tmp));
          const kept = path.join(this.spoolDir, `kept-${randomUUID()}`);
          await rename(tmp, kept);
          tmp = '';
          await this.keepForProbe(sha, kept);
        } finally {
          await sink.dispose();
          await removeSpool();
        }
      },
      discard: async () => {
        sink.destroy();
        await sink.dispose();
        await removeSpool();
      },
    };
  }

  private async put(sha: string, content: Buffer): Promise<void> {
    const Key = this.keyOf(sha);
    await this.client
      .send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: content, ContentLength: content.length }))
      .catch(failure('PutObject', Key));
  }

  /** A multipart upload of a stream of unknown length (one PutObject when it turns out smaller than a part). */
  private async send(sha: string, body: Readable): Promise<void> {
    const Key = this.keyOf(sha);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: body },
      partSize: this.partSize,
      queueSize: PART_QUEUE,
      leavePartsOnError: false,
    });
    try {
      await upload.done().catch(failure('Upload', Key));
    } finally {
      body.destroy();
    }
  }

  read(sha256Hex: string, range?: { start: number; end: number }): Readable {
    const Key = this.keyOf(sha256Hex);
    const out = new PassThrough();
    const abort = new AbortController();
    // A reader that stops early (a video player seeking away) ends the download too.
    out.once('close', () => abort.abort());
    this.client
      .send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
        { abortSignal: abort.signal },
      )
      .then(
        (res) => {
          const body = res.Body as Readable;
          if (!range) return pipeline(body, out);
          // HTTP lets a server answer a Range with more than was asked, or with the whole body (s3rver sends all of
          // it for `bytes=0-0`): what the reader gets is cut to the range asked for, wherever the answer starts.
          const from = Number(/^bytes (\d+)-/.exec(res.ContentRange ?? '')?.[1] ?? 0);
          return pipeline(body, cut(range.start - from, range.end - range.start + 1), out);
        },
        (err: unknown) => out.destroy(s3Error('GetObject', Key, err)),
      )
      .catch((err: unknown) => {
        if (!out.destroyed) out.destroy(s3Error('GetObject', Key, err));
      });
    return out;
  }

  async putBuffer(content: Buffer): Promise<string> {
    const sha = createHash('sha256').update(content).digest('hex');
    await this.put(sha, content);
    return sha;
  }

  /** Keeps `file`, which holds `sha`'s bytes, for the next withLocalFile of them, for a while. */
  private async keepForProbe(sha: string, file: string): Promise<void> {
    await this.forget(sha);
    this.justCommitted.set(sha, file);
    setTimeout(() => {
      if (this.justCommitted.get(sha) === file) this.forget(sha).catch(() => {});
    }, KEEP_FOR_PROBE_MS).unref();
  }

  /** Takes the kept spool file of `sha` out of the map (the caller then owns it), or null. */
  private take(sha: string): string | null {
    const file = this.justCommitted.get(sha) ?? null;
    this.justCommitted.delete(sha);
    return file;
  }

  private async forget(sha: string): Promise<void> {
    const file = this.take(sha);
    if (file) await rm(file, { force: true });
  }

  async withLocalFile<T>(sha256Hex: string, fn: (path: string) => Promise<T>): Promise<T> {
    const kept = this.take(sha256Hex);
    if (kept) {
      try {
        return await fn(kept);
      } finally {
        await rm(kept, { force: true });
      }
    }
    const file = await this.spoolFile('read');
    try {
      await pipeline(this.read(sha256Hex), createWriteStream(file, { flags: 'wx' }));
      return await fn(file);
    } finally {
      await rm(file, { force: true });
    }
  }

  /**
   * Spool files a crash left behind, and multipart uploads a crash left unfinished (their parts are stored, and
   * billed, but listed nowhere else; a bucket lifecycle rule AbortIncompleteMultipartUpload does the same). A store
   * that does not list multipart uploads (s3rver) has only its spool files swept.
   */
  async sweepAbandoned(olderThanMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.spoolDir).catch(() => [] as string[])) {
      const file = path.join(this.spoolDir, name);
      const info = await stat(file).catch(() => null);
      if (info?.isFile() && now - info.mtimeMs > olderThanMs) {
        await rm(file, { force: true });
        removed++;
      }
    }
    const listed = await this.client
      .send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: `${this.prefix}sha256/` }))
      .catch((err: unknown) => {
        if ((err as { name?: string }).name === 'NotImplemented') return null;
        throw s3Error('ListMultipartUploads', this.prefix, err);
      });
    for (const u of listed?.Uploads ?? []) {
      if (!u.Key || !u.UploadId || !u.Initiated || now - u.Initiated.getTime() <= olderThanMs) continue;
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }))
        .catch(failure('AbortMultipartUpload', u.Key));
      removed++;
    }
    return removed;
  }

  async delete(sha256Hex: string): Promise<number> {
    await this.forget(sha256Hex);
    const size = await this.size(sha256Hex);
    if (size === null) return 0;
    const Key = this.keyOf(sha256Hex);
    await this.client
      .send(new DeleteObjectCommand({ Bucket: this.bucket, Key }))
      .catch(failure('DeleteObject', Key));
    return size;
  }

  async has(sha256Hex: string): Promise<boolean> {
    return (await this.size(sha256Hex)) !== null;
  }

  /** The object's length, or null when there is none. */
  private async size(sha256Hex: string): Promise<number | null> {
    const Key = this.keyOf(sha256Hex);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw s3Error('HeadObject', Key, err);
    }
  }
}

/** Passes `length` bytes after skipping `skip`, then ends (the rest of the answer is not read). */
function cut(skip: number, length: number): Transform {
  let skipping = skip;
  let left = length;
  let ended = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      let part = chunk;
      if (skipping > 0) {
        const n = Math.min(skipping, part.length);
        skipping -= n;
        part = part.subarray(n);
      }
      if (left > 0 && part.length) {
        const taken = part.subarray(0, left);
        left -= taken.length;
        this.push(taken);
      }
      if (left === 0 && !ended) {
        ended = true;
        this.push(null);
      }
      done();
    },
  });
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

/** An S3 failure as an Error that says which call on which key, the SDK's error as its cause. */
function s3Error(operation: string, key: string, err: unknown): Error {
  const e = err as { name?: string; message?: string };
  return new Error(`S3 ${operation} ${key}: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`, {
    cause: err,
  });
}

const failure =
  (operation: string, key: string) =>
  (err: unknown): never => {
    throw s3Error(operation, key, err);
  };

/**
 * The S3 client of the configuration. Timeouts so that an unreachable or stalled store fails the call instead of
 * hanging it: 5 s to connect, 60 s to the response's headers, 30 s of silence on the socket mid-body; the SDK's
 * own retries (3 attempts, with backoff) cover a blip. Checksums only where S3 requires them: the SDK's default
 * CRC32 checksums (aws-chunked trailers for streamed bodies) are refused by some older S3-compatible servers (s3rver
 * takes them), and every body sent here is a buffer whose SHA-256 the request's signature carries and S3 checks.
 */
export function s3ClientFor(
  config: Pick<
    Config,
    'S3_ENDPOINT' | 'S3_REGION' | 'S3_FORCE_PATH_STYLE' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY'
  >,
  overrides: Partial<S3ClientConfig> = {},
): S3Client {
  return new S3Client(s3ClientConfigFor(config, overrides));
}

/** The client settings of s3ClientFor, for a library that makes its own client (@tus/s3-store). */
export function s3ClientConfigFor(
  config: Pick<
    Config,
    'S3_ENDPOINT' | 'S3_REGION' | 'S3_FORCE_PATH_STYLE' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY'
  >,
  overrides: Partial<S3ClientConfig> = {},
): S3ClientConfig {
  return {
    region: config.S3_REGION,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}),
    ...(config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: config.S3_ACCESS_KEY_ID,
            secretAccessKey: config.S3_SECRET_ACCESS_KEY,
          },
        }
      : {}),
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: 5000,
      requestTimeout: 60_000,
      throwOnRequestTimeout: true,
      socketTimeout: 30_000,
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  };
}
