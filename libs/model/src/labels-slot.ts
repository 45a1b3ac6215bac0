import type { Labels } from './labels.js';

/**
 * Memo slots carried by label set objects, for hot paths that meet the same label sets batch
 * after batch: a scrape cache hands the same objects to every batch it publishes, and reading a
 * property of them costs a fraction of a Map or WeakMap lookup among 100k entries.
 *
 * A slot is a symbol made once, at module load, by its user, which reads it inline
 * (`(labels as Slotted<T>)[key]`): a read through one shared helper would see every slot's key
 * and become a slow megamorphic lookup. A slot holds one value per label set, so a user with
 * several instances stores its instance in the value and checks it.
 *
 * The property is non-enumerable: label sets still compare, print and serialise as plain arrays.
 * Frozen label sets (the shared empty one) simply never remember anything.
 */
export type Slotted<T> = Labels & { [key: symbol]: T | undefined };

export function setLabelsSlot<T>(labels: Labels, key: symbol, value: T): void {
  const holder = labels as Slotted<T>;
  if (key in holder) holder[key] = value;
  else if (Object.isExtensible(labels))
    Object.defineProperty(labels, key, { value, writable: true, enumerable: false });
}
