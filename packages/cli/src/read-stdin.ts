import { usageError } from "./exit-codes.js";
import type { TrustctlIo } from "./output.js";

/** A token given as `-`: read from standard input, so it stays out of the process list and shell history. */
export async function readTokenFromStdin(io: TrustctlIo): Promise<string> {
  if (io.stdin === undefined) throw usageError("no standard input to read the token from");
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") throw usageError("standard input held no token");
  return text;
}
