import { labelsToRecord, type LabelMatcher } from '@pharos/model';
import { parseMetricSelector } from '@pharos/promql';
import type { RuleAlert, RuleGroupProto, RuleProto } from '@pharos/proto';
import { formatFloat, goTimeJSON } from '@pharos/template';
import { badData } from './errors.js';
import type { Params } from './params.js';

function alertJSON(a: RuleAlert) {
  return {
    labels: labelsToRecord(a.labels),
    annotations: labelsToRecord(a.annotations),
    state: a.state,
    activeAt: goTimeJSON(a.activeAtMs),
    ...(a.keepFiringSinceMs !== 0 ? { keepFiringSince: goTimeJSON(a.keepFiringSinceMs) } : {}),
    value: formatFloat(a.value, 'e', -1),
  };
}

function ruleJSON(r: RuleProto, excludeAlerts: boolean) {
  const common = {
    name: r.name,
    query: r.query,
    labels: labelsToRecord(r.labels),
    health: r.health,
    ...(r.lastError !== '' ? { lastError: r.lastError } : {}),
    evaluationTime: r.evaluationDurationMs / 1000,
    lastEvaluation: goTimeJSON(r.lastEvaluationMs),
  };
  if (r.type !== 'alerting') return { ...common, type: 'recording' };
  return {
    // "unknown" until the first evaluation, as Prometheus 3 reports it.
    state: r.state,
    name: r.name,
    query: r.query,
    duration: r.forMs / 1000,
    keepFiringFor: r.keepFiringForMs / 1000,
    labels: common.labels,
    annotations: labelsToRecord(r.annotations),
    ...(excludeAlerts ? {} : { alerts: r.alerts.map(alertJSON) }),
    health: common.health,
    ...(r.lastError !== '' ? { lastError: r.lastError } : {}),
    evaluationTime: common.evaluationTime,
    lastEvaluation: common.lastEvaluation,
    type: 'alerting',
  };
}

function matchesAny(r: RuleProto, sets: readonly (readonly LabelMatcher[])[]): boolean {
  if (sets.length === 0) return true;
  const labels = labelsToRecord(r.labels);
  return sets.some((ms) => ms.every((m) => m.matches(labels[m.name] ?? '')));
}

/** GET /api/v1/rules with upstream's filters: type, rule_name[], rule_group[], file[], match[], exclude_alerts. */
export function rulesJSON(all: readonly RuleGroupProto[], p: Params): string {
  const type = p.get('type') ?? '';
  if (type !== '' && type !== 'alert' && type !== 'record')
    throw badData(`invalid query parameter type='${type}'`);
  const names = new Set(p.getAll('rule_name[]'));
  const groupNames = new Set(p.getAll('rule_group[]'));
  const files = new Set(p.getAll('file[]'));
  const excludeText = p.get('exclude_alerts') ?? 'false';
  if (excludeText !== 'true' && excludeText !== 'false')
    throw badData(
      `parsing exclude_alerts: strconv.ParseBool: parsing ${JSON.stringify(excludeText)}: invalid syntax`,
    );
  const excludeAlerts = excludeText === 'true';
  let matchSets: LabelMatcher[][];
  try {
    matchSets = p.getAll('match[]').map((s) => parseMetricSelector(s));
  } catch (e) {
    throw badData((e as Error).message);
  }
  const filtered =
    names.size > 0 || groupNames.size > 0 || files.size > 0 || matchSets.length > 0 || type !== '';
  const groups = all
    .filter(
      (g) => (groupNames.size === 0 || groupNames.has(g.name)) && (files.size === 0 || files.has(g.file)),
    )
    .map((g) => {
      const rules = g.rules.filter(
        (r) =>
          (type === '' || (type === 'alert') === (r.type === 'alerting')) &&
          (names.size === 0 || names.has(r.name)) &&
          matchesAny(r, matchSets),
      );
      return {
        name: g.name,
        file: g.file,
        rules: rules.map((r) => ruleJSON(r, excludeAlerts)),
        interval: g.intervalMs / 1000,
        limit: g.limit,
        evaluationTime: g.evaluationDurationMs / 1000,
        lastEvaluation: goTimeJSON(g.lastEvaluationMs),
      };
    })
    .filter((g) => !filtered || g.rules.length > 0);
  return JSON.stringify({ groups });
}

/** GET /api/v1/alerts: every pending or firing alert. */
export function alertsJSON(groups: readonly RuleGroupProto[]): string {
  const alerts = groups.flatMap((g) =>
    g.rules.flatMap((r) => (r.type === 'alerting' ? r.alerts.map(alertJSON) : [])),
  );
  return JSON.stringify({ alerts });
}
