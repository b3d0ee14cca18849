/**
 * What every contract test gets: a fresh, empty store on a frozen clock, and a second handle on
 * that same state when a test asks for one (a second issuer replica is a second connection in Redis,
 * and the same object in memory), all closed after the test.
 */
import { afterEach, beforeEach, expect } from "vitest";
import { StoreError, type StoreErrorCode } from "./errors.js";
import type { IssuerStore, NewServiceIdentity, PublicJwk } from "./types.js";

export interface StoreUnderTest {
  readonly store: IssuerStore;
  /** Another handle on the same data, as a second issuer replica would hold. */
  replica(): IssuerStore | Promise<IssuerStore>;
}

/** Makes a fresh, empty store whose every expiry decision reads `now`. */
export type StoreFactory = (now: () => number) => StoreUnderTest | Promise<StoreUnderTest>;

export interface ContractContext {
  store(): IssuerStore;
  /** Two handles on one store's data: two issuer replicas. */
  pair(): Promise<readonly [IssuerStore, IssuerStore]>;
  nowSec(): number;
  nowMs(): number;
  /** Moves the frozen clock forward. */
  advance(seconds: number): void;
}

/** 2026-01-01T00:00:00Z, the same instant the verifier's tests freeze at. */
export const START_SEC = 1_767_225_600;

export function useStoreUnderTest(factory: StoreFactory): ContractContext {
  let clockMs = START_SEC * 1000;
  let current: StoreUnderTest | undefined;
  const opened: IssuerStore[] = [];

  beforeEach(async () => {
    clockMs = START_SEC * 1000;
    current = await factory(() => clockMs);
    opened.push(current.store);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    current = undefined;
  });

  const underTest = (): StoreUnderTest => {
    if (current === undefined) throw new Error("the store exists only inside tests");
    return current;
  };
  return {
    store: () => underTest().store,
    async pair() {
      const replica = await underTest().replica();
      if (!opened.includes(replica)) opened.push(replica);
      return [underTest().store, replica] as const;
    },
    nowSec: () => Math.floor(clockMs / 1000),
    nowMs: () => clockMs,
    advance(seconds) {
      clockMs += seconds * 1000;
    },
  };
}

/** Round-robin over replicas. */
export function nth<T>(items: readonly T[], index: number): T {
  const item = items[index % items.length];
  if (item === undefined) throw new Error("no items");
  return item;
}

/** The StoreError a promise rejects with; fails the test if it resolves or throws anything else. */
export async function storeErrorOf(promise: Promise<unknown>): Promise<StoreError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
  }
  throw new Error("expected the operation to be refused");
}

export async function codeOf(promise: Promise<unknown>): Promise<StoreErrorCode> {
  return (await storeErrorOf(promise)).code;
}

/** A syntactically valid public Ed25519 JWK; the store never verifies with it. */
export function publicJwk(kid: string): PublicJwk {
  return { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", kid, use: "sig", alg: "EdDSA" };
}

export function serviceInput(id: string, overrides: Partial<Record<keyof NewServiceIdentity, unknown>> = {}): NewServiceIdentity {
  return {
    id,
    tenantId: "acme",
    keys: [publicJwk(`${id}-1`)],
    audiences: { payments: ["payments:charge", "payments:refund"], ledger: [] },
    ...overrides,
  } as NewServiceIdentity;
}
