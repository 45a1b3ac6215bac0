export interface PointSeries {
  readonly values: ReadonlyArray<[number, string]>;
}

/**
 * uPlot wants one x array shared by every series: the step grid of the range query, with null
 * where a series has no point (a gap is drawn as a gap). Stacked: each series adds to the ones
 * before it, as Prometheus' stacked mode does.
 */
export function alignSeries(
  result: readonly PointSeries[],
  start: number,
  end: number,
  step: number,
  stacked: boolean,
): { xs: number[]; ys: Array<Array<number | null>> } {
  const xs: number[] = [];
  for (let t = start; t <= end + 1e-9; t += step) xs.push(Math.round(t * 1000) / 1000);
  const index = (t: number) => Math.round((t - start) / step);
  const ys = result.map((s) => {
    const y: Array<number | null> = new Array<number | null>(xs.length).fill(null);
    for (const [t, v] of s.values) {
      const i = index(t);
      if (i >= 0 && i < xs.length) y[i] = Number(v);
    }
    return y;
  });
  if (stacked) {
    // A series without a point at a step adds nothing there; the ones above still stack.
    const sum = new Array<number>(xs.length).fill(0);
    for (const y of ys)
      for (let i = 0; i < xs.length; i++) {
        const v = y[i];
        if (v === null) continue;
        sum[i] += v;
        y[i] = sum[i];
      }
  }
  return { xs, ys };
}
