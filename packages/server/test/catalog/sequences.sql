-- Sequence types, bounds and cache as CREATE SEQUENCE resolves them (pg_sequence, pg_sequences, \d).
create sequence q1;
create sequence q2 as integer increment by -2;
create sequence q3 as smallint minvalue 5 maxvalue 7 start 6 cache 10;
create sequence q4 maxvalue 40000 as smallint;
create sequence q5 minvalue 10 maxvalue 5;
create sequence q6 start 0;
create sequence q8 increment 0;
create sequence q9 as text;
create sequence q10 cache 0;
create sequence q11 as int4 no minvalue no maxvalue no cycle start with 3;
create sequence q12 start 100 maxvalue 50;
create table sr (a serial, b bigserial, c smallserial);
select seqrelid::regclass, seqtypid::regtype, seqstart, seqincrement, seqmax, seqmin, seqcache, seqcycle from pg_sequence order by 1::text;
select schemaname, sequencename, data_type, start_value, min_value, max_value, increment_by, cycle, cache_size from pg_sequences order by 2;
select nextval('q3'), nextval('q3');
select nextval('q3');
select setval('q3', 100);
select nextval('q2'), nextval('q2');
select setval('q2', -2147483648);
select nextval('q2');
\d q3
\d q2
\d sr_a_seq
