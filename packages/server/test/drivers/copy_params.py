"""psycopg 3's executemany of a COPY with parameters (tests/test_cursor.py test_executemany_badquery):
in pipeline mode, Parse of `copy (select $1, $2) to stdout` with $1 an int2 and $2 of unspecified
type. Prints the error's class, SQLSTATE and message.

usage: copy_params.py DSN
"""
import sys

import psycopg

with psycopg.connect(sys.argv[1]) as conn:
    cur = conn.cursor()
    try:
        cur.executemany("copy (select %s, %s) to stdout", [(10, "hello"), (20, "world")])
        print("no error")
    except psycopg.Error as e:
        print(type(e).__name__, e.sqlstate, e)
