import type { CommandContext } from "../command.js";
import type { CommandResult } from "../output.js";
import { EXIT } from "../exit-codes.js";
import { openAdminSession } from "../issuer-client.js";
import { signingKeyTable, signingKeyView } from "../present.js";

export async function listKeys({ globals, out }: CommandContext): CommandResult {
  const session = await openAdminSession(globals);
  try {
    const views = (await session.call("listSigningKeys", {})).keys.map(signingKeyView);
    if (out.json) out.data({ keys: views });
    else for (const line of signingKeyTable(views)) out.line(line);
    return EXIT.OK;
  } finally {
    session.close();
  }
}

export async function rotateKeys({ globals, values, out }: CommandContext): CommandResult {
  const session = await openAdminSession(globals);
  try {
    const force = values["force"] === true;
    const response = await session.call("rotateSigningKey", { force });
    if (out.json) out.data({ activeKid: response.activeKid, nextKid: response.nextKid, forced: force });
    else out.line(`rotated: ${response.activeKid} signs from now on; ${response.nextKid} is published as the next key`);
    return EXIT.OK;
  } finally {
    session.close();
  }
}
