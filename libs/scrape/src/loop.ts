import {
  SCRAPE_PROTOCOLS,
  ExpositionParser,
  flatCopy,
  formatForContentType,
  type ExpositionFormat,
  type MetricType,
} from '@pharos/exposition';
import type { ScrapeConfig, ScrapeProtocolName } from '@pharos/config';
import {
  LabelsBuilder,
  labelsHash,
  MAX_AHEAD_MS,
  METRIC_NAME,
  PartitionedBatchBuilder,
  shardOf,
  STALE_NAN,
  TimeSlice,
  type Label,
  type Labels,
  type SampleBatch,
} from '@pharos/model';
import { relabel } from '@pharos/relabel';
import type { Dispatcher } from 'undici';
import { authorizationHeader, fetchMetrics, ScrapeError } from './http.js';
import type { ResolvedTarget } from './target.js';

/** Where scraped samples go: the sample bus in every mode. */
export interface SampleSink {
  publish(batch: SampleBatch): Promise<void>;
}

/**
 * A sink that splits batches by partition (`shardOf(hash, partitions)`), as the sample bus does.
 * The loop then remembers each series' partition and builds each partition's batch itself.
 */
export interface PartitionedSampleSink extends SampleSink {
  readonly partitions: number;
  publishPartitioned(parts: ReadonlyArray<SampleBatch | undefined>): Promise<void>;
}

function isPartitioned(sink: SampleSink): sink is PartitionedSampleSink {
  return 'publishPartitioned' in sink && typeof sink.publishPartitioned === 'function';
}

export interface MetricMetadata {
  readonly type: MetricType;
  readonly help: string;
  readonly unit: string;
}

export type TargetHealth = 'up' | 'down' | 'unknown';

export interface TargetStatus {
  health: TargetHealth;
  lastError: string;
  lastScrape: number;
  lastScrapeDuration: number;
  lastSamples: number;
}

interface CacheEntry {
  /** The series text as exposed: the cache key. */
  readonly text: string;
  /** Final labels and hash, or null when metric relabeling dropped the series. */
  readonly labels: Labels | null;
  readonly hash: string;
  /** shardOf(hash) over the sink's partitions. */
  readonly partition: number;
  lastSeen: number;
  /** The iteration that last wrote the series with the scrape's own timestamp (tracked for staleness). */
  seenIter: number;
}

const PROTOCOL_KEY: Record<ScrapeProtocolName, keyof typeof SCRAPE_PROTOCOLS> = {
  'OpenMetricsText1.0.0': 'OpenMetricsText1_0_0',
  'OpenMetricsText0.0.1': 'OpenMetricsText0_0_1',
  'PrometheusText1.0.0': 'PrometheusText1_0_0',
  'PrometheusText0.0.4': 'PrometheusText0_0_4',
  PrometheusProto: 'PrometheusProto',
};

/** The Accept header for a job's scrape_protocols; the protobuf format is not offered (no parser). */
export function acceptFor(protocols: readonly ScrapeProtocolName[]): string {
  const offered = protocols.filter((p) => p !== 'PrometheusProto');
  let weight = offered.length + 1;
  const parts = offered.map((p) => `${SCRAPE_PROTOCOLS[PROTOCOL_KEY[p]]};q=0.${weight--}`);
  parts.push(`*/*;q=0.${weight}`);
  return parts.join(',');
}

function fallbackFormat(p: ScrapeProtocolName | undefined): ExpositionFormat | undefined {
  if (p === undefined) return undefined;
  return p.startsWith('OpenMetrics')
    ? 'openmetrics'
    : p.startsWith('PrometheusText')
      ? 'prometheus'
      : undefined;
}

/**
 * Scrapes one target on its interval. The phase within the interval comes from the target's hash,
 * so targets spread out and a restart keeps the same rhythm.
 */
