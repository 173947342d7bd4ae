\d pgbench_accounts
\d pgbench_branches
\d pgbench_tellers
\d pgbench_history
select tablename, indexname, indexdef from pg_indexes where tablename like 'pgbench%' order by 1, 2;
select count(*), sum(bid), sum(abalance), min(aid), max(aid) from pgbench_accounts;
select count(*), sum(bid) from pgbench_tellers;
select bid, bbalance from pgbench_branches;
select count(*) from pgbench_history;
