/**
 * A real issuer on loopback ports whose clock the test moves, its log parsed line by line, and
 * an admin that registers services through the admin API (with the token source under test, as
 * trustctl would). Plus a recording TokenIssuer client: what a token source asked, and how it went.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { credentials, InterceptingCall, ListenerBuilder, RequesterBuilder, type Interceptor, type status } from "@grpc/grpc-js";
import { createTokenInterceptor, createTokenSource, type ServicePrivateJwk, type TokenSourceLogger } from "@trustmesh/grpc";
import { createIssuerLogger, loadConfig, startIssuer, ADMIN_SCOPE, type AdminKeyFile, type RunningIssuer } from "@trustmesh/issuer";
import { adminV1, issuerV1 } from "@trustmesh/proto";
import { generateTestKey, type TestAlgorithm, type TestSigningKey } from "@trustmesh/testing";

export interface TestClock {
  readonly now: () => number;
  readonly advance: (ms: number) => void;
}

/** Frozen until the test moves it, so "81 % of the lifetime later" is exact. */
export function createTestClock(startMs = Date.now()): TestClock {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance(ms) {
      nowMs += ms;
    },
  };
}

export interface RegisteredService {
  readonly id: string;
  readonly key: TestSigningKey;
  /** What the service would load from its key file: the private JWK with kid and alg. */
  readonly privateJwk: ServicePrivateJwk;
}

export type LogLine = Readonly<Record<string, unknown>> & { readonly msg: string };

export interface ClockedIssuer {
  readonly running: RunningIssuer;
  readonly clock: TestClock;
  readonly logs: readonly LogLine[];
  /** Registers `id` with a fresh key pair, granted `audiences` (audience -> scopes). */
  register(id: string, audiences: Readonly<Record<string, readonly string[]>>, alg?: TestAlgorithm): Promise<RegisteredService>;
  /** What the issuer logged for `serviceId`: tokens issued, refreshed, requests refused. */
  count(serviceId: string): { issued: number; refreshed: number; refused: number };
  close(): Promise<void>;
}

