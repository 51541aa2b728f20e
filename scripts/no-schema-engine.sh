#!/bin/sh
# Stands in for Prisma's native schema engine, which cannot be downloaded on these machines.
# `prisma generate`, `validate` and `format` never call it; migrations run through scripts/migrate.ts.
echo "The Prisma schema engine is not available offline: apply migrations with 'npm run db:migrate'." >&2
exit 1
