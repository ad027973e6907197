import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeScene } from '../../test/helpers/media.js';
import { pictureOf } from './analysis.js';
import { LargeDecoder } from './large-decoder.js';
import { UNSAFE } from './probe.js';

const MAX_PIXELS = 50_000_000;

/** A process's niceness, field 19 of /proc/<pid>/stat (after the parenthesised command name). */
function niceness(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe('the large-photo decoder process', () => {
  let decoder: LargeDecoder | null = null;
  afterEach(() => decoder?.close());

  it('gives the analysis the server would, from a process of its own at a lower priority', async () => {
    decoder = new LargeDecoder({ timeoutMs: 30_000, maxPixels: MAX_PIXELS });
    const photo = await makeScene(1600, 900);
    const there = await decoder.analyze(photo);
    const here = await pictureOf(photo, MAX_PIXELS);
    expect(there).toEqual(here);
    expect(Buffer.isBuffer(there.thumb)).toBe(true);
    const pid = decoder.pid!;
    expect(pid).not.toBe(process.pid);
    expect(niceness(pid)).toBe(niceness(process.pid) + 10);
    // One process serves the next picture too.
    await decoder.analyze(await makeScene(640, 480));
    expect(decoder.pid).toBe(pid);
  });

  it('reports a picture it cannot decode, and one past its time limit, and goes on', async () => {
    decoder = new LargeDecoder({ timeoutMs: 30_000, maxPixels: MAX_PIXELS });
    await expect(decoder.analyze(Buffer.from('not a picture at all'))).rejects.toThrow(/unsupported|input/i);
    const first = decoder.pid;
    decoder.close();
    decoder = new LargeDecoder({ timeoutMs: 1, maxPixels: MAX_PIXELS });
    await expect(decoder.analyze(await makeScene(1600, 900))).rejects.toThrow(`${UNSAFE} (timeout)`);
    expect(decoder.pid).toBeNull();
    expect(first).not.toBeNull();
  });

  it('ends its process when idle, and starts another for the next picture', async () => {
    decoder = new LargeDecoder({ timeoutMs: 30_000, maxPixels: MAX_PIXELS, idleMs: 50 });
    await decoder.analyze(await makeScene(640, 480));
    const pid = decoder.pid;
    await new Promise((r) => setTimeout(r, 300));
    expect(decoder.pid).toBeNull();
    await decoder.analyze(await makeScene(640, 480));
    expect(decoder.pid).not.toBe(pid);
  });
});