export async function startClockedIssuer(env: Record<string, string> = {}): Promise<ClockedIssuer> {
  const dir = await mkdtemp(join(tmpdir(), "trustmesh-grpc-"));
  const clock = createTestClock();
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line !== "") logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const config = loadConfig({
    TRUSTMESH_GRPC_ADDRESS: "127.0.0.1:0",
    TRUSTMESH_HTTP_ADDRESS: "127.0.0.1:0",
    TRUSTMESH_ADMIN_KEY_FILE: join(dir, "admin-key.json"),
    ...env,
  });
  const running = await startIssuer({ config, logger: createIssuerLogger("info", sink), now: clock.now });
  const adminKey = JSON.parse(await readFile(config.adminKeyFile, "utf8")) as AdminKeyFile;
  const adminTokens = createTokenSource({
    issuer: { address: running.grpcAddress, credentials: credentials.createInsecure() },
    issuerUrl: running.issuer,
    serviceId: adminKey.serviceId,
    privateJwk: adminKey.privateJwk as ServicePrivateJwk,
    now: clock.now,
    logger: silentLogger,
  });
  const admin = new adminV1.IssuerAdminClient(running.grpcAddress, credentials.createInsecure(), {
    interceptors: [createTokenInterceptor(adminTokens, { audience: running.adminAudience, scopes: [ADMIN_SCOPE] })],
  });

  const forService = (serviceId: string, msg: string) => logs.filter((line) => line.msg === msg && line["clientId"] === serviceId).length;
  return {
    running,
    clock,
    logs,
    async register(id, audiences, alg = "EdDSA") {
      const key = await generateTestKey(alg);
      const { kty, crv, x, y } = key.publicJwk;
      const request: adminV1.RegisterServiceRequest = {
        id,
        tenantId: "acme",
        keys: [{ kty: kty ?? "", crv: crv ?? "", x: x ?? "", ...(y === undefined ? {} : { y }), kid: key.kid, alg: key.alg, use: "sig" }],
        audiences: Object.entries(audiences).map(([audience, scopes]) => ({ audience, scopes: [...scopes] })),
      };
      await new Promise<void>((resolve, reject) => {
        admin.registerService(request, (error) => {
          if (error === null) resolve();
          else reject(error);
        });
      });
      return { id, key, privateJwk: { ...(key.privateKey.export({ format: "jwk" }) as Record<string, unknown>), kid: key.kid, alg: key.alg } };
    },
    count: (serviceId) => ({ issued: forService(serviceId, "token issued"), refreshed: forService(serviceId, "token refreshed"), refused: forService(serviceId, "request refused") }),
    async close() {
      admin.close();
      await adminTokens.close();
      await running.close(0);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const silentLogger: TokenSourceLogger = {
  debug: () => undefined,
  warn: () => undefined,
};

export interface RecordedCall {
  readonly method: string;
  /** Set when the call has ended. */
  code: status | undefined;
  /** The issuer's answer, so a test can play the thief with a refresh token. */
  response: issuerV1.TokenResponse | undefined;
  readonly startedAt: number;
  endedAt: number | undefined;
}

export interface RecordingIssuerClient {
  readonly client: issuerV1.TokenIssuerClient;
  /** Every call, recorded when it starts (synchronously, inside the token source). */
  readonly calls: readonly RecordedCall[];
  /** Resolves once `count` calls have ended. */
  ended(count: number): Promise<void>;
}

export function recordingIssuerClient(address: string): RecordingIssuerClient {
  const calls: RecordedCall[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const settle = () => {
    const ended = calls.filter((call) => call.code !== undefined).length;
    for (const waiter of waiters.filter((candidate) => candidate.count <= ended)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const recorder: Interceptor = (options, nextCall) => {
    const record: RecordedCall = { method: options.method_definition.path.split("/").pop() ?? "", code: undefined, response: undefined, startedAt: performance.now(), endedAt: undefined };
    calls.push(record);
    const listener = new ListenerBuilder()
      .withOnReceiveMessage((message: issuerV1.TokenResponse, next) => {
        record.response = message;
        next(message);
      })
      .withOnReceiveStatus((received, next) => {
        next(received);
        record.code = received.code;
        record.endedAt = performance.now();
        settle();
      })
      .build();
    return new InterceptingCall(nextCall(options), new RequesterBuilder().withStart((metadata, _listener, next) => {
      next(metadata, listener);
    }).build());
  };
  const client = new issuerV1.TokenIssuerClient(address, credentials.createInsecure(), { interceptors: [recorder] });
  return {
    client,
    calls,
    ended: (count) =>
      new Promise((resolve) => {
        waiters.push({ count, resolve });
        settle();
      }),
  };
}

export interface LogEvent {
  readonly level: "debug" | "warn";
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A token source logger that tests can await: `next("token obtained")`, `next((event) => ...)`. */
export function eventLogger(): TokenSourceLogger & { readonly events: readonly LogEvent[]; next(match: string | ((event: LogEvent) => boolean)): Promise<LogEvent> } {
  const events: LogEvent[] = [];
  const waiters: { match: (event: LogEvent) => boolean; resolve: (event: LogEvent) => void }[] = [];
  const emit = (event: LogEvent) => {
    events.push(event);
    for (const waiter of [...waiters]) {
      if (!waiter.match(event)) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(event);
    }
  };
  return {
    events,
    debug: (fields, message) => {
      emit({ level: "debug", message, fields });
    },
    warn: (fields, message) => {
      emit({ level: "warn", message, fields });
    },
    next: (match) =>
      new Promise((resolve) => {
        waiters.push({ match: typeof match === "string" ? (event) => event.message === match : match, resolve });
      }),
  };
}

/** The claims of a JWT, unverified: for asserting what a token says in a test, never for trusting it. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}
