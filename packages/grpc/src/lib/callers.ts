/**
 * The only link from a call to its verified caller. Module-private and keyed by the Metadata
 * object the interceptor creates and hands to grpc-js, which passes that same object to the
 * handler as `call.metadata`. Nothing on the wire can reach this map, so no header can spoof it.
 */
import type { Metadata } from "@grpc/grpc-js";
import type { Caller } from "../get-caller.js";

const callers = new WeakMap<Metadata, Caller>();

export function bindCaller(metadata: Metadata, caller: Caller): void {
  callers.set(metadata, caller);
}

export function callerOf(metadata: Metadata): Caller | undefined {
  return callers.get(metadata);
}
