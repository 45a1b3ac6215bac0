import { anchoredRegex, type AnchoredRegex } from '@pharos/regex';

export type MatchType = '=' | '!=' | '=~' | '!~';

/** A label matcher as in PromQL selectors and the series API's match[] parameter. */
export class LabelMatcher {
  private readonly re: AnchoredRegex | undefined;

  constructor(
    readonly type: MatchType,
    readonly name: string,
    readonly value: string,
  ) {
    if (type === '=~' || type === '!~') this.re = anchoredRegex(value);
  }

  matches(v: string): boolean {
    switch (this.type) {
      case '=':
        return v === this.value;
      case '!=':
        return v !== this.value;
      case '=~':
        return (this.re as AnchoredRegex).matches(v);
      case '!~':
        return !(this.re as AnchoredRegex).matches(v);
    }
  }

  /** Whether a series without the label (value "") is selected, as Prometheus treats absence. */
  matchesEmpty(): boolean {
    return this.matches('');
  }

  /** The exact values a positive matcher selects, when it is `=` or a literal alternation. */
  setMatches(): readonly string[] | undefined {
    if (this.type === '=') return [this.value];
    if (this.type === '=~') return (this.re as AnchoredRegex).setMatches();
    return undefined;
  }

  toString(): string {
    return `${this.name}${this.type}${JSON.stringify(this.value)}`;
  }
}
