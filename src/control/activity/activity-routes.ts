import type { FastifyInstance, FastifyRequest } from 'fastify';
import { controlErrors } from '../errors.js';
import type { ActivityEntry } from './activity-entry.js';
import type { ActivityLog } from './activity-log.js';

type ActivityQuery = FastifyRequest<{ Querystring: { limit?: string; page_token?: string } }>;

/**
 * `GET /activity`: the user activity log, newest first, `?limit=` (1–1000) and `?page_token=`;
 * every edge's records when the log reads from the shared store. When that store cannot be
 * read, this edge's own records with `partial: true` and a `warning` saying so.
 */
export function registerActivityRoutes(api: FastifyInstance, activity: ActivityLog): void {
  api.get('/activity', async (req: ActivityQuery) => {
    const { limit, page_token: pageToken } = req.query;
    if (limit !== undefined && !/^[0-9]{1,4}$/.test(limit)) {
      throw controlErrors.badRequest(`limit "${limit}" is not a number from 1 to 1000`);
    }
    if (pageToken !== undefined && !activity.acceptsPageToken(pageToken)) {
      throw controlErrors.badRequest(
        `page_token "${pageToken}" is not one this API returned; start again without it`,
      );
    }
    const page = await activity.query({
      ...(limit === undefined ? {} : { limit: Number(limit) }),
      ...(pageToken === undefined ? {} : { pageToken }),
    });
    return {
      ...(page.warning === undefined ? {} : { partial: true, warning: page.warning }),
      items: page.items.map(activityView),
      ...(page.nextPageToken === undefined ? {} : { next_page_token: page.nextPageToken }),
    };
  });
}

/** An activity record in the admin API's snake_case, without absent fields. */
export function activityView(e: ActivityEntry): Record<string, unknown> {
  const view: Record<string, unknown> = {
    time: e.time,
    kind: e.kind,
    session_id: e.sessionId,
    user: e.user,
    groups: e.groups,
    client_type: e.clientType,
    source: e.source,
    application: e.application,
    destination: e.destination,
    rule: e.rule,
    action: e.action,
    reason: e.reason,
    status: e.status,
    connector: e.connector,
    bytes_from_client: e.bytesFromClient,
    bytes_to_client: e.bytesToClient,
    duration_ms: e.durationMs,
    close_reason: e.closeReason,
    edge: e.edge,
  };
  for (const key of Object.keys(view)) if (view[key] === undefined) delete view[key];
  return view;
}
