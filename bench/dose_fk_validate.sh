#!/bin/bash
# What VALIDATE of Dose's foreign keys costs over the whole table (bench/RESULTS.md, issue 20:
# the "revalidate" choice). After `make bench`, on its database:
#   /work/notes/b bash bench/dose_fk_validate.sh [DATABASE]      (default: bench)
# In one transaction, rolled back: each foreign key dropped and added back NOT VALID, then
# each VALIDATEd with psql's \timing on.
set -euo pipefail
DB=${1:-bench}
P="psql -h 127.0.0.1 -U postgres -d $DB -q -v ON_ERROR_STOP=1"
SQL="BEGIN;"
while IFS='|' read -r name definition; do
  SQL="$SQL ALTER TABLE vaccination_dose DROP CONSTRAINT \"$name\";"
  SQL="$SQL ALTER TABLE vaccination_dose ADD CONSTRAINT \"$name\" $definition NOT VALID;"
done < <($P -Atc "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                  WHERE conrelid = 'vaccination_dose'::regclass AND contype = 'f'")
VALIDATE=$($P -Atc "SELECT string_agg('ALTER TABLE vaccination_dose VALIDATE CONSTRAINT \"'
                    || conname || '\";', ' ') FROM pg_constraint
                    WHERE conrelid = 'vaccination_dose'::regclass AND contype = 'f'")
echo "doses: $($P -Atc "SELECT count(*) FROM vaccination_dose")"
printf '%s\n\\timing on\n%s\nROLLBACK;\n' "$SQL" "$VALIDATE" | $P
