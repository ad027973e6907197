import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Gate, GateTimeout } from './gate.js';

describe('Gate', () => {
  it('runs at most `concurrency` tasks at once, the rest first come, first served', async () => {
    const gate = new Gate('test', 2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const task = (i: number) => async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await sleep(10);
      running--;
      return i;
    };
    const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => gate.run(task(i))));
    expect(results).toEqual([0, 1, 2, 3, 4, 5]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(2);
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });

  it('gives a waiter up after its deadline without taking a slot, and frees the slot of a failed task', async () => {
    const gate = new Gate('decode', 1);
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((r) => (release = r)));
    const late = gate.run(async () => 'never', { deadlineMs: 20 });
    await expect(late).rejects.toBeInstanceOf(GateTimeout);
    expect(gate.load).toEqual({ running: 1, waiting: 0 });
    const failing = gate.run(async () => {
      throw new Error('bad file');
    });
    release();
    await first;
    await expect(failing).rejects.toThrow('bad file');
    expect(await gate.run(async () => 'next')).toBe('next');
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });
});
