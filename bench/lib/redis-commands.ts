/**
 * Commands per call that reach Redis, from MONITOR on the bench's own redis-server: round trips
 * are the commands a client sent, in-script commands the ones a Lua script ran (MONITOR names
 * their source "lua"). Untimed: MONITOR slows Redis down, so it runs after the load.
 */
import { Redis } from "ioredis";
import type { TableGroup } from "./report.js";

/** Calls per kind while MONITOR counts. */
const MONITOR_SAMPLE = 32;
const MARKER = "bench-marker";

export interface CountedCalls {
  readonly issue: () => Promise<{ refreshToken: string }>;
  readonly refresh: (refreshToken: string) => Promise<{ refreshToken: string }>;
}

interface Seen {
  readonly command: string;
  readonly lua: boolean;
}

export async function countRedisCommands(url: string, calls: CountedCalls): Promise<TableGroup> {
  const marker = new Redis(url);
  // Connected first, so that its own start-up INFO is not counted against the issuer.
  await marker.ping();
  const monitor = await marker.monitor();
  const seen: Seen[] = [];
  let markerSeen: (() => void) | undefined;
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    const command = (args[0] ?? "").toLowerCase();
    if (command === "echo" && args[1] === MARKER) markerSeen?.();
    else seen.push({ command, lua: source === "lua" });
  });
  const during = async (run: () => Promise<void>): Promise<Seen[]> => {
    seen.length = 0;
    await run();
    // MONITOR lines arrive after the replies; the marker is the last thing this phase sends.
    const flushed = new Promise<void>((resolve) => (markerSeen = resolve));
    await marker.echo(MARKER);
    await flushed;
    return [...seen];
  };
  try {
    const issued = await during(async () => {
      for (let i = 0; i < MONITOR_SAMPLE; i++) await calls.issue();
    });
    let token = (await calls.issue()).refreshToken;
    const refreshed = await during(async () => {
      for (let i = 0; i < MONITOR_SAMPLE; i++) token = (await calls.refresh(token)).refreshToken;
    });
    const row = (name: string, commands: Seen[]) => ({
      name,
      roundTrips: commands.filter((c) => !c.lua).length / MONITOR_SAMPLE,
      inScripts: commands.filter((c) => c.lua).length / MONITOR_SAMPLE,
      sent: tally(commands.filter((c) => !c.lua)),
      scripted: tally(commands.filter((c) => c.lua)),
    });
    return {
      title: "Redis commands per call (MONITOR on the load run's issuer)",
      details: { sample: `${MONITOR_SAMPLE} calls each` },
      columns: [
        { key: "name", label: "call" },
        { key: "roundTrips", label: "round trips", digits: 2 },
        { key: "inScripts", label: "commands in scripts", digits: 2 },
        { key: "sent", label: "sent" },
        { key: "scripted", label: "run by scripts" },
      ],
      rows: [row("IssueToken", issued), row("RefreshToken", refreshed)],
    };
  } finally {
    monitor.disconnect();
    marker.disconnect();
  }

  function tally(commands: readonly { command: string }[]): string {
    const counts = new Map<string, number>();
    for (const { command } of commands) counts.set(command, (counts.get(command) ?? 0) + 1);
    return [...counts].map(([command, count]) => `${command} ×${Number((count / MONITOR_SAMPLE).toFixed(2))}`).join(", ");
  }
}
