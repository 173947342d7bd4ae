-- pg_class.reloptions keeps the storage parameters given at CREATE TABLE / CREATE INDEX /
-- ALTER TABLE SET / RESET, as PostgreSQL 15 shows them (also psql's \d+ "Options:").
create table ro_plain (a int primary key, b text);
create table ro_ff (a int primary key, b text) with (fillfactor = 90);
create table ro_many (a int) with (fillfactor = '70', autovacuum_enabled, toast.autovacuum_enabled = false, autovacuum_vacuum_scale_factor = 0.2, oids = false);
create table ro_upper (a int) with (FILLFACTOR = 50, autovacuum_enabled = OFF, vacuum_index_cleanup = 'auto');
create table ro_ctas with (fillfactor = 60) as select 1 as x;
create index ro_ff_b on ro_ff (b) with (fillfactor = 80, deduplicate_items = off);
create index ro_plain_b on ro_plain (b);
select relname, reloptions from pg_class where relname like 'ro\_%' order by relname;
alter table ro_plain set (fillfactor = 40);
alter table ro_ff set (autovacuum_enabled = false, fillfactor = 95);
alter table ro_many reset (fillfactor, toast.autovacuum_enabled, parallel_workers);
alter table ro_upper reset (fillfactor, autovacuum_enabled, vacuum_index_cleanup);
select relname, reloptions from pg_class where relname like 'ro\_%' order by relname;
select relname, reloptions[1] as first, array_length(reloptions, 1) as n from pg_class where relname = 'ro_ff';
\d+ ro_ff
\d+ ro_many
\d+ ro_plain
\d+ ro_ff_b
\d ro_plain_b
-- refused options change nothing
alter table ro_ff set (fillfactor = 5);
alter table ro_ff set (nonsense = 1);
select relname, reloptions from pg_class where relname = 'ro_ff';
begin;
alter table ro_ff set (fillfactor = 11);
rollback;
select relname, reloptions from pg_class where relname = 'ro_ff';
