/**
 * A grpc-js echo server (fixtures/echo.proto, one method per call kind) behind the trustmesh auth
 * interceptor, verifying with the issuer's HTTP JWKS on the issuer's clock; and a client helper
 * that runs one call of any kind and reports the outcome as a value.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ChannelCredentials,
  type ClientOptions,
  type ServiceDefinition,
  type handleBidiStreamingCall,
  type handleClientStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServiceError,
  type status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { createAuthInterceptor, policy, requireCaller, requireScopes, type ServerCallLike } from "@trustmesh/grpc";
import { JWKS_PATH } from "@trustmesh/issuer";
import { createRemoteKeySource, createVerifier } from "@trustmesh/verifier";
import type { ClockedIssuer } from "./clocked-issuer.js";

export const ECHO_AUDIENCE = "echo";
export const ECHO_SCOPE = "echo:call";
export type CallKind = "unary" | "serverStream" | "clientStream" | "bidi";
export const CALL_KINDS: readonly CallKind[] = ["unary", "serverStream", "clientStream", "bidi"];

const fixtures = fileURLToPath(new URL("fixtures", import.meta.url));
const echo = loadSync("echo.proto", { includeDirs: [fixtures] })["trustmesh.test.v1.Echo"] as ServiceDefinition;
export const TLS = {
  cert: readFileSync(`${fixtures}/localhost-cert.pem`),
  key: readFileSync(`${fixtures}/localhost-key.pem`),
};

interface EchoReply {
  caller: string;
  texts: string[];
}

export type CallResult = { readonly ok: true; readonly callers: readonly string[]; readonly texts: readonly string[] } | { readonly ok: false; readonly code: status; readonly details: string };

export interface ProtectedEcho {
  readonly address: string;
  /** How many calls reached a handler. */
  readonly handled: () => number;
  /** A client for the server; interceptors and call credentials go in `options` and `channel`. */
  client(channel: ChannelCredentials, options?: Partial<ClientOptions>): EchoCaller;
  close(): Promise<void>;
}

export interface EchoCaller {
  call(kind: CallKind, texts?: readonly string[], deadline?: Date): Promise<CallResult>;
  close(): void;
}

export async function startProtectedEcho(issuer: ClockedIssuer, options: { tls?: boolean } = {}): Promise<ProtectedEcho> {
  const keySource = createRemoteKeySource({ url: `${issuer.running.httpUrl}${JWKS_PATH}` });
  await keySource.ready();
  const verifier = createVerifier({ issuer: issuer.running.issuer, audience: ECHO_AUDIENCE, keySource, now: issuer.clock.now });
  const rule = policy(requireScopes(ECHO_SCOPE));
  const policies = Object.fromEntries(Object.values(echo).map((method) => [method.path, rule]));
  let handled = 0;
  const server = new Server({ interceptors: [createAuthInterceptor({ verifier, policies })] });
  server.addService(echo, implementation(() => handled++));
  const credentials = options.tls === true ? ServerCredentials.createSsl(null, [{ private_key: TLS.key, cert_chain: TLS.cert }]) : ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", credentials, (error, bound) => {
      if (error === null) resolve(bound);
      else reject(error);
    });
  });
  const address = `127.0.0.1:${port}`;
  const EchoClient = makeGenericClientConstructor(echo, "Echo");
  return {
    address,
    handled: () => handled,
    client: (channel, clientOptions) => caller(new EchoClient(address, channel, clientOptions)),
    async close() {
      server.forceShutdown();
      await keySource.close();
    },
  };
}

interface EchoRequest {
  text: string;
}

function implementation(count: () => void): UntypedServiceImplementation {
  const reply = (call: ServerCallLike, texts: string[]): EchoReply => ({ caller: requireCaller(call).serviceId, texts });
  const unary: handleUnaryCall<EchoRequest, EchoReply> = (call, callback) => {
    count();
    callback(null, reply(call, [call.request.text]));
  };
  const serverStream: handleServerStreamingCall<EchoRequest, EchoReply> = (call) => {
    count();
    call.write(reply(call, [call.request.text]));
    call.write(reply(call, [call.request.text]));
    call.end();
  };
  const clientStream: handleClientStreamingCall<EchoRequest, EchoReply> = (call, callback) => {
    count();
    const texts: string[] = [];
    call.on("data", (request: EchoRequest) => texts.push(request.text));
    call.on("end", () => {
      callback(null, reply(call, texts));
    });
  };
  const bidi: handleBidiStreamingCall<EchoRequest, EchoReply> = (call) => {
    count();
    call.on("data", (request: EchoRequest) => call.write(reply(call, [request.text])));
    call.on("end", () => {
      call.end();
    });
  };
  return { Unary: unary, ServerStream: serverStream, ClientStream: clientStream, Bidi: bidi };
}

type Stream = NodeJS.EventEmitter & { write(message: object): boolean; end(): void };
type GenericClient = Record<string, (...args: unknown[]) => Stream> & { close(): void };

function caller(client: InstanceType<ReturnType<typeof makeGenericClientConstructor>>): EchoCaller {
  const methods = client as unknown as GenericClient;
  const method = (name: string) => {
    const fn = methods[name];
    if (fn === undefined) throw new Error(`no method ${name}`);
    return fn.bind(client);
  };
  return {
    close: () => {
      client.close();
    },
    call: (kind, texts = ["hello"], deadline) =>
      new Promise<CallResult>((resolve) => {
        const options = deadline === undefined ? {} : { deadline };
        const unaryDone = (error: ServiceError | null, value?: EchoReply) => {
          resolve(error === null ? { ok: true, callers: [value?.caller ?? ""], texts: value?.texts ?? [] } : failure(error));
        };
        const follow = (stream: Stream) => {
          const replies: EchoReply[] = [];
          stream.on("data", (value: EchoReply) => replies.push(value));
          stream.on("error", (error: ServiceError) => {
            resolve(failure(error));
          });
          stream.on("end", () => {
            resolve({ ok: true, callers: [...new Set(replies.map((value) => value.caller))], texts: replies.flatMap((value) => value.texts) });
          });
          return stream;
        };
        const first = { text: texts[0] ?? "" };
        if (kind === "unary") method("Unary")(first, options, unaryDone);
        else if (kind === "serverStream") follow(method("ServerStream")(first, options));
        else {
          const stream = kind === "clientStream" ? method("ClientStream")(options, unaryDone) : follow(method("Bidi")(options));
          for (const text of texts) stream.write({ text });
          stream.end();
        }
      }),
  };
}

function failure(error: ServiceError): CallResult {
  return { ok: false, code: error.code, details: error.details };
}
