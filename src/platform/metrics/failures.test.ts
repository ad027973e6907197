import { describe, expect, it } from 'vitest';
import { FailureLog } from './failures.js';

describe('FailureLog', () => {
  it('counts every failure and logs each kind at most once a minute, with the failures it stood for', () => {
    const lines: { fields: Record<string, unknown>; message: string }[] = [];
    const counted: string[] = [];
    let now = 0;
    const log = new FailureLog({
      logger: {
        warn: (fields, message) => lines.push({ fields: fields as Record<string, unknown>, message }),
      },
      source: 'database pool',
      count: (kind) => counted.push(kind),
      now: () => now,
    });
    log.report('connection', new Error('terminating connection due to administrator command'));
    log.report('rollback', 'not an Error');
    for (let i = 0; i < 5; i++) {
      now += 10_000;
      log.report('connection', new Error('Connection terminated unexpectedly'));
    }
    expect(counted).toEqual(['connection', 'rollback', ...Array(5).fill('connection')]);
    expect(lines.map((l) => l.message)).toEqual([
      'database pool: connection failed',
      'database pool: rollback failed',
    ]);
    expect(lines[1]!.fields.err).toBeInstanceOf(Error);
    expect((lines[1]!.fields.err as Error).message).toBe('not an Error');
    now += 10_000;
    log.report('connection', new Error('again'));
    expect(lines).toHaveLength(3);
    expect(lines[2]!.fields).toMatchObject({ kind: 'connection', suppressedSinceLastLine: 5 });
  });
});
