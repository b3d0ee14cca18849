/**
 * trustctl's exit codes: a closed set that scripts switch on, documented in the README. Every
 * failure leaves as a CliError carrying one of them and a one-line message that is safe to
 * print: gRPC status name and the issuer's public details, never a token, a key or a stack.
 */

export const EXIT = Object.freeze({
  OK: 0,
  /** The issuer refused (NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED, INVALID_ARGUMENT, or failed), a key file exists already, or NATS has no revocation stream. */
  REFUSED: 1,
  USAGE: 2,
  /** The issuer (or its JWKS, or NATS) could not be reached: UNAVAILABLE, DEADLINE_EXCEEDED; for revoke, also the issuer's own NATS. */
  UNREACHABLE: 3,
  /** UNAUTHENTICATED, PERMISSION_DENIED, or a key file that is missing, unreadable or not a key file. */
  AUTH: 4,
  /** token inspect: the verifier refused the token. */
  TOKEN_INVALID: 5,
});

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: ExitCode;
  /** The gRPC status when the issuer answered with one. */
  readonly grpcStatus: number | undefined;

  constructor(exitCode: ExitCode, message: string, grpcStatus?: number) {
    super(message);
    this.exitCode = exitCode;
    this.grpcStatus = grpcStatus;
  }
}

export function usageError(message: string): CliError {
  return new CliError(EXIT.USAGE, message);
}
