import { RevocationError, type RevocationErrorCode } from "../errors.js";

type Code = Extract<RevocationErrorCode, "ERR_REVOCATION_OPTIONS" | "ERR_REVOCATION_INVALID">;

export function fail(code: Code, field: string, message: string): never {
  throw new RevocationError(code, `${field}: ${message}`, { field });
}

export function requireInteger(code: Code, field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(code, field, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export function requireString(code: Code, field: string, value: unknown, maxLength: number): string {
  if (typeof value !== "string" || value.length === 0 || value.length > maxLength) {
    fail(code, field, `must be a non-empty string of at most ${maxLength} characters`);
  }
  return value;
}

export function requireFunction<T>(field: string, value: T | undefined, fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== "function") fail("ERR_REVOCATION_OPTIONS", field, "must be a function");
  return value;
}
