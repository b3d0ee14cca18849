/**
 * Per-method policy as small values that combine: `policy(requireScopes("a"), allowServices("b"))`.
 * Every part must hold for a call to pass. The shape mirrors `trustmesh.v1.MethodPolicy`, so a
 * policy declared in a .proto and one written here mean the same thing.
 */
import { PolicyError } from "./errors.js";

export interface MethodPolicy {
  /** No token is needed or checked, and the handler has no caller. Excludes every other field. */
  readonly public: boolean;
  /** All of these must be granted to the token. */
  readonly scopes: readonly string[];
  /** Caller service ids (the token's `sub`) allowed; `undefined` allows any. */
  readonly services?: readonly string[];
  /** Caller tenants allowed; `undefined` allows any, and a token without a tenant passes no list. */
  readonly tenants?: readonly string[];
}

/** Policies keyed by fully-qualified method path, `/pkg.Service/Method`. */
export type PolicyMap = Readonly<Record<string, MethodPolicy>>;

/** A token is needed and must carry every one of `scopes`. */
export function requireScopes(...scopes: string[]): MethodPolicy {
  return freeze({ public: false, scopes: names("requireScopes", scopes, "scope") });
}

/** Only these calling services (token `sub`) may call. */
export function allowServices(...serviceIds: string[]): MethodPolicy {
  return freeze({ public: false, scopes: [], services: names("allowServices", serviceIds, "service id") });
}

/** Only callers of these tenants (token `tenant_id`) may call. */
export function allowTenants(...tenantIds: string[]): MethodPolicy {
  return freeze({ public: false, scopes: [], tenants: names("allowTenants", tenantIds, "tenant id") });
}

/** No token at all: for health checks and reflection. Cannot be combined with other parts. */
export function publicMethod(): MethodPolicy {
  return PUBLIC;
}

/**
 * Combines parts so that every one must hold: scopes add up, service and tenant lists narrow to
 * what all of them allow. `policy()` alone admits any caller with a valid token.
 */
export function policy(...parts: MethodPolicy[]): MethodPolicy {
  parts.forEach((part) => {
    assertValidPolicy(part);
  });
  if (parts.some((part) => part.public)) {
    if (parts.length > 1) throw new PolicyError("ERR_POLICY_INVALID", "publicMethod() cannot be combined with other parts");
    return PUBLIC;
  }
  const combined: { -readonly [K in keyof MethodPolicy]: MethodPolicy[K] } = {
    public: false,
    scopes: [...new Set(parts.flatMap((part) => part.scopes))],
  };
  for (const part of parts) {
    if (part.services !== undefined) combined.services = narrow("services", combined.services, part.services);
    if (part.tenants !== undefined) combined.tenants = narrow("tenants", combined.tenants, part.tenants);
  }
  return freeze(combined);
}

/** Throws `PolicyError` unless `value` is a policy this package can enforce as written. */
export function assertValidPolicy(value: unknown): asserts value is MethodPolicy {
  const candidate = value as Partial<MethodPolicy> | null;
  if (typeof candidate !== "object" || candidate === null || typeof candidate.public !== "boolean") {
    throw new PolicyError("ERR_POLICY_INVALID", "a policy must be built with policy(), requireScopes(), allowServices(), allowTenants() or publicMethod()");
  }
  names("scopes", candidate.scopes, "scope", true);
  if (candidate.services !== undefined) names("services", candidate.services, "service id");
  if (candidate.tenants !== undefined) names("tenants", candidate.tenants, "tenant id");
  if (candidate.public && (candidate.scopes?.length !== 0 || candidate.services !== undefined || candidate.tenants !== undefined)) {
    throw new PolicyError("ERR_POLICY_INVALID", "a public method cannot also require scopes, services or tenants");
  }
}

const PUBLIC: MethodPolicy = freeze({ public: true, scopes: [] });

function names(where: string, values: unknown, what: string, allowEmpty = false): string[] {
  if (!Array.isArray(values) || (values.length === 0 && !allowEmpty)) {
    // An empty allow-list would admit nobody: almost certainly a mistake, so refuse it early.
    throw new PolicyError("ERR_POLICY_INVALID", `${where} needs at least one ${what}`);
  }
  for (const value of values as unknown[]) {
    // Scopes travel space-separated in the token, so whitespace inside one could never match.
    if (typeof value !== "string" || value.length === 0 || /\s/.test(value)) {
      throw new PolicyError("ERR_POLICY_INVALID", `${where}: every ${what} must be a non-empty string without whitespace`);
    }
  }
  return [...new Set(values as string[])];
}

function narrow(field: string, current: readonly string[] | undefined, next: readonly string[]): readonly string[] {
  if (current === undefined) return next;
  const both = current.filter((value) => next.includes(value));
  if (both.length === 0) throw new PolicyError("ERR_POLICY_INVALID", `the parts allow no ${field} in common, so no one could call`);
  return both;
}

function freeze(value: MethodPolicy): MethodPolicy {
  const frozen: { -readonly [K in keyof MethodPolicy]: MethodPolicy[K] } = {
    public: value.public,
    scopes: Object.freeze([...value.scopes]),
  };
  if (value.services !== undefined) frozen.services = Object.freeze([...value.services]);
  if (value.tenants !== undefined) frozen.tenants = Object.freeze([...value.tenants]);
  return Object.freeze(frozen);
}
