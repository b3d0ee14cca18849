import { requiredString, stringList, type CommandContext } from "../command.js";
import { EXIT, usageError } from "../exit-codes.js";
import { connectIssuer } from "../issuer-client.js";
import { readServiceKeyFile } from "../key-files.js";
import { isoTime, type CommandResult } from "../output.js";

export async function mintToken({ globals, values, out }: CommandContext): CommandResult {
  const serviceId = requiredString(values, "as");
  const keyPath = requiredString(values, "key");
  const audience = requiredString(values, "audience");
  const scopes = stringList(values, "scope");
  const identity = await readServiceKeyFile(keyPath);
  if (identity.serviceId !== serviceId) throw usageError(`key file ${identity.path} is for service ${identity.serviceId}, not ${serviceId}`);

  const connection = connectIssuer(globals);
  try {
    const issued = await connection.issueToken(identity, audience, scopes);
    if (out.json) {
      out.data({
        accessToken: issued.accessToken,
        tokenType: issued.tokenType,
        expiresAt: isoTime(issued.expiresAtUnix * 1000),
        expiresAtUnix: issued.expiresAtUnix,
        expiresInSec: issued.expiresInSec,
        refreshToken: issued.refreshToken,
        refreshExpiresAtUnix: issued.refreshExpiresAtUnix,
        audience: issued.audience,
        scopes: issued.scopes,
      });
    } else {
      out.line(issued.accessToken);
      const granted = issued.scopes.length === 0 ? "no scopes" : `scopes ${issued.scopes.join(" ")}`;
      out.note(`expires ${isoTime(issued.expiresAtUnix * 1000)} (in ${issued.expiresInSec} s); audience ${issued.audience}; ${granted}`);
    }
    return EXIT.OK;
  } finally {
    connection.close();
  }
}
