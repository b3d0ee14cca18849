/**
 * What the load benchmark and its server processes (load-server.ts) say to each other: the spec
 * a server starts from, the line it prints once it listens, the line it answers "cpu" with, and
 * the bare echo method both sides share.
 */
import { issuerV1 } from "@trustmesh/proto";

export type LoadServerSpec =
  | { readonly kind: "issuer"; readonly env: Readonly<Record<string, string>> }
  | { readonly kind: "echo"; readonly response: issuerV1.TokenResponse };

export interface LoadServerReady {
  readonly address: string;
  /** The issuer's identifier (the `aud` of client assertions); empty for the echo server. */
  readonly issuer: string;
}

export interface LoadServerCpu {
  /** User plus system time of the whole process (every thread), in microseconds. */
  readonly cpuUs: number;
}

/** The echo's one method, on the issuer's own codecs: both sides encode the same bytes. */
export const ECHO_SERVICE = {
  echo: {
    path: "/trustmesh.bench.Echo/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: issuerV1.TokenIssuerService.issueToken.requestSerialize,
    requestDeserialize: issuerV1.TokenIssuerService.issueToken.requestDeserialize,
    responseSerialize: issuerV1.TokenIssuerService.issueToken.responseSerialize,
    responseDeserialize: issuerV1.TokenIssuerService.issueToken.responseDeserialize,
  },
} as const;
