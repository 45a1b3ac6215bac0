/** A group of targets with shared labels, as every service-discovery provider produces them. */
export interface TargetGroup {
  /** Identifies the group within its provider; a later group with the same source replaces it. */
  readonly source: string;
  readonly targets: ReadonlyArray<Readonly<Record<string, string>>>;
  readonly labels: Readonly<Record<string, string>>;
}

/** Receives changed groups; a group with no targets removes what its source had. */
export type GroupsUpdate = (groups: readonly TargetGroup[]) => void;

/** Where a provider reports failures: it keeps its last good targets meanwhile. */
export interface DiscovererHooks {
  onError?(message: string): void;
}

/** One service-discovery provider instance (one `*_sd_configs` entry). */
export interface Discoverer {
  /** Runs until the signal aborts, sending full groups first and changes after. */
  run(up: GroupsUpdate, signal: AbortSignal): Promise<void>;
}

export function emptyGroup(source: string): TargetGroup {
  return { source, targets: [], labels: {} };
}
