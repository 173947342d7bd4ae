"""Scenarios of issue 12 ("drivers work unchanged") run with Debian's psycopg 3 or psycopg2 against
any server; prints one JSON object with what the driver saw, so the same script records
PostgreSQL 15's answers and checks Strata's. Usage: compat_probe.py psycopg|psycopg2 SCENARIO DSN"""
import json
import sys

driver, scenario, dsn = sys.argv[1], sys.argv[2], sys.argv[3]
if driver == "psycopg2":
    import psycopg2 as pg
else:
    import psycopg as pg


def sqlstate(e):
    return getattr(e, "pgcode", None) or getattr(getattr(e, "diag", None), "sqlstate", None)


def nested_transaction(conn):
    """psycopg 3's nested transaction() blocks are savepoints; psycopg2 issues them by hand."""
    out = {}
    cur = conn.cursor()
    cur.execute("drop table if exists compat_sp")
    cur.execute("create table compat_sp (id int primary key, v text)")
    conn.commit()
    if driver == "psycopg":
        with conn.transaction():
            cur.execute("insert into compat_sp values (1, 'a')")
            try:
                with conn.transaction():
                    cur.execute("insert into compat_sp values (1, 'dup')")
            except pg.errors.UniqueViolation as e:
                out["inner"] = sqlstate(e)
            cur.execute("select id, v from compat_sp order by id")
            out["after_rollback"] = [list(r) for r in cur.fetchall()]
            with conn.transaction():
                cur.execute("insert into compat_sp values (2, 'b')")
    else:
        cur.execute("insert into compat_sp values (1, 'a')")
        cur.execute("savepoint s1")
        try:
            cur.execute("insert into compat_sp values (1, 'dup')")
        except pg.Error as e:
            out["inner"] = sqlstate(e)
        cur.execute("rollback to savepoint s1")
        cur.execute("select id, v from compat_sp order by id")
        out["after_rollback"] = [list(r) for r in cur.fetchall()]
        cur.execute("insert into compat_sp values (2, 'b')")
        conn.commit()
    cur.execute("select id, v from compat_sp order by id")
    out["committed"] = [list(r) for r in cur.fetchall()]
    conn.commit()
    cur.execute("drop table compat_sp")
    conn.commit()
    return out


scenarios = {"nested_transaction": nested_transaction}

conn = pg.connect(dsn)
try:
    print(json.dumps(scenarios[scenario](conn)))
finally:
    conn.close()
