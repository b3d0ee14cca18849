/**
 * A JSON member, read as own data only: a member that is absent reads as absent, whatever
 * Object.prototype holds (`constructor`, `toString`, a polluted `__proto__`).
 */
export function ownMember(record: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}
