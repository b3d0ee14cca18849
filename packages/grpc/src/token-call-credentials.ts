import { credentials, Metadata, type CallCredentials } from "@grpc/grpc-js";
import { askFor, checkedRequest, type TokenRequest } from "./client-token-interceptor.js";
import { tokenFailureStatus } from "./lib/client-token-status.js";
import type { TokenSource } from "./token-source.js";

/**
 * CallCredentials that put `authorization: Bearer <token>` on every call, for TLS channels:
 * `credentials.combineChannelCredentials(credentials.createSsl(ca), tokenCallCredentials(...))`.
 * grpc-js refuses to combine them with insecure channel credentials; use `createTokenInterceptor`
 * there. A call without a token fails UNAVAILABLE or UNAUTHENTICATED, as with the interceptor.
 */
export function tokenCallCredentials(tokenSource: Pick<TokenSource, "getToken">, request: TokenRequest): CallCredentials {
  const { audience, scopes } = checkedRequest(tokenSource, request);
  return credentials.createFromMetadataGenerator((_call, callback) => {
    askFor(tokenSource, audience, scopes).then(
      (token) => {
        const metadata = new Metadata();
        metadata.set("authorization", `Bearer ${token}`);
        callback(null, metadata);
      },
      (error: unknown) => {
        const failure = tokenFailureStatus(error);
        callback(Object.assign(new Error(failure.details), { code: failure.code }));
      },
    );
  });
}
