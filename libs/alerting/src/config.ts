import { dirname, isAbsolute, join } from 'node:path';
import { isMap, isScalar, type Node, type Pair, type YAMLMap } from 'yaml';
import {
  Decoder,
  readConfigFile,
  parseHTTPClientConfig,
  parseTLSConfig,
  secretField,
  type Fields,
  type HTTPClientConfig,
  type SecretRef,
  type TLSConfig,
} from '@pharos/config';
import { Matcher, parseMatchers, type MatchType } from './matchers.js';
import { validLabelName } from './labelset.js';
import {
  checkLocation,
  parseClock,
  parseDayOfMonthRange,
  parseMonthRange,
  parseWeekdayRange,
  parseYearRange,
  type TimeInterval,
} from './time-interval.js';

export interface GlobalConfig {
  readonly resolveTimeout: number;
  readonly http: HTTPClientConfig;
  readonly smtpFrom?: string;
  readonly smtpHello: string;
  readonly smtpSmarthost?: string;
  readonly smtpAuthUsername?: string;
  readonly smtpAuthPassword?: SecretRef;
  readonly smtpAuthSecret?: string;
  readonly smtpAuthIdentity?: string;
  readonly smtpRequireTLS: boolean;
  readonly smtpTLS: TLSConfig;
  readonly slackAPIURL?: SecretRef;
  readonly pagerdutyURL: string;
}

export interface RouteConfig {
  readonly receiver?: string;
  /** undefined: inherit; '...': group by every label. */
  readonly groupBy?: readonly string[] | '...';
  readonly continue: boolean;
  readonly matchers: readonly Matcher[];
  readonly groupWait?: number;
  readonly groupInterval?: number;
  readonly repeatInterval?: number;
  readonly muteTimeIntervals: readonly string[];
  readonly activeTimeIntervals: readonly string[];
  readonly routes: readonly RouteConfig[];
}

export interface InhibitRule {
  readonly sourceMatchers: readonly Matcher[];
  readonly targetMatchers: readonly Matcher[];
  readonly equal: readonly string[];
}

interface IntegrationBase {
  readonly sendResolved: boolean;
}

export interface WebhookConfig extends IntegrationBase {
  readonly kind: 'webhook';
  readonly url: SecretRef;
  readonly maxAlerts: number;
  readonly timeout: number;
  readonly http: HTTPClientConfig;
}

export interface EmailConfig extends IntegrationBase {
  readonly kind: 'email';
  readonly to: string;
  readonly from: string;
  readonly hello: string;
  readonly smarthost: { readonly host: string; readonly port: number };
  readonly authUsername?: string;
  readonly authPassword?: SecretRef;
  readonly authSecret?: string;
  readonly authIdentity?: string;
  /** Header templates, names canonicalised (textproto.CanonicalMIMEHeaderKey). */
  readonly headers: Readonly<Record<string, string>>;
  readonly html: string;
  readonly text: string;
  readonly requireTLS: boolean;
  readonly tls: TLSConfig;
}

export interface SlackField {
  readonly title: string;
  readonly value: string;
  readonly short?: boolean;
}

export interface SlackConfig extends IntegrationBase {
  readonly kind: 'slack';
  readonly apiURL: SecretRef;
  readonly channel: string;
  readonly username: string;
  readonly color: string;
  readonly title: string;
  readonly titleLink: string;
  readonly pretext: string;
  readonly text: string;
  readonly fallback: string;
  readonly callbackId: string;
  readonly iconEmoji: string;
  readonly iconURL: string;
  readonly footer: string;
  readonly linkNames: boolean;
  readonly shortFields: boolean;
  readonly mrkdwnIn: readonly string[];
  readonly fields: readonly SlackField[];
  readonly http: HTTPClientConfig;
}

