import { status } from "@grpc/grpc-js";
import { requiredString, stringList, stringValue, type CommandContext } from "../command.js";
import { CliError, EXIT, usageError } from "../exit-codes.js";
import type { CommandResult } from "../output.js";
import { openAdminSession } from "../issuer-client.js";
import { generateServiceKey, removeKeyFile, writeServiceKeyFile } from "../key-files.js";
import { grantText, serviceView } from "../present.js";

/** Ids that are also safe file names, for the default `./<id>.key.json`. */
const FILE_SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Outcomes after which the issuer certainly did not register the key: its file can go. */
const DEFINITE_REFUSALS: ReadonlySet<number> = new Set([
  status.INVALID_ARGUMENT,
  status.ALREADY_EXISTS,
  status.FAILED_PRECONDITION,
  status.NOT_FOUND,
  status.UNAUTHENTICATED,
  status.PERMISSION_DENIED,
  status.ABORTED,
]);

export async function registerService({ globals, values, operands, out }: CommandContext): CommandResult {
  const [id] = operands as [string];
  const tenantId = requiredString(values, "tenant");
  const audiences = parseGrants(stringList(values, "allow"));
  const keyOut = stringValue(values, "key-out") ?? defaultKeyPath(id);

  const session = await openAdminSession(globals);
  try {
    const key = await generateServiceKey();
    const keyFile = await writeServiceKeyFile(keyOut, { serviceId: id, issuer: session.identity.issuer, privateJwk: key.privateJwk });
    let response;
    try {
      response = await session.call("registerService", { id, tenantId, keys: [key.publicKey], audiences });
    } catch (error) {
      if (error instanceof CliError && error.grpcStatus !== undefined && DEFINITE_REFUSALS.has(error.grpcStatus)) {
        await removeKeyFile(keyFile);
        throw error;
      }
      // The call may have reached the issuer: the key may be registered, so it must not be lost.
      throw new CliError(error instanceof CliError ? error.exitCode : EXIT.REFUSED, `${error instanceof Error ? error.message : "failed"}; the service may be registered: check with trustctl service get ${id}; its key is kept in ${keyFile}`);
    }
    const view = serviceView(response.service);
    if (out.json) {
      out.data({ service: view, kid: key.kid, keyFile });
    } else {
      out.line(`registered ${view.id} (tenant ${view.tenantId})`);
      out.line(`  key id    ${key.kid}`);
      out.line(`  key file  ${keyFile} (mode 0600: the service's credential, keep it secret)`);
      for (const [audience, scopes] of Object.entries(view.audiences)) out.line(`  allow     ${grantText(audience, scopes)}`);
    }
    return EXIT.OK;
  } finally {
    session.close();
  }
}

function defaultKeyPath(id: string): string {
  if (!FILE_SAFE_ID.test(id)) throw usageError(`"${id.slice(0, 64)}" is not usable as a file name; pass --key-out`);
  return `./${id}.key.json`;
}

/** `--allow payments=payments:charge,payments:refund` → { audience, scopes }; `--allow health` grants no scopes. */
export function parseGrants(specs: readonly string[]): { audience: string; scopes: string[] }[] {
  if (specs.length === 0) throw usageError("--allow <audience>=<scope>,… is required at least once");
  const grants = new Map<string, string[]>();
  for (const spec of specs) {
    const split = spec.indexOf("=");
    const audience = (split < 0 ? spec : spec.slice(0, split)).trim();
    const scopeText = split < 0 ? "" : spec.slice(split + 1).trim();
    const scopes = scopeText === "" ? [] : scopeText.split(",").map((scope) => scope.trim());
    if (audience === "" || scopes.some((scope) => scope === "")) throw usageError(`--allow "${spec.slice(0, 100)}" is not <audience>=<scope>,<scope>`);
    if (grants.has(audience)) throw usageError(`--allow names audience "${audience.slice(0, 100)}" twice`);
    grants.set(audience, scopes);
  }
  return [...grants].map(([audience, scopes]) => ({ audience, scopes }));
}
