create table parent (id int primary key, name text not null unique);
create table t (
  id serial primary key,
  parent_id int references parent(id),
  name varchar(40) not null default 'x',
  price numeric(10,2),
  qty int8 check (qty >= 0),
  created timestamptz default now(),
  data jsonb
);
create index t_name_idx on t (name);
create unique index t_parent_name on t (parent_id, name);
create view v as select id, name from t where qty > 0;
create role reader;
grant select, insert on t to reader;
grant usage on sequence t_id_seq to reader;
