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


def tpc_prepare(conn):
    """Two-phase commit through the driver's own API: PREPARE TRANSACTION fails (disabled, as
    PostgreSQL's default max_prepared_transactions = 0) and must leave the connection usable."""
    out = {}
    cur = conn.cursor()
    cur.execute("drop table if exists compat_tpc")
    cur.execute("create table compat_tpc (id int)")
    conn.commit()
    conn.tpc_begin(conn.xid(1, "compat-gid", "branch"))
    cur.execute("insert into compat_tpc values (1)")
    try:
        conn.tpc_prepare()
        out["prepare"] = "ok"
    except pg.Error as e:
        out["prepare"] = sqlstate(e) or type(e).__name__
    try:
        conn.tpc_rollback()
        out["tpc_rollback"] = "ok"
    except pg.Error as e:
        out["tpc_rollback"] = sqlstate(e) or type(e).__name__
    cur = conn.cursor()
    cur.execute("select count(*) from compat_tpc")
    out["rows"] = cur.fetchone()[0]
    out["status"] = str(conn.info.transaction_status if driver == "psycopg" else conn.get_transaction_status())
    conn.close()
    with pg.connect(dsn) as other:
        other.cursor().execute("drop table compat_tpc")
    return out


def txn_modes(conn):
    """The driver's own read-only and isolation settings: what SHOW reports, and 25006 on writes."""
    out = {}
    cur = conn.cursor()
    cur.execute("drop table if exists compat_ro")
    cur.execute("create table compat_ro (id int)")
    conn.commit()
    if driver == "psycopg":
        conn.read_only = True
        conn.isolation_level = pg.IsolationLevel.REPEATABLE_READ
    else:
        conn.set_session(readonly=True, isolation_level="REPEATABLE READ")
    cur = conn.cursor()
    cur.execute("show transaction_isolation")
    out["isolation"] = cur.fetchone()[0]
    cur.execute("show transaction_read_only")
    out["read_only"] = cur.fetchone()[0]
    try:
        cur.execute("insert into compat_ro values (1)")
        out["insert"] = "ok"
    except pg.Error as e:
        out["insert"] = sqlstate(e)
    conn.rollback()
    if driver == "psycopg":
        conn.read_only = False
        conn.isolation_level = None
    else:
        conn.set_session(readonly=False, isolation_level="DEFAULT")
    cur = conn.cursor()
    cur.execute("insert into compat_ro values (2)")
    conn.commit()
    cur.execute("select count(*) from compat_ro")
    out["rows"] = cur.fetchone()[0]
    cur.execute("drop table compat_ro")
    conn.commit()
    return out


def temp_tables(conn):
    """A temp table is the connection's own: another connection does not see it, nor does a
    new connection after this one closed."""
    out = {}
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("create temp table compat_py_tmp (x int)")
    cur.execute("insert into compat_py_tmp values (1)")
    cur.execute("select x from compat_py_tmp")
    out["own"] = [list(r) for r in cur.fetchall()]
    with pg.connect(dsn) as other:
        try:
            other.cursor().execute("select * from compat_py_tmp")
            out["other"] = "visible"
        except pg.Error as e:
            out["other"] = sqlstate(e)
    conn.close()
    import time
    for _ in range(50):
        with pg.connect(dsn) as later:
            try:
                later.cursor().execute("select * from compat_py_tmp")
                out["after_close"] = "visible"
            except pg.Error as e:
                out["after_close"] = sqlstate(e)
        if out["after_close"] != "visible":
            break
        time.sleep(0.1)
    return out


def named_cursors(conn):
    """Server-side (named) cursors: batches, scrolling, WITH HOLD across a commit."""
    out = {}
    cur = conn.cursor("compat_named")
    cur.itersize = 1000
    cur.execute("select g, 'r' || g from generate_series(1, 25000) g")
    n = 0
    total = 0
    for row in cur:
        n += 1
        total += row[0]
    out["rows"], out["sum"] = n, total
    cur.close()
    conn.commit()
    if driver == "psycopg":
        sc = conn.cursor("compat_scroll", scrollable=True)
    else:
        sc = conn.cursor("compat_scroll", scrollable=True)
    sc.execute("select g from generate_series(1, 10) g")
    out["first3"] = [r[0] for r in sc.fetchmany(3)]
    sc.scroll(-2)
    out["after_back"] = sc.fetchone()[0]
    sc.scroll(7, mode="absolute")
    out["absolute"] = sc.fetchone()[0]
    sc.close()
    conn.commit()
    hc = conn.cursor("compat_hold", withhold=True)
    hc.execute("select g from generate_series(1, 5) g")
    out["hold_first"] = hc.fetchone()[0]
    conn.commit()
    out["hold_rest"] = [r[0] for r in hc.fetchall()]
    hc.close()
    conn.commit()
    return out


scenarios = {"named_cursors": named_cursors, "temp_tables": temp_tables, "txn_modes": txn_modes, "nested_transaction": nested_transaction, "tpc_prepare": tpc_prepare}

conn = pg.connect(dsn)
try:
    print(json.dumps(scenarios[scenario](conn)))
finally:
    if not conn.closed:
        conn.close()