export interface PagerdutyConfig extends IntegrationBase {
  readonly kind: 'pagerduty';
  readonly routingKey?: SecretRef;
  readonly serviceKey?: SecretRef;
  readonly url: string;
  readonly client: string;
  readonly clientURL: string;
  readonly description: string;
  readonly severity: string;
  readonly class: string;
  readonly component: string;
  readonly group: string;
  readonly source: string;
  readonly details: Readonly<Record<string, string>>;
  readonly http: HTTPClientConfig;
}

export type IntegrationConfig = WebhookConfig | EmailConfig | SlackConfig | PagerdutyConfig;

export interface ReceiverConfig {
  readonly name: string;
  readonly integrations: readonly IntegrationConfig[];
}

export interface AlertmanagerConfig {
  readonly global: GlobalConfig;
  readonly route: RouteConfig;
  readonly inhibitRules: readonly InhibitRule[];
  readonly receivers: readonly ReceiverConfig[];
  readonly timeIntervals: ReadonlyMap<string, readonly TimeInterval[]>;
  /** Template file globs, resolved against the config file's directory. */
  readonly templates: readonly string[];
  /** The file as written: `/api/v2/status` returns it, and amtool reads routes from it. */
  readonly original: string;
  /** Fields upstream has that are loaded but not acted on, each with its file and line. */
  readonly warnings: readonly string[];
}

const UNSUPPORTED_RECEIVERS = [
  'discord_configs',
  'jira_configs',
  'msteams_configs',
  'msteamsv2_configs',
  'opsgenie_configs',
  'pushover_configs',
  'rocketchat_configs',
  'sns_configs',
  'telegram_configs',
  'victorops_configs',
  'webex_configs',
  'wechat_configs',
];

const UNSUPPORTED_GLOBALS = [
  'opsgenie_api_url',
  'opsgenie_api_key',
  'opsgenie_api_key_file',
  'wechat_api_url',
  'wechat_api_secret',
  'wechat_api_corp_id',
  'victorops_api_url',
  'victorops_api_key',
  'victorops_api_key_file',
  'telegram_api_url',
  'webex_api_url',
  'jira_api_url',
  'rocketchat_api_url',
  'rocketchat_token',
  'rocketchat_token_file',
  'rocketchat_token_id',
  'rocketchat_token_id_file',
];

const HTTP_FIELDS = ['http_config'];

function httpConfig(d: Decoder, f: Fields, def: HTTPClientConfig): HTTPClientConfig {
  if (!f.has('http_config')) return def;
  const h = d.fields(f.raw('http_config'), 'config.HTTPClientConfig', [
    'basic_auth',
    'authorization',
    'tls_config',
    'follow_redirects',
    'enable_http2',
  ]);
  return parseHTTPClientConfig(d, h);
}

function parseGlobal(d: Decoder, node: Node | null): GlobalConfig {
  const f = d.fields(
    node,
    'config.GlobalConfig',
    [
      'resolve_timeout',
      ...HTTP_FIELDS,
      'smtp_from',
      'smtp_hello',
      'smtp_smarthost',
      'smtp_auth_username',
      'smtp_auth_password',
      'smtp_auth_password_file',
      'smtp_auth_secret',
      'smtp_auth_identity',
      'smtp_require_tls',
      'smtp_tls_config',
      'slack_api_url',
      'slack_api_url_file',
      'pagerduty_url',
    ],
    UNSUPPORTED_GLOBALS,
  );
  const defaultHTTP = parseHTTPClientConfig(d, d.fields(null, 'config.HTTPClientConfig', []));
  return {
    resolveTimeout: f.duration('resolve_timeout', 5 * 60_000),
    http: httpConfig(d, f, defaultHTTP),
    smtpFrom: f.str('smtp_from'),
    smtpHello: f.str('smtp_hello', 'localhost'),
    smtpSmarthost: f.str('smtp_smarthost'),
    smtpAuthUsername: f.str('smtp_auth_username'),
    smtpAuthPassword: secretField(d, f, 'smtp_auth_password', 'global'),
    smtpAuthSecret: f.str('smtp_auth_secret'),
    smtpAuthIdentity: f.str('smtp_auth_identity'),
    smtpRequireTLS: f.bool('smtp_require_tls', true),
    smtpTLS: parseTLSConfig(d, f.raw('smtp_tls_config')),
    slackAPIURL: secretField(d, f, 'slack_api_url', 'global'),
    pagerdutyURL: f.str('pagerduty_url', 'https://events.pagerduty.com/v2/enqueue'),
  };
}

