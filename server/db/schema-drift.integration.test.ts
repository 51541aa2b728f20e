/**
 * Keeps prisma/schema.prisma and the SQL migrations in step: after applying the migrations to a
 * fresh database, every model, column, type, nullability, unique field and enum that Prisma
 * expects must be there, and nothing Prisma does not know about may hide in those tables.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../testing/test-env.ts";
import { migrateDatabase, readMigrations } from "./migrate.ts";

const require = createRequire(import.meta.url);
const wasm = require("@prisma/prisma-schema-wasm") as { get_dmmf(params: string): string };

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "enum" | "object";
  type: string;
  isRequired: boolean;
  isUnique: boolean;
  isList: boolean;
  nativeType: [string, string[]] | null;
}
interface Dmmf {
  datamodel: {
    models: { name: string; dbName: string | null; fields: DmmfField[] }[];
    enums: { name: string; dbName: string | null; values: { name: string; dbName: string | null }[] }[];
  };
}

const SCALAR_TYPES: Record<string, string> = {
  String: "text",
  Int: "integer",
  BigInt: "bigint",
  Boolean: "boolean",
  DateTime: "timestamp(3) without time zone",
  Json: "jsonb",
  Float: "double precision",
};
const NATIVE_TYPES: Record<string, string> = { Uuid: "uuid", Timestamptz: "timestamp with time zone" };

let env: TestEnv;
let client: pg.Client;
let dmmf: Dmmf;

beforeAll(async () => {
  env = await createTestEnv();
  client = new pg.Client({ connectionString: env.databaseUrl });
  await client.connect();
  const schema = await readFile("prisma/schema.prisma", "utf8");
  dmmf = JSON.parse(wasm.get_dmmf(JSON.stringify({ prismaSchema: [["schema.prisma", schema]], noColor: true })));
});

afterAll(async () => {
  await client?.end();
  await env?.cleanup();
});

async function columns(table: string) {
  const { rows } = await client.query<{ column_name: string; data_type: string; udt_name: string; is_nullable: string }>(
    `SELECT column_name, data_type, udt_name, is_nullable FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = $1`,
    [table],
  );
  return new Map(rows.map((r) => [r.column_name, r]));
}

describe("console database schema", () => {
  it("has every model's table with exactly the columns, types and nullability Prisma expects", async () => {
    const enumDbNames = new Map(dmmf.datamodel.enums.map((e) => [e.name, e.dbName ?? e.name]));
    for (const model of dmmf.datamodel.models) {
      const table = model.dbName ?? model.name;
      const actual = await columns(table);
      expect(actual.size, `table ${table} exists`).toBeGreaterThan(0);
      const scalars = model.fields.filter((f) => f.kind !== "object");
      for (const field of scalars) {
        const column = field.dbName ?? field.name;
        const found = actual.get(column);
        expect(found, `${table}.${column}`).toBeDefined();
        // Prisma creates list columns without NOT NULL, whatever the field says.
        expect(found!.is_nullable, `${table}.${column} nullability`).toBe(field.isRequired && !field.isList ? "NO" : "YES");
        if (field.isList) {
          expect(found!.data_type, `${table}.${column} is an array`).toBe("ARRAY");
          expect(found!.udt_name, `${table}.${column} element type`).toBe(`_${SCALAR_TYPES[field.type]}`);
        } else if (field.kind === "enum") {
          expect(found!.udt_name, `${table}.${column} enum`).toBe(enumDbNames.get(field.type));
        } else {
          const expected = field.nativeType ? NATIVE_TYPES[field.nativeType[0]] : SCALAR_TYPES[field.type];
          expect(found!.data_type, `${table}.${column} type`).toBe(expected);
        }
      }
      expect([...actual.keys()].sort(), `${table} has no columns Prisma does not know`).toEqual(
        scalars.map((f) => f.dbName ?? f.name).sort(),
      );
    }
  });

  it("has a unique index for every @unique field", async () => {
    for (const model of dmmf.datamodel.models) {
      for (const field of model.fields.filter((f) => f.isUnique)) {
        const { rows } = await client.query(
          `SELECT 1 FROM pg_index i
             JOIN pg_class t ON t.oid = i.indrelid
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey)
            WHERE t.relname = $1 AND a.attname = $2 AND i.indisunique AND i.indnatts = 1 AND i.indpred IS NULL`,
          [model.dbName ?? model.name, field.dbName ?? field.name],
        );
        expect(rows.length, `${model.name}.${field.name} is unique`).toBe(1);
      }
    }
  });

  it("has every enum with exactly Prisma's values, in order", async () => {
    for (const e of dmmf.datamodel.enums) {
      const { rows } = await client.query<{ label: string }>(
        `SELECT enumlabel::text AS label FROM pg_enum JOIN pg_type ON pg_type.oid = enumtypid
          WHERE typname = $1 ORDER BY enumsortorder`,
        [e.dbName ?? e.name],
      );
      expect(rows.map((r) => r.label)).toEqual(e.values.map((v) => v.dbName ?? v.name));
    }
  });
});

describe("migration runner", () => {
  it("records each migration with Prisma's checksum and applies nothing twice", async () => {
    const migrations = await readMigrations();
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      `SELECT migration_name, checksum, finished_at FROM _prisma_migrations ORDER BY migration_name`,
    );
    expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(migrations.map((m) => [m.name, m.checksum]));
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
    expect(await migrateDatabase(env.databaseUrl)).toEqual({ applied: [] });
  });

  it("refuses a migration whose file changed after it was applied", async () => {
    const [first, ...rest] = await readMigrations();
    const edited = { ...first!, sql: `${first!.sql}\n-- edited`, checksum: "0".repeat(64) };
    await expect(migrateDatabase(env.databaseUrl, [edited, ...rest])).rejects.toThrow(/was modified after it was applied/);
  });

  it("rolls back a failing migration and records nothing for it", async () => {
    const broken = { name: "29991231000000_broken", sql: "CREATE TABLE drift_probe (id int); SELECT no_such_function();", checksum: "f".repeat(64) };
    await expect(migrateDatabase(env.databaseUrl, [...(await readMigrations()), broken])).rejects.toThrow(/29991231000000_broken failed/);
    const { rows } = await client.query(`SELECT to_regclass('drift_probe') AS t, (SELECT count(*) FROM _prisma_migrations WHERE migration_name = $1)::int AS n`, [broken.name]);
    expect(rows[0]).toEqual({ t: null, n: 0 });
  });
});
