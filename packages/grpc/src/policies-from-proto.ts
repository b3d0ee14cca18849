import type { PackageDefinition } from "@grpc/proto-loader";
import type { policyV1 } from "@trustmesh/proto";
import { PolicyError } from "./errors.js";
import { allowServices, allowTenants, policy, publicMethod, requireScopes, type MethodPolicy, type PolicyMap } from "./policy.js";

/** How @grpc/proto-loader names a custom option in `MethodDefinition.options`. */
const POLICY_OPTION = "(trustmesh.v1.policy)";
const FIELDS = new Set(["scopes", "allowed_services", "allowed_tenants", "public"]);

/**
 * The `(trustmesh.v1.policy)` options of every service in a package definition loaded with
 * `@grpc/proto-loader`, keyed by method path. A method without the option is left out, and so
 * stays denied. protobufjs does not check option values against the extension as protoc does,
 * so this reads them strictly: an unknown field or a wrong type throws rather than loosening
 * the policy. (protobufjs also keeps only the last of an option set twice, which protoc and
 * `buf lint` reject: compile service protos with one of them too.)
 */
export function policiesFromProto(definition: PackageDefinition): PolicyMap {
  const policies: Record<string, MethodPolicy> = {};
  for (const entry of Object.values(definition)) {
    if ("format" in entry) continue; // a message or enum type, not a service
    for (const method of Object.values(entry)) {
      const option = (method.options as Readonly<Record<string, unknown>> | undefined)?.[POLICY_OPTION];
      if (option !== undefined) policies[method.path] = fromMessage(method.path, readOption(method.path, option));
    }
  }
  return Object.freeze(policies);
}

function readOption(path: string, option: unknown): policyV1.MethodPolicy {
  if (typeof option !== "object" || option === null || Array.isArray(option)) throw invalid(path, "is not a MethodPolicy");
  const fields = option as Readonly<Record<string, unknown>>;
  for (const name of Object.keys(fields)) {
    if (!FIELDS.has(name)) throw invalid(path, `has no field "${name}"`);
  }
  if (fields.public !== undefined && typeof fields.public !== "boolean") throw invalid(path, "public must be true or false");
  return {
    scopes: strings(path, fields.scopes),
    allowedServices: strings(path, fields.allowed_services),
    allowedTenants: strings(path, fields.allowed_tenants),
    public: fields.public === true,
  };
}

/** protobufjs gives a repeated field set once as a bare value, and as an array otherwise. */
function strings(path: string, value: unknown): string[] {
  if (value === undefined) return [];
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (!list.every((item) => typeof item === "string")) throw invalid(path, "lists must hold strings");
  return list;
}

function fromMessage(path: string, message: policyV1.MethodPolicy): MethodPolicy {
  const constrained = message.scopes.length > 0 || message.allowedServices.length > 0 || message.allowedTenants.length > 0;
  if (message.public) {
    if (constrained) throw invalid(path, "cannot be public and also require scopes, services or tenants");
    return publicMethod();
  }
  try {
    const parts: MethodPolicy[] = [];
    // An empty list in the proto means "any", not "none".
    if (message.scopes.length > 0) parts.push(requireScopes(...message.scopes));
    if (message.allowedServices.length > 0) parts.push(allowServices(...message.allowedServices));
    if (message.allowedTenants.length > 0) parts.push(allowTenants(...message.allowedTenants));
    return policy(...parts);
  } catch (error) {
    if (error instanceof PolicyError) throw new PolicyError(error.code, `${path}: ${error.message}`, [path]);
    throw error;
  }
}

function invalid(path: string, message: string): PolicyError {
  return new PolicyError("ERR_POLICY_INVALID", `${path}: ${POLICY_OPTION} ${message}`, [path]);
}