/** `matchers` strings plus the legacy `match`/`match_re` maps, sorted as labels.Matchers sorts. */
function routeMatchers(d: Decoder, f: Fields, prefix: string): Matcher[] {
  const out: Matcher[] = [];
  const match = f.labelMap(`${prefix}match`);
  for (const [n, v] of Object.entries(match)) out.push(new Matcher('=', n, v));
  const re = f.labelMap(`${prefix}match_re`);
  for (const [n, v] of Object.entries(re)) {
    try {
      out.push(new Matcher('=~', n, v));
    } catch (e) {
      d.fail(f.raw(`${prefix}match_re`), `${(e as Error).message}`);
    }
  }
  for (const [i, s] of f.strList(`${prefix}matchers`).entries()) {
    try {
      out.push(...parseMatchers(s));
    } catch (e) {
      d.fail(f.seq(`${prefix}matchers`)[i], (e as Error).message);
    }
  }
  return sortMatchers(out);
}

const TYPE_ORDER: Record<MatchType, number> = { '=': 0, '!=': 1, '=~': 2, '!~': 3 };

export function sortMatchers(ms: Matcher[]): Matcher[] {
  return ms.sort((a, b) =>
    a.name !== b.name
      ? a.name < b.name
        ? -1
        : 1
      : a.type !== b.type
        ? TYPE_ORDER[a.type] - TYPE_ORDER[b.type]
        : a.value < b.value
          ? -1
          : a.value > b.value
            ? 1
            : 0,
  );
}

function optDuration(d: Decoder, f: Fields, key: string, nonZero: boolean): number | undefined {
  if (!f.has(key)) return undefined;
  const v = f.duration(key, 0);
  if (nonZero && v === 0) d.fail(f.raw(key), `${key} cannot be zero`);
  return v;
}

function parseRoute(d: Decoder, node: Node | null): RouteConfig {
  const f = d.fields(node, 'config.Route', [
    'receiver',
    'group_by',
    'continue',
    'matchers',
    'match',
    'match_re',
    'group_wait',
    'group_interval',
    'repeat_interval',
    'mute_time_intervals',
    'active_time_intervals',
    'routes',
  ]);
  let groupBy: RouteConfig['groupBy'];
  if (f.has('group_by')) {
    const names = f.strList('group_by');
    if (names.includes('...')) {
      if (names.length > 1)
        d.fail(
          f.raw('group_by'),
          'cannot have wildcard group_by (`...`) and other other labels at the same time',
        );
      groupBy = '...';
    } else {
      const seen = new Set<string>();
      for (const n of names) {
        if (!validLabelName(n))
          d.fail(f.raw('group_by'), `invalid label name ${JSON.stringify(n)} in group_by list`);
        if (seen.has(n)) d.fail(f.raw('group_by'), `duplicated label ${JSON.stringify(n)} in group_by`);
        seen.add(n);
      }
      groupBy = names;
    }
  }
  return {
    receiver: f.str('receiver'),
    groupBy,
    continue: f.bool('continue', false),
    matchers: routeMatchers(d, f, ''),
    groupWait: optDuration(d, f, 'group_wait', false),
    groupInterval: optDuration(d, f, 'group_interval', true),
    repeatInterval: optDuration(d, f, 'repeat_interval', true),
    muteTimeIntervals: f.strList('mute_time_intervals'),
    activeTimeIntervals: f.strList('active_time_intervals'),
    routes: f.seq('routes').map((n) => parseRoute(d, n)),
  };
}

