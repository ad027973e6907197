import { ExponentialBackoff, handleWhen, type IPolicy, retry } from 'cockatiel';
import { request } from 'undici';
import type { EmailSender } from '../../integrations/email/port.js';
import type { Labels } from './expr.js';
import type { Severity, SinkName, SinksConfig } from './rules.js';

/** One notice about one alert instance (a rule and one label set). */
export interface AlertEvent {
  rule: string;
  labels: Labels;
  severity: Severity;
  state: 'firing' | 'resolved';
  /** A reminder that the alert is still firing (every repeat interval), not a change of state. */
  repeat: boolean;
  /** The expression's value; null when it had none (the series went away, or a ratio with no traffic). */
  value: number | null;
  summary: string;
  /** When the condition first held. */
  activeAt: Date;
  at: Date;
}

/** Where notices go. `send` may throw once its own retries are spent; the manager logs that and goes on. */
export interface AlertSink {
  readonly name: SinkName;
  send(event: AlertEvent): Promise<void>;
}

/** Enough of pino for the alerts (a pino Logger fits). */
export interface AlertLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** "[FIRING critical] ForwardQueueStuck {stage="forward"}" */
export function headline(e: AlertEvent): string {
  const state = e.state === 'resolved' ? 'RESOLVED' : e.repeat ? 'STILL FIRING' : 'FIRING';
  const labels = Object.entries(e.labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
  return `[${state} ${e.severity}] ${e.rule}${labels ? ` {${labels}}` : ''}`;
}

/** Firing critical alerts log at error, warnings at warn, the rest (and every resolution) at info. */
export class LogSink implements AlertSink {
  readonly name = 'log';
  constructor(private readonly logger: AlertLogger) {}

  async send(e: AlertEvent): Promise<void> {
    const level =
      e.state === 'resolved'
        ? 'info'
        : e.severity === 'critical'
          ? 'error'
          : e.severity === 'warning'
            ? 'warn'
            : 'info';
    const alert = {
      rule: e.rule,
      labels: e.labels,
      severity: e.severity,
      state: e.state,
      repeat: e.repeat,
      value: e.value,
      activeAt: e.activeAt,
    };
    this.logger[level]({ alert }, `${headline(e)}: ${e.summary}`);
  }
}

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

function retrying(isRetryable: (err: Error) => boolean, opts: RetryOptions): IPolicy {
  return retry(handleWhen(isRetryable), {
    maxAttempts: (opts.attempts ?? 4) - 1,
    backoff: new ExponentialBackoff({
      initialDelay: opts.initialDelayMs ?? 500,
      maxDelay: opts.maxDelayMs ?? 10_000,
    }),
  });
}

class WebhookRetryableError extends Error {
  override name = 'WebhookRetryableError';
}

/**
 * POSTs each notice as JSON. `text` holds the one-line notice, so a Slack or Mattermost incoming webhook shows it
 * as is; the other fields are for machines. Timeouts, network errors, 408, 429 and 5xx are retried with
 * exponential backoff; another 4xx means the receiver will never take it, so it is not.
 */
export class WebhookSink implements AlertSink {
  readonly name = 'webhook';
  private readonly policy: IPolicy;
  private readonly timeoutMs: number;

  constructor(
    private readonly url: string,
    opts: RetryOptions & { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.policy = retrying((err) => err instanceof WebhookRetryableError, opts);
  }

  async send(e: AlertEvent): Promise<void> {
    const body = JSON.stringify({
      text: `${headline(e)}: ${e.summary}`,
      status: e.state,
      repeat: e.repeat,
      rule: e.rule,
      severity: e.severity,
      labels: e.labels,
      value: e.value,
      summary: e.summary,
      activeAt: e.activeAt.toISOString(),
      at: e.at.toISOString(),
    });
    await this.policy.execute(() => this.post(body));
  }

  private async post(body: string): Promise<void> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let status: number;
    try {
      const res = await request(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal,
      });
      status = res.statusCode;
      await res.body.dump();
    } catch (err) {
      const what = signal.aborted ? `timed out after ${this.timeoutMs} ms` : 'network error';
      throw new WebhookRetryableError(`alert webhook: ${what}`, { cause: err });
    }
    if (status >= 200 && status < 300) return;
    if (status === 408 || status === 429 || status >= 500) {
      throw new WebhookRetryableError(`alert webhook answered ${status}`);
    }
    throw new Error(`alert webhook answered ${status}; not retried`);
  }
}

/** One e-mail per recipient; the relay's retryable failures are retried in place, with one idempotency key. */
export class EmailSink implements AlertSink {
  readonly name = 'email';
  private readonly policy: IPolicy;

  constructor(
    private readonly sender: Pick<EmailSender, 'send'>,
    private readonly to: string[],
    opts: RetryOptions = {},
  ) {
    this.policy = retrying((err) => (err as { retryable?: unknown }).retryable === true, opts);
  }

  async send(e: AlertEvent): Promise<void> {
    const subject = headline(e);
    const text = [
      e.summary,
      '',
      `Rule:      ${e.rule}`,
      `Severity:  ${e.severity}`,
      `Labels:    ${JSON.stringify(e.labels)}`,
      `Value:     ${e.value ?? 'none'}`,
      `Active at: ${e.activeAt.toISOString()}`,
      `${e.state === 'resolved' ? 'Resolved' : 'Notified'} at: ${e.at.toISOString()}`,
    ].join('\n');
    const idempotencyKey = `alert:${e.rule}:${JSON.stringify(e.labels)}:${e.state}:${e.at.toISOString()}`;
    const results = await Promise.allSettled(
      this.to.map((to) => this.policy.execute(() => this.sender.send({ to, subject, text, idempotencyKey }))),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length) {
      throw new Error(`alert e-mail failed for ${failed.length} of ${this.to.length} recipients`, {
        cause: failed[0]!.reason,
      });
    }
  }
}

/** The sinks a rules file's `sinks` section describes; the log sink is always there. */
export function createAlertSinks(
  config: SinksConfig,
  deps: { logger: AlertLogger; email: Pick<EmailSender, 'send'> | null },
): AlertSink[] {
  const sinks: AlertSink[] = [new LogSink(deps.logger)];
  if (config.webhook) {
    sinks.push(
      new WebhookSink(config.webhook.url, {
        timeoutMs: config.webhook.timeoutMs,
        attempts: config.webhook.attempts,
      }),
    );
  }
  if (config.email && deps.email) sinks.push(new EmailSink(deps.email, config.email.to));
  return sinks;
}
