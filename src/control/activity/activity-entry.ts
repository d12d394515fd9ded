import type { AccessAction, ClientType } from '../../config/index.js';

/** What an activity record tells: an access decision, or the end of a session it allowed. */
export type ActivityKind = 'decision' | 'session_end';

/**
 * One user activity record, after ZPA's User Activity log: who asked for what from where, what
 * decided it, which connector carried it, and for a session end the bytes, duration and reason.
 * Never carries a token or any other secret.
 */
export interface ActivityEntry {
  /** Sequence number within this edge's log; newer entries have larger numbers. */
  readonly seq: number;
  /** ISO 8601 time of the decision or of the session end. */
  readonly time: string;
  readonly kind: ActivityKind;
  /** Correlates a decision with its session end and with the connector's logs. */
  readonly sessionId: string;
  /** The user's email, else their subject; undefined when no valid token was presented. */
  readonly user?: string | undefined;
  readonly groups: readonly string[];
  readonly clientType: ClientType;
  /** The client's address as `ip:port`. */
  readonly source: string;
  /** The application the destination matched, if any. */
  readonly application?: string | undefined;
  /** What the client asked for, `host:port` (or a URL for browser access). */
  readonly destination: string;
  /** The rule that decided; undefined for the default deny or a refusal before policy. */
  readonly rule?: string | undefined;
  readonly action: AccessAction;
  /** A sentence saying why (the policy's reason, or what refused the request). */
  readonly reason: string;
  /** HTTP status the client was answered with. */
  readonly status?: number | undefined;
  /** The connector that carried the session. */
  readonly connector?: string | undefined;
  /** Bytes from the client to the application (session end only). */
  readonly bytesFromClient?: number | undefined;
  /** Bytes from the application to the client (session end only). */
  readonly bytesToClient?: number | undefined;
  /** Milliseconds from the decision to the session end (session end only). */
  readonly durationMs?: number | undefined;
  /** `closed`, or the code of what cut the session (session end only). */
  readonly closeReason?: string | undefined;
  /** Server id of the edge that recorded it; set on entries read from the shared store. */
  readonly edge?: string | undefined;
}

/** An entry as recorders give it; the log adds `seq` and, when absent, `time`. */
export type ActivityInput = Omit<ActivityEntry, 'seq' | 'time'> & { readonly time?: string };
