import { PolicyError } from "../errors.js";
import { policy, type MethodPolicy, type PolicyMap } from "../policy.js";

/** `/package.Service/Method`, as grpc-js names a method in `path`. */
const METHOD_PATH = /^\/[A-Za-z_][A-Za-z0-9_.]*\/[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Validates the map once, at construction, and returns an own-keys-only lookup, so that a
 * path such as `/constructor` can never find something on Object.prototype.
 */
export function toPolicyLookup(policies: PolicyMap): (path: string) => MethodPolicy | undefined {
  if (typeof policies !== "object" || policies === null) {
    throw new PolicyError("ERR_POLICY_INVALID", "policies must be an object keyed by method path");
  }
  const lookup = new Map<string, MethodPolicy>();
  for (const [path, value] of Object.entries(policies)) {
    if (!METHOD_PATH.test(path)) {
      throw new PolicyError("ERR_POLICY_INVALID", `"${path}" is not a method path of the form /package.Service/Method`, [path]);
    }
    try {
      // A frozen copy: changing the caller's object later cannot loosen what is enforced.
      lookup.set(path, policy(value));
    } catch (error) {
      if (error instanceof PolicyError) throw new PolicyError(error.code, `${path}: ${error.message}`, [path]);
      throw error;
    }
  }
  return (path) => lookup.get(path);
}
