/**
 * The private key files trustctl reads and writes. A key file is a credential: it is read only
 * when no one else can read it (as ssh does), written with mode 0600 from its first byte, never
 * overwritten, and its content never reaches an error message or the terminal.
 */
import { chmod, open, readFile, stat, unlink } from "node:fs/promises";
import { resolve } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";
import type { issuerV1 } from "@trustmesh/proto";
import { CliError, EXIT } from "./exit-codes.js";

/** A service's key file as `service register` writes it and `token mint` reads it. */
export interface ServiceKeyFile {
  readonly serviceId: string;
  /** The issuer's identifier: the `aud` of this service's client assertions. */
  readonly issuer: string;
  readonly privateJwk: JWK & { kid: string; alg: "EdDSA" };
}

/** The admin key file the issuer writes at its first start: a service key file plus the admin audience. */
export interface AdminKeyFile extends ServiceKeyFile {
  readonly audience: string;
}

/** A key file read and its key imported, ready to sign client assertions. */
export interface SigningIdentity {
  readonly serviceId: string;
  readonly issuer: string;
  readonly kid: string;
  readonly key: CryptoKey;
  readonly path: string;
}

export interface AdminIdentity extends SigningIdentity {
  readonly audience: string;
}

export async function readAdminKeyFile(path: string): Promise<AdminIdentity> {
  const { parsed, identity } = await readKeyFile(path, "admin key file", "set --admin-key or TRUSTMESH_ADMIN_KEY_FILE");
  const audience = parsed["audience"];
  if (typeof audience !== "string" || audience === "") throw notAKeyFile("admin key file", identity.path);
  return { ...identity, audience };
}

export async function readServiceKeyFile(path: string): Promise<SigningIdentity> {
  return (await readKeyFile(path, "key file", "pass the file service register wrote with --key")).identity;
}

export interface GeneratedKey {
  readonly kid: string;
  /** As RegisterService takes it. */
  readonly publicKey: issuerV1.JsonWebKey;
  readonly privateJwk: ServiceKeyFile["privateJwk"];
}

/** An Ed25519 pair made here, so the private half never travels; kid is the RFC 7638 thumbprint. */
export async function generateServiceKey(): Promise<GeneratedKey> {
  const pair = await generateKeyPair("Ed25519", { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, "sha256");
  return {
    kid,
    publicKey: { kty: "OKP", crv: "Ed25519", x: publicJwk.x ?? "", kid, alg: "EdDSA", use: "sig" },
    privateJwk: { ...(await exportJWK(pair.privateKey)), kid, alg: "EdDSA" },
  };
}

/**
 * Creates the file exclusively ("wx": an existing file, or one created meanwhile, is never
 * replaced) with mode 0600 from the first byte. Resolves with the absolute path.
 */
export async function writeServiceKeyFile(path: string, content: ServiceKeyFile): Promise<string> {
  const absolute = resolve(path);
  let file;
  try {
    file = await open(absolute, "wx", 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new CliError(EXIT.REFUSED, `${absolute} exists already; trustctl never overwrites a key file (choose another --key-out)`);
    throw new CliError(EXIT.REFUSED, `cannot create key file ${absolute} (${code ?? "unknown error"})`);
  }
  try {
    await file.writeFile(`${JSON.stringify(content, null, 2)}\n`);
  } finally {
    await file.close();
  }
  // The umask may have narrowed the mode at open, never widened it; make it exactly 0600.
  await chmod(absolute, 0o600);
  return absolute;
}

/** For a key file trustctl created moments ago and whose public half the issuer refused. */
export async function removeKeyFile(absolutePath: string): Promise<void> {
  await unlink(absolutePath).catch(() => undefined);
}

async function readKeyFile(path: string, what: string, hint: string): Promise<{ parsed: Record<string, unknown>; identity: SigningIdentity }> {
  const absolute = resolve(path);
  let text: string;
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw new CliError(EXIT.AUTH, `${what} ${absolute} is not a file`);
    if ((info.mode & 0o077) !== 0) throw new CliError(EXIT.AUTH, `${what} ${absolute} is readable by others; chmod 600 it`);
    text = await readFile(absolute, "utf8");
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CliError(EXIT.AUTH, `${what} ${absolute} not found (${hint})`);
    throw new CliError(EXIT.AUTH, `cannot read ${what} ${absolute} (${code ?? "unknown error"})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text it choked on: never let key material into the message.
    throw notAKeyFile(what, absolute);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw notAKeyFile(what, absolute);
  const record = parsed as Record<string, unknown>;
  const { serviceId, issuer, privateJwk } = record;
  if (typeof serviceId !== "string" || serviceId === "" || typeof issuer !== "string" || issuer === "" || !isEd25519PrivateJwk(privateJwk)) {
    throw notAKeyFile(what, absolute);
  }
  let key: CryptoKey;
  try {
    key = (await importJWK(privateJwk, "EdDSA")) as CryptoKey;
  } catch {
    throw notAKeyFile(what, absolute);
  }
  return { parsed: record, identity: { serviceId, issuer, kid: privateJwk.kid, key, path: absolute } };
}

function isEd25519PrivateJwk(value: unknown): value is JWK & { kid: string } {
  if (typeof value !== "object" || value === null) return false;
  const jwk = value as Record<string, unknown>;
  return jwk["kty"] === "OKP" && jwk["crv"] === "Ed25519" && typeof jwk["d"] === "string" && typeof jwk["x"] === "string" && typeof jwk["kid"] === "string" && jwk["kid"] !== "";
}

function notAKeyFile(what: string, path: string): CliError {
  return new CliError(EXIT.AUTH, `${what} ${path} is not a trustmesh Ed25519 key file ({ serviceId, issuer, privateJwk })`);
}
