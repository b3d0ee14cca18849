/** Waits that close() can cut short, so a retry loop never outlives its owner. */
export class Pauses {
  readonly #pending = new Set<() => void>();

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#pending.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#pending.add(done);
    });
  }

  cancelAll(): void {
    for (const done of [...this.#pending]) done();
  }
}

/** 100 ms doubling to 5 s: quick after a blip, gentle on a server that stays away. */
export function backoffMs(attempt: number): number {
  return Math.min(5_000, 100 * 2 ** Math.min(attempt, 6));
}
