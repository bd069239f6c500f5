-- What the target list's fill factor costs and saves at a million people (bench/RESULTS.md,
-- section bench:screening, issue 22). After a 1,000,000-resident run of bench/screening.py,
-- on its database, under the benchmark gate:
--   /work/notes/b psql -h 127.0.0.1 -U postgres -d bench_screening -f bench/screening_target_fillfactor.sql
-- Copies round 1's target list (as `round_create` writes it: INSERT … SELECT, nobody
-- sampled) into copies of the table with its indexes at fillfactor 70 (migration 0002)
-- and 45 (migration 0005), then marks everyone sampled as `_mark_sampled` does (one UPDATE
-- from a key table of the people), after a CHECKPOINT each. Prints each statement's time,
-- the share of HOT updates and the sizes.
\timing on
DROP TABLE IF EXISTS exp_t70, exp_t45;
CREATE TABLE exp_t70 (LIKE screening_roundtarget INCLUDING ALL) WITH (fillfactor = 70);
CREATE TABLE exp_t45 (LIKE screening_roundtarget INCLUDING ALL) WITH (fillfactor = 45);
CREATE TEMP TABLE keys AS SELECT resident_id AS key FROM screening_roundtarget WHERE round_id = 1;
ANALYZE keys;
CHECKPOINT;
SELECT 'insert, fillfactor 70' AS step;
INSERT INTO exp_t70 (id, round_id, resident_id, grid_path, sampled, in_positive_pool, single_result)
  SELECT id, round_id, resident_id, grid_path, false, false, '' FROM screening_roundtarget
  WHERE round_id = 1 ORDER BY id;
CHECKPOINT;
SELECT 'insert, fillfactor 45' AS step;
INSERT INTO exp_t45 (id, round_id, resident_id, grid_path, sampled, in_positive_pool, single_result)
  SELECT id, round_id, resident_id, grid_path, false, false, '' FROM screening_roundtarget
  WHERE round_id = 1 ORDER BY id;
ANALYZE exp_t70, exp_t45;
CHECKPOINT;
SELECT 'mark sampled, fillfactor 70' AS step;
UPDATE exp_t70 t SET sampled = TRUE FROM keys k
  WHERE t.round_id = 1 AND t.resident_id = k.key AND NOT t.sampled;
CHECKPOINT;
SELECT 'mark sampled, fillfactor 45' AS step;
UPDATE exp_t45 t SET sampled = TRUE FROM keys k
  WHERE t.round_id = 1 AND t.resident_id = k.key AND NOT t.sampled;
SELECT pg_sleep(1);
SELECT relname, n_tup_upd, n_tup_hot_upd, pg_size_pretty(pg_relation_size(relid)) AS heap,
       pg_size_pretty(pg_indexes_size(relid)) AS indexes
  FROM pg_stat_user_tables WHERE relname IN ('exp_t70', 'exp_t45') ORDER BY relname;
DROP TABLE exp_t70, exp_t45;
