import { describe, expect, it } from "vitest";
import { isTransientDbError } from "./transient-error.ts";

function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, severity: "FATAL" });
}

describe("isTransientDbError", () => {
  it("recognises a restart of PostgreSQL in each shape pg reports it", () => {
    expect(isTransientDbError(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(isTransientDbError(pgError("57P01", "terminating connection due to administrator command"))).toBe(true);
    expect(isTransientDbError(pgError("57P03", "the database system is starting up"))).toBe(true);
    expect(isTransientDbError(pgError("08006", "connection failure"))).toBe(true);
    expect(isTransientDbError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isTransientDbError(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).toBe(true);
    expect(isTransientDbError(new Error("Client has encountered a connection error and is not queryable"))).toBe(true);
  });

  it("looks through wrappers: Error.cause, AggregateError and Prisma's driver adapter error", () => {
    expect(isTransientDbError(new Error("restore failed", { cause: pgError("57P01", "terminating connection") }))).toBe(true);
    expect(isTransientDbError(new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })], ""))).toBe(true);
    const prisma = Object.assign(new Error("Invalid `prisma.restoreRun.update()` invocation"), {
      code: "P2010",
      meta: { driverAdapterError: Object.assign(new Error("ConnectionClosed"), { cause: { kind: "postgres", originalCode: "57P01", originalMessage: "terminating connection" } }) },
    });
    expect(isTransientDbError(prisma)).toBe(true);
    expect(isTransientDbError(Object.assign(new Error("Server has closed the connection."), { code: "P1017" }))).toBe(true);
  });

  it("leaves mistakes in the work itself alone", () => {
    expect(isTransientDbError(pgError("23505", "duplicate key value violates unique constraint"))).toBe(false);
    expect(isTransientDbError(pgError("42P01", 'relation "mboxgroup5.item" does not exist'))).toBe(false);
    expect(isTransientDbError(pgError("57014", "canceling statement due to user request"))).toBe(false);
    expect(isTransientDbError(new Error("incorrect data check"))).toBe(false);
    expect(isTransientDbError("Connection terminated unexpectedly")).toBe(false);
    expect(isTransientDbError(null)).toBe(false);
  });

  it("does not loop on a cause that refers back to itself", () => {
    const a = new Error("a") as Error & { cause?: unknown };
    a.cause = a;
    expect(isTransientDbError(a)).toBe(false);
  });
});
