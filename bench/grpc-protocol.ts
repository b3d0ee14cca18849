/**
 * What the gRPC benchmark and its echo server process (grpc-echo-server.ts) say to each other:
 * the spec the server starts from, the line it prints once its servers listen, and the line it
 * answers "cpu" with. The echo method is the load benchmark's (lib/load-protocol.ts).
 */
import type { JsonWebKeySet } from "@trustmesh/verifier";
import type { LoadServerCpu } from "./lib/load-protocol.js";

/** The scope the echo method's policy requires; test tokens carry it. */
export const ECHO_SCOPE = "payments:charge";

export interface EchoServerSpec {
  /** The public keys the interceptors' verifiers trust. */
  readonly jwks: JsonWebKeySet;
}

/**
 * One process, three grpc-js servers with the same service and handler: one bare, two behind the
 * interceptor. The two are configured alike, each with a verifier of its own at the default cache
 * size: the cache drops its oldest insertion first, so a shared one would lose the warm token to
 * the cold rounds' fresh ones.
 */
export interface EchoServerReady {
  readonly bareAddress: string;
  readonly warmAddress: string;
  readonly coldAddress: string;
}

export interface CacheCounts {
  readonly hits: number;
  readonly misses: number;
}

export interface EchoServerCpu extends LoadServerCpu {
  /** The verifiers' caches so far: a warm round must only hit, a cold one only miss. */
  readonly warmCache: CacheCounts;
  readonly coldCache: CacheCounts;
}
