import underPressure from '@fastify/under-pressure';
import { AppError } from '../errors/catalog.js';
import type { App } from './types.js';

/**
 * What a route costs the platform to lose under overload, cheapest first: public statistics and map reads are shed
 * first, then status and list reads, and report submission and evidence upload only in extremis. A route without a
 * class (sign-in, health, registry callbacks) is never shed here.
 */
export type ShedClass = 'public' | 'read' | 'write';

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
  retryAfterSeconds: number;
  /** Where the load reading comes from; by default @fastify/under-pressure's samples. */
  load?: () => Load;
}

/** Overload shedding by priority class: 503 with Retry-After, cheapest traffic first. */
export async function installShedding(app: App, opts: SheddingOptions): Promise<void> {
  // Sampling only: every threshold of the plugin itself is off, the classes below decide.
  await app.register(underPressure, { sampleInterval: 250 });
  const load = opts.load ?? (() => app.memoryUsage());
  app.addHook('onRequest', async (request, reply) => {
    const shed = request.routeOptions.config?.shed;
    if (!shed) return;
    const limit = opts.delayMs[shed];
    const now = load();
    const busy =
      shed === 'public' && opts.publicUtilisation > 0 && now.eventLoopUtilized >= opts.publicUtilisation;
    if (busy || (limit > 0 && now.eventLoopDelay >= limit)) {
      reply.header('retry-after', String(opts.retryAfterSeconds));
      throw new AppError('OVERLOADED', { details: { class: shed } });
    }
  });
}
