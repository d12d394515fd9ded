import { z } from 'zod';
import { accessPolicySchema } from './access-policy.js';
import { applicationSchema } from './application.js';
import { certificateSchema } from './certificate.js';
import { connectorGroupSchema } from './connector-group.js';
import { identityProviderSchema } from './identity-provider.js';
import { logReceiverSchema } from './log-receiver.js';
import type { DeepReadonly } from './deep-freeze.js';
import { monitorSchema } from './monitor.js';
import { poolSchema } from './pool.js';
import { ruleSchema } from './rule.js';
import { virtualServerSchema } from './virtual-server.js';

/** The configuration document format this build reads. */
export const DOCUMENT_VERSION = 1;

/**
 * Named-object collections a document may hold, keyed by their document key. Adding an object
 * kind means adding its schema here and to `documentSchema`; merging and duplicate checks
 * follow from this table.
 */
export const collectionSchemas = {
  connector_groups: connectorGroupSchema,
  monitors: monitorSchema,
  certificates: certificateSchema,
  rules: ruleSchema,
  pools: poolSchema,
  virtual_servers: virtualServerSchema,
  applications: applicationSchema,
  access_policies: accessPolicySchema,
  identity_providers: identityProviderSchema,
  log_receivers: logReceiverSchema,
} as const;

/** A document key that holds a list of named objects. */
export type CollectionName = keyof typeof collectionSchemas;

/** Every collection key, in the order they are merged and reported. */
export const collectionNames = Object.keys(collectionSchemas) as readonly CollectionName[];

/** A whole configuration document: a version and lists of named objects. */
export const documentSchema = z
  .strictObject({
    version: z.literal(DOCUMENT_VERSION, {
      error: (issue) =>
        issue.input === undefined
          ? `is required: start the document with "version: ${DOCUMENT_VERSION}"`
          : `must be ${DOCUMENT_VERSION}: this Postern reads version ${DOCUMENT_VERSION} documents`,
    }),
    connector_groups: z.array(collectionSchemas.connector_groups).default([]),
    monitors: z.array(collectionSchemas.monitors).default([]),
    certificates: z.array(collectionSchemas.certificates).default([]),
    rules: z.array(collectionSchemas.rules).default([]),
    pools: z.array(collectionSchemas.pools).default([]),
    virtual_servers: z.array(collectionSchemas.virtual_servers).default([]),
    applications: z.array(collectionSchemas.applications).default([]),
    access_policies: z
      .array(collectionSchemas.access_policies)
      .default([])
      .meta({ description: 'Access rules in evaluation order: the first match decides.' }),
    identity_providers: z.array(collectionSchemas.identity_providers).default([]),
    log_receivers: z.array(collectionSchemas.log_receivers).default([]),
  })
  .meta({ title: 'Postern configuration document' });

/** A validated, frozen configuration document with defaults applied. */
export type ConfigDocument = DeepReadonly<z.output<typeof documentSchema>>;

/** A merged configuration; the same shape as one document. */
export type Configuration = ConfigDocument;

/** The object type held by a collection. */
export type CollectionObject<C extends CollectionName> = ConfigDocument[C][number];
