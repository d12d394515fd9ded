import type { Api } from './api';
import { useResource } from './use-resource';

/**
 * Whether the edge offers `method path` (OpenAPI form, e.g. `/api/v1/connectors/{id}/drain`),
 * read from its OpenAPI document: buttons for operations an edge lacks are not shown.
 */
export function useOperation(method: string, path: string): boolean {
  const doc = useResource((api: Api) =>
    api.request<{ paths?: Record<string, Record<string, unknown>> }>('GET', '/openapi.json'),
  );
  return Boolean(doc.data?.paths?.[path]?.[method.toLowerCase()]);
}
