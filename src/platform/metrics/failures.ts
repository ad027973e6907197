import { toError } from '../errors/catalog.js';

/** The part of a logger (pino's) a FailureLog writes with. */
export interface WarnLogger {
  warn(fields: object, message: string): void;
}

export interface FailureLogOptions {
  /** Where the lines go. */
  logger: WarnLogger;
  /** What fails, first in each line: "ops sampler", "database pool". */
  source: string;
  /** Called on every failure, logged or not (a Prometheus counter's inc). */
  count?: (kind: string) => void;
  /** At most one line per kind this often (default a minute). */
  everyMs?: number;
  now?: () => number;
}

/**
 * Failures of background work that has no caller to throw to (a timer's sample, an idle connection), counted every
 * time and logged at most once per kind a minute: a database that is away for an hour gives sixty lines per kind,
 * each with how many failures it stands for, instead of one per attempt.
 */
export class FailureLog {
  private readonly lastLine = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly opts: FailureLogOptions) {}

  report(kind: string, err: unknown): void {
    this.opts.count?.(kind);
    const now = this.opts.now?.() ?? Date.now();
    const last = this.lastLine.get(kind);
    if (last && now - last.at < (this.opts.everyMs ?? 60_000)) {
      last.suppressed++;
      return;
    }
    this.lastLine.set(kind, { at: now, suppressed: 0 });
    this.opts.logger.warn(
      { err: toError(err), kind, suppressedSinceLastLine: last?.suppressed ?? 0 },
      `${this.opts.source}: ${kind} failed`,
    );
  }
}

/**
 * A logger for code that has none of its own (a pool built by a CLI command or a benchmark): Node's warnings on
 * stderr, which `--no-warnings` silences.
 */
export const processWarnings: WarnLogger = {
  warn(fields, message) {
    const { err, ...rest } = fields as { err?: Error };
    process.emitWarning(
      `${message}: ${err?.message ?? 'unknown error'} ${JSON.stringify(rest)}`,
      'JarimaWarning',
    );
  },
};
