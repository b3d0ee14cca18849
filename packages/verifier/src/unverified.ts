/**
 * `@trustmesh/verifier/unverified`: the unsafe half, kept apart so that its import says what it is.
 * Nothing here decides trust.
 */
export { decodeUnverified, type UnverifiedToken } from "./decode-unverified.js";
