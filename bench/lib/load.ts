/**
 * A closed-loop load generator: a fixed number of calls, a fixed number of them in flight, each
 * call's latency recorded. The first failed call fails the whole run, and so does a run that
 * outlasts its deadline: a benchmark must never report figures from calls that did not work.
 */
import { Metadata, type Client } from "@grpc/grpc-js";

export interface LoadOptions {
  readonly calls: number;
  readonly concurrency: number;
  /** Call number `i` (0-based) on worker `worker`; a worker runs its calls one after another. */
  readonly call: (i: number, worker: number) => Promise<void>;
  readonly deadlineMs: number;
}

export interface LoadRun {
  readonly calls: number;
  readonly elapsedNs: number;
  /** Per call, in the order they finished. */
  readonly latenciesNs: Float64Array;
}

export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const latenciesNs = new Float64Array(options.calls);
  let next = 0;
  let done = 0;
  let failure: unknown;
  const started = process.hrtime.bigint();
  const deadline = Number(started) + options.deadlineMs * 1e6;
  const worker = async (id: number): Promise<void> => {
    while (failure === undefined && next < options.calls) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      if (Number(t0) > deadline) throw new Error(`the run outlasted its ${options.deadlineMs} ms deadline after ${done} of ${options.calls} calls`);
      await options.call(i, id);
      latenciesNs[done++] = Number(process.hrtime.bigint() - t0);
    }
  };
  const workers = Array.from({ length: options.concurrency }, (_, id) =>
    worker(id).catch((error: unknown) => {
      failure ??= error;
    }),
  );
  await Promise.all(workers);
  if (failure !== undefined) throw new Error(`call failed during the load run: ${describe(failure)}`, { cause: failure });
  return { calls: options.calls, elapsedNs: Number(process.hrtime.bigint() - started), latenciesNs };
}

/** The value at quantile `q` (0–1) of ascending `sorted`, nearest rank. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle] as number;
  return ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The parts of a generated grpc-js method definition a unary call needs. */
export interface UnaryMethod<Req, Res> {
  readonly path: string;
  readonly requestSerialize: (value: Req) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => Res;
}

/** One unary call as a promise, with a deadline; rejects with the grpc-js ServiceError. */
export function unaryCall<Req, Res>(client: Client, method: UnaryMethod<Req, Res>, request: Req, options: { deadlineMs: number; metadata?: Metadata }): Promise<Res> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      options.metadata ?? new Metadata(),
      { deadline: Date.now() + options.deadlineMs },
      (error, response) => {
        if (error === null && response !== undefined) resolve(response);
        else reject(error ?? new Error(`${method.path} returned no response`));
      },
    );
  });
}

function describe(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error && "details" in error) {
    return `gRPC status ${String(error.code)}: ${String(error.details)}`;
  }
  return error instanceof Error ? error.message : String(error);
}
