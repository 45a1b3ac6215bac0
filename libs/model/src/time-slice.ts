/**
 * Cooperative time slicing. Everything shares one event loop (probes, scrapes, ingest, light
 * queries), so CPU-heavy work (query evaluation, reading many series, encoding big answers)
 * gives the loop back once it has run for a slice, and stops once its request is abandoned.
 * However many heavy requests are under way, a turn of the loop runs at most one slice of them.
 */
export const TIME_SLICE_MS = 5;

// Paused work resumes one slice per turn of the event loop, in arrival order. Resuming every
// paused task in the same turn (one setImmediate each) would make a probe that needs a few turns
// (accept, read, answer) wait a slice per heavy request per turn: 12 heavy requests held a
// /-/healthy for 150-250 ms at the p99 of the overload bench.
const waiting: Array<() => void> = [];
let pumping = false;

function resumeOne(): void {
  waiting.shift()?.();
  // Scheduled from inside the check phase, so it runs on the next turn, after that turn's I/O.
  if (waiting.length > 0) setImmediate(resumeOne);
  else pumping = false;
}

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => {
    waiting.push(resolve);
    if (!pumping) {
      pumping = true;
      setImmediate(resumeOne);
    }
  });
}

export class TimeSlice {
  private resumed = performance.now();

  constructor(private readonly signal?: AbortSignal) {}

  /** The slice is spent: call `pause()` before the next unit of work. Cheap enough per series. */
  due(): boolean {
    return performance.now() - this.resumed >= TIME_SLICE_MS;
  }

  /** Lets the event loop run, then throws the signal's reason if the work was abandoned meanwhile. */
  async pause(): Promise<void> {
    await nextTurn();
    this.resumed = performance.now();
    this.signal?.throwIfAborted();
  }

  /** `pause()` when due; throws at once when the signal has aborted. */
  async tick(): Promise<void> {
    this.signal?.throwIfAborted();
    if (this.due()) await this.pause();
  }
}

/**
 * Sorts as Array.prototype.sort would (stably), in runs short enough for one slice each, merged
 * with pauses between: sorting a hundred thousand label sets in one go holds the loop ~100 ms.
 */
export async function sortSliced<T>(items: T[], cmp: (a: T, b: T) => number, slice: TimeSlice): Promise<T[]> {
  const RUN = 4096;
  if (items.length <= RUN) return items.sort(cmp);
  let runs: T[][] = [];
  for (let i = 0; i < items.length; i += RUN) {
    runs.push(items.slice(i, i + RUN).sort(cmp));
    await slice.tick();
  }
  while (runs.length > 1) {
    const next: T[][] = [];
    for (let r = 0; r < runs.length; r += 2) {
      if (r + 1 === runs.length) {
        next.push(runs[r]);
        continue;
      }
      const a = runs[r];
      const b = runs[r + 1];
      const out = new Array<T>(a.length + b.length);
      let i = 0;
      let j = 0;
      let k = 0;
      while (i < a.length && j < b.length) {
        out[k++] = cmp(b[j], a[i]) < 0 ? b[j++] : a[i++];
        if ((k & 4095) === 0) await slice.tick();
      }
      while (i < a.length) out[k++] = a[i++];
      while (j < b.length) out[k++] = b[j++];
      next.push(out);
    }
    runs = next;
  }
  return runs[0];
}
