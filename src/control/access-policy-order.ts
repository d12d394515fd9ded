import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { JsonValue, Store, StoredObject } from '../store/index.js';
import { parse } from './api-request.js';
import { sendTagged, withEtag } from './etag.js';
import { policyErrors } from './policy/index.js';
import type { RuntimeView } from './runtime-view.js';

/** The stored object (kind, name) holding the order of API-created access policies. */
export const POLICY_ORDER_KIND = 'access_policy_order';
const POLICY_ORDER_NAME = 'default';
const POLICY_KIND = 'access_policy';

/** The body of `PUT /access-policies/order`. */
export const policyOrderSchema = z
  .strictObject({
    names: z.array(z.string().min(1)).max(10_000).meta({
      description: 'Every access policy created through the API, each once, in evaluation order.',
    }),
  })
  .meta({ description: 'The evaluation order of the access policies created through the API.' });

function orderOf(objects: readonly StoredObject[]): readonly string[] {
  const stored = objects.find((o) => o.kind === POLICY_ORDER_KIND && o.name === POLICY_ORDER_NAME);
  const names = (stored?.spec as { names?: unknown } | undefined)?.names;
  return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
}

/**
 * The access policies among `objects` in their explicit order: those named by the stored order
 * first, as listed, then any created since, oldest first. Every other object keeps its place;
 * the edge evaluates these after the policies from configuration documents.
 */
export function orderAccessPolicies(objects: readonly StoredObject[]): StoredObject[] {
  const position = new Map(orderOf(objects).map((name, i) => [name, i]));
  const rank = (o: StoredObject) => position.get(o.name) ?? Number.MAX_SAFE_INTEGER;
  const policies = objects
    .filter((o) => o.kind === POLICY_KIND)
    .sort((a, b) => rank(a) - rank(b) || a.createdAt - b.createdAt || (a.name < b.name ? -1 : 1));
  let next = 0;
  return objects.map((o) => (o.kind === POLICY_KIND ? policies[next++]! : o));
}

/** Names of the access policies created through the API, in evaluation order. */
export async function policyOrder(store: Store): Promise<string[]> {
  const [policies, order] = await Promise.all([
    store.objects.list({ kind: POLICY_KIND }),
    store.objects.list({ kind: POLICY_ORDER_KIND }),
  ]);
  return orderAccessPolicies([...order, ...policies])
    .filter((o) => o.kind === POLICY_KIND)
    .map((o) => o.name);
}

/** `GET|PUT /access-policies/order`: read and change the order of API-created policies. */
export function registerPolicyOrder(
  api: FastifyInstance,
  store: Store,
  runtime: RuntimeView,
): void {
  api.get('/access-policies/order', async (_req, reply) =>
    sendTagged(reply, { names: await policyOrder(store) }),
  );
  api.put('/access-policies/order', async (req) => {
    const { names } = parse(policyOrderSchema, req.body);
    const current = await policyOrder(store);
    checkPermutation(names, current);
    const spec: JsonValue = { names };
    const previous = await store.objects.get(POLICY_ORDER_KIND, POLICY_ORDER_NAME);
    if (previous) await store.objects.update(POLICY_ORDER_KIND, POLICY_ORDER_NAME, spec);
    else await store.objects.create({ kind: POLICY_ORDER_KIND, name: POLICY_ORDER_NAME, spec });
    await runtime.reload();
    return withEtag({ names });
  });
}

function checkPermutation(names: readonly string[], current: readonly string[]): void {
  const known = new Set(current);
  const seen = new Set<string>();
  for (const name of names) {
    if (!known.has(name)) {
      throw policyErrors.badOrder(`"${name}" is not an access policy created through the API`);
    }
    if (seen.has(name)) throw policyErrors.badOrder(`"${name}" is listed twice`);
    seen.add(name);
  }
  const missing = current.filter((n) => !seen.has(n));
  if (missing.length > 0)
    throw policyErrors.badOrder(`${missing.map((n) => `"${n}"`).join(', ')} left out`);
}
