import type { ExpositionFormat } from './parser.js';

/** The scrape_protocols names Prometheus 3 knows, with the Accept header part each one sends. */
export const SCRAPE_PROTOCOLS = {
  OpenMetricsText1_0_0: 'application/openmetrics-text;version=1.0.0',
  OpenMetricsText0_0_1: 'application/openmetrics-text;version=0.0.1',
  PrometheusText1_0_0: 'text/plain;version=1.0.0',
  PrometheusText0_0_4: 'text/plain;version=0.0.4',
  PrometheusProto:
    'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
} as const;

export type ScrapeProtocol = keyof typeof SCRAPE_PROTOCOLS;

/** Builds the Accept header for protocols in order of preference, with q-values as Prometheus does. */
export function acceptHeader(protocols: readonly ScrapeProtocol[]): string {
  let weight = protocols.length + 1;
  const parts = protocols.map((p) => `${SCRAPE_PROTOCOLS[p]};q=0.${weight--}`);
  parts.push(`*/*;q=0.${weight}`);
  return parts.join(',');
}

/** Which parser handles a response, by its Content-Type; undefined when we cannot parse it. */
export function formatForContentType(contentType: string | null | undefined): ExpositionFormat | undefined {
  if (!contentType) return undefined;
  const media = contentType.split(';')[0].trim().toLowerCase();
  if (media === 'application/openmetrics-text') return 'openmetrics';
  if (media === 'text/plain') return 'prometheus';
  return undefined;
}
