/** How identities and signing keys look to a person (aligned text) and to a script (plain JSON). */
import { adminV1 } from "@trustmesh/proto";
import { isoTime, table } from "./output.js";

export interface ServiceView {
  readonly id: string;
  readonly tenantId: string;
  readonly status: "active" | "disabled" | "unspecified";
  readonly audiences: Readonly<Record<string, readonly string[]>>;
  readonly keys: readonly { readonly kid: string; readonly alg: string }[];
  readonly revision: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function serviceView(service: adminV1.ServiceIdentity | undefined): ServiceView {
  if (service === undefined) throw new Error("the issuer's response carries no service");
  return {
    id: service.id,
    tenantId: service.tenantId,
    status: STATUS_NAMES[service.status] ?? "unspecified",
    audiences: Object.fromEntries(service.audiences.map((grant) => [grant.audience, [...grant.scopes]])),
    keys: service.keys.map((key) => ({ kid: key.kid, alg: key.alg })),
    revision: service.revision,
    createdAt: isoTime(service.createdAtUnixMs),
    updatedAt: isoTime(service.updatedAtUnixMs),
  };
}

const STATUS_NAMES: Partial<Record<adminV1.ServiceStatus, ServiceView["status"]>> = {
  [adminV1.ServiceStatus.SERVICE_STATUS_ACTIVE]: "active",
  [adminV1.ServiceStatus.SERVICE_STATUS_DISABLED]: "disabled",
};

/** `payments=payments:charge,payments:refund`, as --allow takes it. */
export function grantText(audience: string, scopes: readonly string[]): string {
  return `${audience}=${scopes.join(",")}`;
}

export function serviceLines(view: ServiceView): string[] {
  const grants = Object.entries(view.audiences);
  return [
    `service ${view.id}`,
    `  tenant    ${view.tenantId}`,
    `  status    ${view.status}`,
    `  revision  ${view.revision}`,
    `  created   ${view.createdAt}`,
    `  updated   ${view.updatedAt}`,
    ...view.keys.map((key, index) => `  ${index === 0 ? "key     " : "        "}  ${key.kid} (${key.alg})`),
    ...(grants.length === 0 ? ["  allow     (nothing)"] : grants.map(([audience, scopes], index) => `  ${index === 0 ? "allow   " : "        "}  ${grantText(audience, scopes)}`)),
  ];
}

export function serviceTable(views: readonly ServiceView[]): string[] {
  return table(
    ["ID", "TENANT", "STATUS", "ALLOW"],
    views.map((view) => [view.id, view.tenantId, view.status, Object.entries(view.audiences).map(([audience, scopes]) => grantText(audience, scopes)).join(" ") || "-"]),
  );
}

export interface SigningKeyView {
  readonly kid: string;
  readonly alg: string;
  readonly state: "next" | "active" | "retired" | "unspecified";
  readonly createdAt: string;
  readonly activatesAt: string | null;
  readonly retiredAt: string | null;
  readonly publishUntil: string | null;
}

const STATE_NAMES: Partial<Record<adminV1.SigningKeyState, SigningKeyView["state"]>> = {
  [adminV1.SigningKeyState.SIGNING_KEY_STATE_NEXT]: "next",
  [adminV1.SigningKeyState.SIGNING_KEY_STATE_ACTIVE]: "active",
  [adminV1.SigningKeyState.SIGNING_KEY_STATE_RETIRED]: "retired",
};

export function signingKeyView(key: adminV1.SigningKeyInfo): SigningKeyView {
  return {
    kid: key.kid,
    alg: key.alg,
    state: STATE_NAMES[key.state] ?? "unspecified",
    createdAt: isoTime(key.createdAtUnixMs),
    activatesAt: key.activatesAtUnixMs === 0 ? null : isoTime(key.activatesAtUnixMs),
    retiredAt: key.retiredAtUnixMs === undefined ? null : isoTime(key.retiredAtUnixMs),
    publishUntil: key.publishUntilUnixMs === undefined ? null : isoTime(key.publishUntilUnixMs),
  };
}

export function signingKeyTable(views: readonly SigningKeyView[]): string[] {
  return table(
    ["KID", "ALG", "STATE", "ACTIVATES", "RETIRED", "PUBLISHED UNTIL"],
    views.map((view) => [view.kid, view.alg, view.state, view.activatesAt ?? "-", view.retiredAt ?? "-", view.publishUntil ?? "-"]),
  );
}
