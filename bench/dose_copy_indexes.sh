#!/bin/bash
# What Dose's indexes and the order of the rows cost a million-row COPY (bench/RESULTS.md,
# issue 20). After `make bench`, on its database:
#   /work/notes/b bash bench/dose_copy_indexes.sh [DATABASE]      (default: bench)
# Copies the first batch's doses out, then COPYs them (psql \copy) into copies of the
# Dose table without foreign keys: with the indexes as migrated, with supply's trace-code
# index as a hash index, without supply's two indexes, with only the primary and natural
# keys; then as migrated with the rows sorted by trace code and by lot number. Seconds each.
set -euo pipefail
DB=${1:-bench}
P="psql -h 127.0.0.1 -U postgres -d $DB -q -v ON_ERROR_STOP=1"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"; $P -c "DROP TABLE IF EXISTS exp_dose"' EXIT
COLS="resident_id, dose_number, product_id, given_on, given_at, lot_number, trace_code, site_id,
  site_name, source, batch_id, county_code, created_at, booster_number, completes_series,
  sequential, next_due_by, recorded_by_id"
COLS=$(echo $COLS)
for order in "resident_id, dose_number" trace_code lot_number; do
  $P -c "\\copy (SELECT $COLS FROM vaccination_dose WHERE batch_id = (SELECT min(batch_id)
    FROM vaccination_dose) ORDER BY $order) TO '$DIR/${order%%,*}.csv' (FORMAT csv)"
done
drop() {  # DROP INDEX statements for exp_dose's indexes whose definition matches $1
  $P -Atc "SELECT coalesce(string_agg('DROP INDEX ' || indexname, '; '), 'SELECT 1')
    FROM pg_indexes WHERE tablename = 'exp_dose' AND indexdef ~ '$1'"
}
run() {  # label, SQL shaping the table, file
  $P -c "DROP TABLE IF EXISTS exp_dose" \
     -c "CREATE TABLE exp_dose (LIKE vaccination_dose INCLUDING ALL)"
  $P -c "$2" -c "CHECKPOINT"
  start=$(date +%s.%N)
  $P -c "\\copy exp_dose ($COLS) FROM '$DIR/$3.csv' (FORMAT csv)"
  echo "$1: $(echo "$(date +%s.%N) - $start" | bc) s"
}
uptime
run "indexes as migrated, rows by resident (as imported)" "SELECT 1" resident_id
run "supply's trace-code index as a hash index" "$(drop trace_code);
  CREATE INDEX exp_trace_hash ON exp_dose USING hash (trace_code) WHERE trace_code <> ''" \
  resident_id
run "without supply's lot and trace-code indexes" "$(drop 'lot_number|trace_code')" resident_id
run "primary key and natural key only" \
  "$(drop 'site_id|batch_id|recorded_by_id|lot_number|trace_code')" resident_id
run "indexes as migrated, rows by trace code" "SELECT 1" trace_code
run "indexes as migrated, rows by lot number" "SELECT 1" lot_number
uptime
