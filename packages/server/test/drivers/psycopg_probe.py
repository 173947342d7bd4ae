"""Connects with psycopg2 or psycopg 3 (Debian's, on libpq) and prints one line: "ok <user>
<channel-binding?>" or "error <SQLSTATE> <message>". Usage: psycopg_probe.py psycopg2|psycopg DSN"""
import sys

driver, dsn = sys.argv[1], sys.argv[2]
try:
    if driver == "psycopg2":
        import psycopg2 as pg
    else:
        import psycopg as pg
    with pg.connect(dsn) as conn:
        cur = conn.cursor()
        cur.execute("select current_user")
        print("ok", cur.fetchone()[0])
except Exception as e:  # noqa: BLE001 - the probe reports any failure
    code = getattr(e, "pgcode", None) or getattr(getattr(e, "diag", None), "sqlstate", None) or "-"
    print("error", code, str(e).replace("\n", " "))
