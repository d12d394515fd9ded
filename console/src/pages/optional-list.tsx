import type { ReactNode } from 'react';
import { EmptyState, ErrorMessage } from '../components';
import type { Resource } from '../use-resource';

/**
 * A list from a route that some edges do not have yet: a missing route is an empty state that
 * says so; any other error is shown with its code.
 */
export function OptionalList<T>({
  resource,
  route,
  empty,
  children,
}: {
  resource: Resource<T[]>;
  route: string;
  empty: ReactNode;
  children: (items: T[]) => ReactNode;
}) {
  if (resource.error?.missingRoute) {
    return (
      <EmptyState>
        This edge does not offer <code>{route}</code> yet, so there is nothing to show here.
      </EmptyState>
    );
  }
  if (resource.error) return <ErrorMessage error={resource.error} />;
  if (!resource.data) return <p aria-busy="true">Loading…</p>;
  if (resource.data.length === 0) return <EmptyState>{empty}</EmptyState>;
  return <>{children(resource.data)}</>;
}
