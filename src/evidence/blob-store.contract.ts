import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import type { BlobStore } from './blob-store.js';

/** One store under test, and what the contract needs to look inside it. */
export interface StoreUnderTest {
  store: BlobStore;
  /** Bytes of uploads the store holds in memory right now. */
  heldInMemory(): number;
  /** Hashes of every blob stored. */
  stored(): Promise<string[]>;
  /** The local directory an upload too large for memory goes to before commit (what a crash leaves behind). */
  tempDir: string;
  /** The files in `tempDir` that are neither a crash's leftovers nor an upload in progress (default: none). */
  kept?: (name: string) => boolean;
}

export interface StoreLimits {
  memoryPerUpload: number;
  memoryBudget: number;
}

/** A full collection before each memory reading, so that chunks already let go of do not count. */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const text = async (r: Readable) => {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
};
/** What is in the store's temporary directory, beyond the files it keeps there on purpose. */
const leftovers = async (s: StoreUnderTest) =>
  (await readdir(s.tempDir).catch(() => [] as string[])).filter((n) => !s.kept?.(n));

async function store(s: StoreUnderTest, content: Buffer, chunk = 64 * 1024): Promise<string> {
  const upload = await s.store.createUpload();
  const parts = [];
  for (let i = 0; i < content.length; i += chunk) parts.push(content.subarray(i, i + chunk));
  await pipeline(Readable.from(parts), upload.stream);
  const sha = sha256(content);
  await upload.commit(sha);
  return sha;
}

/**
 * What every BlobStore must do, run against each (blob-store.test.ts). `open` makes a fresh, empty store with these
 * memory limits for one test.
 */
