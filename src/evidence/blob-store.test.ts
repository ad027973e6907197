import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalBlobStore } from './blob-store.js';

describe('LocalBlobStore', () => {
  it('stores by content, and makes its directories again when they are removed from under it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-blobs-'));
    try {
      const store = new LocalBlobStore(dir);
      const a = await store.putBuffer(Buffer.from('first'));
      expect(await readFile(store.pathOf(a), 'utf8')).toBe('first');
      // An operator clears the store (or its temporary directory) while the process runs.
      await rm(path.join(dir, 'sha256'), { recursive: true });
      await rm(path.join(dir, 'tmp'), { recursive: true });
      const again = await store.putBuffer(Buffer.from('first'));
      expect(again).toBe(a);
      expect(await readFile(store.pathOf(a), 'utf8')).toBe('first');
      expect(await store.has(a)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
