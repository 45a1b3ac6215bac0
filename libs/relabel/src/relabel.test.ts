import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusConfig } from '@pharos/config';
import { formatLabels, labelsFrom } from '@pharos/model';
import { relabel } from './index.js';

/** Parses relabel_configs written as in prometheus.yml, so the table reads like the docs. */
function configs(yaml: string) {
  const indented = yaml
    .trim()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
  return parsePrometheusConfig(`scrape_configs:\n  - job_name: t\n    relabel_configs:\n${indented}\n`)
    .scrapeConfigs[0].relabelConfigs;
}

interface Row {
  name: string;
  input: Record<string, string>;
  rules: string;
  want: string | null;
}

const rows: Row[] = [
  {
    name: 'replace with the default regex copies a label',
    input: { a: 'foo' },
    rules: '- source_labels: [a]\n  target_label: b',
    want: '{a="foo", b="foo"}',
  },
  {
    name: 'replace with groups and a separator',
    input: { a: 'foo', b: 'bar' },
    rules:
      '- source_labels: [a, b]\n  separator: ";"\n  regex: "(f.*);(.*)"\n  target_label: c\n  replacement: "${1}-${2}"',
    want: '{a="foo", b="bar", c="foo-bar"}',
  },
  {
    name: 'replace does nothing when the regex does not match the whole value',
    input: { a: 'foo' },
    rules: '- source_labels: [a]\n  regex: "fo"\n  target_label: b',
    want: '{a="foo"}',
  },
  {
    name: 'replace with an empty result deletes the target',
    input: { a: 'foo', b: 'x' },
    rules: '- source_labels: [c]\n  regex: "(.*)"\n  target_label: b',
    want: '{a="foo"}',
  },
  {
    name: 'replace can name the target from the match',
    input: { a: 'some-name-value' },
    rules:
      '- source_labels: [a]\n  regex: "some-([^-]+)-([^,]+)"\n  target_label: "${1}"\n  replacement: "${2}"',
    want: '{a="some-name-value", name="value"}',
  },
  {
    name: '$1x expands to nothing, as Go does',
    input: { a: 'foo' },
    rules: '- source_labels: [a]\n  target_label: b\n  replacement: "$1x"',
    want: '{a="foo"}',
  },
  {
    name: 'keep keeps matching targets',
    input: { a: 'foo' },
    rules: '- source_labels: [a]\n  regex: "f.*"\n  action: keep',
    want: '{a="foo"}',
  },
  {
    name: 'keep drops the rest',
    input: { a: 'bar' },
    rules: '- source_labels: [a]\n  regex: "f.*"\n  action: keep',
    want: null,
  },
  {
    name: 'drop drops matching targets',
    input: { a: 'foo' },
    rules: '- source_labels: [a]\n  regex: "foo"\n  action: drop',
    want: null,
  },
  {
    name: 'drop on a missing label matches the empty string',
    input: { a: 'foo' },
    rules: '- source_labels: [missing]\n  regex: ""\n  action: drop',
    want: null,
  },
  {
    name: 'keepequal keeps when source equals target',
    input: { a: 'x', b: 'x' },
    rules: '- source_labels: [a]\n  target_label: b\n  action: keepequal',
    want: '{a="x", b="x"}',
  },
  {
    name: 'dropequal drops when source equals target',
    input: { a: 'x', b: 'x' },
    rules: '- source_labels: [a]\n  target_label: b\n  action: dropequal',
    want: null,
  },
  {
    name: 'hashmod gives the upstream bucket',
    input: { a: 'foo' },
    rules: '- source_labels: [a]\n  target_label: h\n  modulus: 1000\n  action: hashmod',
    want: '{a="foo", h="696"}', // md5("foo")[8:16] as a big-endian uint64, mod 1000, computed independently
  },
  {
    name: 'labelmap copies matching names',
    input: { __meta_kubernetes_pod_label_app: 'web', __meta_other: 'x' },
    rules: '- regex: "__meta_kubernetes_pod_label_(.+)"\n  action: labelmap',
    want: '{__meta_kubernetes_pod_label_app="web", __meta_other="x", app="web"}',
  },
  {
    name: 'labeldrop removes matching names',
    input: { a: '1', b: '2', ab: '3' },
    rules: '- regex: "a.*"\n  action: labeldrop',
    want: '{b="2"}',
  },
  {
    name: 'labelkeep keeps matching names',
    input: { a: '1', b: '2', ab: '3' },
    rules: '- regex: "a.*"\n  action: labelkeep',
    want: '{a="1", ab="3"}',
  },
  {
    name: 'lowercase and uppercase',
    input: { a: 'FoO' },
    rules:
      '- source_labels: [a]\n  target_label: l\n  action: lowercase\n- source_labels: [a]\n  target_label: u\n  action: uppercase',
    want: '{a="FoO", l="foo", u="FOO"}',
  },
  {
    name: 'steps apply in order, each seeing the last',
    input: { __address__: 'host:9100' },
    rules:
      '- source_labels: [__address__]\n  regex: "(.*):.*"\n  target_label: host\n- source_labels: [host]\n  regex: "host"\n  action: drop',
    want: null,
  },
];

describe('relabel', () => {
  for (const r of rows) {
    it(r.name, () => {
      const out = relabel(labelsFrom(r.input), configs(r.rules));
      assert.equal(out === null ? null : formatLabels(out), r.want);
    });
  }
});
