/**
 * How long things are remembered past their own expiry. Verifiers (and the issuer's assertion
 * check) accept a token up to their clock tolerance after `exp`, at most 300 s
 * (MAX_CLOCK_TOLERANCE_SEC in @trustmesh/verifier), so forgetting a jti or a minted access token
 * at `exp` would open a replay or an unrevocable window of that size.
 */
export const RETENTION_SLACK_SEC = 300;

/**
 * The longest refresh-token lifetime the store accepts (issue 3: "configurable up to 30 days").
 * A revoked family is remembered at least this long, so no token it issued outlives its revocation.
 */
export const MAX_REFRESH_TOKEN_LIFETIME_SEC = 30 * 24 * 60 * 60;
