import { describe, expect, it } from "vitest";
import { sameDatabase, sameServer } from "../../lib/postgres/connection.ts";

const target = { host: "db.example.internal", port: 5432, database: "postgres" };

describe("the one rule for the same server and database (dynamic-provider diffs)", () => {
  it("is the same server only with the same host and port", () => {
    expect(sameServer(target, { ...target })).toBe(true);
    const otherDatabase = { ...target, database: "other" };
    expect(sameServer(target, otherDatabase)).toBe(true);
    expect(sameServer(target, { ...target, port: 6543 })).toBe(false);
    expect(sameServer(target, { ...target, host: "db2.example.internal" })).toBe(false);
  });

  it("is the same database only on the same server with the same name", () => {
    expect(sameDatabase(target, { ...target })).toBe(true);
    expect(sameDatabase(target, { ...target, database: "other" })).toBe(false);
    expect(sameDatabase(target, { ...target, port: 6543 })).toBe(false);
    expect(sameDatabase(target, { ...target, host: "db2.example.internal" })).toBe(false);
  });
});
