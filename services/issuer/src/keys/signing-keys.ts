/**
 * The issuer's signing keys: creates the keyring on first start, signs with the active key,
 * publishes the JWKS, and rotates on an interval or on demand. Replicas share the keyring through
 * the store and change it only by compare-and-set, so two of them can never rotate at once: the
 * loser of a race reloads and finds the rotation already done.
 */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { toLowS } from "@trustmesh/verifier/internal";
import type { IssuerStore } from "../store/types.js";
import type { KeyEncryptionKey } from "./key-encryption.js";
import {
  activeKey,
  initialKeyring,
  isRotationDue,
  KeyringError,
  nextKey,
  publishedKeys,
  revokeKey,
  rotate,
  type KeyringTiming,
  type NewKey,
  type SigningAlgorithm,
  type StoredSigningKey,
} from "./keyring.js";

/** The part of the issuer store the keyring lives in. */
export type KeyringStore = Pick<IssuerStore, "getKeyring" | "compareAndSetKeyring">;

export interface SigningKeysOptions {
  readonly store: KeyringStore;
  readonly kek: KeyEncryptionKey;
  readonly algorithm: SigningAlgorithm;
  readonly timing: KeyringTiming;
  /** How often to reload the keyring (other replicas may have rotated) and check rotation. */
  readonly checkIntervalMs: number;
  readonly now: () => number;
  readonly onRotated?: (event: { activeKid: string; nextKid: string; reason: "scheduled" | "requested" }) => void;
}

export interface PublicJwks {
  readonly keys: readonly Readonly<Record<string, unknown>>[];
}

export type RotationOutcome = { readonly rotated: true; readonly activeKid: string; readonly nextKid: string } | { readonly rotated: false; readonly reason: "conflict" };

export class SigningKeys {
  readonly #options: SigningKeysOptions;
  #version = 0;
  #keys: readonly StoredSigningKey[] = [];
  readonly #privateKeys = new Map<string, KeyObject>();
  #timer: NodeJS.Timeout | undefined;
  #jwks: { keys: readonly StoredSigningKey[]; until: number; jwks: PublicJwks } | undefined;
  #loadedAt = -Infinity;

  constructor(options: SigningKeysOptions) {
    this.#options = options;
  }

