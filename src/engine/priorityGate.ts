// Serialises model runs: ONNX Runtime runs block the event loop and share the cores, so one
// runs at a time, and a waiting interactive request (completion, predictions) goes before
// background reading. Background work holds the gate for one chunk at a time.

/** Lets the event loop take the messages that came in (a cancel, an edit) before going on. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const enum Priority { Interactive = 0, Read = 1, Background = 2 }

export class PriorityGate {
  private busy = false;
  private readonly queues: (() => void)[][] = [[], [], []];

  get interactiveWaiting(): boolean {
    return this.queues[Priority.Interactive].length > 0;
  }

  async run<T>(priority: Priority, fn: () => Promise<T>): Promise<T> {
    await this.acquire(priority);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(priority: Priority): Promise<void> {
    if (!this.busy) { this.busy = true; return Promise.resolve(); }
    return new Promise((resolve) => this.queues[priority].push(resolve));
  }

  private release(): void {
    const next = this.queues[Priority.Interactive].shift();
    if (next) { next(); return; }
    this.busy = false;
    // Decoding runs token by token: let the interactive caller that just finished ask again
    // (it does so within microtasks) before background work takes the gate for a whole chunk.
    if (this.queues[Priority.Read].length + this.queues[Priority.Background].length === 0) return;
    setImmediate(() => {
      if (this.busy) return;
      for (const q of this.queues) {
        const n = q.shift();
        if (n) { this.busy = true; n(); return; }
      }
    });
  }
}
