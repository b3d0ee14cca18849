import { InterceptingCall, Metadata, RequesterBuilder, status, type Interceptor, type InterceptingListener } from "@grpc/grpc-js";
import { tokenFailureStatus } from "./lib/client-token-status.js";
import { checkedTokenRequest, type TokenSource } from "./token-source.js";
import { optionsError, TokenSourceError } from "./token-source-error.js";

/** Which token a channel's calls carry: the target service's audience and the scopes they need. */
export interface TokenRequest {
  /** The service called, as the issuer knows it. Required: a token is good for exactly one. */
  readonly audience: string;
  readonly scopes?: readonly string[];
}

/**
 * A grpc-js client interceptor that puts `authorization: Bearer <token>` on every call of every
 * kind. It works on insecure channels too (local development), which CallCredentials do not
 * reach by contract; on TLS channels `tokenCallCredentials` is the idiomatic alternative.
 *
 * A call for which no token can be had fails without being sent: UNAVAILABLE when the issuer is
 * unreachable, UNAUTHENTICATED when it refuses; the details say why.
 */
export function createTokenInterceptor(tokenSource: Pick<TokenSource, "getToken">, request: TokenRequest): Interceptor {
  const { audience, scopes } = checkedRequest(tokenSource, request);
  return (options, nextCall) => {
    const next = nextCall(options);
    const deadline = deadlineMs(options.deadline);
    // "waiting" for a token until it is passed on ("started") or the call ends here ("ended").
    let state: "waiting" | "started" | "ended" = "waiting";
    let end: (code: status, details: string) => void = () => undefined;
    const requester = new RequesterBuilder()
      .withStart((metadata, listener: InterceptingListener, start) => {
        let timer: NodeJS.Timeout | undefined;
        end = (code, details) => {
          if (state !== "waiting") return;
          state = "ended";
          clearTimeout(timer);
          // Below us the call has no listener yet, so its own status would be lost: report ours.
          next.cancelWithStatus(code, details);
          process.nextTick(() => {
            listener.onReceiveStatus({ code, details, metadata: new Metadata() });
          });
        };
        if (deadline !== Infinity) {
          timer = setTimeout(() => {
            end(status.DEADLINE_EXCEEDED, "Deadline exceeded while waiting for a trustmesh token");
          }, Math.max(0, deadline - Date.now()));
        }
        askFor(tokenSource, audience, scopes).then(
          (token) => {
            if (state !== "waiting") return;
            // grpc-js would have ended an expired call before it had a listener to tell.
            if (Date.now() >= deadline) {
              end(status.DEADLINE_EXCEEDED, "Deadline exceeded while waiting for a trustmesh token");
              return;
            }
            state = "started";
            clearTimeout(timer);
            const withToken = metadata.clone();
            withToken.set("authorization", `Bearer ${token}`);
            start(withToken, listener);
          },
          (error: unknown) => {
            const failure = tokenFailureStatus(error);
            end(failure.code, failure.details);
          },
        );
      })
      .withCancel((cancel) => {
        end(status.CANCELLED, "Cancelled on client");
        cancel();
      })
      .build();
    return new InterceptingCall(next, requester);
  };
}

export function checkedRequest(tokenSource: Pick<TokenSource, "getToken">, request: TokenRequest): { audience: string; scopes: readonly string[] } {
  if (typeof (tokenSource as Partial<TokenSource> | null)?.getToken !== "function") throw optionsError("tokenSource", "must have a getToken(audience, scopes) method");
  try {
    return checkedTokenRequest((request as Partial<TokenRequest> | null)?.audience, request?.scopes ?? []);
  } catch (error) {
    throw optionsError("request", (error as TokenSourceError).message);
  }
}

/** getToken as a promise, even from a token source that throws instead of rejecting. */
export function askFor(tokenSource: Pick<TokenSource, "getToken">, audience: string, scopes: readonly string[]): Promise<string> {
  try {
    return tokenSource.getToken(audience, scopes);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error("getToken threw a non-error"));
  }
}

function deadlineMs(deadline: Date | number | undefined): number {
  if (deadline === undefined) return Infinity;
  return deadline instanceof Date ? deadline.getTime() : deadline;
}
