import type { adminV1 } from "@trustmesh/proto";
import { stringValue, type CommandContext } from "../command.js";
import type { CommandResult } from "../output.js";
import { EXIT } from "../exit-codes.js";
import { openAdminSession } from "../issuer-client.js";
import { serviceLines, serviceTable, serviceView } from "../present.js";

const PAGE_SIZE = 500;

export async function listServices({ globals, out }: CommandContext): CommandResult {
  const session = await openAdminSession(globals);
  try {
    const services: adminV1.ServiceIdentity[] = [];
    let pageToken = "";
    do {
      const page = await session.call("listServices", { pageSize: PAGE_SIZE, pageToken });
      services.push(...page.services);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    const views = services.map(serviceView);
    if (out.json) out.data({ services: views });
    else if (views.length === 0) out.line("no services");
    else for (const line of serviceTable(views)) out.line(line);
    return EXIT.OK;
  } finally {
    session.close();
  }
}

export async function getService({ globals, operands, out }: CommandContext): CommandResult {
  const [id] = operands as [string];
  const session = await openAdminSession(globals);
  try {
    const view = serviceView((await session.call("getService", { id })).service);
    if (out.json) out.data({ service: view });
    else for (const line of serviceLines(view)) out.line(line);
    return EXIT.OK;
  } finally {
    session.close();
  }
}

export async function disableService({ globals, values, operands, out }: CommandContext): CommandResult {
  const [id] = operands as [string];
  const session = await openAdminSession(globals);
  try {
    const response = await session.call("disableService", { id, reason: stringValue(values, "reason") ?? "" });
    const view = serviceView(response.service);
    if (out.json) out.data({ service: view });
    else out.line(`disabled ${view.id}: the issuer mints no more tokens for it; tokens already minted expire on their own`);
    return EXIT.OK;
  } finally {
    session.close();
  }
}
