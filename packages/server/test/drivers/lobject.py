"""psycopg2's lobject (libpq's lo_* API: pg_proc look-up, then FunctionCall messages), as its
tests/test_lobject.py uses it. Prints one line per step; run against PostgreSQL 15 and Strata.

usage: lobject.py DSN
"""
import sys

import psycopg2

c = psycopg2.connect(sys.argv[1])
lo = c.lobject()
print("write", lo.write(b"0123456789" * 300))
lo.seek(2045)
print("read across a page", lo.read(6))
print("tell", lo.tell())
print("seek end", lo.seek(0, 2))
lo.truncate(12)
lo.seek(0)
print("after truncate", lo.read())
lo.seek(5000)
lo.write(b"x")
print("size with a hole", lo.seek(0, 2))
lo.seek(4998)
print("hole reads zeros", lo.read(3))
lo.close()
c.commit()
ro = c.lobject(lo.oid, "rb")
print("reopened", ro.read(12))
try:
    ro.write(b"no")
except psycopg2.Error as e:
    print("write read-only", str(e).splitlines()[0])
c.rollback()
try:
    ro.read()
except psycopg2.Error as e:
    print("after the transaction", type(e).__name__)
c.rollback()
try:
    c.lobject(lo.oid + 1000000)
except psycopg2.Error as e:
    print("missing", str(e).splitlines()[0].replace(str(lo.oid + 1000000), "N"))
c.rollback()
try:
    c.lobject(0, "w", lo.oid)
except psycopg2.Error as e:
    print("create existing", str(e).splitlines()[0])
c.rollback()
c.lobject(lo.oid).unlink()
c.commit()
try:
    c.lobject(lo.oid)
except psycopg2.Error as e:
    print("unlinked", str(e).splitlines()[0].replace(str(lo.oid), "N"))
c.rollback()
c.close()
