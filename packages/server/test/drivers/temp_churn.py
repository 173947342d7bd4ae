"""psycopg2's test-suite pattern (tests/test_extras_dictcursor.py setUp/tearDown): each test opens
a connection, creates a TEMP table and fills it in one transaction, commits, and closes. The next
test's transaction runs while the server drops the previous session's temp schema.

usage: temp_churn.py DSN ROUNDS — prints one line per round: ok, or the SQLSTATE of the failure.
"""
import sys

import psycopg2

dsn, rounds = sys.argv[1], int(sys.argv[2])
for i in range(rounds):
    c = psycopg2.connect(dsn)
    cur = c.cursor()
    try:
        cur.execute("CREATE TEMPORARY TABLE churn (foo text)")
        cur.execute("INSERT INTO churn VALUES ('bar')")
        c.commit()
        print("ok")
    except psycopg2.Error as e:
        print(e.pgcode)
    c.close()
