import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Node } from 'yaml';
import { AnchoredRegex } from '@pharos/regex';
import { ConfigError, Decoder, type Fields } from './yaml-decode.js';
import {
  HTTP_CLIENT_FIELDS,
  LATER_HTTP_CLIENT_FIELDS,
  parseHTTPClientConfig,
  type HTTPClientConfig,
} from './http-client.js';
import { parseServiceDiscovery, SUPPORTED_SD_FIELDS, type ServiceDiscoveryConfigs } from './sd.js';
import { globFiles } from './glob.js';
import { checkLaterSections, LATER_SECTIONS } from './later-sections.js';

export const SCRAPE_PROTOCOL_NAMES = [
  'OpenMetricsText1.0.0',
  'OpenMetricsText0.0.1',
  'PrometheusText1.0.0',
  'PrometheusText0.0.4',
  'PrometheusProto',
] as const;
export type ScrapeProtocolName = (typeof SCRAPE_PROTOCOL_NAMES)[number];

export const DEFAULT_SCRAPE_PROTOCOLS: readonly ScrapeProtocolName[] = [
  'OpenMetricsText1.0.0',
  'OpenMetricsText0.0.1',
  'PrometheusText1.0.0',
  'PrometheusText0.0.4',
];

export const RELABEL_ACTIONS = [
  'replace',
  'keep',
  'drop',
  'keepequal',
  'dropequal',
  'hashmod',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
] as const;
export type RelabelAction = (typeof RELABEL_ACTIONS)[number];

export interface RelabelConfig {
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  readonly regex: AnchoredRegex;
  readonly modulus: number;
  readonly targetLabel: string;
  readonly replacement: string;
  readonly action: RelabelAction;
}

