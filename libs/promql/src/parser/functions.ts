import type { ValueType } from './ast.js';

export interface FunctionSignature {
  readonly name: string;
  readonly argTypes: readonly ValueType[];
  /** How many trailing arguments may be left out (-1: the last one repeats without limit). */
  readonly variadic: number;
  readonly returnType: ValueType;
}

function fn(name: string, argTypes: ValueType[], returnType: ValueType, variadic = 0): FunctionSignature {
  return { name, argTypes, variadic, returnType };
}

const V: ValueType = 'vector';
const M: ValueType = 'matrix';
const S: ValueType = 'scalar';
const STR: ValueType = 'string';

/** Every function of the Prometheus 3 documentation, with its argument types. */
export const FUNCTIONS: ReadonlyMap<string, FunctionSignature> = new Map(
  [
    fn('abs', [V], V),
    fn('absent', [V], V),
    fn('absent_over_time', [M], V),
    fn('acos', [V], V),
    fn('acosh', [V], V),
    fn('asin', [V], V),
    fn('asinh', [V], V),
    fn('atan', [V], V),
    fn('atanh', [V], V),
    fn('avg_over_time', [M], V),
    fn('ceil', [V], V),
    fn('changes', [M], V),
    fn('clamp', [V, S, S], V),
    fn('clamp_max', [V, S], V),
    fn('clamp_min', [V, S], V),
    fn('cos', [V], V),
    fn('cosh', [V], V),
    fn('count_over_time', [M], V),
    fn('days_in_month', [V], V, 1),
    fn('day_of_month', [V], V, 1),
    fn('day_of_week', [V], V, 1),
    fn('day_of_year', [V], V, 1),
    fn('deg', [V], V),
    fn('delta', [M], V),
    fn('deriv', [M], V),
    fn('double_exponential_smoothing', [M, S, S], V),
    fn('exp', [V], V),
    fn('first_over_time', [M], V),
    fn('floor', [V], V),
    fn('histogram_avg', [V], V),
    fn('histogram_count', [V], V),
    fn('histogram_fraction', [S, S, V], V),
    fn('histogram_quantile', [S, V], V),
    fn('histogram_quantiles', [V, STR, S], V, -1),
    fn('histogram_stddev', [V], V),
    fn('histogram_stdvar', [V], V),
    fn('histogram_sum', [V], V),
    fn('hour', [V], V, 1),
    fn('idelta', [M], V),
    fn('increase', [M], V),
    fn('info', [V, V], V, 1),
    fn('irate', [M], V),
    fn('label_join', [V, STR, STR, STR], V, -1),
    fn('label_replace', [V, STR, STR, STR, STR], V),
    fn('last_over_time', [M], V),
    fn('ln', [V], V),
    fn('log10', [V], V),
    fn('log2', [V], V),
    fn('mad_over_time', [M], V),
    fn('max_over_time', [M], V),
    fn('min_over_time', [M], V),
    fn('minute', [V], V, 1),
    fn('month', [V], V, 1),
    fn('pi', [], S),
    // Prometheus 3's query-property functions (experimental there): seconds, one value per query.
    fn('step', [], S),
    fn('range', [], S),
    fn('start', [], S),
    fn('end', [], S),
    fn('min_of', [S, S], S, -1),
    fn('max_of', [S, S], S, -1),
    fn('predict_linear', [M, S], V),
    fn('present_over_time', [M], V),
    fn('quantile_over_time', [S, M], V),
    fn('rad', [V], V),
    fn('rate', [M], V),
    fn('resets', [M], V),
    fn('round', [V, S], V, 1),
    fn('scalar', [V], S),
    fn('sgn', [V], V),
    fn('sin', [V], V),
    fn('sinh', [V], V),
    fn('sort', [V], V),
    fn('sort_by_label', [V, STR], V, -1),
    fn('sort_by_label_desc', [V, STR], V, -1),
    fn('sort_desc', [V], V),
    fn('sqrt', [V], V),
    fn('start_timestamp', [V], V),
    fn('stddev_over_time', [M], V),
    fn('stdvar_over_time', [M], V),
    fn('sum_over_time', [M], V),
    fn('tan', [V], V),
    fn('tanh', [V], V),
    fn('time', [], S),
    fn('timestamp', [V], V),
    fn('ts_of_first_over_time', [M], V),
    fn('ts_of_last_over_time', [M], V),
    fn('ts_of_max_over_time', [M], V),
    fn('ts_of_min_over_time', [M], V),
    fn('vector', [S], V),
    fn('year', [V], V, 1),
  ].map((f) => [f.name, f]),
);