export class ScrapeLoop {
  readonly status: TargetStatus = {
    health: 'unknown',
    lastError: '',
    lastScrape: 0,
    lastScrapeDuration: 0,
    lastSamples: 0,
  };
  readonly metadata = new Map<string, MetricMetadata>();
  private readonly cache = new Map<string, CacheEntry>();
  /**
   * Entries in the order the last scrape exposed them. Targets expose the same series in the same
   * order scrape after scrape, so line k is first compared in place with entry k of this list,
   * which costs less than slicing the line and hashing it for the map.
   */
  private order: CacheEntry[] = [];
  private readonly bodyBuffer = { buf: Buffer.alloc(0) };
  private readonly accept: string;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private iteration = 0;
  /**
   * Series written by the previous successful scrape, for staleness markers, and the list the
   * current scrape fills: two lists swapped rather than a new 100k-entry array per scrape.
   */
  private previous = new EntryList();
  private current = new EntryList();
  private stopped = false;
  /** Set while the pool is over target_limit: every scrape fails with this instead of fetching. */
  forcedError = '';
  /** The sink, when it takes batches by partition; decided once, not per scrape. */
  private readonly partitioned: PartitionedSampleSink | undefined;
  private readonly partitions: number;

  constructor(
    readonly target: ResolvedTarget,
    private cfg: ScrapeConfig,
    private readonly sink: SampleSink,
    private dispatcher: Dispatcher,
    private readonly onError: (err: unknown) => void,
    private readonly userAgent = 'Pharos/0.1.0',
    /** Samples of one scrape refused for a timestamp too far ahead of the scrape (upstream's out of bounds). */
    private readonly onOutOfBounds: (n: number) => void = () => undefined,
  ) {
    this.accept = acceptFor(cfg.scrapeProtocols);
    this.partitioned = isPartitioned(sink) ? sink : undefined;
    this.partitions = this.partitioned?.partitions ?? 1;
  }

  /** Keeps scrape state (cache, staleness tracking) across a reload of an unchanged target. */
  updateConfig(cfg: ScrapeConfig, dispatcher: Dispatcher): void {
    if (cfg === this.cfg && dispatcher === this.dispatcher) return;
    this.cfg = cfg;
    this.dispatcher = dispatcher;
    this.cache.clear();
    this.order = [];
  }

  start(now = Date.now()): void {
    const interval = this.target.interval;
    const offset = parseInt(this.target.key.slice(8), 16) % interval;
    let wait = offset - (now % interval);
    if (wait < 0) wait += interval;
    this.timer = setTimeout(() => this.tick(), wait);
  }

