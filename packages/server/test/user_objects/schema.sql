-- User-defined objects of issue 13 (SQL functions, domains, enums, materialized views) whose psql
-- describe output is compared with PostgreSQL 15's (user_objects.test.ts).
CREATE TABLE base (k int PRIMARY KEY, v text);
INSERT INTO base VALUES (1, 'a'), (2, 'b');
CREATE FUNCTION add_em(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2';
CREATE FUNCTION scaled(x numeric, factor numeric DEFAULT 2) RETURNS numeric LANGUAGE sql STRICT RETURN x * factor;
CREATE FUNCTION base_rows(int) RETURNS SETOF base LANGUAGE sql STABLE AS 'SELECT * FROM base WHERE k >= $1';
CREATE FUNCTION pairs(n int) RETURNS TABLE(i int, s text) LANGUAGE sql AS 'SELECT k, v FROM base WHERE k <= n';
CREATE FUNCTION two_outs(IN a int, OUT b int, OUT c text) LANGUAGE sql AS 'SELECT a + 1, ''z''';
CREATE FUNCTION nothing() RETURNS void LANGUAGE sql AS 'SELECT 1';
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN label AS varchar(10) NOT NULL;
CREATE DOMAIN counter AS bigint DEFAULT 0;
CREATE DOMAIN small_posint AS posint;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE typed (id posint PRIMARY KEY, tag label, m mood, s small_posint);
CREATE MATERIALIZED VIEW base_mv AS SELECT k, upper(v) AS u FROM base;
CREATE MATERIALIZED VIEW base_empty AS SELECT k FROM base WITH NO DATA;
