// The UI's pure parts, table-tested under Node: URL state, durations, series alignment and the
// Alertmanager filter syntax. The browser tests (apps/e2e/src/web-ui.test.ts) cover the rest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMatcher, parseFilter } from '../app/src/am/matchers.js';
import { alignSeries } from '../app/src/query/align.js';
import {
  autoStep,
  DEFAULT_PANEL,
  formatDuration,
  panelsToSearch,
  parseDuration,
  parsePanels,
} from '../app/src/url-state.js';

describe('durations', () => {
  const cases: Array<[string, number | null]> = [
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['90s', 90_000],
    ['2w', 1_209_600_000],
    ['500ms', 500],
    ['1y', 31_536_000_000],
    ['', null],
    ['1x', null],
    ['h', null],
    ['1h 30m', null],
    ['0s', null],
  ];
  for (const [text, ms] of cases)
    it(`parses ${JSON.stringify(text)}`, () => assert.equal(parseDuration(text), ms));
  it('formats as Prometheus writes them', () => {
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(60_000), '1m');
    assert.equal(formatDuration(1_500), '1s500ms');
  });
  it('picks about 250 points per range', () => {
    assert.equal(autoStep(3_600_000), 14);
    assert.equal(autoStep(60_000), 1);
  });
});

describe('panels in the URL', () => {
  it("reads Prometheus 2's numbered tabs and the ruler's generatorURL", () => {
    const [p] = parsePanels('?g0.expr=up%20%3D%3D%200&g0.tab=1');
    assert.equal(p.expr, 'up == 0');
    assert.equal(p.tab, 'table');
    assert.equal(parsePanels('?g0.expr=up&g0.tab=0')[0].tab, 'graph');
  });
  it('round-trips several panels with range, end, step and stacking', () => {
    const panels = [
      {
        ...DEFAULT_PANEL,
        expr: 'rate(x[5m])',
        tab: 'graph' as const,
        range: 7_200_000,
        step: 30,
        stacked: true,
      },
      { ...DEFAULT_PANEL, expr: 'up', end: Date.UTC(2024, 0, 2, 3, 4, 5) },
    ];
    const search = panelsToSearch(panels);
    assert.match(search, /g0\.range_input=2h/);
    assert.match(search, /g1\.end_input=2024-01-02\+03%3A04%3A05/);
    assert.deepEqual(parsePanels(search), panels);
  });
  it('orders panels by number and ignores other parameters', () => {
    const ps = parsePanels('?g1.expr=b&x=1&g0.expr=a&g0.range_input=nonsense');
    assert.deepEqual(
      ps.map((p) => p.expr),
      ['a', 'b'],
    );
    assert.equal(ps[0].range, DEFAULT_PANEL.range);
  });
});

describe('series on one time axis', () => {
  const a = {
    values: [
      [10, '1'],
      [20, '2'],
      [40, '4'],
    ] as Array<[number, string]>,
  };
  const b = {
    values: [
      [20, '10'],
      [30, '10'],
      [40, '10'],
    ] as Array<[number, string]>,
  };
  it('leaves gaps where a series has no point', () => {
    const { xs, ys } = alignSeries([a, b], 10, 40, 10, false);
    assert.deepEqual(xs, [10, 20, 30, 40]);
    assert.deepEqual(ys, [
      [1, 2, null, 4],
      [null, 10, 10, 10],
    ]);
  });
  it('stacks each series on the ones before it', () => {
    const { ys } = alignSeries([a, b], 10, 40, 10, true);
    assert.deepEqual(ys[1], [null, 12, 10, 14]);
  });
});

describe('Alertmanager filters', () => {
  it('parses the classic matcher syntax a Silence link carries', () => {
    const ms = parseFilter('{alertname="Disk \\"full\\"", job=~"node.*", env!="dev", x!~"y"}');
    assert.deepEqual(ms, [
      { name: 'alertname', value: 'Disk "full"', isRegex: false, isEqual: true },
      { name: 'job', value: 'node.*', isRegex: true, isEqual: true },
      { name: 'env', value: 'dev', isRegex: false, isEqual: false },
      { name: 'x', value: 'y', isRegex: true, isEqual: false },
    ]);
    assert.deepEqual(ms.map(formatMatcher), [
      'alertname="Disk \\"full\\""',
      'job=~"node.*"',
      'env!="dev"',
      'x!~"y"',
    ]);
  });
});
