/** A syntax error in an exposition, with the 1-based line it was found on. */
export class ExpositionError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'ExpositionError';
  }
}
