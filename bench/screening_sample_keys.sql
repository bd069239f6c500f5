-- The digest key of screening_sample (bench/RESULTS.md, "Screening, round 3", issue 22):
-- what each way of indexing the person in a round costs a million-row insert. After a
-- 1,000,000-resident run of bench/screening.py, on its database, under the benchmark gate:
--   /work/notes/b psql -h 127.0.0.1 -U postgres -d bench_screening -f bench/screening_sample_keys.sql
-- Copies the latest round's sample rows (969,954) into copies of the table without foreign
-- keys, a CHECKPOINT before each, every copy with the pk, the unique (tube, digest) and the
-- resident index; they differ in how the person is found in a round:
--   text_btree   (round, digest) B-tree, the digest as 64 hex characters (as migrated)
--   text_hash    a round B-tree and a hash index on the hex digest
--   bytea_btree  (round, digest) B-tree, the digest as 32 bytes (bytea)
--   bytea_hash   a round B-tree and a hash index on the 32-byte digest
--   int8_btree   (round, person_key) B-tree, person_key the digest's first 8 bytes as a
--                bigint (an extra column; a reader would match it and then the digest)
-- then text_btree again (the machine's drift over the run). Prints each INSERT's time and
-- each index's size.
\timing on
SHOW shared_buffers;
DROP TABLE IF EXISTS key_text_btree, key_text_hash, key_bytea_btree, key_bytea_hash, key_int8_btree;
CREATE TEMP TABLE src AS SELECT * FROM screening_sample
  WHERE round_id = (SELECT max(round_id) FROM screening_sample) ORDER BY id;
CREATE TEMP TABLE src_bytea AS
  SELECT id, round_id, tube_id, county_code, resident_id, name,
         decode(id_number_digest, 'hex') AS id_number_digest, id_number_masked,
         target_grid_path, collected_at, collected_by_id
  FROM src ORDER BY id;
CREATE TEMP TABLE src_int8 AS
  SELECT *, ('x' || left(id_number_digest, 16))::bit(64)::bigint AS person_key
  FROM src ORDER BY id;
SELECT count(*) AS rows FROM src;

CREATE TABLE key_text_btree (LIKE screening_sample INCLUDING DEFAULTS);
ALTER TABLE key_text_btree ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX key_text_btree_tube ON key_text_btree (tube_id, id_number_digest);
CREATE INDEX key_text_btree_person ON key_text_btree (round_id, id_number_digest);
CREATE INDEX key_text_btree_resident ON key_text_btree (resident_id);

CREATE TABLE key_text_hash (LIKE screening_sample INCLUDING DEFAULTS);
ALTER TABLE key_text_hash ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX key_text_hash_tube ON key_text_hash (tube_id, id_number_digest);
CREATE INDEX key_text_hash_round ON key_text_hash (round_id);
CREATE INDEX key_text_hash_person ON key_text_hash USING hash (id_number_digest);
CREATE INDEX key_text_hash_resident ON key_text_hash (resident_id);

CREATE TABLE key_bytea_btree (LIKE src_bytea INCLUDING DEFAULTS);
ALTER TABLE key_bytea_btree ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX key_bytea_btree_tube ON key_bytea_btree (tube_id, id_number_digest);
CREATE INDEX key_bytea_btree_person ON key_bytea_btree (round_id, id_number_digest);
CREATE INDEX key_bytea_btree_resident ON key_bytea_btree (resident_id);

CREATE TABLE key_bytea_hash (LIKE src_bytea INCLUDING DEFAULTS);
ALTER TABLE key_bytea_hash ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX key_bytea_hash_tube ON key_bytea_hash (tube_id, id_number_digest);
CREATE INDEX key_bytea_hash_round ON key_bytea_hash (round_id);
CREATE INDEX key_bytea_hash_person ON key_bytea_hash USING hash (id_number_digest);
CREATE INDEX key_bytea_hash_resident ON key_bytea_hash (resident_id);

CREATE TABLE key_int8_btree (LIKE src_int8 INCLUDING DEFAULTS);
ALTER TABLE key_int8_btree ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX key_int8_btree_tube ON key_int8_btree (tube_id, id_number_digest);
CREATE INDEX key_int8_btree_person ON key_int8_btree (round_id, person_key);
CREATE INDEX key_int8_btree_resident ON key_int8_btree (resident_id);

CHECKPOINT;
SELECT 'text_btree' AS copy;
INSERT INTO key_text_btree SELECT * FROM src;
CHECKPOINT;
SELECT 'text_hash' AS copy;
INSERT INTO key_text_hash SELECT * FROM src;
CHECKPOINT;
SELECT 'bytea_btree' AS copy;
INSERT INTO key_bytea_btree SELECT * FROM src_bytea;
CHECKPOINT;
SELECT 'bytea_hash' AS copy;
INSERT INTO key_bytea_hash SELECT * FROM src_bytea;
CHECKPOINT;
SELECT 'int8_btree' AS copy;
INSERT INTO key_int8_btree SELECT * FROM src_int8;
CHECKPOINT;
SELECT 'text_btree again' AS copy;
TRUNCATE key_text_btree;
CHECKPOINT;
INSERT INTO key_text_btree SELECT * FROM src;

SELECT c.relname AS index, pg_size_pretty(pg_relation_size(c.oid)) AS size
FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
WHERE i.indrelid IN ('key_text_btree'::regclass, 'key_text_hash'::regclass,
                     'key_bytea_btree'::regclass, 'key_bytea_hash'::regclass,
                     'key_int8_btree'::regclass)
ORDER BY c.relname;
DROP TABLE key_text_btree, key_text_hash, key_bytea_btree, key_bytea_hash, key_int8_btree;
