create temp table at1 (id int, col timestamp[], v varchar(3)[], n numeric(5,1)[]);
insert into at1 values (1, ARRAY['2011-02-14'::date], ARRAY['ab'::text], ARRAY[1.25]);
insert into at1 (id, col) select 2, ARRAY['2011-02-15'::date];
insert into at1 (id, v) values (3, ARRAY['abcd'::varchar]);
insert into at1 (id, n) values (4, ARRAY[1.25::numeric]);
select * from at1 order by id;
update at1 set col = ARRAY['2012-01-01'::date] where id = 2;
select id, col from at1 where id = 2;
