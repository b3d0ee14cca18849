import { describe, expect, it } from "vitest";
import type { ServiceClaims } from "@trustmesh/verifier";
import { PolicyError } from "./errors.js";
import { checkPolicy } from "./lib/check-policy.js";
import { allowServices, allowTenants, policy, publicMethod, requireScopes, type MethodPolicy } from "./policy.js";

describe("policy values", () => {
  it("add up scopes and narrow service and tenant lists", () => {
    const combined = policy(
      requireScopes("payments:charge"),
      requireScopes("payments:charge", "payments:refund"),
      allowServices("orders", "billing"),
      allowServices("billing", "inventory"),
      allowTenants("acme"),
    );

    expect(combined).toEqual({ public: false, scopes: ["payments:charge", "payments:refund"], services: ["billing"], tenants: ["acme"] });
  });

  it("admit any verified caller with policy() alone", () => {
    expect(policy()).toEqual({ public: false, scopes: [] });
  });

  it("are frozen, so a policy handed to the interceptor cannot be loosened later", () => {
    const value = policy(requireScopes("a"), allowServices("b"));

    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.scopes)).toBe(true);
    expect(Object.isFrozen(value.services)).toBe(true);
  });

  const invalid: { name: string; build: () => MethodPolicy }[] = [
    { name: "requireScopes()", build: () => requireScopes() },
    { name: "allowServices()", build: () => allowServices() },
    { name: "allowTenants()", build: () => allowTenants() },
    { name: "an empty scope", build: () => requireScopes("") },
    { name: "a scope with a space", build: () => requireScopes("payments:charge payments:refund") },
    { name: "public combined with scopes", build: () => policy(publicMethod(), requireScopes("a")) },
    { name: "service lists with nothing in common", build: () => policy(allowServices("a"), allowServices("b")) },
    { name: "tenant lists with nothing in common", build: () => policy(allowTenants("a"), allowTenants("b")) },
    { name: "a hand-made public policy with scopes", build: () => policy({ public: true, scopes: ["a"] }) },
    { name: "a hand-made policy without public", build: () => policy({ scopes: ["a"] } as unknown as MethodPolicy) },
  ];

  it.each(invalid)("refuse $name with ERR_POLICY_INVALID", ({ build }) => {
    expect(build).toThrow(expect.objectContaining({ name: "PolicyError", code: "ERR_POLICY_INVALID" }) as PolicyError);
  });
});

describe("checkPolicy", () => {
  const claims: ServiceClaims = {
    iss: "https://issuer.trustmesh.test",
    sub: "orders",
    clientId: "orders",
    aud: "payments",
    scopes: ["payments:charge"],
    tenantId: undefined,
    jti: "j",
    iat: 0,
    nbf: 0,
    exp: 600,
    kid: "k",
  };
  const cases: { name: string; policy: MethodPolicy; expected: string | undefined }[] = [
    { name: "policy() passes any caller", policy: policy(), expected: undefined },
    { name: "a held scope passes", policy: requireScopes("payments:charge"), expected: undefined },
    { name: "every scope is required", policy: requireScopes("payments:charge", "payments:refund"), expected: "ERR_SCOPE_MISSING" },
    { name: "an allowed service passes", policy: allowServices("orders"), expected: undefined },
    { name: "another service is refused", policy: allowServices("billing"), expected: "ERR_SERVICE_NOT_ALLOWED" },
    { name: "no tenant passes no tenant list", policy: allowTenants("acme"), expected: "ERR_TENANT_NOT_ALLOWED" },
  ];

  it.each(cases)("$name", ({ policy: checked, expected }) => {
    expect(checkPolicy(checked, claims)).toBe(expected);
  });
});