  /** Loads the keyring, creating it if the store has none, and starts the rotation checks. */
  async start(): Promise<void> {
    await this.reload();
    if (this.#keys.length === 0) {
      const now = this.#options.now();
      const created = initialKeyring(await this.#newKey(), await this.#newKey(), now);
      // A replica that lost this race simply loads what the winner wrote.
      await this.#options.store.compareAndSetKeyring(this.#version, created);
      await this.reload();
    }
    this.#schedule();
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async reload(): Promise<void> {
    const loadedAt = this.#options.now();
    const { version, keys } = await this.#options.store.getKeyring();
    this.#version = version;
    this.#keys = keys;
    this.#loadedAt = loadedAt;
    for (const kid of this.#privateKeys.keys()) {
      if (!keys.some((key) => key.kid === kid && key.state !== "retired")) this.#privateKeys.delete(kid);
    }
  }

  get activeKid(): string {
    return activeKey(this.#keys).kid;
  }

  /** Every key with its state, for the admin API. */
  list(): readonly StoredSigningKey[] {
    return this.#keys;
  }

  /** The same object until the keyring changes or a retired key's publication ends. */
  jwks(): PublicJwks {
    const now = this.#options.now();
    const cached = this.#jwks;
    if (cached?.keys === this.#keys && now < cached.until) return cached.jwks;
    const published = publishedKeys(this.#keys, now);
    const until = Math.min(Infinity, ...published.map((key) => (key.state === "retired" ? (key.publishUntilMs ?? 0) : Infinity)));
    const jwks = { keys: published.map((key) => key.publicJwk) };
    this.#jwks = { keys: this.#keys, until, jwks };
    return jwks;
  }

  /** Signs an access token with the active key (`typ` at+jwt, `kid` its thumbprint). */
  async sign(claims: JWTPayload): Promise<{ token: string; kid: string }> {
    // Another replica may have rotated: never sign from a snapshot older than one check
    // interval, so a retired key signs nothing past what its publication window covers.
    if (this.#options.now() - this.#loadedAt > this.#options.checkIntervalMs) await this.reload();
    const key = activeKey(this.#keys);
    if (key.alg !== "EdDSA" && key.alg !== "ES256") throw new KeyringError("ERR_KEYRING_INVALID", `active key ${key.kid} has unsupported alg`);
    const token = await new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt" }).sign(this.#privateKey(key));
    return { token: key.alg === "ES256" ? withLowS(token) : token, kid: key.kid };
  }

  /** Rotation on demand. `immediate` skips the pre-publication window (a compromised key). */
  async rotate(options: { immediate?: boolean } = {}): Promise<RotationOutcome> {
    await this.reload();
    const rotated = rotate(this.#keys, await this.#newKey(), this.#options.now(), this.#options.timing, options);
    if (!(await this.#options.store.compareAndSetKeyring(this.#version, rotated))) {
      await this.reload();
      return { rotated: false, reason: "conflict" };
    }
    await this.reload();
    const outcome = { rotated: true as const, activeKid: this.activeKid, nextKid: nextKey(this.#keys)?.kid ?? "" };
    this.#options.onRotated?.({ activeKid: outcome.activeKid, nextKid: outcome.nextKid, reason: "requested" });
    return outcome;
  }

  /** Drops a leaked key from the JWKS now, promoting a successor if it was the active key. */
  async revoke(kid: string): Promise<RotationOutcome> {
    await this.reload();
    const revoked = revokeKey(this.#keys, kid, await this.#newKey(), this.#options.now());
    if (!(await this.#options.store.compareAndSetKeyring(this.#version, revoked))) {
      await this.reload();
      return { rotated: false, reason: "conflict" };
    }
    await this.reload();
    return { rotated: true, activeKid: this.activeKid, nextKid: nextKey(this.#keys)?.kid ?? "" };
  }

  /** One scheduled check: reload, and rotate if due. Exposed so tests can drive it with a clock. */
  async tick(): Promise<void> {
    await this.reload();
    const now = this.#options.now();
    if (!isRotationDue(this.#keys, now, this.#options.timing)) return;
    const next = nextKey(this.#keys);
    if (next === undefined || now - next.createdAtMs < this.#options.timing.prePublishMs) return;
    const rotated = rotate(this.#keys, await this.#newKey(), now, this.#options.timing);
    const won = await this.#options.store.compareAndSetKeyring(this.#version, rotated);
    await this.reload();
    if (won) this.#options.onRotated?.({ activeKid: this.activeKid, nextKid: nextKey(this.#keys)?.kid ?? "", reason: "scheduled" });
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.tick()
        .catch(() => undefined)
        .finally(() => {
          if (this.#timer !== undefined) this.#schedule();
        });
    }, this.#options.checkIntervalMs);
    this.#timer.unref();
  }

  #privateKey(key: StoredSigningKey): KeyObject {
    let privateKey = this.#privateKeys.get(key.kid);
    if (privateKey === undefined) {
      const jwk = JSON.parse(this.#options.kek.decrypt(key.kid, key.encryptedPrivateKey).toString("utf8")) as Record<string, unknown>;
      privateKey = createPrivateKey({ key: jwk as never, format: "jwk" });
      this.#privateKeys.set(key.kid, privateKey);
    }
    return privateKey;
  }

  async #newKey(): Promise<NewKey> {
    const alg = this.#options.algorithm;
    const pair = await generateKeyPair(alg, alg === "ES256" ? { extractable: true } : { extractable: true, crv: "Ed25519" });
    const publicJwk = await exportJWK(pair.publicKey);
    const kid = await calculateJwkThumbprint(publicJwk, "sha256");
    const privateJwk = await exportJWK(pair.privateKey);
    return {
      kid,
      alg,
      encryptedPrivateKey: this.#options.kek.encrypt(kid, Buffer.from(JSON.stringify(privateJwk))),
      publicJwk: { ...publicJwk, kid, alg, use: "sig" },
    };
  }
}

/** Verifiers accept only the low-s spelling of an ES256 signature (no malleated second copy). */
function withLowS(token: string): string {
  const end = token.lastIndexOf(".");
  return `${token.slice(0, end + 1)}${toLowS(Buffer.from(token.slice(end + 1), "base64url")).toString("base64url")}`;
}
