import type { TargetGroup } from './target-group.js';

/** Collects a provider's updates into the current groups by source, and waits for a condition. */
export class Updates {
  readonly state = new Map<string, TargetGroup>();
  count = 0;
  private waiters: Array<() => void> = [];

  readonly fn = (groups: readonly TargetGroup[]): void => {
    for (const g of groups) this.state.set(g.source, g);
    this.count++;
    for (const w of this.waiters.splice(0)) w();
  };

  /** Resolves with the state once `ok` holds; fails after `ms`. */
  async until(ok: (s: Map<string, TargetGroup>) => boolean, ms = 5_000): Promise<Map<string, TargetGroup>> {
    const deadline = Date.now() + ms;
    while (!ok(this.state)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`condition not met in ${ms} ms; groups: ${JSON.stringify([...this.state.values()])}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.state;
  }
}
