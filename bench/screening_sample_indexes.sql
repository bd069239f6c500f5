-- What screening_sample's indexes and the order of the rows cost a million-row insert
-- (bench/RESULTS.md, section bench:screening, issue 22). After a 1,000,000-resident run of
-- bench/screening.py, on its database, under the benchmark gate:
--   /work/notes/b psql -h 127.0.0.1 -U postgres -d bench_screening -f bench/screening_sample_indexes.sql
-- Copies the latest round's sample rows (969,954) into copies of the table without foreign
-- keys, after a CHECKPOINT each: with the indexes as migrated; with no index on the digest
-- (a plain tube index instead of the unique (tube, digest)); with the two digest indexes
-- merged into one unique (round, digest, tube) plus a tube index, rows as imported (tube
-- by tube) and rows in digest order; with (round, digest) replaced by a round index and a
-- hash index on the digest; as migrated again. Prints each INSERT's time.
\timing on
DROP TABLE IF EXISTS exp_v0, exp_v1, exp_v2, exp_v3, exp_v4;
CREATE TABLE exp_v0 (LIKE screening_sample INCLUDING DEFAULTS);
ALTER TABLE exp_v0 ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX ON exp_v0 (tube_id, id_number_digest);
CREATE INDEX ON exp_v0 (round_id, id_number_digest);
CREATE INDEX ON exp_v0 (resident_id);
CREATE TABLE exp_v1 (LIKE screening_sample INCLUDING DEFAULTS);
ALTER TABLE exp_v1 ADD PRIMARY KEY (id);
CREATE INDEX ON exp_v1 (tube_id);
CREATE INDEX ON exp_v1 (resident_id);
CREATE TABLE exp_v2 (LIKE screening_sample INCLUDING DEFAULTS);
ALTER TABLE exp_v2 ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX ON exp_v2 (round_id, id_number_digest, tube_id);
CREATE INDEX ON exp_v2 (tube_id);
CREATE INDEX ON exp_v2 (resident_id);
CREATE TABLE exp_v3 (LIKE exp_v2 INCLUDING ALL);
CREATE TABLE exp_v4 (LIKE screening_sample INCLUDING DEFAULTS);
ALTER TABLE exp_v4 ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX ON exp_v4 (tube_id, id_number_digest);
CREATE INDEX ON exp_v4 (round_id);
CREATE INDEX ON exp_v4 USING hash (id_number_digest);
CREATE INDEX ON exp_v4 (resident_id);
CREATE TEMP TABLE src AS SELECT * FROM screening_sample
  WHERE round_id = (SELECT max(round_id) FROM screening_sample) ORDER BY id;
CREATE TEMP TABLE src_by_digest AS SELECT * FROM src ORDER BY id_number_digest;
SELECT count(*) AS rows FROM src;
CHECKPOINT;
SELECT 'as migrated, rows as imported' AS copy;
INSERT INTO exp_v0 SELECT * FROM src;
CHECKPOINT;
SELECT 'no digest index' AS copy;
INSERT INTO exp_v1 SELECT * FROM src;
CHECKPOINT;
SELECT 'one digest index (round, digest, tube), rows as imported' AS copy;
INSERT INTO exp_v2 SELECT * FROM src;
CHECKPOINT;
SELECT 'one digest index (round, digest, tube), rows in digest order' AS copy;
INSERT INTO exp_v3 SELECT * FROM src_by_digest;
CHECKPOINT;
SELECT 'the (round, digest) index as a round index and a hash index on the digest' AS copy;
INSERT INTO exp_v4 SELECT * FROM src;
CHECKPOINT;
SELECT 'as migrated again' AS copy;
TRUNCATE exp_v0;
CHECKPOINT;
INSERT INTO exp_v0 SELECT * FROM src;
DROP TABLE exp_v0, exp_v1, exp_v2, exp_v3, exp_v4;
