/**
 * trustctl's side of the issuer's gRPC APIs: one channel, a deadline on every call, and every
 * gRPC failure turned into a CliError with its exit code. Admin calls carry a trustmesh access
 * token minted with the admin key file, as any other caller of the mesh would.
 */
import { credentials, Metadata, status, type CallOptions, type ClientUnaryCall, type handleUnaryCall, type ServiceError } from "@grpc/grpc-js";
import { adminV1, issuerV1 } from "@trustmesh/proto";
import { signClientAssertion } from "./client-assertion.js";
import type { GlobalOptions } from "./command.js";
import { CliError, EXIT, type ExitCode } from "./exit-codes.js";
import { readAdminKeyFile, type AdminIdentity, type SigningIdentity } from "./key-files.js";

export const ADMIN_SCOPE = "trustmesh:admin";

type Callback<Res> = (error: ServiceError | null, response: Res) => void;
type UnaryMethod<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: Callback<Res>) => ClientUnaryCall;

type AdminMethod =
  | "registerService"
  | "updateService"
  | "disableService"
  | "getService"
  | "listServices"
  | "rotateSigningKey"
  | "listSigningKeys"
  | "revokeToken"
  | "revokeService"
  | "revokeSigningKey";
type AdminRequest<M extends AdminMethod> = adminV1.IssuerAdminServer[M] extends handleUnaryCall<infer Req, unknown> ? Req : never;
type AdminResponse<M extends AdminMethod> = adminV1.IssuerAdminServer[M] extends handleUnaryCall<never, infer Res> ? Res : never;

export interface IssuerConnection {
  /** IssueToken with an assertion signed by `identity`. */
  issueToken(identity: SigningIdentity, audience: string, scopes: readonly string[]): Promise<issuerV1.TokenResponse>;
  close(): void;
}

export interface AdminSession {
  readonly identity: AdminIdentity;
  call<M extends AdminMethod>(method: M, request: AdminRequest<M>): Promise<AdminResponse<M>>;
  close(): void;
}

export function connectIssuer(globals: GlobalOptions): IssuerConnection & { readonly tokens: issuerV1.TokenIssuerClient } {
  const tokens = new issuerV1.TokenIssuerClient(globals.issuerAddress, credentials.createInsecure());
  return {
    tokens,
    async issueToken(identity, audience, scopes) {
      const request = { clientAssertion: await signClientAssertion(identity), audience, scopes: [...scopes] };
      return unary(tokens.issueToken.bind(tokens), request, new Metadata(), globals);
    },
    close() {
      tokens.close();
    },
  };
}

/** Reads the admin key file, gets an admin token, and opens the admin API on the same channel. */
export async function openAdminSession(globals: GlobalOptions): Promise<AdminSession> {
  const identity = await readAdminKeyFile(globals.adminKeyFile);
  const connection = connectIssuer(globals);
  const admin = new adminV1.IssuerAdminClient(globals.issuerAddress, credentials.createInsecure(), { channelOverride: connection.tokens.getChannel() });
  let token: string;
  try {
    token = (await connection.issueToken(identity, identity.audience, [ADMIN_SCOPE])).accessToken;
  } catch (error) {
    connection.close();
    if (error instanceof CliError && error.exitCode === EXIT.AUTH) {
      throw new CliError(EXIT.AUTH, `${error.message} (the issuer at ${globals.issuerAddress} does not accept the admin key in ${identity.path})`, error.grpcStatus);
    }
    throw error;
  }
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  return {
    identity,
    call: <M extends AdminMethod>(method: M, request: AdminRequest<M>) => {
      const invoke = admin[method].bind(admin) as unknown as UnaryMethod<AdminRequest<M>, AdminResponse<M>>;
      return unary(invoke, request, metadata, globals);
    },
    close() {
      connection.close();
    },
  };
}

function unary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, metadata: Metadata, globals: GlobalOptions): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, metadata, { deadline: Date.now() + globals.timeoutMs }, (error, response) => {
      if (error === null) resolve(response);
      else reject(grpcFailure(error, globals.issuerAddress));
    });
  });
}

const EXIT_BY_STATUS: Partial<Record<status, ExitCode>> = {
  [status.UNAUTHENTICATED]: EXIT.AUTH,
  [status.PERMISSION_DENIED]: EXIT.AUTH,
  [status.UNAVAILABLE]: EXIT.UNREACHABLE,
  [status.DEADLINE_EXCEEDED]: EXIT.UNREACHABLE,
};

/** "NOT_FOUND: no service identity has this id": the status name and the issuer's public details. */
export function grpcFailure(error: ServiceError, address: string): CliError {
  const name = (status[error.code] as string | undefined) ?? `gRPC status ${error.code}`;
  // grpc-js ends connection failures with an empty "Resolution note:".
  const details = error.details.replace(/\s+/g, " ").replace(/ Resolution note:$/, "").trim() || "(no details)";
  const exitCode = EXIT_BY_STATUS[error.code] ?? EXIT.REFUSED;
  return new CliError(exitCode, `${name}: ${details}${exitCode === EXIT.UNREACHABLE ? ` (issuer ${address})` : ""}`, error.code);
}
