/**
 * Signing keys' private halves at rest: AES-256-GCM under a key-encryption key (KEK) that the
 * operator supplies. The kid is bound in as associated data, so a ciphertext cannot be moved to
 * another key's record and still decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";

const FORMAT = "v1";
const KEK_BYTES = 32;
const IV_BYTES = 12;

export type KeyEncryptionErrorCode = "ERR_KEK_INVALID" | "ERR_KEK_UNREADABLE" | "ERR_KEY_DECRYPT_FAILED";

export class KeyEncryptionError extends Error {
  override readonly name = "KeyEncryptionError";
  readonly code: KeyEncryptionErrorCode;

  constructor(code: KeyEncryptionErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A KEK held in memory; the bytes never leave this object. */
export class KeyEncryptionKey {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  static generate(): KeyEncryptionKey {
    return new KeyEncryptionKey(randomBytes(KEK_BYTES));
  }

  /** 32 bytes, given as 64 hex characters or base64/base64url text (surrounding whitespace ignored). */
  static fromText(text: string): KeyEncryptionKey {
    const trimmed = text.trim();
    const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
    if (bytes.length !== KEK_BYTES || (!/^[0-9a-fA-F]{64}$/.test(trimmed) && !/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed))) {
      throw new KeyEncryptionError("ERR_KEK_INVALID", "key-encryption key must be 32 bytes, as 64 hex characters or base64");
    }
    return new KeyEncryptionKey(bytes);
  }

  /** `onLoose` hears of a file that others can read, which is allowed (mounted secrets often are). */
  static async fromFile(path: string, onLoose?: (mode: number) => void): Promise<KeyEncryptionKey> {
    let text: string;
    try {
      const { mode } = await stat(path);
      if ((mode & 0o077) !== 0) onLoose?.(mode & 0o777);
      text = await readFile(path, "utf8");
    } catch (error) {
      throw new KeyEncryptionError("ERR_KEK_UNREADABLE", `key-encryption key file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    }
    return KeyEncryptionKey.fromText(text);
  }

  /** The text form `fromText` reads, for writing a generated KEK to a file. */
  exportText(): string {
    return this.#key.toString("base64");
  }

  encrypt(kid: string, plaintext: Buffer): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(associatedData(kid));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [FORMAT, iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === "string" ? part : part.toString("base64url"))).join(".");
  }

  decrypt(kid: string, sealed: string): Buffer {
    const [format, iv, ciphertext, tag, extra] = sealed.split(".");
    if (format !== FORMAT || iv === undefined || ciphertext === undefined || tag === undefined || extra !== undefined) {
      throw new KeyEncryptionError("ERR_KEY_DECRYPT_FAILED", `signing key ${kid} is not in a known sealed format`);
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, Buffer.from(iv, "base64url"), { authTagLength: 16 });
      decipher.setAAD(associatedData(kid));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]);
    } catch {
      throw new KeyEncryptionError("ERR_KEY_DECRYPT_FAILED", `signing key ${kid} does not decrypt under this key-encryption key`);
    }
  }
}

function associatedData(kid: string): Buffer {
  return Buffer.from(`trustmesh-signing-key:${FORMAT}:${kid}`);
}
