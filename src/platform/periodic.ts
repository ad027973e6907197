/**
 * Runs `task` on a timer in this process — first after `firstAfterMs`, then every `everyMs` — one run at a time (a
 * tick while one is still going is skipped), its failures handed to `onError`. The timers do not keep the process
 * alive; stop() clears them and waits for a run in flight.
 */
export function runPeriodically(
  task: () => Promise<void>,
  o: { firstAfterMs: number; everyMs: number; onError(err: unknown): void },
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const run = () => {
    running ??= task()
      .catch(o.onError)
      .finally(() => {
        running = null;
      });
  };
  const first = setTimeout(run, o.firstAfterMs);
  const every = setInterval(run, o.everyMs);
  first.unref();
  every.unref();
  return {
    async stop() {
      clearTimeout(first);
      clearInterval(every);
      await running;
    },
  };
}
