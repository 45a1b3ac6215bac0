/** Which partitions of the sample topic one ingester owns, from its flags. */
export interface OwnershipFlags {
  /** --kafka.partitions: every partition of the topic. */
  readonly total: number;
  /** --ingester.partitions, e.g. "0,1"; empty or absent: by instances, or all. */
  readonly list?: string;
  /** --ingester.instances: with `instance`, own the partitions p with p mod instances = instance. */
  readonly instances?: number;
  /** --ingester.instance: a number, or "hostname" for the number after the host name's last "-". */
  readonly instance?: string;
  readonly hostname: string;
}

/**
 * The owned partitions, sorted: the explicit list, else this instance's share (a StatefulSet's
 * ordinal from the pod name), else all. A list or share that cannot be honoured names the flag.
 */
export function ownedPartitions(f: OwnershipFlags): number[] {
  if (f.list !== undefined && f.list !== '') {
    const items = f.list.split(',').map((x) => x.trim());
    const out = items.map(Number);
    if (items.some((x) => !/^\d+$/.test(x)) || out.some((p) => p >= f.total))
      throw new Error(
        `--ingester.partitions: want partition numbers below ${f.total}, got ${JSON.stringify(f.list)}`,
      );
    return [...new Set(out)].sort((a, b) => a - b);
  }
  const instances = f.instances;
  if (instances === undefined) return Array.from({ length: f.total }, (_, p) => p);
  const which = f.instance ?? 'hostname';
  const index = which === 'hostname' ? Number(/-(\d+)$/.exec(f.hostname)?.[1] ?? NaN) : Number(which);
  if (!Number.isInteger(index) || index < 0 || index >= instances)
    throw new Error(
      `--ingester.instance: want 0..${instances - 1}${which === 'hostname' ? `, and host name ${JSON.stringify(f.hostname)} does not end in -<number>` : `, got ${JSON.stringify(which)}`}`,
    );
  const owned = Array.from({ length: f.total }, (_, p) => p).filter((p) => p % instances === index);
  if (owned.length === 0)
    throw new Error(`instance ${index} of ${instances} owns none of ${f.total} partitions`);
  return owned;
}
