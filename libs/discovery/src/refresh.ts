import { setTimeout as sleep } from 'node:timers/promises';
import { emptyGroup, type GroupsUpdate, type TargetGroup } from './target-group.js';

/**
 * Polls `refresh` every interval and sends its groups, plus an empty group for each source that
 * went away. A refresh that throws sends nothing: the previous groups stay in force.
 */
export async function runRefresh(
  refresh: () => Promise<TargetGroup[]>,
  interval: number,
  up: GroupsUpdate,
  signal: AbortSignal,
  onError: (message: string) => void,
): Promise<void> {
  let previous = new Set<string>();
  while (!signal.aborted) {
    try {
      const groups = await refresh();
      if (signal.aborted) return;
      const now = new Set(groups.map((g) => g.source));
      const gone = [...previous].filter((s) => !now.has(s)).map(emptyGroup);
      up([...groups, ...gone]);
      previous = now;
    } catch (e) {
      onError((e as Error).message);
    }
    if (!(await pause(interval, signal))) return;
  }
}

/** Sleeps unless aborted; false when aborted. */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
