// The client's error table (src/transports/errorContract.ts) against the hub's one error contract:
// Contracts/error-contract.json, written from Contracts/ErrorContract.cs (a .NET test keeps it
// current). A code added to the contract fails this test until the table has it too.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CONTRACT } from "../../src/transports/errorContract.js";
import { repoRoot } from "../support/HubProcess.js";

interface ContractFile { codes: Array<{ code: string; kind: string; retry: string }> }

describe("the error table", () => {
  it("is the hub's error contract, code by code: kind and retry mode", () => {
    const contract = JSON.parse(readFileSync(resolve(repoRoot, "Contracts/error-contract.json"), "utf8")) as ContractFile;
    const expected = Object.fromEntries(contract.codes.map((c) => [c.code, { kind: c.kind, retry: c.retry }]));
    expect(ERROR_CONTRACT).toEqual(expected);
  });
});
