// Small statistics and formatting helpers for tools/bench.

/** The q-quantile (0..1) by linear interpolation between closest ranks (numpy's default). */
export function quantile(values, q) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

export const median = (values) => quantile(values, 0.5);
export const p90 = (values) => quantile(values, 0.9);

/** { n, median, p90, min, max } of the finite values. */
export function summary(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  return {
    n: finite.length,
    median: round(median(finite)),
    p90: round(p90(finite)),
    min: round(finite.length ? Math.min(...finite) : null),
    max: round(finite.length ? Math.max(...finite) : null),
  };
}

export function round(value, digits = 1) {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** 1 kB = 1000 bytes (the unit of the seed's 29.8 kB figure). */
export const kB = (bytes) => (bytes === null || bytes === undefined ? '—' : `${(bytes / 1000).toFixed(1)} kB`);
export const ms = (value) => (value === null || value === undefined ? '—' : `${value.toFixed(1)} ms`);
export const ratio = (value) => (value === null || value === undefined ? '—' : `${value.toFixed(2)}`);

/**
 * A goal cell: "ok", or "missed by ..." saying how far off. `kind` is "max" (value <= goal),
 * "below" (value < goal) or "equal" (value == goal).
 */
export function verdict(value, goal, kind, format = (v) => String(v)) {
  if (value === null || value === undefined || !Number.isFinite(value)) return { ok: false, text: 'not measured' };
  const ok = kind === 'max' ? value <= goal : kind === 'below' ? value < goal : value === goal;
  if (ok) return { ok: true, text: 'ok' };
  const over = value - goal;
  const pct = goal !== 0 ? ` (${((over / goal) * 100).toFixed(0)}% over)` : '';
  return { ok: false, text: `missed by ${format(over)}${pct}` };
}

/** A markdown table from a header row and rows of cells. */
export function table(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.map((cell) => String(cell ?? '')).join(' | ')} |`);
  return lines.join('\n');
}

/** The least-squares slope of points [{ x, y }] (y per unit of x), or null with fewer than two x values. */
export function slope(points) {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  if (sxx === 0) return null;
  return points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
}
