/**
 * A small, fixed TSBS devops workload for correctness: the data, the schemas for Strata and
 * PostgreSQL, the 14 TSBS query types (two instances each, seeded) and cross-model queries that
 * join the readings with a relational table. `qa/tsbs/record.ts` records PostgreSQL 15's answers
 * into `expected.json`; `tsbs.test.ts` checks Strata's against them.
 */
import { fields, hosts, isoOf, readings, rng, tagNames } from '../bench/tsbs/data.js';
import { queryTypes } from '../bench/tsbs/queries.js';

export const hostCount = 10;
export const hours = 3;
export const instancesPerType = 2;

const hostTags = hosts(hostCount);
const fieldCols = fields.map((f) => `${f} int8`).join(', ');

/** Relational side of the cross-model queries: who owns each host, and its rack budget. */
export const owners = hostTags.map((t, i) => [t[0] as string, ['ops', 'data', 'web'][i % 3] as string, 50 + (i % 4) * 10] as const);

export const strataSetup = [
  'create ts database tsbs',
  `create table tsbs.cpu (ts timestamptz not null, ${fieldCols}) tags (hostname varchar(32) not null, region varchar(16), datacenter varchar(24), rack varchar(8), os varchar(24), arch varchar(8), team varchar(8), service varchar(8), service_version varchar(8), service_environment varchar(16)) primary tags (hostname)`,
  'create table defaultdb.owners (hostname text primary key, owner text not null, budget int4 not null)',
  `insert into defaultdb.owners values ${owners.map(([h, o, b]) => `('${h}', '${o}', ${b})`).join(', ')}`,
];

export const pgSetup = [
  'drop table if exists cpu, tags, owners',
  `create table tags (id serial primary key, ${tagNames.map((n) => `${n} text`).join(', ')})`,
  ...hostTags.map((t) => `insert into tags (${tagNames.join(', ')}) values (${t.map((v) => `'${v}'`).join(', ')})`),
  `create table cpu (time timestamptz not null, tags_id int, ${fieldCols})`,
  'create table owners (hostname text primary key, owner text not null, budget int4 not null)',
  `insert into owners values ${owners.map(([h, o, b]) => `('${h}', '${o}', ${b})`).join(', ')}`,
];

/** COPY text for Strata (tags inline) and PostgreSQL (tags_id). */
export function copyText(): { strata: string; pg: string } {
  let strata = '';
  let pg = '';
  for (const r of readings(hostCount, hours)) {
    const iso = isoOf(r.ms);
    const vals = r.values.join('\t');
    strata += `${iso}\t${vals}\t${(hostTags[r.host] as string[]).join('\t')}\n`;
    pg += `${iso}\t${r.host + 1}\t${vals}\n`;
  }
  return { strata, pg };
}

export interface NamedQuery {
  name: string;
  strata: string;
  pg: string;
}

export function workloadQueries(): NamedQuery[] {
  const out: NamedQuery[] = [];
  for (const qt of queryTypes(hostCount, hours)) {
    const r = rng(1000 + qt.name.length * 31 + qt.name.charCodeAt(qt.name.length - 1));
    for (let i = 0; i < instancesPerType; i++) {
      const q = qt.make(r);
      out.push({ name: `${qt.name}#${i}`, strata: q.strata, pg: q.pg });
    }
  }
  // Cross-model: TS readings joined with the relational owners table.
  out.push({
    name: 'cross-model-join-groupby',
    strata: "select o.owner, count(*) as n, max(c.usage_user) as mx, avg(c.usage_system) as a from tsbs.cpu c join defaultdb.owners o on o.hostname = c.hostname where c.ts >= '2016-01-01 01:00:00+00' group by o.owner order by o.owner",
    pg: "select o.owner, count(*) as n, max(c.usage_user) as mx, avg(c.usage_system) as a from cpu c join tags t on t.id = c.tags_id join owners o on o.hostname = t.hostname where c.time >= '2016-01-01 01:00:00+00' group by o.owner order by o.owner",
  });
  out.push({
    name: 'cross-model-subquery',
    strata: "select hostname, count(*) as n from tsbs.cpu where hostname in (select hostname from defaultdb.owners where budget >= 70) and usage_user > 90 group by hostname order by hostname",
    pg: 'select t.hostname, count(*) as n from cpu c join tags t on t.id = c.tags_id where t.hostname in (select hostname from owners where budget >= 70) and c.usage_user > 90 group by t.hostname order by t.hostname',
  });
  out.push({
    name: 'cross-model-over-budget',
    strata: 'select o.hostname, o.budget, max(c.usage_user) as peak from defaultdb.owners o left join tsbs.cpu c on c.hostname = o.hostname and c.usage_user > o.budget group by o.hostname, o.budget order by o.hostname',
    pg: 'select o.hostname, o.budget, max(c.usage_user) as peak from owners o left join (select t.hostname, c.usage_user from cpu c join tags t on t.id = c.tags_id) c on c.hostname = o.hostname and c.usage_user > o.budget group by o.hostname, o.budget order by o.hostname',
  });
  out.push({
    name: 'cross-model-union',
    strata: "select hostname as name from defaultdb.owners where owner = 'web' union select hostname from tsbs.cpu where usage_idle = 0 order by 1",
    pg: "select hostname as name from owners where owner = 'web' union select t.hostname from cpu c join tags t on t.id = c.tags_id where c.usage_idle = 0 order by 1",
  });
  return out;
}
