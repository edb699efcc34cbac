// Uses two answers the way a TypeScript client does, with the types openapi-typescript generates from
// openapi.yaml. `scripts/check_clients.py typescript` writes those types as `api.d.ts` into a temporary
// folder, copies this file next to them and compiles it with `tsc --strict --noEmit`; `./api` exists
// only there. A list answer and Get Plan Limits are the bodies the Python generator once dropped.
// Each line below stops compiling if its body loses its types: `unknown` refuses the property accesses,
// a plain `string` refuses the constant feature name, and the `Exact` lines refuse `any`.
import type { operations } from "./api";

type JsonBody<Op extends keyof operations, Status extends keyof operations[Op]["responses"]> =
  operations[Op]["responses"][Status] extends { content: { "application/json": infer Body } } ? Body : never;

type ContactList = JsonBody<"listContacts", 200>;
type PlanLimitsAnswer = JsonBody<"getLimits", 200>;

// `any` would let every access below compile, so each body must also not be `any`.
type IsAny<T> = 0 extends 1 & T ? true : false;
type Exact<T, Expected> = [T] extends [Expected] ? ([Expected] extends [T] ? true : false) : false;
export const contactListIsTyped: Exact<IsAny<ContactList>, false> = true;
export const planLimitsAreTyped: Exact<IsAny<PlanLimitsAnswer>, false> = true;

export function phonesOnPage(page: ContactList): { phones: (string | null)[]; next: number | null } {
  const phones = page.data.map((contact) => contact.phone);
  const next = page.meta.current_page < page.meta.last_page ? page.meta.current_page + 1 : null;
  return { phones, next };
}

export function contactsLimit(answer: PlanLimitsAnswer): { limit: number; unlimited: boolean; name: "Total Contacts" } {
  const entry = answer.data.limits.contacts;
  return { limit: entry.limit, unlimited: entry.is_unlimited, name: entry.feature_name };
}
