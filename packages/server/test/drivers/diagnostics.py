"""psycopg2's error diagnostics (e.diag) of constraint violations, as its tests/test_module.py
test_9_3_diagnostics reads them. Temp schemas' names differ (pg_temp_3 / pg_temp_1_1001): only
their prefix is printed.

usage: diagnostics.py DSN
"""
import sys

import psycopg2

c = psycopg2.connect(sys.argv[1])
c.autocommit = True
cur = c.cursor()
cur.execute("create temp table test_exc (data int constraint chk_eq1 check (data = 1), u int unique, n int not null default 0)")
cur.execute("create table if not exists diag_parent (id int primary key)")
cur.execute("create table if not exists diag_child (p int constraint diag_fk references diag_parent (id))")
for stmt in ["insert into test_exc values (2)", "insert into test_exc values (1, 1)", "insert into test_exc values (1, 1)", "insert into test_exc values (1, 2, null)", "insert into diag_child values (7)"]:
    try:
        cur.execute(stmt)
        print(stmt, "ok")
    except psycopg2.Error as e:
        d = e.diag
        schema = d.schema_name[:7] if d.schema_name and d.schema_name.startswith("pg_temp") else d.schema_name
        print(stmt, "|", e.pgcode, "|", schema, "|", d.table_name, "|", d.column_name, "|", d.constraint_name, "|", d.datatype_name, "|", d.message_detail)
cur.execute("drop table diag_child, diag_parent")
c.close()
