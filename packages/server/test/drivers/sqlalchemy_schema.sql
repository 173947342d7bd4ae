create table parent (id serial primary key, name varchar(40) not null unique, code char(3), created timestamptz default now());
create table child (id bigint primary key, parent_id int not null references parent (id), note text, qty numeric(10, 2), constraint child_id_check check (id > 0), tags text[], flag boolean default false, constraint child_note_qty_key unique (note, qty));
create index child_parent on child (parent_id);
create index child_qty_desc on child (qty desc, note);
create unique index child_flag_note on child (flag, note);
create table multi (a int, b int, c text, d double precision not null, e date, primary key (a, b));
create table ref_multi (x int, y int, z uuid, constraint ref_multi_fk foreign key (x, y) references multi (a, b));
create view v as select id, name from parent;
create sequence s1;
