/** The names the publisher, subscribers and operator tools agree on. */
export const REVOCATION_STREAM = "TRUSTMESH_REVOCATIONS";
export const REVOCATION_SUBJECTS = "trustmesh.revocations.>";

export type RevocationKind = "token" | "subject" | "key";

/** One subject per kind, so `trustctl watch` can follow only key revocations, say. */
export function revocationSubject(kind: RevocationKind): string {
  return `trustmesh.revocations.${kind}`;
}

/** Every subscriber instance's acknowledgements, for an operator tool to subscribe to. */
export const REVOCATION_ACK_SUBJECTS = "trustmesh.revocation-acks.>";

/**
 * The subject one instance acknowledges on. Service ids may contain dots, which would split a
 * subject token, so dots are spelled `~` (a character ids never contain); the ack's payload
 * carries the ids unchanged.
 */
export function revocationAckSubject(serviceId: string, instanceId: string): string {
  return `trustmesh.revocation-acks.${serviceId.replaceAll(".", "~")}.${instanceId.replaceAll(".", "~")}`;
}

/** What service and instance ids may be spelled with: the issuer's service id alphabet, and more. */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
