/**
 * Heap bytes per entry of a Denylist holding `entries` jtis with their expiries, against a bare
 * Map<string, number> of the same jtis and expiries, in rounds that take turns. Run with
 * --expose-gc by revocation.bench.ts; prints one MemoryResult line. The jtis are made afresh
 * for each structure from one random seed (22 base64url characters, as the issuer's), so each
 * structure's figure includes its own key strings, as a subscriber's denylist does.
 */
import { randomBytes } from "node:crypto";
import { Denylist } from "@trustmesh/revocation";
import type { MemoryResult } from "./revocation-protocol.js";

const JTI_BYTES = 16;
/** Expiries spread over a token lifetime, as live revocations' are. */
const EXPIRY_SPREAD_SEC = 840;

function main(entries: number, rounds: number): MemoryResult {
  const collect = globalThis.gc;
  if (collect === undefined) throw new Error("run with --expose-gc");
  const seed = randomBytes(JTI_BYTES * entries);
  const jti = (i: number): string => seed.toString("base64url", JTI_BYTES * i, JTI_BYTES * (i + 1));
  const nowSec = Math.floor(Date.now() / 1000);
  const expOf = (i: number): number => nowSec + 60 + (i % EXPIRY_SPREAD_SEC);

  const heapUsed = (): number => {
    collect();
    collect();
    return process.memoryUsage().heapUsed;
  };
  /** The structure is read after the second measurement, so it is live through it. */
  const perEntry = <T>(build: () => T, size: (structure: T) => number): number => {
    const before = heapUsed();
    const structure = build();
    const after = heapUsed();
    if (size(structure) !== entries) throw new Error(`built ${size(structure)} entries, expected ${entries}`);
    return (after - before) / entries;
  };
  const bareMap = (): number =>
    perEntry(
      () => {
        const map = new Map<string, number>();
        for (let i = 0; i < entries; i++) map.set(jti(i), expOf(i));
        return map;
      },
      (map) => map.size,
    );
  const denylist = (): number =>
    perEntry(
      () => {
        const list = new Denylist();
        for (let i = 0; i < entries; i++) list.revokeToken(jti(i), expOf(i));
        return list;
      },
      (list) => list.size.tokens,
    );

  const mapBytesPerEntry: number[] = [];
  const denylistBytesPerEntry: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      mapBytesPerEntry.push(bareMap());
      denylistBytesPerEntry.push(denylist());
    } else {
      denylistBytesPerEntry.push(denylist());
      mapBytesPerEntry.push(bareMap());
    }
  }
  return { entries, jtiLength: jti(0).length, mapBytesPerEntry, denylistBytesPerEntry };
}

process.stdout.write(`${JSON.stringify(main(Number(process.argv[2]), Number(process.argv[3])))}\n`);
