/**
 * `T` with the keys whose value may be undefined made optional and undefined removed from
 * their type: what `definedProps` returns.
 */
export type DefinedProps<T> = {
  [K in keyof T as undefined extends T[K] ? never : K]: T[K];
} & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/**
 * Copies an object without its undefined-valued keys, so optional options can be passed on
 * under `exactOptionalPropertyTypes` without a spread per key.
 */
export function definedProps<T extends object>(value: T): DefinedProps<T> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v;
  return out as DefinedProps<T>;
}
