/** A task that waited in a Gate's queue past its deadline without starting. */
export class GateTimeout extends Error {
  constructor(readonly gate: string) {
    super(`${gate}: no free slot within the deadline`);
  }
}

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout | null;
}

/**
 * At most `concurrency` tasks at once, the rest waiting first come, first served. Decoding an image or a video is
 * CPU and memory the process has little of: bounding it keeps a burst of large or hostile files from taking both
 * cores and gigabytes at once, and the FIFO queue means an ordinary file waits behind at most the ones that came
 * before it. A waiter with a deadline gives up (GateTimeout) rather than wait without end.
 */
export class Gate {
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly name: string,
    readonly concurrency: number,
  ) {}

  /** Tasks running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.queue.length };
  }

  async run<T>(task: () => Promise<T>, opts: { deadlineMs?: number } = {}): Promise<T> {
    await this.acquire(opts.deadlineMs);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(deadlineMs: number | undefined): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { start: resolve, timer: null };
      if (deadlineMs !== undefined) {
        waiter.timer = setTimeout(() => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(new GateTimeout(this.name));
        }, deadlineMs);
      }
      this.queue.push(waiter);
    });
  }

  private release(): void {
    const next = this.queue.shift();
    if (!next) {
      this.running--;
      return;
    }
    // The slot passes straight to the next waiter: `running` stays the same.
    if (next.timer) clearTimeout(next.timer);
    next.start();
  }
}
