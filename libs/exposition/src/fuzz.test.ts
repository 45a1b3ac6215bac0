import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mutationsOf, syntaxSoup } from '@pharos/model/testing';
import { ExpositionError, ExpositionParser, type ExpositionFormat } from './index.js';

const TEXT = `# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000
msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9
{"my.dotted.metric", "le"="+Inf"} -Inf
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
`;

const OPENMETRICS = `# TYPE foo histogram
# HELP foo Something.
# UNIT foo seconds
foo_bucket{le="0.1"} 8 # {trace_id="abc"} 0.05 1520879607.789
foo_bucket{le="+Inf"} 17
foo_count 17
foo_sum 324789.3
foo_created 1520430000.123
# EOF
`;

/** Reads every entry the way the scrape loop does; only ExpositionError may come out. */
function drain(text: string, format: ExpositionFormat): void {
  const p = new ExpositionParser(text, format);
  try {
    for (let e = p.next(); e !== null; e = p.next()) {
      if (e === 'series') {
        p.labels();
        p.value();
        p.timestamp();
        p.exemplar();
      } else if (e !== 'comment') {
        p.metadataName();
        p.metadataText();
      }
    }
  } catch (e) {
    assert.ok(e instanceof ExpositionError, `${String(e)} on ${JSON.stringify(text)}`);
    assert.ok(e.line >= 1, `line of ${JSON.stringify(text)}`);
  }
}

describe('exposition parser under bad input', () => {
  for (const [format, seed] of [
    ['prometheus', TEXT],
    ['openmetrics', OPENMETRICS],
  ] as const) {
    it(`${format}: edits of a valid exposition give entries or an ExpositionError with a line`, () => {
      fc.assert(
        fc.property(mutationsOf(seed), (text) => drain(text, format)),
        { numRuns: 3000 },
      );
    });
    it(`${format}: syntax soup gives entries or an ExpositionError`, () => {
      fc.assert(
        fc.property(syntaxSoup, (text) => drain(text, format)),
        { numRuns: 3000 },
      );
    });
  }

  it('reads a huge label value and a long line of escapes in time linear in their size', () => {
    const long = 'a'.repeat(1 << 20);
    drain(`x{a="${long}"} 1\n`, 'prometheus');
    drain(`x{a="${'\\\\'.repeat(1 << 18)}"} 1\n`, 'prometheus');
    drain(`x{a="${'\\'.repeat(1 << 18)}`, 'prometheus');
  });
});
