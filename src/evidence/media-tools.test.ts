import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../platform/config/config.js';
import { mediaToolsFor, resolveMediaTools, runTool } from './media-tools.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-tools-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('which ffmpeg decodes evidence', () => {
  it('takes the host’s when both tools are on PATH, the bundled build otherwise, and says which', async () => {
    // A PATH holding an ffmpeg and an ffprobe that answer -version like the real ones.
    const bin = path.join(dir, 'bin');
    await import('node:fs/promises').then((fs) => fs.mkdir(bin));
    for (const tool of ['ffmpeg', 'ffprobe']) {
      await writeFile(path.join(bin, tool), `#!/bin/sh\necho "${tool} version 9.9-test Copyright"\n`);
      await chmod(path.join(bin, tool), 0o755);
    }
    expect(await resolveMediaTools('auto', { PATH: bin })).toEqual({
      ffmpeg: path.join(bin, 'ffmpeg'),
      ffprobe: path.join(bin, 'ffprobe'),
      source: 'system',
      version: '9.9-test',
    });
    const bundled = await resolveMediaTools('auto', { PATH: '/nonexistent' });
    expect(bundled.source).toBe('bundled');
    expect(bundled.ffmpeg).toContain('@ffmpeg-installer');
    expect(bundled.version).toMatch(/^N-|^\d/);
    expect((await resolveMediaTools('bundled', { PATH: bin })).source).toBe('bundled');
    await expect(resolveMediaTools('system', { PATH: '/nonexistent' })).rejects.toBeInstanceOf(ConfigError);
  });

  it('in production, refuses the automatic fall-back to the bundled build but accepts it by name', async () => {
    const env = { PATH: '/nonexistent' };
    await expect(mediaToolsFor({ MEDIA_TOOLS: 'auto', NODE_ENV: 'production' }, env)).rejects.toThrow(
      /MEDIA_TOOLS: no ffmpeg and ffprobe on PATH/,
    );
    expect((await mediaToolsFor({ MEDIA_TOOLS: 'bundled', NODE_ENV: 'production' }, env)).source).toBe(
      'bundled',
    );
    expect((await mediaToolsFor({ MEDIA_TOOLS: 'auto', NODE_ENV: 'development' }, env)).source).toBe(
      'bundled',
    );
  });
});

describe('a bounded tool run', () => {
  it('kills a run past its time limit and says so', async () => {
    const ran = await runTool('/bin/sleep', ['5'], { timeoutMs: 100, memoryMb: 512, maxOutputBytes: 1024 });
    expect(ran).toMatchObject({ ok: false, reason: 'timeout' });
  });

  it('kills a run that writes more than it may', async () => {
    const ran = await runTool('/bin/cat', ['/dev/zero'], {
      timeoutMs: 5000,
      memoryMb: 512,
      maxOutputBytes: 65536,
    });
    expect(ran).toMatchObject({ ok: false, reason: 'output' });
  });

  it('holds the child to its address-space limit', async () => {
    // Node itself cannot start in 256 MiB of address space: the limit is on the child, and it is reported as memory.
    const ran = await runTool(process.execPath, ['-e', '1'], {
      timeoutMs: 10_000,
      memoryMb: 256,
      maxOutputBytes: 1024,
    });
    expect(ran).toMatchObject({ ok: false, reason: 'memory' });
    const fine = await runTool(process.execPath, ['-e', 'process.stdout.write("ok")'], {
      timeoutMs: 10_000,
      memoryMb: 4096,
      maxOutputBytes: 1024,
    });
    expect(fine).toMatchObject({ ok: true });
    expect((fine as { stdout: Buffer }).stdout.toString()).toBe('ok');
  });
});
