import { fileURLToPath } from "node:url";
import { credentials, Metadata, Server, ServerCredentials, status, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { adminV1, issuerV1 } from "@trustmesh/proto";
import { createVerifier } from "@trustmesh/verifier";
import { generateTestKey, jwksOf, mintTestToken, TEST_ISSUER, TEST_NOW_SEC } from "@trustmesh/testing";
import { describe, expect, it } from "vitest";
import { assertEveryMethodHasPolicy } from "./assert-every-method-has-policy.js";
import { createAuthInterceptor } from "./create-auth-interceptor.js";
import { PolicyError } from "./errors.js";
import { policiesFromProto } from "./policies-from-proto.js";
import { allowServices, allowTenants, policy, publicMethod, requireScopes } from "./policy.js";

const repoProtos = fileURLToPath(new URL("../../../proto", import.meta.url));
const fixtures = fileURLToPath(new URL("fixtures", import.meta.url));
const load = (file: string): ReturnType<typeof loadSync> => loadSync(file, { includeDirs: [fixtures, repoProtos] });

describe("policiesFromProto on admin.proto", () => {
  const policies = policiesFromProto(load("trustmesh/admin/v1/admin.proto"));

  it("requires trustmesh:admin on every IssuerAdmin method; the imported TokenIssuer's are public", () => {
    const adminPaths = Object.values(adminV1.IssuerAdminService).map((method) => method.path);
    const issuerPaths = ["IssueToken", "RefreshToken", "GetJwks"].map((method) => `/trustmesh.issuer.v1.TokenIssuer/${method}`);

    expect(adminPaths).toHaveLength(10);
    expect(policies).toEqual({
      ...Object.fromEntries(adminPaths.map((path) => [path, requireScopes("trustmesh:admin")])),
      ...Object.fromEntries(issuerPaths.map((path) => [path, publicMethod()])),
    });
    expect(() => {
      assertEveryMethodHasPolicy(adminV1.IssuerAdminService, policies);
    }).not.toThrow();
  });

  it("is enforced on the ts-proto service definition over loopback", async () => {
    const key = await generateTestKey();
    const audience = "trustmesh-admin";
    const verifier = createVerifier({ issuer: TEST_ISSUER, audience, jwks: jwksOf(key), now: () => TEST_NOW_SEC * 1000 });
    const server = new Server({ interceptors: [createAuthInterceptor({ verifier, policies })] });
    const identity = adminV1.ServiceIdentity.fromPartial({ id: "orders", tenantId: "acme", revision: 1 });
    server.addService(adminV1.IssuerAdminService, {
      getService: (_call: unknown, callback: (error: null, reply: adminV1.GetServiceResponse) => void) => {
        callback(null, { service: identity });
      },
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => {
        if (error === null) resolve(bound);
        else reject(error);
      });
    });
    const client = new adminV1.IssuerAdminClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const getService = async (scope: string): Promise<adminV1.GetServiceResponse | { code: status; details: string }> => {
      const metadata = new Metadata();
      metadata.set("authorization", `Bearer ${await mintTestToken(key, { nowSec: TEST_NOW_SEC, claims: { aud: audience, scope } })}`);
      return new Promise((resolve) => {
        client.getService({ id: "orders" }, metadata, (error: ServiceError | null, reply?: adminV1.GetServiceResponse) => {
          resolve(error === null ? (reply as adminV1.GetServiceResponse) : { code: error.code, details: error.details });
        });
      });
    };
    try {
      expect(await getService("trustmesh:admin")).toEqual({ service: identity });
      expect(await getService("payments:charge")).toEqual({ code: status.PERMISSION_DENIED, details: "ERR_SCOPE_MISSING" });
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});

describe("policiesFromProto", () => {
  it("reads every form of the option, and leaves out a method without one", () => {
    expect(policiesFromProto(load("policies.proto"))).toEqual({
      "/trustmesh.test.v1.Policies/Full": policy(
        requireScopes("orders:read", "orders:write"),
        allowServices("billing"),
        allowTenants("acme", "globex"),
      ),
      "/trustmesh.test.v1.Policies/FieldByField": policy(requireScopes("orders:read"), allowServices("billing")),
      "/trustmesh.test.v1.Policies/AnyCaller": policy(),
      "/trustmesh.test.v1.Policies/Open": publicMethod(),
    });
  });

  it.each(["bad-unknown-field.proto", "bad-wrong-type.proto", "bad-public-with-scopes.proto", "bad-scope-with-space.proto"])(
    "refuses %s rather than enforce less than it says",
    (file) => {
      expect(() => policiesFromProto(load(file))).toThrow(
        expect.objectContaining({ code: "ERR_POLICY_INVALID", methods: ["/trustmesh.test.v1.Bad/Method"] }) as PolicyError,
      );
    },
  );
});

describe("assertEveryMethodHasPolicy", () => {
  it("names every method without a policy", () => {
    const definition = load("policies.proto");
    const service = definition["trustmesh.test.v1.Policies"] as unknown as Record<string, { path: string }>;

    expect(() => {
      assertEveryMethodHasPolicy(service, policiesFromProto(definition));
    }).toThrow(expect.objectContaining({ code: "ERR_POLICY_MISSING", methods: ["/trustmesh.test.v1.Policies/Forgotten"] }) as PolicyError);
  });

  it("lists every method of a ts-proto definition that has none", () => {
    expect(() => {
      assertEveryMethodHasPolicy(issuerV1.TokenIssuerService, {});
    }).toThrow(
      expect.objectContaining({
        code: "ERR_POLICY_MISSING",
        methods: [
          "/trustmesh.issuer.v1.TokenIssuer/IssueToken",
          "/trustmesh.issuer.v1.TokenIssuer/RefreshToken",
          "/trustmesh.issuer.v1.TokenIssuer/GetJwks",
        ],
      }) as PolicyError,
    );
  });
});
