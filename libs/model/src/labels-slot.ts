import type { Labels } from './labels.js';

/**
 * A memo slot carried by label set objects, for hot paths that meet the same label sets batch
 * after batch: a scrape cache hands the same objects to every batch it publishes, and reading a
 * property of them costs a fraction of a Map or WeakMap lookup among 100k entries. Make one slot
 * per use, once, at module load (each slot is a property, and objects with the same slots share
 * a hidden class). A slot holds one value per label set, so a user with several instances stores
 * its instance in the value and checks it.
 *
 * The property is non-enumerable: label sets still compare, print and serialise as plain arrays.
 * Frozen label sets (the shared empty one) simply never remember anything.
 */
export class LabelsSlot<T> {
  private readonly key: symbol;

  constructor(name: string) {
    this.key = Symbol(name);
  }

  get(labels: Labels): T | undefined {
    return (labels as unknown as Record<symbol, T | undefined>)[this.key];
  }

  set(labels: Labels, value: T): void {
    const holder = labels as unknown as Record<symbol, T>;
    if (this.key in holder) holder[this.key] = value;
    else if (Object.isExtensible(labels))
      Object.defineProperty(labels, this.key, { value, writable: true, enumerable: false });
  }
}