  private tick(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), this.target.interval);
    if (this.running) return; // the previous scrape is still going; skip rather than pile up
    this.running = this.scrapeOnce()
      .catch((e) => this.onError(e))
      .finally(() => {
        this.running = null;
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Stale markers for everything this target last wrote, when the target goes away. */
  async markStale(now = Date.now()): Promise<void> {
    const b = new PartitionedBatchBuilder(this.partitions, this.previous.n + REPORT_NAMES.length);
    const prev = this.previous;
    for (let i = 0; i < prev.n; i++) {
      const e = prev.items[i];
      if (e.labels) b.push(e.labels, now, STALE_NAN, e.hash, e.partition);
    }
    for (const name of REPORT_NAMES) b.push(this.reportLabels(name), now, STALE_NAN);
    prev.clear();
    if (b.length > 0) await this.publish(b);
  }

  private publish(b: PartitionedBatchBuilder): Promise<void> {
    const parts = b.build();
    if (this.partitioned) return this.partitioned.publishPartitioned(parts);
    const only = parts[0];
    return only ? this.sink.publish(only) : Promise.resolve();
  }

  /** One scrape: fetch, parse, relabel, publish samples and report series as one batch. */
  async scrapeOnce(start = Date.now()): Promise<void> {
    this.iteration++;
    const cfg = this.cfg;
    // Sized for what the last scrape wrote plus the report series, so the columns need not grow.
    const batch = new PartitionedBatchBuilder(this.partitions, this.order.length + 16);
    let scraped = 0;
    let postRelabel = 0;
    let added = 0;
    let error = '';
    const seen = this.current;
    seen.clear();
    try {
      if (this.forcedError !== '') throw new ScrapeError(this.forcedError);
      let authorization: string | undefined;
      try {
        authorization = authorizationHeader(cfg.http);
      } catch (e) {
        throw new ScrapeError(`unable to read authorization credentials: ${(e as Error).message}`);
      }
      const res = await fetchMetrics(
        this.target.url,
        {
          accept: this.accept,
          timeout: this.target.timeout,
          bodySizeLimit: cfg.bodySizeLimit,
          compression: cfg.enableCompression,
          userAgent: this.userAgent,
          authorization,
          scratch: this.bodyBuffer,
        },
        this.dispatcher,
      );
      const format = formatForContentType(res.contentType) ?? fallbackFormat(cfg.fallbackScrapeProtocol);
      if (format === undefined) {
        throw new ScrapeError(
          `received unsupported Content-Type ${JSON.stringify(res.contentType ?? '')} and no fallback_scrape_protocol specified for target`,
        );
      }
      const r = await this.parse(res.body, format, start, batch, seen);
      if (r.outOfBounds > 0) this.onOutOfBounds(r.outOfBounds);
      scraped = r.scraped;
      postRelabel = r.postRelabel;
      added = r.added;
      if (cfg.sampleLimit > 0 && postRelabel > cfg.sampleLimit) {
        throw new ScrapeError(`sample limit exceeded (${postRelabel} > ${cfg.sampleLimit})`);
      }
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const duration = (Date.now() - start) / 1000;
    // A failed scrape writes nothing of what it read, and marks the last scrape's series stale.
    const out = error === '' ? batch : new PartitionedBatchBuilder(this.partitions, this.previous.n + 16);
    const iteration = this.iteration;
    const prev = this.previous;
    for (let i = 0; i < prev.n; i++) {
      const e = prev.items[i];
      if (error === '' && e.seenIter === iteration) continue;
      if (e.labels) out.push(e.labels, start, STALE_NAN, e.hash, e.partition);
    }
    if (error === '') {
      seen.trim();
      this.previous = seen;
      this.current = prev;
    } else {
      prev.clear();
    }
    this.addReport(out, start, error === '' ? 1 : 0, duration, scraped, postRelabel, added);
    this.status.health = error === '' ? 'up' : 'down';
    this.status.lastError = error;
    this.status.lastScrape = start;
    this.status.lastScrapeDuration = duration;
    this.status.lastSamples = scraped;
    this.evictCache();
    await this.publish(out);
  }

  /**
   * Parses, relabels and batches a body, giving the event loop back every few thousand lines
   * once a time slice is spent: a target of a million series is seconds of this work. Nothing
   * else touches this loop's cache meanwhile (its scrapes run one after another).
   */
  private async parse(
    body: string,
    format: ExpositionFormat,
    ts: number,
    batch: PartitionedBatchBuilder,
    seen: EntryList,
  ) {
    const cfg = this.cfg;
    const slice = new TimeSlice();
    let lines = 0;
    const p = new ExpositionParser(body, format);
    let scraped = 0;
    let postRelabel = 0;
    let added = 0;
    let outOfBounds = 0;
    // An exposed timestamp this far ahead is refused, as upstream's timeLimitAppender refuses it.
    const maxT = ts + MAX_AHEAD_MS;
    // Rewritten in place: entry k is read as the prediction for line k before it is replaced.
    const order = this.order;
    const pendingMeta = new Map<string, { type?: MetricType; help?: string; unit?: string }>();
    for (let e = p.next(this.order[0]?.text); e !== null; e = p.next(this.order[scraped]?.text)) {
      if ((++lines & 4095) === 0 && slice.due()) await slice.pause();
      if (e === 'type' || e === 'help' || e === 'unit') {
        const name = p.metadataName();
        const m = pendingMeta.get(name) ?? {};
        if (e === 'type') m.type = p.metadataText() as MetricType;
        else if (e === 'help') m.help = p.metadataText();
        else m.unit = p.metadataText();
        pendingMeta.set(name, m);
        continue;
      }
      if (e !== 'series') continue;
      const predicted = this.order[scraped];
      let entry =
        predicted !== undefined && (p.matchedPrediction || p.seriesIs(predicted.text))
          ? predicted
          : undefined;
      if (entry === undefined) {
        const key = p.seriesText();
        entry = this.cache.get(key);
        if (entry === undefined) {
          const labels = this.sampleLabels(p.labels());
          this.checkLimits(labels);
          const hash = labels ? labelsHash(labels) : '';
          entry = {
            // Kept for the life of the series: a slice would keep this whole body alive.
            text: flatCopy(key),
            labels,
            hash,
            partition: labels ? shardOf(hash, this.partitions) : 0,
            lastSeen: this.iteration,
            seenIter: 0,
          };
          this.cache.set(key, entry);
          if (labels) added++;
        }
      }
      order[scraped] = entry;
      scraped++;
      entry.lastSeen = this.iteration;
      if (entry.labels === null) continue;
      postRelabel++;
      const explicit = p.timestamp();
      const t = explicit !== null && cfg.honorTimestamps ? explicit : ts;
      if (t > maxT) {
        outOfBounds++;
        continue;
      }
      if (
        entry.seenIter !== this.iteration &&
        (explicit === null || !cfg.honorTimestamps || cfg.trackTimestampsStaleness)
      ) {
        entry.seenIter = this.iteration;
        seen.add(entry);
      }
      batch.push(entry.labels, t, p.value(), entry.hash, entry.partition);
    }
    for (const [name, m] of pendingMeta) {
      this.metadata.set(name, { type: m.type ?? 'unknown', help: m.help ?? '', unit: m.unit ?? '' });
    }
    if (order.length > scraped) order.length = scraped;
    return { scraped, postRelabel, added, outOfBounds };
  }

  /** Merges target labels into an exposed series, then applies metric_relabel_configs. */
  private sampleLabels(exposed: Labels): Labels | null {
    const b = new LabelsBuilder(exposed);
    const targetLabels = this.target.publicLabels;
    if (this.cfg.honorLabels) {
      for (const l of targetLabels) if (b.get(l.name) === '') b.set(l.name, l.value);
    } else {
      const conflicts: Label[] = [];
      for (const l of targetLabels) {
        const existing = b.get(l.name);
        if (existing !== '') conflicts.push({ name: l.name, value: existing });
        b.set(l.name, l.value);
      }
      for (const c of conflicts) {
        let name = `exported_${c.name}`;
        while (b.get(name) !== '') name = `exported_${name}`;
        b.set(name, c.value);
      }
    }
    return relabel(b.labels(), this.cfg.metricRelabelConfigs);
  }

  private checkLimits(labels: Labels | null): void {
    if (labels === null) return;
    const cfg = this.cfg;
    const metric = labels.find((l) => l.name === METRIC_NAME)?.value ?? '';
    if (cfg.labelLimit > 0 && labels.length > cfg.labelLimit) {
      throw new ScrapeError(
        `label_limit exceeded (metric: ${metric.slice(0, 50)}, number of labels: ${labels.length}, limit: ${cfg.labelLimit})`,
      );
    }
    for (const l of labels) {
      if (cfg.labelNameLengthLimit > 0 && l.name.length > cfg.labelNameLengthLimit) {
        throw new ScrapeError(
          `label_name_length_limit exceeded (metric: ${metric.slice(0, 50)}, label name: ${l.name.slice(0, 50)}, length: ${l.name.length}, limit: ${cfg.labelNameLengthLimit})`,
        );
      }
      if (cfg.labelValueLengthLimit > 0 && l.value.length > cfg.labelValueLengthLimit) {
        throw new ScrapeError(
          `label_value_length_limit exceeded (metric: ${metric.slice(0, 50)}, label name: ${l.name.slice(0, 50)}, value: ${JSON.stringify(l.value.slice(0, 50))}, length: ${l.value.length}, limit: ${cfg.labelValueLengthLimit})`,
        );
      }
    }
  }

  private reportLabels(name: string): Labels {
    return new LabelsBuilder(this.target.publicLabels).set(METRIC_NAME, name).labels();
  }

  private addReport(
    b: PartitionedBatchBuilder,
    t: number,
    up: number,
    duration: number,
    scraped: number,
    post: number,
    added: number,
  ): void {
    const values = [up, duration, scraped, post, added];
    REPORT_NAMES.forEach((name, i) => b.push(this.reportLabels(name), t, values[i]));
  }

  /** Forgets series not seen for two scrapes, so a churning target cannot grow the cache forever. */
  private evictCache(): void {
    if (this.iteration % 2 !== 0) return;
    // Every cached series was on the last scrape's lines: nothing to look for (a 100k-entry walk).
    if (this.cache.size <= this.order.length) return;
    // forEach: a for-of over a 100k-entry map makes an entry array per series.
    this.cache.forEach((e, k) => {
      if (this.iteration - e.lastSeen > 2) this.cache.delete(k);
    });
  }
}

const REPORT_NAMES = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
];

/** A list reused from scrape to scrape: cleared by its count, its array kept. */
class EntryList {
  items: CacheEntry[] = [];
  n = 0;

  add(e: CacheEntry): void {
    this.items[this.n++] = e;
  }

  clear(): void {
    this.n = 0;
  }

  /** Drops what lies past the count, so a target that shrank does not pin gone entries. */
  trim(): void {
    if (this.items.length > this.n) this.items.length = this.n;
  }
}
