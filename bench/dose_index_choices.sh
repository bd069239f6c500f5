#!/bin/bash
# Issue 20, round 3: what shape of supply's two dose indexes (supply_dose_lot,
# supply_dose_trace_code) a million-row COPY can afford (bench/RESULTS.md). After
# `make bench`, on its database:
#   /work/notes/b bash bench/dose_index_choices.sh [DATABASE]      (default: bench)
# Copies the first batch's doses out (by resident, as the import inserts them), then COPYs
# them (psql \copy, one transaction each, no foreign keys) into copies of the Dose table
# with supply's indexes in several shapes; prints the seconds of each (COPY and, where
# the indexes are built after it, the build).
set -euo pipefail
DB=${1:-bench}
P="psql -h 127.0.0.1 -U postgres -d $DB -q -v ON_ERROR_STOP=1"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"; $P -c "DROP TABLE IF EXISTS exp_dose"' EXIT
COLS="resident_id, dose_number, product_id, given_on, given_at, lot_number, trace_code, site_id,
  site_name, source, batch_id, county_code, created_at, booster_number, completes_series,
  sequential, next_due_by, recorded_by_id"
COLS=$(echo $COLS)
$P -c "\\copy (SELECT $COLS FROM vaccination_dose WHERE batch_id = (SELECT min(batch_id)
  FROM vaccination_dose) ORDER BY resident_id, dose_number) TO '$DIR/doses.csv' (FORMAT csv)"
echo "rows: $(wc -l < "$DIR/doses.csv")"
LOT="CREATE INDEX exp_lot ON exp_dose (lot_number) INCLUDE (resident_id, site_id, product_id)
  WHERE lot_number <> ''"
LOT_PLAIN="CREATE INDEX exp_lot ON exp_dose (lot_number) WHERE lot_number <> ''"
TRACE="CREATE INDEX exp_trace ON exp_dose (trace_code) WHERE trace_code <> ''"
TRACE_HASH="CREATE INDEX exp_trace ON exp_dose USING hash (trace_code) WHERE trace_code <> ''"
run() {  # label, SQL before the COPY, SQL after it (same transaction)
  $P -c "DROP TABLE IF EXISTS exp_dose" \
     -c "CREATE TABLE exp_dose (LIKE vaccination_dose INCLUDING ALL)" \
     -c "DO \$\$ DECLARE i text; BEGIN FOR i IN SELECT indexname FROM pg_indexes
         WHERE tablename = 'exp_dose' AND indexdef ~ 'lot_number|trace_code'
         LOOP EXECUTE 'DROP INDEX ' || i; END LOOP; END \$\$" \
     -c "CHECKPOINT"
  cat > "$DIR/run.sql" <<SQL
\\timing on
BEGIN;
$2;
\\copy exp_dose ($COLS) FROM '$DIR/doses.csv' (FORMAT csv)
$3;
COMMIT;
SQL
  start=$(date +%s.%N)
  out=$($P -f "$DIR/run.sql" | grep -o 'Time: [0-9.]* ms' | tr '\n' ' ')
  echo "$1: $(echo "$(date +%s.%N) - $start" | bc) s  [$out]"
}
uptime
run "as migrated (lot INCLUDE 3 columns, trace btree)" "$LOT; $TRACE" "SELECT 1"
run "lot without INCLUDE (deduplicated), trace btree" "$LOT_PLAIN; $TRACE" "SELECT 1"
run "lot without INCLUDE, trace hash" "$LOT_PLAIN; $TRACE_HASH" "SELECT 1"
run "without supply's two indexes" "SELECT 1" "SELECT 1"
run "as migrated, built after the COPY (maintenance_work_mem 256MB)" \
  "SET LOCAL maintenance_work_mem = '256MB'" "$LOT; $TRACE"
run "as migrated again" "$LOT; $TRACE" "SELECT 1"
uptime
