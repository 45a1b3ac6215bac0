/** A PromQL syntax or type error; the message reads as Prometheus': "1:8: parse error: ...". */
export class ParseError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    readonly offset: number,
  ) {
    super(`${line}:${column}: parse error: ${reason}`);
    this.name = 'ParseError';
  }

  static at(input: string, offset: number, reason: string): ParseError {
    let line = 1;
    let col = 1;
    for (let i = 0; i < offset && i < input.length; i++) {
      if (input[i] === '\n') {
        line++;
        col = 1;
      } else col++;
    }
    return new ParseError(reason, line, col, offset);
  }
}
