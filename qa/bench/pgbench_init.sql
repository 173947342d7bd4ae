-- pgbench tables and data, loaded with plain SQL (Strata has no COPY yet), same for both systems.
-- :scale is set by the benchmark (psql -v scale=N).
drop table if exists pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history;
create table pgbench_branches (bid int primary key, bbalance int, filler char(88));
create table pgbench_tellers (tid int primary key, bid int, tbalance int, filler char(84));
create table pgbench_accounts (aid int primary key, bid int, abalance int, filler char(84));
create table pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));
insert into pgbench_branches select b, 0, '' from generate_series(1, :scale) b;
insert into pgbench_tellers select t, (t - 1) / 10 + 1, 0, '' from generate_series(1, 10 * :scale) t;
insert into pgbench_accounts select a, (a - 1) / 100000 + 1, 0, '' from generate_series(1, 100000 * :scale) a;
