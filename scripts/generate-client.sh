#!/bin/sh
# Generates the Prisma client offline (see scripts/no-schema-engine.sh); quiet unless it fails.
out=$(PRISMA_SCHEMA_ENGINE_BINARY=./scripts/no-schema-engine.sh npx prisma generate --no-hints 2>&1) || {
  echo "$out" >&2
  exit 1
}
