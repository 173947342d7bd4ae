/**
 * What qa/monitoring needs to check the PromQL of monitoring/: the queries of the Grafana
 * dashboards (panel targets and template variables, with Grafana's variables filled in), the
 * metric names an expression reads, and a small client of Prometheus' HTTP API.
 */

export interface NamedQuery {
  /** Where it comes from (dashboard › panel, or rule name). */
  where: string;
  expr: string;
}

/**
 * Grafana's variables as the test fills them: every node (`.*`, the dashboards' "All" value) and
 * a rate window of 10 s (the test scrapes every second, so ten samples; Grafana computes
 * $__rate_interval as at least four scrape intervals).
 */
export function fillVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '10s')
    .replace(/\$__interval|\$\{__interval\}/g, '2s')
    .replace(/\$__range|\$\{__range\}/g, '1m')
    .replace(/\$\{?instance(?::[a-z]+)?\}?/g, '.*');
}

/** A template variable's query as PromQL: `label_values(sel, label)` → `count by (label) (sel)`. */
export function variableQueryAsPromql(q: string): string {
  const m = /^\s*label_values\(\s*(.*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/.exec(q);
  if (m) return `count by (${m[2]}) (${m[1]})`;
  return q;
}

interface GrafanaPanel {
  title?: string;
  type?: string;
  panels?: GrafanaPanel[];
  targets?: { expr?: string }[];
}

interface GrafanaDashboard {
  title: string;
  panels?: GrafanaPanel[];
  templating?: { list?: { name: string; type: string; query?: string | { query?: string }; definition?: string }[] };
}

/** Every PromQL expression of a dashboard (variables filled in). */
export function dashboardQueries(d: GrafanaDashboard): NamedQuery[] {
  const out: NamedQuery[] = [];
  const walk = (panels: GrafanaPanel[] | undefined) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `${d.title} › ${p.title ?? '(untitled)'}`, expr: fillVariables(t.expr) });
      walk(p.panels);
    }
  };
  walk(d.panels);
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query?.query ?? v.definition ?? '');
    if (q) out.push({ where: `${d.title} › variable $${v.name}`, expr: fillVariables(variableQueryAsPromql(q)) });
  }
  return out;
}

const keywords = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan',
]);

/**
 * The metric names (and recorded series) an expression selects. Label lists of by/without/on/
 * ignoring/group_*, label matchers, range/offset durations, strings and function names are not
 * metric names; what is left that looks like an identifier is.
 */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  // Not inside a number or duration (the `m` of `5m`, the `e` of `1e3`).
  for (const m of s.matchAll(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const id = m[0];
    const after = s.slice((m.index ?? 0) + id.length);
    if (/^\s*\(/.test(after)) continue; // a function or aggregation
    if (keywords.has(id.toLowerCase())) continue;
    if (/^\d/.test(id)) continue;
    names.add(id);
  }
  return [...names];
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A Prometheus HTTP API client (instant queries and the loaded rules). */
export class PromApi {
  constructor(readonly base: string) {}

  private async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.base}${path}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.errorType ?? ''} ${body.error ?? res.status}`);
    return body.data;
  }

  /** An instant query's vector (a scalar comes back as one sample). */
  async query(expr: string): Promise<Sample[]> {
    const d = await this.get<{ resultType: string; result: Sample[] | [number, string] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    if (d.resultType === 'scalar' || d.resultType === 'string') return [{ metric: {}, value: d.result as [number, string] }];
    return d.result as Sample[];
  }

  async rules(): Promise<{ name: string; file: string; rules: { type: 'alerting' | 'recording'; name: string; query: string; health: string; lastError?: string; lastEvaluation: string }[] }[]> {
    return (await this.get<{ groups: never[] }>('/api/v1/rules')).groups;
  }
}
