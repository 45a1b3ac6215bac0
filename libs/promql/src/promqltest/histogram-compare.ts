import type { Buckets, FloatHistogram } from '@pharos/model';
import { almostEqual } from './almost-equal.js';

/**
 * The upstream runner's comparison: both sides without empty buckets, floats within its
 * tolerance, the same schema, zero bucket and bucket layout, custom bounds where used, and the
 * counter reset hint only where the expected literal names it.
 */
export function histogramsMatch(want: FloatHistogram, got: FloatHistogram, hintSet: boolean): boolean {
  const a = want.copy().compact();
  const b = got.copy().compact();
  if (a.schema !== b.schema || !almostEqual(a.count, b.count) || !almostEqual(a.sum, b.sum)) return false;
  if (a.usesCustomBuckets && !sameValues(a.customValues, b.customValues)) return false;
  if (a.zeroThreshold !== b.zeroThreshold || !almostEqual(a.zeroCount, b.zeroCount)) return false;
  if (!bucketsMatch(a.positive, b.positive) || !bucketsMatch(a.negative, b.negative)) return false;
  return !hintSet || a.counterResetHint === b.counterResetHint;
}

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function bucketsMatch(a: Buckets, b: Buckets): boolean {
  if (a.idx.length !== b.idx.length) return false;
  for (let i = 0; i < a.idx.length; i++) {
    if (a.idx[i] !== b.idx[i] || !almostEqual(a.cnt[i], b.cnt[i])) return false;
  }
  return true;
}
