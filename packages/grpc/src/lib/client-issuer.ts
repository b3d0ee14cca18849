/**
 * The token source's two calls to the issuer, IssueToken and RefreshToken, as promises of a
 * checked grant: each with a fresh client assertion and a deadline, cancelled on close, and every
 * failure turned into a TokenSourceError whose message names the issuer and never a token.
 */
import { Metadata, status, type ClientUnaryCall, type ServiceError } from "@grpc/grpc-js";
import type { issuerV1 } from "@trustmesh/proto";
import { TokenSourceError, type TokenSourceErrorCode } from "../token-source-error.js";
import type { AssertionSigner } from "./client-assertion.js";

/** A usable answer of the issuer, with lifetimes relative to the local clock. */
export interface Grant {
  readonly accessToken: string;
  /** Local time (ms) the call was made: lifetimes count from here, so a skewed clock cannot stretch them. */
  readonly startedAt: number;
  readonly lifetimeMs: number;
  /** Absent when the issuer gave no refresh token. */
  readonly refreshToken: string | undefined;
  readonly refreshLifetimeMs: number;
}

export interface IssuerPort {
  /** For messages: where the issuer is. */
  readonly address: string;
  issue(audience: string, scopes: readonly string[]): Promise<Grant>;
  /** Spends `refreshToken`, whatever the outcome: never call twice with the same one. */
  refresh(refreshToken: string, audience: string, scopes: readonly string[]): Promise<Grant>;
  /** Cancels calls in flight; closes the client if the port created it. */
  close(): void;
}

export type IssuerClient = Pick<issuerV1.TokenIssuerClient, "issueToken" | "refreshToken" | "getChannel" | "close">;

export interface IssuerPortOptions {
  readonly client: IssuerClient;
  /** Close the client with the port: it was created for the source. */
  readonly ownsClient: boolean;
  readonly signer: AssertionSigner;
  readonly callTimeoutMs: number;
  readonly now: () => number;
}

type Method = "issueToken" | "refreshToken";
const METHOD_NAMES: Readonly<Record<Method, string>> = { issueToken: "IssueToken", refreshToken: "RefreshToken" };

const UNREACHABLE = new Set<status>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.CANCELLED]);
const DENIED = new Set<status>([status.UNAUTHENTICATED, status.PERMISSION_DENIED]);
const MAX_DETAILS_LENGTH = 200;

export function createIssuerPort(options: IssuerPortOptions): IssuerPort {
  const { client, signer, now } = options;
  const address = client.getChannel().getTarget().replace(/^dns:/, "");
  const inFlight = new Set<ClientUnaryCall>();

  async function call(method: Method, request: issuerV1.IssueTokenRequest | issuerV1.RefreshTokenRequest, audience: string, scopes: readonly string[]): Promise<Grant> {
    const startedAt = now();
    const response = await new Promise<issuerV1.TokenResponse | undefined>((resolve, reject) => {
      const done = (error: ServiceError | null, answer?: issuerV1.TokenResponse): void => {
        inFlight.delete(pending);
        if (error === null) resolve(answer);
        else reject(fromStatus(error, method, address, audience, scopes));
      };
      const callOptions = { deadline: Date.now() + options.callTimeoutMs };
      const pending =
        method === "issueToken"
          ? client.issueToken(request as issuerV1.IssueTokenRequest, new Metadata(), callOptions, done)
          : client.refreshToken(request as issuerV1.RefreshTokenRequest, new Metadata(), callOptions, done);
      inFlight.add(pending);
    });
    if (response === undefined) throw failed(`${METHOD_NAMES[method]} answered nothing`, address, audience, scopes);
    return toGrant(response, startedAt, address, audience, scopes);
  }

  return {
    address,
    issue(audience, scopes) {
      return call("issueToken", { clientAssertion: signer.sign(now()), audience, scopes: [...scopes] }, audience, scopes);
    },
    refresh(refreshToken, audience, scopes) {
      return call("refreshToken", { clientAssertion: signer.sign(now()), refreshToken }, audience, scopes);
    },
    close() {
      for (const pending of inFlight) pending.cancel();
      inFlight.clear();
      if (options.ownsClient) client.close();
    },
  };
}

function toGrant(response: issuerV1.TokenResponse, startedAt: number, address: string, audience: string, scopes: readonly string[]): Grant {
  if (typeof response.accessToken !== "string" || response.accessToken === "" || !(response.expiresInSec > 0)) {
    throw failed("the issuer answered without a usable token", address, audience, scopes);
  }
  if (response.audience !== audience) throw failed("the issuer answered with a token for another audience", address, audience, scopes);
  const granted = new Set(response.scopes);
  if (!scopes.every((scope) => granted.has(scope))) {
    throw new TokenSourceError("ERR_TOKEN_DENIED", `${forWhat(audience, scopes)}: the issuer at ${address} granted fewer scopes than asked for`, { audience, scopes });
  }
  const issuedAtSec = response.expiresAtUnix - response.expiresInSec;
  const refreshLifetimeSec = response.refreshExpiresAtUnix - issuedAtSec;
  const hasRefresh = typeof response.refreshToken === "string" && response.refreshToken !== "" && refreshLifetimeSec > 0;
  return {
    accessToken: response.accessToken,
    startedAt,
    lifetimeMs: response.expiresInSec * 1000,
    refreshToken: hasRefresh ? response.refreshToken : undefined,
    refreshLifetimeMs: hasRefresh ? refreshLifetimeSec * 1000 : 0,
  };
}

function fromStatus(error: ServiceError, method: Method, address: string, audience: string, scopes: readonly string[]): TokenSourceError {
  const name = status[error.code] as string | undefined;
  const answer = `${METHOD_NAMES[method]}: ${name ?? `status ${error.code}`}${error.details ? `: ${error.details.slice(0, MAX_DETAILS_LENGTH)}` : ""}`;
  const detail = { audience, scopes, issuerStatus: error.code, cause: error };
  const [code, what] = classify(error.code);
  return new TokenSourceError(code, `${forWhat(audience, scopes)}: the issuer at ${address} ${what} (${answer})`, detail);
}

function classify(code: status): [TokenSourceErrorCode, string] {
  if (UNREACHABLE.has(code)) return ["ERR_ISSUER_UNREACHABLE", "is unreachable"];
  if (DENIED.has(code)) return ["ERR_TOKEN_DENIED", "refused this service the token"];
  if (code === status.INVALID_ARGUMENT) return ["ERR_TOKEN_REQUEST_INVALID", "refused the request as malformed"];
  return ["ERR_ISSUER_FAILED", "failed"];
}

function failed(message: string, address: string, audience: string, scopes: readonly string[]): TokenSourceError {
  return new TokenSourceError("ERR_ISSUER_FAILED", `${forWhat(audience, scopes)}: ${message} (issuer at ${address})`, { audience, scopes });
}

export function forWhat(audience: string, scopes: readonly string[]): string {
  return `no token for audience ${JSON.stringify(audience)}${scopes.length > 0 ? ` with scopes ${scopes.join(" ")}` : ""}`;
}
