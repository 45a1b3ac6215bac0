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
  // The recipes of upstream's documentation and example configs.
  {
    name: 'docs: blackbox exporter probes a target through __param_target',
    input: { __address__: 'https://example.org', __metrics_path__: '/probe' },
    rules: [
      '- source_labels: [__address__]',
      '  target_label: __param_target',
      '- source_labels: [__param_target]',
      '  target_label: instance',
      '- target_label: __address__',
      '  replacement: 127.0.0.1:9115',
    ].join('\n'),
    want: '{__address__="127.0.0.1:9115", __metrics_path__="/probe", __param_target="https://example.org", instance="https://example.org"}',
  },
  {
    // md5("node-2:9100")[8:16] mod 4 is 2, computed independently: not this shard.
    name: 'docs: sharding with hashmod into __tmp_hash and keep',
    input: { __address__: 'node-2:9100' },
    rules: [
      '- source_labels: [__address__]',
      '  modulus: 4',
      '  target_label: __tmp_hash',
      '  action: hashmod',
      '- source_labels: [__tmp_hash]',
      '  regex: "^1$"',
      '  action: keep',
    ].join('\n'),
    want: null,
  },
  {
    name: 'docs: Kubernetes pods opt in with the prometheus.io/scrape annotation and set port and path',
    input: {
      __address__: '10.1.0.7:8080',
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_path: '/custom',
      __meta_kubernetes_pod_annotation_prometheus_io_port: '9102',
      __meta_kubernetes_namespace: 'prod',
      __meta_kubernetes_pod_name: 'web-0',
    },
    rules: [
      '- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]',
      '  action: keep',
      '  regex: true',
      '- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]',
      '  action: replace',
      '  target_label: __metrics_path__',
      '  regex: (.+)',
      '- source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]',
      '  action: replace',
      '  regex: ([^:]+)(?::\\d+)?;(\\d+)',
      '  replacement: $1:$2',
      '  target_label: __address__',
      '- source_labels: [__meta_kubernetes_namespace]',
      '  target_label: namespace',
      '- source_labels: [__meta_kubernetes_pod_name]',
      '  target_label: pod',
      '- regex: __meta_kubernetes_pod_annotation_prometheus_io_(.+)',
      '  action: labeldrop',
    ].join('\n'),
    want: '{__address__="10.1.0.7:9102", __meta_kubernetes_namespace="prod", __meta_kubernetes_pod_name="web-0", __metrics_path__="/custom", namespace="prod", pod="web-0"}',
  },
  {
    name: 'docs: Consul services kept by tag, with the tag list surrounded by separators',
    input: { __meta_consul_tags: ',canary,prod,', __meta_consul_service: 'web' },
    rules: [
      '- source_labels: [__meta_consul_tags]',
      '  regex: .*,prod,.*',
      '  action: keep',
      '- source_labels: [__meta_consul_service]',
      '  target_label: job',
    ].join('\n'),
    want: '{__meta_consul_service="web", __meta_consul_tags=",canary,prod,", job="web"}',
  },
  {
    name: 'docs: labelmap with a replacement renames a family of labels',
    input: { __meta_kubernetes_node_label_kubernetes_io_os: 'linux' },
    rules: '- regex: __meta_kubernetes_node_label_(.+)\n  replacement: node_$1\n  action: labelmap',
    want: '{__meta_kubernetes_node_label_kubernetes_io_os="linux", node_kubernetes_io_os="linux"}',
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
