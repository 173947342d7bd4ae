"""SQLAlchemy reflection (Debian's python3-sqlalchemy, psycopg2 dialect) of the schema the test
created, printed as sorted, stable text so that the output on Strata can be compared with the one
recorded on PostgreSQL 15. Usage: sqlalchemy_reflect.py postgresql+psycopg2://…"""
import sys

from sqlalchemy import MetaData, create_engine, inspect, text

engine = create_engine(sys.argv[1])
insp = inspect(engine)


def show(label, value):
    print(f"{label}: {value!r}")


def clean(d):
    # Types print as their SQL (their repr differs between versions of nothing we care about).
    return {k: (str(v) if k == "type" else v) for k, v in sorted(d.items())}


show("schemas", sorted(s for s in insp.get_schema_names() if s == "public"))
tables = insp.get_table_names()
show("tables", sorted(tables))
show("views", sorted(insp.get_view_names()))
show("sequences", sorted(insp.get_sequence_names()))
for t in sorted(tables):
    print(f"== {t}")
    for c in insp.get_columns(t):
        show("column", clean(c))
    show("pk", insp.get_pk_constraint(t))
    for fk in sorted(insp.get_foreign_keys(t), key=lambda f: f["name"] or ""):
        show("fk", dict(sorted(fk.items())))
    for ix in sorted(insp.get_indexes(t), key=lambda i: i["name"]):
        show("index", dict(sorted(ix.items())))
    for uc in sorted(insp.get_unique_constraints(t), key=lambda u: u["name"]):
        show("unique", dict(sorted(uc.items())))
    for ck in sorted(insp.get_check_constraints(t), key=lambda u: u["name"]):
        show("check", dict(sorted(ck.items())))
    show("comment", insp.get_table_comment(t))
show("view v", insp.get_view_definition("v") is not None)
show("has_table child", insp.has_table("child"))
show("has_table nope", insp.has_table("nope"))
show("has_sequence s1", insp.has_sequence("s1"))

# The whole schema through MetaData.reflect, then a Core round trip on a reflected table.
md = MetaData()
md.reflect(bind=engine)
for name in sorted(md.tables):
    tbl = md.tables[name]
    show(f"reflected {name}", [(c.name, str(c.type), c.primary_key, c.nullable) for c in tbl.columns])
parent = md.tables["parent"]
with engine.begin() as conn:
    conn.execute(parent.insert(), [{"name": "a", "code": "x"}, {"name": "b", "code": "y"}])
    rows = conn.execute(parent.select().where(parent.c.name == "b")).fetchall()
    show("round trip", [(r.id, r.name, r.code) for r in rows])
    show("count", conn.execute(text("select count(*) from parent")).scalar())
