/**
 * Every command, in help order. The definitions here are data only; each `run` imports its
 * action when it is chosen, so --help and usage errors never load gRPC, jose or the verifier.
 */
import type { Command } from "../command.js";
import { keysList, keysRotate } from "./keys.js";
import { policyCheck } from "./policy.js";
import { status, watch } from "./revocation-stream.js";
import { revokeKey, revokeService, revokeToken } from "./revoke.js";
import { serviceDisable, serviceGet, serviceList, serviceRegister } from "./service.js";
import { tokenInspect, tokenMint } from "./token.js";

export const COMMANDS: readonly Command[] = [
  serviceRegister,
  serviceList,
  serviceGet,
  serviceDisable,
  keysList,
  keysRotate,
  tokenMint,
  tokenInspect,
  revokeToken,
  revokeService,
  revokeKey,
  watch,
  status,
  policyCheck,
];

export const GROUPS: Readonly<Record<string, string>> = {
  service: "Service identities: who exists in the mesh and what each may ask for",
  keys: "The issuer's signing keys",
  token: "Access tokens, for debugging",
  revoke: "Revocation: make a token, a service's tokens or a signing key stop verifying everywhere",
  policy: "Method policies declared in .proto files",
};