export interface StaticConfig {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/** Limits shared by global and per-job settings; 0 means no limit. */
export interface ScrapeLimits {
  readonly bodySizeLimit: number;
  readonly sampleLimit: number;
  readonly labelLimit: number;
  readonly labelNameLengthLimit: number;
  readonly labelValueLengthLimit: number;
  readonly targetLimit: number;
  readonly keepDroppedTargets: number;
}

export interface GlobalConfig extends ScrapeLimits {
  readonly scrapeInterval: number;
  readonly scrapeTimeout: number;
  readonly scrapeProtocols: readonly ScrapeProtocolName[];
  readonly evaluationInterval: number;
  readonly ruleQueryOffset: number;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly queryLogFile: string;
}

export interface ScrapeConfig extends ScrapeLimits, ServiceDiscoveryConfigs {
  readonly jobName: string;
  readonly scrapeInterval: number;
  readonly scrapeTimeout: number;
  readonly scrapeProtocols: readonly ScrapeProtocolName[];
  readonly fallbackScrapeProtocol: ScrapeProtocolName | undefined;
  readonly metricsPath: string;
  readonly scheme: 'http' | 'https';
  readonly params: Readonly<Record<string, readonly string[]>>;
  readonly honorLabels: boolean;
  readonly honorTimestamps: boolean;
  readonly trackTimestampsStaleness: boolean;
  readonly enableCompression: boolean;
  readonly followRedirects: boolean;
  readonly staticConfigs: readonly StaticConfig[];
  readonly relabelConfigs: readonly RelabelConfig[];
  readonly metricRelabelConfigs: readonly RelabelConfig[];
  readonly http: HTTPClientConfig;
}

/** One `alerting.alertmanagers` entry: where and how alerts are posted (API v2). */
export interface AlertmanagerConfig {
  readonly scheme: 'http' | 'https';
  readonly pathPrefix: string;
  readonly timeout: number;
  readonly apiVersion: 'v2';
  readonly staticConfigs: readonly StaticConfig[];
  /** Applied to each Alertmanager's target labels (`__address__`, `__scheme__`...). */
  readonly relabelConfigs: readonly RelabelConfig[];
  /** Applied to the alerts sent to this Alertmanager only. */
  readonly alertRelabelConfigs: readonly RelabelConfig[];
  readonly http: HTTPClientConfig;
}

export interface AlertingConfig {
  readonly alertRelabelConfigs: readonly RelabelConfig[];
  readonly alertmanagers: readonly AlertmanagerConfig[];
}

export interface PrometheusConfig {
  readonly global: GlobalConfig;
  readonly ruleFiles: readonly string[];
  readonly alerting: AlertingConfig;
  readonly scrapeConfigs: readonly ScrapeConfig[];
  /** The file as written, for /api/v1/status/config. */
  readonly source: string;
  /** Settings that are valid upstream but not acted on yet, each with file and line. */
  readonly warnings: readonly string[];
}

const SD_CONFIG_FIELDS = [
  'azure_sd_configs',
  'consul_sd_configs',
  'digitalocean_sd_configs',
  'docker_sd_configs',
  'dockerswarm_sd_configs',
  'dns_sd_configs',
  'ec2_sd_configs',
  'eureka_sd_configs',
  'file_sd_configs',
  'gce_sd_configs',
  'hetzner_sd_configs',
  'http_sd_configs',
  'ionos_sd_configs',
  'kubernetes_sd_configs',
  'kuma_sd_configs',
  'lightsail_sd_configs',
  'linode_sd_configs',
  'marathon_sd_configs',
  'nerve_sd_configs',
  'nomad_sd_configs',
  'openstack_sd_configs',
  'ovhcloud_sd_configs',
  'puppetdb_sd_configs',
  'scaleway_sd_configs',
  'serverset_sd_configs',
  'triton_sd_configs',
  'uyuni_sd_configs',
  'vultr_sd_configs',
  'stackit_sd_configs',
];

const LIMIT_FIELDS = [
  'body_size_limit',
  'sample_limit',
  'label_limit',
  'label_name_length_limit',
  'label_value_length_limit',
  'target_limit',
  'keep_dropped_targets',
];

const LATER_SCRAPE_FIELDS = [
  'scrape_classic_histograms',
  'always_scrape_classic_histograms',
  'convert_classic_histograms_to_nhcb',
  'native_histogram_bucket_limit',
  'native_histogram_min_bucket_factor',
  'scrape_native_histograms',
  'metric_name_validation_scheme',
  'metric_name_escaping_scheme',
  'scrape_failure_log_file',
  'enable_compression',
];

function limits(f: Fields, def: ScrapeLimits): ScrapeLimits {
  return {
    bodySizeLimit: f.bytes('body_size_limit', def.bodySizeLimit),
    sampleLimit: f.int('sample_limit', def.sampleLimit),
    labelLimit: f.int('label_limit', def.labelLimit),
    labelNameLengthLimit: f.int('label_name_length_limit', def.labelNameLengthLimit),
    labelValueLengthLimit: f.int('label_value_length_limit', def.labelValueLengthLimit),
    targetLimit: f.int('target_limit', def.targetLimit),
    keepDroppedTargets: f.int('keep_dropped_targets', def.keepDroppedTargets),
  };
}

function protocols(
  f: Fields,
  key: string,
  def: readonly ScrapeProtocolName[],
): readonly ScrapeProtocolName[] {
  if (!f.has(key)) return def;
  const list = f.strList(key);
  const seen = new Set<string>();
  for (const p of list) {
    if (!(SCRAPE_PROTOCOL_NAMES as readonly string[]).includes(p)) {
      f.d.fail(f.raw(key), `unknown scrape protocol ${p}, supported: ${SCRAPE_PROTOCOL_NAMES.join(', ')}`);
    }
    if (seen.has(p))
      f.d.fail(f.raw(key), `duplicated protocol in scrape_protocols, got ${JSON.stringify(list)}`);
    seen.add(p);
  }
  if (list.length === 0) f.d.fail(f.raw(key), 'scrape_protocols cannot be empty');
  return list as ScrapeProtocolName[];
}

function parseGlobal(d: Decoder, node: Node | null): GlobalConfig {
  const f = d.fields(
    node,
    'config.GlobalConfig',
    [
      'scrape_interval',
      'scrape_timeout',
      'scrape_protocols',
      'evaluation_interval',
      'rule_query_offset',
      'external_labels',
      'query_log_file',
      ...LIMIT_FIELDS,
    ],
    LATER_SCRAPE_FIELDS,
  );
  const scrapeInterval = f.duration('scrape_interval', 60_000);
  const scrapeTimeout = f.duration('scrape_timeout', Math.min(10_000, scrapeInterval));
  if (scrapeTimeout > scrapeInterval)
    d.fail(f.raw('scrape_timeout'), 'global scrape timeout greater than scrape interval');
  if (scrapeInterval === 0) d.fail(f.raw('scrape_interval'), 'scrape interval must be greater than 0');
  return {
    scrapeInterval,
    scrapeTimeout,
    scrapeProtocols: protocols(f, 'scrape_protocols', DEFAULT_SCRAPE_PROTOCOLS),
    evaluationInterval: f.duration('evaluation_interval', 60_000),
    ruleQueryOffset: f.duration('rule_query_offset', 0),
    externalLabels: f.labelMap('external_labels'),
    queryLogFile: f.str('query_log_file', ''),
    ...limits(f, {
      bodySizeLimit: 0,
      sampleLimit: 0,
      labelLimit: 0,
      labelNameLengthLimit: 0,
      labelValueLengthLimit: 0,
      targetLimit: 0,
      keepDroppedTargets: 0,
    }),
  };
}

export function parseRelabelConfigs(d: Decoder, nodes: readonly Node[]): RelabelConfig[] {
  return nodes.map((node) => {
    const f = d.fields(node, 'relabel.Config', [
      'source_labels',
      'separator',
      'regex',
      'modulus',
      'target_label',
      'replacement',
      'action',
    ]);
    const action = f.str('action', 'replace').toLowerCase() as RelabelAction;
    if (!RELABEL_ACTIONS.includes(action))
      d.fail(f.raw('action'), `unknown relabel action ${JSON.stringify(action)}`);
    let regex: AnchoredRegex;
    const regexSource = f.str('regex', '(.*)');
    try {
      regex = new AnchoredRegex(regexSource);
    } catch (e) {
      return d.fail(f.raw('regex'), `invalid regex ${JSON.stringify(regexSource)}: ${(e as Error).message}`);
    }
    const rc: RelabelConfig = {
      sourceLabels: f.strList('source_labels'),
      separator: f.str('separator', ';'),
      regex,
      modulus: f.int('modulus', 0),
      targetLabel: f.str('target_label', ''),
      replacement: f.str('replacement', '$1'),
      action,
    };
    const needsTarget = ['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'];
    if (needsTarget.includes(action) && rc.targetLabel === '') {
      d.fail(node, `relabel configuration for ${action} action requires 'target_label' value`);
    }
    if (action === 'hashmod' && rc.modulus === 0)
      d.fail(node, 'relabel configuration for hashmod requires non-zero modulus');
    if (
      (action === 'labeldrop' || action === 'labelkeep') &&
      (f.has('source_labels') || f.has('target_label'))
    ) {
      d.fail(node, `${action} action requires only 'regex', and no other fields`);
    }
    if (
      (action === 'keepequal' || action === 'dropequal') &&
      (f.has('regex') || f.has('modulus') || f.has('replacement'))
    ) {
      d.fail(
        node,
        `${action} action requires only 'source_labels' and \`target_label\`, and no other fields`,
      );
    }
    return rc;
  });
}

/**
 * Static targets; their addresses are checked only where no relabel_configs can still turn them
 * into one, as upstream does: a probe job's `https://example.org` becomes `__param_target`.
 * Every address is checked again after relabeling, when the target is built.
 */
function parseStaticConfigs(d: Decoder, nodes: readonly Node[], relabeled: boolean): StaticConfig[] {
  return nodes.map((node) => {
    const f = d.fields(node, 'targetgroup.Group', ['targets', 'labels']);
    const targets = f.strList('targets');
    if (!relabeled) {
      for (const t of targets)
        if (t.includes('/')) d.fail(f.raw('targets'), `${JSON.stringify(t)} is not a valid hostname`);
    }
    return { targets, labels: f.labelMap('labels') };
  });
}

function parseScrapeConfig(d: Decoder, node: Node, g: GlobalConfig): ScrapeConfig {
  const f = d.fields(
    node,
    'config.ScrapeConfig',
    [
      'job_name',
      'scrape_interval',
      'scrape_timeout',
      'scrape_protocols',
      'fallback_scrape_protocol',
      'metrics_path',
      'scheme',
      'params',
      'honor_labels',
      'honor_timestamps',
      'track_timestamps_staleness',
      'follow_redirects',
      'static_configs',
      'relabel_configs',
      'metric_relabel_configs',
      ...LIMIT_FIELDS,
      ...HTTP_CLIENT_FIELDS,
      ...SUPPORTED_SD_FIELDS,
    ],
    [
      ...LATER_SCRAPE_FIELDS,
      ...LATER_HTTP_CLIENT_FIELDS,
      ...SD_CONFIG_FIELDS.filter(
        (s) => s !== 'static_configs' && !(SUPPORTED_SD_FIELDS as readonly string[]).includes(s),
      ),
    ],
  );
  const jobName = f.str('job_name', '');
  if (jobName === '') d.fail(node, 'job_name is empty');
  const scrapeInterval = f.duration('scrape_interval', g.scrapeInterval);
  const scrapeTimeout = f.duration('scrape_timeout', Math.min(g.scrapeTimeout, scrapeInterval));
  if (scrapeTimeout > scrapeInterval) {
    d.fail(
      f.raw('scrape_timeout') ?? node,
      `scrape timeout greater than scrape interval for scrape config with job name ${JSON.stringify(jobName)}`,
    );
  }
  if (scrapeInterval === 0) d.fail(f.raw('scrape_interval'), 'scrape interval must be greater than 0');
  const scheme = f.str('scheme', 'http');
  if (scheme !== 'http' && scheme !== 'https')
    d.fail(f.raw('scheme'), `unsupported scheme ${JSON.stringify(scheme)}`);
  // Any string, as upstream: the URL gets the leading slash (Go's url.URL adds it), and an empty
  // path (prometheus-operator writes one for every Probe) scrapes "/".
  const metricsPath = f.str('metrics_path', '/metrics');
  const http = parseHTTPClientConfig(d, f);
  let fallback: ScrapeProtocolName | undefined;
  if (f.has('fallback_scrape_protocol')) {
    const p = f.str('fallback_scrape_protocol', '');
    if (!(SCRAPE_PROTOCOL_NAMES as readonly string[]).includes(p)) {
      d.fail(f.raw('fallback_scrape_protocol'), `unknown fallback_scrape_protocol ${p}`);
    }
    fallback = p as ScrapeProtocolName;
  }
  return {
    jobName,
    scrapeInterval,
    scrapeTimeout,
    scrapeProtocols: protocols(f, 'scrape_protocols', g.scrapeProtocols),
    fallbackScrapeProtocol: fallback,
    metricsPath,
    scheme,
    params: f.stringListMap('params'),
    honorLabels: f.bool('honor_labels', false),
    honorTimestamps: f.bool('honor_timestamps', true),
    trackTimestampsStaleness: f.bool('track_timestamps_staleness', false),
    enableCompression: true,
    followRedirects: http.followRedirects,
    http,
    staticConfigs: parseStaticConfigs(d, f.seq('static_configs'), f.seq('relabel_configs').length > 0),
    ...parseServiceDiscovery(d, (k) => f.seq(k)),
    relabelConfigs: parseRelabelConfigs(d, f.seq('relabel_configs')),
    metricRelabelConfigs: parseRelabelConfigs(d, f.seq('metric_relabel_configs')),
    ...limits(f, g),
  };
}

function parseAlerting(d: Decoder, node: Node | null): AlertingConfig {
  const f = d.fields(node, 'config.AlertingConfig', ['alert_relabel_configs', 'alertmanagers']);
  return {
    alertRelabelConfigs: parseRelabelConfigs(d, f.seq('alert_relabel_configs')),
    alertmanagers: f.seq('alertmanagers').map((n) => parseAlertmanager(d, n)),
  };
}

function parseAlertmanager(d: Decoder, node: Node): AlertmanagerConfig {
  const f = d.fields(
    node,
    'config.AlertmanagerConfig',
    [
      'scheme',
      'path_prefix',
      'timeout',
      'api_version',
      'static_configs',
      'relabel_configs',
      'alert_relabel_configs',
      ...HTTP_CLIENT_FIELDS,
    ],
    [...LATER_HTTP_CLIENT_FIELDS, 'sigv4', ...SD_CONFIG_FIELDS.filter((s) => s !== 'static_configs')],
  );
  const scheme = f.str('scheme', 'http');
  if (scheme !== 'http' && scheme !== 'https')
    d.fail(f.raw('scheme'), `unsupported scheme ${JSON.stringify(scheme)}`);
  const apiVersion = f.str('api_version', 'v2');
  if (apiVersion !== 'v2')
    d.fail(f.raw('api_version'), `expected Alertmanager api version to be one of [v2] but got ${apiVersion}`);
  return {
    scheme,
    pathPrefix: f.str('path_prefix', ''),
    timeout: f.duration('timeout', 10_000),
    apiVersion,
    staticConfigs: parseStaticConfigs(d, f.seq('static_configs'), f.seq('relabel_configs').length > 0),
    relabelConfigs: parseRelabelConfigs(d, f.seq('relabel_configs')),
    alertRelabelConfigs: parseRelabelConfigs(d, f.seq('alert_relabel_configs')),
    http: parseHTTPClientConfig(d, f),
  };
}

/** Parses prometheus.yml text; `file` names it in errors. */
export function parsePrometheusConfig(text: string, file = 'prometheus.yml'): PrometheusConfig {
  const d = new Decoder(file, text);
  const top = d.fields(d.root, 'config.Config', [
    'global',
    'rule_files',
    'scrape_configs',
    'scrape_config_files',
    'alerting',
    ...LATER_SECTIONS,
  ]);
  const global = parseGlobal(d, top.raw('global'));
  const scrapeConfigs: ScrapeConfig[] = [];
  const jobs = new Set<string>();
  const addJobs = (dec: Decoder, nodes: readonly Node[]) => {
    for (const node of nodes) {
      const sc = parseScrapeConfig(dec, node, global);
      if (jobs.has(sc.jobName))
        dec.fail(node, `found multiple scrape configs with job name ${JSON.stringify(sc.jobName)}`);
      jobs.add(sc.jobName);
      scrapeConfigs.push(sc);
    }
  };
  addJobs(d, top.seq('scrape_configs'));
  // As upstream's GetScrapeConfigs: globs relative to this file, each file a scrape_configs list.
  for (const pattern of top.strList('scrape_config_files')) {
    if (!/^[^*]*(\*[^/]*)?$/.test(pattern))
      d.fail(top.raw('scrape_config_files'), `invalid scrape config file path ${JSON.stringify(pattern)}`);
    for (const path of globFiles(isAbsolute(pattern) ? pattern : join(dirname(file), pattern))) {
      const fd = new Decoder(path, readConfigFile(path));
      addJobs(fd, fd.fields(fd.root, 'config.ScrapeConfigs', ['scrape_configs']).seq('scrape_configs'));
      d.warnings.push(...fd.warnings);
    }
  }
  checkLaterSections(d, top, (nodes) => parseRelabelConfigs(d, nodes));
  const ruleFiles = top.strList('rule_files');
  const alerting = parseAlerting(d, top.raw('alerting'));
  return { global, ruleFiles, alerting, scrapeConfigs, source: text, warnings: d.warnings };
}

/** Reads a config file; an unreadable file is a ConfigError naming it. */
export function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(
      path,
      0,
      `cannot read file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

export function loadPrometheusConfig(path: string): PrometheusConfig {
  return parsePrometheusConfig(readConfigFile(path), path);
}
