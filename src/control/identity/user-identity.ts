/** A person (or system) as the edge knows them after authentication. */
export interface UserIdentity {
  /** The identity provider's stable subject (`sub`). */
  readonly subject: string;
  readonly email?: string | undefined;
  readonly name?: string | undefined;
  /** Group names from the identity provider's groups claim; empty when it sent none. */
  readonly groups: readonly string[];
  /** Name of the identity provider object that authenticated the user. */
  readonly idp: string;
}
