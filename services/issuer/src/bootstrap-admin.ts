/**
 * First start with an empty store: create the admin identity the platform team's trustctl acts
 * as, and write its private key to a file only the issuer's user can read. The key is never
 * printed or logged; the log names the file once.
 */
import { chmod, mkdir, open, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import type { Logger } from "pino";
import type { IssuerStore } from "./store/index.js";

export const ADMIN_SERVICE_ID = "trustmesh-admin";
export const ADMIN_SCOPE = "trustmesh:admin";

/** What trustctl reads from the admin key file. */
export interface AdminKeyFile {
  readonly serviceId: string;
  readonly issuer: string;
  readonly audience: string;
  readonly privateJwk: Readonly<Record<string, unknown>>;
}

export async function bootstrapAdmin(options: { store: IssuerStore; keyFile: string; issuer: string; adminAudience: string; log: Logger }): Promise<boolean> {
  const { store, log } = options;
  if ((await store.listServices()).length > 0) return false;
  const path = resolve(options.keyFile);
  const existing = await readExisting(path);
  if (existing !== undefined) {
    // An embedded issuer restarted with an empty store: the operator's key file stays valid,
    // brought up to date if the issuer's identifier (its bound address, by default) moved.
    if (existing.file.issuer !== options.issuer || existing.file.audience !== options.adminAudience) {
      await writeFile(path, `${JSON.stringify({ ...existing.file, issuer: options.issuer, audience: options.adminAudience }, null, 2)}\n`, { mode: 0o600 });
    }
    await registerAdmin(store, existing.publicJwk, options.adminAudience);
    log.warn({ keyFile: path, serviceId: ADMIN_SERVICE_ID }, "empty store: registered the admin identity from the existing key file");
    return true;
  }
  const pair = await generateKeyPair("EdDSA", { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, "sha256");
  const privateJwk = { ...(await exportJWK(pair.privateKey)), kid, alg: "EdDSA" };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // "wx": never overwrite a key file someone may still rely on; mode 0600 from the first byte.
  const file = await open(path, "wx", 0o600);
  try {
    const content: AdminKeyFile = { serviceId: ADMIN_SERVICE_ID, issuer: options.issuer, audience: options.adminAudience, privateJwk };
    await file.writeFile(`${JSON.stringify(content, null, 2)}\n`);
  } finally {
    await file.close();
  }
  await chmod(path, 0o600);
  await registerAdmin(store, { ...publicJwk, kid }, options.adminAudience);
  log.warn({ keyFile: path, serviceId: ADMIN_SERVICE_ID }, "empty store: created the admin identity; its private key is in this file (mode 0600), keep it safe");
  return true;
}

async function registerAdmin(store: IssuerStore, publicJwk: Readonly<Record<string, unknown>>, adminAudience: string): Promise<void> {
  await store.registerService({
    id: ADMIN_SERVICE_ID,
    tenantId: "trustmesh",
    keys: [{ kty: "OKP", crv: "Ed25519", x: publicJwk["x"], kid: publicJwk["kid"] as string, alg: "EdDSA", use: "sig" }],
    audiences: { [adminAudience]: [ADMIN_SCOPE] },
  });
}

/** The public half of an admin key file left by an earlier start, or undefined when there is none. */
async function readExisting(path: string): Promise<{ file: AdminKeyFile; publicJwk: Record<string, unknown> } | undefined> {
  let text: string;
  try {
    if (((await stat(path)).mode & 0o077) !== 0) throw new Error(`admin key file ${path} is readable by others; chmod 600 it`);
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<AdminKeyFile>;
  const jwk = parsed.privateJwk;
  if (parsed.serviceId !== ADMIN_SERVICE_ID || jwk?.["crv"] !== "Ed25519" || typeof jwk["x"] !== "string" || typeof jwk["kid"] !== "string") {
    throw new Error(`admin key file ${path} is not a trustmesh admin key`);
  }
  return { file: parsed as AdminKeyFile, publicJwk: { x: jwk["x"], kid: jwk["kid"] } };
}