function parseInhibitRule(d: Decoder, node: Node): InhibitRule {
  const f = d.fields(node, 'config.InhibitRule', [
    'source_match',
    'source_match_re',
    'source_matchers',
    'target_match',
    'target_match_re',
    'target_matchers',
    'equal',
  ]);
  const equal = f.strList('equal');
  for (const n of equal)
    if (!validLabelName(n)) d.fail(f.raw('equal'), `invalid label name ${JSON.stringify(n)}`);
  return {
    sourceMatchers: routeMatchers(d, f, 'source_'),
    targetMatchers: routeMatchers(d, f, 'target_'),
    equal,
  };
}

function parseTimeIntervals(d: Decoder, node: Node): { name: string; intervals: TimeInterval[] } {
  const f = d.fields(node, 'config.TimeInterval', ['name', 'time_intervals']);
  const name = f.str('name');
  if (!name) d.fail(node, 'missing name in time interval');
  const intervals = f.seq('time_intervals').map((n): TimeInterval => {
    const t = d.fields(n, 'timeinterval.TimeInterval', [
      'times',
      'weekdays',
      'days_of_month',
      'months',
      'years',
      'location',
    ]);
    const list = <T>(key: string, parse: (s: string) => T): T[] =>
      t.strList(key).map((s, i) => {
        try {
          return parse(s);
        } catch (e) {
          return d.fail(t.seq(key)[i], (e as Error).message);
        }
      });
    const times = t.seq('times').map((tn) => {
      const r = d.fields(tn, 'timeinterval.TimeRange', ['start_time', 'end_time']);
      try {
        const start = parseClock(r.str('start_time', ''));
        const end = parseClock(r.str('end_time', ''));
        if (start >= end) throw new Error('start time cannot be equal or greater than end time');
        return { start, end };
      } catch (e) {
        return d.fail(tn, (e as Error).message);
      }
    });
    const location = t.str('location', 'UTC');
    try {
      checkLocation(location);
    } catch (e) {
      d.fail(t.raw('location'), (e as Error).message);
    }
    return {
      times,
      weekdays: list('weekdays', parseWeekdayRange),
      daysOfMonth: list('days_of_month', parseDayOfMonthRange),
      months: list('months', parseMonthRange),
      years: list('years', parseYearRange),
      location,
    };
  });
  return { name, intervals };
}

/** textproto.CanonicalMIMEHeaderKey: "content-type" → "Content-Type". */
function canonicalHeader(k: string): string {
  return k
    .split('-')
    .map((p) => (p === '' ? p : p[0].toUpperCase() + p.slice(1).toLowerCase()))
    .join('-');
}

function stringRecord(d: Decoder, node: Node | null, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (node == null || (isScalar(node) && node.value == null)) return out;
  if (!isMap(node)) d.fail(node, `${what} must be a mapping`);
  for (const item of (node as YAMLMap).items as Array<Pair<Node, Node>>) {
    const k = isScalar(item.key) ? String(item.key.value) : '';
    const v = item.value;
    if (v != null && (!isScalar(v) || typeof v.value === 'object'))
      d.fail(v, `${what}.${k} must be a string`);
    out[k] = v == null || !isScalar(v) || v.value == null ? '' : String(v.value);
  }
  return out;
}

