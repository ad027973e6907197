import underPressure from '@fastify/under-pressure';
import { AppError } from '../errors/catalog.js';
import type { App } from './types.js';

/**
 * What a route costs the platform to lose under overload, cheapest first: public statistics and map reads are shed
 * first, then status and list reads, and report submission and evidence upload only in extremis. A route without a
 * class (sign-in, health, registry callbacks) is never shed here.
 */
export type ShedClass = 'public' | 'read' | 'write';

const SHED_CLASSES: readonly ShedClass[] = ['public', 'read', 'write'];

declare module 'fastify' {
  interface FastifyContextConfig {
    shed?: ShedClass;
  }
}

export interface Load {
  /** Mean event-loop delay over the last sample, ms. */
  eventLoopDelay: number;
  /** Share of the last sample the event loop was busy, 0–1. */
  eventLoopUtilized: number;
}

export interface SheddingOptions {
  /** Mean event-loop delay (ms) from which each class is refused; 0 never refuses it. */
  delayMs: Record<ShedClass, number>;
  /**
   * Event-loop utilisation from which public reads are refused (0 = never). A process saturated by many short
   * requests keeps its loop busy without delaying timers: the queue grows in the kernel, where the delay cannot see
   * it (bench/README.md, mixed benchmark spike), so the cheapest class also goes on utilisation.
   */
  publicUtilisation: number;
  /**
   * How long every load sample must stay over a class's threshold before that class is refused; 0 decides on the
   * latest sample alone. A freshly started process blocks its loop for a moment while it compiles and warms its
   * first pages: one such sample must not refuse the visitor who caused it.
   */
  sustainMs: number;
  retryAfterSeconds: number;
  /** Where the load reading comes from; by default @fastify/under-pressure's samples. */
  load?: () => Load;
}

/** How often the load is sampled: @fastify/under-pressure's own interval, so each reading is a fresh one. */
const SAMPLE_MS = 250;

/**
 * Which classes are under sustained pressure, from load samples in time order: a class is over once every sample for
 * at least `sustainMs` has been over its threshold. A loop blocked for seconds yields one sample after the block,
 * however long it was, so one sample (or a run shorter than the window) never counts as sustained.
 */
export class SustainedPressure {
  /** When the current unbroken run of over-threshold samples began, per class; null when the last was under. */
  private readonly overSince: Record<ShedClass, number | null> = { public: null, read: null, write: null };
  private lastAt = 0;

  constructor(private readonly opts: Pick<SheddingOptions, 'delayMs' | 'publicUtilisation' | 'sustainMs'>) {}

  /** Takes one load sample, taken at `at` (ms). */
  record(load: Load, at: number): void {
    this.lastAt = at;
    for (const shed of SHED_CLASSES) {
      if (!overThreshold(this.opts, shed, load)) this.overSince[shed] = null;
      else this.overSince[shed] ??= at;
    }
  }

  /** Whether `shed` has been over its threshold for the whole window, as of the latest sample. */
  over(shed: ShedClass): boolean {
    const since = this.overSince[shed];
    return since !== null && this.lastAt - since >= this.opts.sustainMs;
  }
}

function overThreshold(
  opts: Pick<SheddingOptions, 'delayMs' | 'publicUtilisation'>,
  shed: ShedClass,
  now: Load,
): boolean {
  const limit = opts.delayMs[shed];
  const busy =
    shed === 'public' && opts.publicUtilisation > 0 && now.eventLoopUtilized >= opts.publicUtilisation;
  return busy || (limit > 0 && now.eventLoopDelay >= limit);
}

/** Overload shedding by priority class: 503 with Retry-After, cheapest traffic first, under sustained load only. */
export async function installShedding(app: App, opts: SheddingOptions): Promise<void> {
  // Sampling only: every threshold of the plugin itself is off, the classes below decide.
  await app.register(underPressure, { sampleInterval: SAMPLE_MS });
  const load = opts.load ?? (() => app.memoryUsage());
  let overloaded: (shed: ShedClass) => boolean;
  if (opts.sustainMs > 0) {
    const pressure = new SustainedPressure(opts);
    const timer = setInterval(() => pressure.record(load(), Date.now()), SAMPLE_MS);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
    overloaded = (shed) => pressure.over(shed);
  } else {
    overloaded = (shed) => overThreshold(opts, shed, load());
  }
  app.addHook('onRequest', async (request, reply) => {
    const shed = request.routeOptions.config?.shed;
    if (!shed || !overloaded(shed)) return;
    reply.header('retry-after', String(opts.retryAfterSeconds));
    throw new AppError('OVERLOADED', { details: { class: shed } });
  });
}
