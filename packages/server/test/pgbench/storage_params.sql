-- Storage parameters, USING, TABLESPACE, WITHOUT OIDS and COPY FREEZE as PostgreSQL 15 checks them.
create table sp1 (a int) with (fillfactor = 70, autovacuum_enabled = off, toast.autovacuum_enabled = false);
create table sp2 (a int) with (FillFactor = 50.4, vacuum_index_cleanup = auto, parallel_workers = 2) tablespace pg_default;
create table sp3 (a int) using heap without oids;
create table sp4 with (fillfactor = 90) as select 1 as a;
create table sp5 (a int) with (oids = false);
create index sp1_a on sp1 (a) with (fillfactor = 80, deduplicate_items = off);
alter table sp1 set (fillfactor = 40, autovacuum_vacuum_scale_factor = 0.05);
alter table sp1 reset (fillfactor);
create table bad1 (a int) with (fillfactor = 5);
create table bad2 (a int) with (foo = 1);
create table bad3 (a int) with (fillfactor);
create table bad4 (a int) with (fillfactor = 'abc');
create table bad5 (a int) with (fillfactor = 50, fillfactor = 60);
create table bad6 (a int) with (oids = true);
create table bad7 (a int) with (foo.fillfactor = 50);
create table bad8 (a int) with (toast.fillfactor = 50);
create table bad9 (a int) with (autovacuum_vacuum_scale_factor = 200);
create table bad10 (a int) with (autovacuum_enabled = maybe);
create table bad11 (a int) with (vacuum_index_cleanup = maybe);
create table bad12 (a int) using foo;
create table bad13 (a int) tablespace foo;
create index bad_i on sp1 (a) with (fillfactor = 5);
create index bad_i on sp1 (a) with (toast.fillfactor = 50);
alter table sp1 set (foo = 1);
alter table sp1 reset (fillfactor = 5);
select relname from pg_class where relname like 'bad%' order by 1;
begin;
truncate sp1;
copy sp1 from stdin with (freeze on);
1
2
\.
commit;
copy sp1 from stdin (freeze 'x');
select a from sp1 order by a;