export function blobStoreContract(open: (limits: StoreLimits) => Promise<StoreUnderTest>): void {
  const small = { memoryPerUpload: 1024, memoryBudget: 4096 };

  it('stores what was written under its hash, from memory or from a file, and reads it back', async () => {
    const s = await open(small);
    const photo = Buffer.from('a small photo');
    const video = Buffer.alloc(5000, 7);
    const a = await store(s, photo);
    const b = await store(s, video, 1000);
    expect(await text(s.store.read(a))).toEqual(photo);
    expect(await text(s.store.read(b))).toEqual(video);
    expect(await s.store.has(a)).toBe(true);
    expect((await s.stored()).sort()).toEqual([a, b].sort());
    expect(s.heldInMemory()).toBe(0);
    expect(await leftovers(s)).toEqual([]);
  });

  it('keeps the same bytes once, however they arrive', async () => {
    const s = await open(small);
    const bytes = Buffer.alloc(3000, 'x');
    const first = await store(s, bytes);
    expect(await store(s, bytes, 500)).toBe(first);
    expect(await s.store.putBuffer(bytes)).toBe(first);
    expect(await s.stored()).toEqual([first]);
    expect(await text(s.store.read(first))).toEqual(bytes);
    expect(await leftovers(s)).toEqual([]);
  });

  it('leaves nothing behind when an upload is discarded, in memory or spooled', async () => {
    const s = await open(small);
    for (const size of [100, 5000]) {
      const upload = await s.store.createUpload();
      await pipeline(Readable.from([Buffer.alloc(size, 1)]), upload.stream);
      expect(upload.content() === null).toBe(size > small.memoryPerUpload);
      await upload.discard();
    }
    expect(await s.stored()).toEqual([]);
    expect(s.heldInMemory()).toBe(0);
    expect(await leftovers(s)).toEqual([]);
  });

  it('reads inclusive byte ranges: the first byte, the middle, the last byte', async () => {
    const s = await open(small);
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const sha = await store(s, bytes);
    expect(await text(s.store.read(sha, { start: 0, end: 0 }))).toEqual(bytes.subarray(0, 1));
    expect(await text(s.store.read(sha, { start: 100, end: 199 }))).toEqual(bytes.subarray(100, 200));
    expect(await text(s.store.read(sha, { start: 999, end: 999 }))).toEqual(bytes.subarray(999));
    expect(await text(s.store.read(sha))).toEqual(bytes);
  });

  it('fails the stream of a blob it does not have', async () => {
    const s = await open(small);
    await expect(text(s.store.read(sha256(Buffer.from('never stored'))))).rejects.toThrow();
  });

  it('says whether it has a blob, and deleting one returns the bytes it held (0 when none)', async () => {
    const s = await open(small);
    const sha = await s.store.putBuffer(Buffer.alloc(1234, 2));
    expect(await s.store.has(sha)).toBe(true);
    expect(await s.store.delete(sha)).toBe(1234);
    expect(await s.store.has(sha)).toBe(false);
    expect(await s.store.delete(sha)).toBe(0);
    expect(await s.stored()).toEqual([]);
  });

  it('gives tools a local file with the blob’s bytes', async () => {
    const s = await open(small);
    const bytes = Buffer.alloc(4000, 'v');
    const sha = await store(s, bytes);
    let seen = '';
    const size = await s.store.withLocalFile(sha, async (file) => {
      seen = file;
      expect(await readFile(file)).toEqual(bytes);
      return (await stat(file)).size;
    });
    expect(size).toBe(4000);
    // A downloaded copy is gone again (the local store's file is the blob itself).
    if (seen.startsWith(s.tempDir)) await expect(stat(seen)).rejects.toThrow();
    expect(await s.store.has(sha)).toBe(true);
  });

  it('stores derived bytes under their SHA-256', async () => {
    const s = await open(small);
    const poster = Buffer.from('poster frame');
    const sha = await s.store.putBuffer(poster);
    expect(sha).toBe(sha256(poster));
    expect(await text(s.store.read(sha))).toEqual(poster);
  });

  it('takes a 64 MB video in chunks without holding it in memory', async () => {
    const s = await open({ memoryPerUpload: 1024 * 1024, memoryBudget: 4 * 1024 * 1024 });
    const MiB = 1024 * 1024;
    const total = 64 * MiB;
    const hash = createHash('sha256');
    let peakHeld = 0;
    let peakBuffers = 0;
    gc();
    const base = process.memoryUsage().arrayBuffers;
    const sample = () => {
      peakHeld = Math.max(peakHeld, s.heldInMemory());
      gc();
      peakBuffers = Math.max(peakBuffers, process.memoryUsage().arrayBuffers - base);
    };
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < total / (256 * 1024); i++) {
          const chunk = Buffer.alloc(256 * 1024, i % 256);
          hash.update(chunk);
          if (i % 8 === 0) sample();
          yield chunk;
        }
      })(),
    );
    const upload = await s.store.createUpload();
    await pipeline(source, upload.stream);
    expect(upload.content()).toBeNull();
    const sha = hash.digest('hex');
    const sampler = setInterval(sample, 100);
    try {
      await upload.commit(sha);
    } finally {
      clearInterval(sampler);
    }
    sample();
    expect(peakHeld).toBeLessThanOrEqual(MiB);
    // Loose: the store's own buffers (an S3 store's parts in flight and the test server's: 16-26 MB seen on
    // 2 cores, the higher under load), bounded whatever the file's size — not the whole file.
    expect(peakBuffers).toBeLessThan(total * 0.6);
    expect(await s.store.delete(sha)).toBe(total);
    expect(await leftovers(s)).toEqual([]);
  });

  it('sweeps what a crash left in its temporary directory once untouched long enough, and nothing else', async () => {
    const s = await open(small);
    const kept = await s.store.putBuffer(Buffer.from('stored'));
    await mkdir(s.tempDir, { recursive: true });
    const abandoned = path.join(s.tempDir, 'abandoned');
    await writeFile(abandoned, 'half an upload');
    const dayAgo = new Date(Date.now() - 25 * 3600 * 1000);
    await utimes(abandoned, dayAgo, dayAgo);
    // An upload in progress, too big for memory: its file is being written now.
    const live = await s.store.createUpload();
    await new Promise((r) => live.stream.write(Buffer.alloc(small.memoryPerUpload * 2, 1), r));
    expect(await leftovers(s)).toHaveLength(2);
    expect(await s.store.sweepAbandoned(24 * 3600 * 1000)).toBe(1);
    expect(await leftovers(s)).toHaveLength(1);
    expect(await leftovers(s)).not.toContain('abandoned');
    expect(await s.store.has(kept)).toBe(true);
    await live.discard();
    expect(await leftovers(s)).toEqual([]);
  });
}
