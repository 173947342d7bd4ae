-- ALTER TABLE … ADD PRIMARY KEY on a table created without one (pgbench -i does this).
create table apk (a int, b text, c int);
create index apk_c on apk (c);
insert into apk values (2, 'two', 20), (1, 'one', 10), (3, 'three', 30);
alter table apk add primary key (a);
\d apk
select * from apk order by a;
select * from apk where c = 20;
insert into apk values (1, 'again', 11);
alter table apk add primary key (b);
create table apk2 (a int, b int);
insert into apk2 values (1, 1), (1, 2);
alter table apk2 add primary key (a);
alter table apk2 add constraint apk2_ab primary key (a, b);
\d apk2
create table apk3 (a int);
insert into apk3 values (1), (null);
alter table apk3 add primary key (a);
alter table apk3 add primary key (nope);
select count(*) from apk3;
