-- time with time zone: input (offsets, abbreviations, zone names with a date, the session zone), output, errors, ordering, casts, a table, COPY.
set timezone = 'UTC';
select '12:34:56+02'::timetz as a, '12:34:56.789-05:30'::timetz as b, '04:05:06 PST'::timetz as c, '00:00:00+00'::timetz as d, '24:00:00+01'::timetz as e, '12:00 +05:30:15'::timetz as f, '2003-04-12 04:05:06 America/New_York'::timetz as g, 'allballs'::timetz as h;
select '12:34:56'::timetz as a, time with time zone '01:02:03.5+14' as b, '1:02 pm +3'::timetz as c;
select '25:00:00+00'::timetz;
select '12:00+16'::timetz;
select 'abc'::timetz;
select '12:00:00+02'::timetz = '10:00:00+00'::timetz as eq, '12:00:00+02'::timetz < '10:00:00+00'::timetz as lt, '12:00:00+02'::timetz > '11:00:00+00'::timetz as gt, '12:00:00+02'::timetz = '12:00:00+02'::timetz as eq2;
select t from (values ('12:00:00+02'::timetz), ('10:00:00+00'::timetz), ('09:00:00-01'::timetz), ('11:00:00+00'::timetz)) v(t) order by t;
select '12:34:56+02'::timetz::time as a, '12:34:56'::time::timetz as b, timestamptz '2024-05-01 12:00:00+00'::timetz as c, '12:34:56+02'::timetz::text as d;
set timezone = 'America/New_York';
select timestamptz '2024-01-15 12:00:00+00'::timetz as b, timestamptz '2024-07-15 12:00:00+00'::timetz as c, '12:00:00 EST'::timetz as d, '2024-07-01 12:00 America/New_York'::timetz as e;
set timezone = 'UTC';
create table tz (id int primary key, t timetz, u time with time zone);
insert into tz values (1, '12:00:00+02', '23:59:59.999999-12'), (2, '10:00:00+00', null), (3, '12:00:00+02', '00:00:00+14');
select * from tz order by t, id;
select t, count(*) from tz group by t order by t;
select pg_typeof(t), pg_typeof(u) from tz limit 1;
copy tz to stdout;
\d tz
set timezone = 'Asia/Kolkata';
select pg_typeof(current_time) as t, right(current_time::text, 6) as zone;
