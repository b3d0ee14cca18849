import type { sendUnaryData, ServerUnaryCall } from "@grpc/grpc-js";
import { issuerV1 } from "@trustmesh/proto";
import type { Logger } from "pino";
import type { SigningKeys } from "../keys/signing-keys.js";
import type { IssuedTokens, TokenService } from "../tokens/token-service.js";
import { toServiceError } from "./service-error.js";

/** TokenIssuer over gRPC: thin adapters from messages to the token service and back. */
export function tokenIssuerHandlers(tokens: TokenService, signingKeys: SigningKeys, log: Logger): issuerV1.TokenIssuerServer {
  return {
    issueToken: unary(log, "IssueToken", async (request: issuerV1.IssueTokenRequest) => {
      const issued = await tokens.issue(request);
      log.info({ method: "IssueToken", clientId: issued.clientId, audience: issued.audience, scopes: issued.scopes, jti: issued.jti }, "token issued");
      return response(issued);
    }),
    refreshToken: unary(log, "RefreshToken", async (request: issuerV1.RefreshTokenRequest) => {
      const issued = await tokens.refresh(request);
      log.info({ method: "RefreshToken", clientId: issued.clientId, audience: issued.audience, jti: issued.jti }, "token refreshed");
      return response(issued);
    }),
    getJwks: unary(log, "GetJwks", () => Promise.resolve({ keys: signingKeys.jwks().keys.map(toProtoJwk) })),
  };
}

function response(issued: IssuedTokens): issuerV1.TokenResponse {
  return {
    accessToken: issued.accessToken,
    tokenType: "Bearer",
    expiresAtUnix: issued.expiresAtUnix,
    expiresInSec: issued.expiresInSec,
    refreshToken: issued.refreshToken,
    refreshExpiresAtUnix: issued.refreshExpiresAtUnix,
    audience: issued.audience,
    scopes: [...issued.scopes],
  };
}

export function toProtoJwk(jwk: Readonly<Record<string, unknown>>): issuerV1.JsonWebKey {
  const text = (name: string): string => (typeof jwk[name] === "string" ? jwk[name] : "");
  return { kty: text("kty"), crv: text("crv"), x: text("x"), ...(typeof jwk["y"] === "string" ? { y: jwk["y"] } : {}), kid: text("kid"), alg: text("alg"), use: text("use") };
}

/** Adapts an async handler to grpc-js's callback style, with every failure through toServiceError. */
export function unary<Req, Res>(log: Logger, method: string, handle: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    handle(call.request, call).then(
      (result) => {
        callback(null, result);
      },
      (error: unknown) => {
        callback(toServiceError(error, log, method));
      },
    );
  };
}