function smarthost(d: Decoder, node: Node | null, s: string): { host: string; port: number } {
  const m = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(s);
  if (!m) d.fail(node, `address ${s}: missing port in address`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function parseWebhook(d: Decoder, node: Node, g: GlobalConfig): WebhookConfig {
  const f = d.fields(node, 'config.WebhookConfig', [
    'send_resolved',
    'url',
    'url_file',
    'max_alerts',
    'timeout',
    ...HTTP_FIELDS,
  ]);
  const url = secretField(d, f, 'url', 'webhook');
  if (!url) d.fail(node, 'one of url or url_file must be configured');
  if (url.value !== undefined && !/^https?:\/\//.test(url.value))
    d.fail(f.raw('url'), `unsupported scheme "${url.value.split(':')[0]}" for URL`);
  return {
    kind: 'webhook',
    sendResolved: f.bool('send_resolved', true),
    url,
    maxAlerts: f.int('max_alerts', 0),
    timeout: f.duration('timeout', 0),
    http: httpConfig(d, f, g.http),
  };
}

function parseEmail(d: Decoder, node: Node, g: GlobalConfig): EmailConfig {
  const f = d.fields(node, 'config.EmailConfig', [
    'send_resolved',
    'to',
    'from',
    'hello',
    'smarthost',
    'auth_username',
    'auth_password',
    'auth_password_file',
    'auth_secret',
    'auth_identity',
    'headers',
    'html',
    'text',
    'require_tls',
    'tls_config',
  ]);
  const to = f.str('to');
  if (!to) d.fail(node, 'missing to address in email config');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(stringRecord(d, f.raw('headers'), 'headers'))) {
    const c = canonicalHeader(k);
    if (headers[c] !== undefined)
      d.fail(f.raw('headers'), `duplicate header ${JSON.stringify(c)} in email config`);
    headers[c] = v;
  }
  const from = f.str('from') ?? g.smtpFrom;
  if (!from) d.fail(node, 'no global SMTP from set');
  const host = f.str('smarthost') ?? g.smtpSmarthost;
  if (!host) d.fail(node, 'no global SMTP smarthost set');
  headers.Subject ??= '{{ template "email.default.subject" . }}';
  headers.To ??= to;
  headers.From ??= from;
  const password = secretField(d, f, 'auth_password', 'email');
  return {
    kind: 'email',
    sendResolved: f.bool('send_resolved', false),
    to,
    from,
    hello: f.str('hello') ?? g.smtpHello,
    smarthost: smarthost(d, f.raw('smarthost') ?? node, host),
    authUsername: f.str('auth_username') ?? g.smtpAuthUsername,
    authPassword: password ?? g.smtpAuthPassword,
    authSecret: f.str('auth_secret') ?? g.smtpAuthSecret,
    authIdentity: f.str('auth_identity') ?? g.smtpAuthIdentity,
    headers,
    html: f.str('html', '{{ template "email.default.html" . }}'),
    text: f.str('text', ''),
    requireTLS: f.bool('require_tls', g.smtpRequireTLS),
    tls: f.has('tls_config') ? parseTLSConfig(d, f.raw('tls_config')) : g.smtpTLS,
  };
}

function parseSlack(d: Decoder, node: Node, g: GlobalConfig): SlackConfig {
  const f = d.fields(
    node,
    'config.SlackConfig',
    [
      'send_resolved',
      'api_url',
      'api_url_file',
      'channel',
      'username',
      'color',
      'title',
      'title_link',
      'pretext',
      'text',
      'fallback',
      'callback_id',
      'icon_emoji',
      'icon_url',
      'footer',
      'link_names',
      'short_fields',
      'mrkdwn_in',
      'fields',
      ...HTTP_FIELDS,
    ],
    ['actions', 'image_url', 'thumb_url', 'app_token', 'app_token_file', 'timeout', 'message_text'],
  );
  const apiURL = secretField(d, f, 'api_url', 'slack') ?? g.slackAPIURL;
  if (!apiURL) d.fail(node, 'no global Slack API URL set either inline or in a file');
  const fields = f.seq('fields').map((n): SlackField => {
    const sf = d.fields(n, 'config.SlackField', ['title', 'value', 'short']);
    const title = sf.str('title', '');
    const value = sf.str('value', '');
    if (title === '') d.fail(n, 'missing title in Slack field configuration');
    if (value === '') d.fail(n, 'missing value in Slack field configuration');
    return sf.has('short') ? { title, value, short: sf.bool('short', false) } : { title, value };
  });
  return {
    kind: 'slack',
    sendResolved: f.bool('send_resolved', false),
    apiURL,
    channel: f.str('channel', ''),
    username: f.str('username', '{{ template "slack.default.username" . }}'),
    color: f.str('color', '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}'),
    title: f.str('title', '{{ template "slack.default.title" . }}'),
    titleLink: f.str('title_link', '{{ template "slack.default.titlelink" . }}'),
    pretext: f.str('pretext', '{{ template "slack.default.pretext" . }}'),
    text: f.str('text', '{{ template "slack.default.text" . }}'),
    fallback: f.str('fallback', '{{ template "slack.default.fallback" . }}'),
    callbackId: f.str('callback_id', '{{ template "slack.default.callbackid" . }}'),
    iconEmoji: f.str('icon_emoji', '{{ template "slack.default.iconemoji" . }}'),
    iconURL: f.str('icon_url', '{{ template "slack.default.iconurl" . }}'),
    footer: f.str('footer', '{{ template "slack.default.footer" . }}'),
    linkNames: f.bool('link_names', false),
    shortFields: f.bool('short_fields', false),
    mrkdwnIn: f.has('mrkdwn_in') ? f.strList('mrkdwn_in') : ['fallback', 'pretext', 'text'],
    fields,
    http: httpConfig(d, f, g.http),
  };
}

function parsePagerduty(d: Decoder, node: Node, g: GlobalConfig): PagerdutyConfig {
  const f = d.fields(
    node,
    'config.PagerdutyConfig',
    [
      'send_resolved',
      'routing_key',
      'routing_key_file',
      'service_key',
      'service_key_file',
      'url',
      'client',
      'client_url',
      'description',
      'severity',
      'class',
      'component',
      'group',
      'source',
      'details',
      ...HTTP_FIELDS,
    ],
    ['images', 'links', 'timeout'],
  );
  const routingKey = secretField(d, f, 'routing_key', 'pagerduty');
  const serviceKey = secretField(d, f, 'service_key', 'pagerduty');
  if (!routingKey && !serviceKey) d.fail(node, 'missing service or routing key in PagerDuty config');
  const client = f.str('client', '{{ template "pagerduty.default.client" . }}');
  return {
    kind: 'pagerduty',
    sendResolved: f.bool('send_resolved', true),
    routingKey,
    serviceKey,
    url: f.str('url', g.pagerdutyURL),
    client,
    clientURL: f.str('client_url', '{{ template "pagerduty.default.clientURL" . }}'),
    description: f.str('description', '{{ template "pagerduty.default.description" .}}'),
    severity: f.str('severity', 'error'),
    class: f.str('class', ''),
    component: f.str('component', ''),
    group: f.str('group', ''),
    source: f.str('source', client),
    details: {
      firing: '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
      resolved: '{{ template "pagerduty.default.instances" .Alerts.Resolved }}',
      num_firing: '{{ .Alerts.Firing | len }}',
      num_resolved: '{{ .Alerts.Resolved | len }}',
      ...stringRecord(d, f.raw('details'), 'details'),
    },
    http: httpConfig(d, f, g.http),
  };
}

function parseReceiver(d: Decoder, node: Node, g: GlobalConfig): ReceiverConfig {
  const f = d.fields(node, 'config.Receiver', [
    'name',
    'webhook_configs',
    'email_configs',
    'slack_configs',
    'pagerduty_configs',
    ...UNSUPPORTED_RECEIVERS,
  ]);
  const name = f.str('name');
  if (!name) d.fail(node, 'missing name in receiver');
  for (const k of UNSUPPORTED_RECEIVERS) {
    if (f.seq(k).length > 0)
      d.fail(f.raw(k), `receiver ${JSON.stringify(name)}: ${k} are not supported by Pharos`);
  }
  return {
    name,
    integrations: [
      ...f.seq('email_configs').map((n) => parseEmail(d, n, g)),
      ...f.seq('pagerduty_configs').map((n) => parsePagerduty(d, n, g)),
      ...f.seq('slack_configs').map((n) => parseSlack(d, n, g)),
      ...f.seq('webhook_configs').map((n) => parseWebhook(d, n, g)),
    ],
  };
}

function checkRoutes(
  d: Decoder,
  node: Node | null,
  r: RouteConfig,
  receivers: ReadonlySet<string>,
  intervals: ReadonlyMap<string, unknown>,
): void {
  if (r.receiver !== undefined && !receivers.has(r.receiver))
    d.fail(node, `undefined receiver ${JSON.stringify(r.receiver)} used in route`);
  for (const n of [...r.muteTimeIntervals, ...r.activeTimeIntervals]) {
    if (!intervals.has(n)) d.fail(node, `undefined time interval ${JSON.stringify(n)} used in route`);
  }
  const children = node && isMap(node) ? (node.get('routes', true) as Node | undefined) : undefined;
  const childNodes = children && 'items' in children ? (children.items as Node[]) : [];
  r.routes.forEach((c, i) => checkRoutes(d, childNodes[i] ?? node, c, receivers, intervals));
}

/** Parses alertmanager.yml text; `file` names it in errors and anchors relative template paths. */
export function parseAlertmanagerConfig(text: string, file = 'alertmanager.yml'): AlertmanagerConfig {
  const d = new Decoder(file, text);
  const top = d.fields(d.root, 'config.plain', [
    'global',
    'route',
    'inhibit_rules',
    'receivers',
    'templates',
    'time_intervals',
    'mute_time_intervals',
  ]);
  const global = parseGlobal(d, top.raw('global'));
  const receivers = top.seq('receivers').map((n) => parseReceiver(d, n, global));
  const names = new Set<string>();
  top.seq('receivers').forEach((n, i) => {
    const name = receivers[i].name;
    if (names.has(name)) d.fail(n, `notification config name ${JSON.stringify(name)} is not unique`);
    names.add(name);
  });
  const timeIntervals = new Map<string, TimeInterval[]>();
  for (const key of ['mute_time_intervals', 'time_intervals']) {
    for (const n of top.seq(key)) {
      const ti = parseTimeIntervals(d, n);
      if (timeIntervals.has(ti.name)) d.fail(n, `time interval ${JSON.stringify(ti.name)} is not unique`);
      timeIntervals.set(ti.name, ti.intervals);
    }
  }
  if (!top.has('route')) d.fail(d.root, 'no routes provided');
  const routeNode = top.raw('route');
  const route = parseRoute(d, routeNode);
  if (!route.receiver) d.fail(routeNode, 'root route must specify a default receiver');
  if (route.matchers.length > 0) d.fail(routeNode, 'root route must not have any matchers');
  if (route.continue) d.fail(routeNode, 'cannot have continue in root route');
  if (route.muteTimeIntervals.length > 0)
    d.fail(routeNode, 'root route must not have any mute time intervals');
  if (route.activeTimeIntervals.length > 0)
    d.fail(routeNode, 'root route must not have any active time intervals');
  checkRoutes(d, routeNode, route, names, timeIntervals);
  const base = dirname(file);
  return {
    global,
    route,
    inhibitRules: top.seq('inhibit_rules').map((n) => parseInhibitRule(d, n)),
    receivers,
    timeIntervals,
    templates: top.strList('templates').map((t) => (isAbsolute(t) ? t : join(base, t))),
    original: text,
    warnings: d.warnings,
  };
}

export function loadAlertmanagerConfig(path: string): AlertmanagerConfig {
  return parseAlertmanagerConfig(readConfigFile(path), path);
}
