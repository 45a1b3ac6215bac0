import fc from 'fast-check';

/** Characters that mean something to one of our parsers: quotes, brackets, escapes, separators. */
const SPECIAL = [
  ...'{}[]()"\'`\\,=~!#:;$.|-+*/%^@ \t\n\r\u0000',
  '\u00e9',
  '\u{1F600}',
  '\uFFFD',
  'NaN',
  'Inf',
  '0x',
];

const piece = fc.oneof(
  fc.constantFrom(...SPECIAL),
  fc.string({ maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 3 }),
  fc.integer().map(String),
);

type Edit = { op: 'insert' | 'delete' | 'replace' | 'repeat'; at: number; len: number; text: string };

const edit: fc.Arbitrary<Edit> = fc.record({
  op: fc.constantFrom('insert', 'delete', 'replace', 'repeat'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  len: fc.integer({ min: 0, max: 8 }),
  text: piece,
});

function apply(seed: string, edits: readonly Edit[]): string {
  let s = seed;
  for (const e of edits) {
    const i = Math.floor(e.at * s.length);
    switch (e.op) {
      case 'insert':
        s = s.slice(0, i) + e.text + s.slice(i);
        break;
      case 'delete':
        s = s.slice(0, i) + s.slice(i + e.len);
        break;
      case 'replace':
        s = s.slice(0, i) + e.text + s.slice(i + e.len);
        break;
      case 'repeat':
        s = s.slice(0, i + e.len) + s.slice(i, i + e.len).repeat(3) + s.slice(i + e.len);
        break;
    }
  }
  return s;
}

/**
 * Inputs near a valid one: a few edits (inserted syntax characters, deletions, repeated runs) of
 * `seed`, which is where parsers break, rather than uniformly random text they refuse at once.
 */
export function mutationsOf(seed: string, maxEdits = 6): fc.Arbitrary<string> {
  return fc.array(edit, { minLength: 1, maxLength: maxEdits }).map((edits) => apply(seed, edits));
}

/** Inputs made of the syntax characters and short strings, for parsers with no good seed. */
export const syntaxSoup: fc.Arbitrary<string> = fc.array(piece, { maxLength: 30 }).map((p) => p.join(''));
