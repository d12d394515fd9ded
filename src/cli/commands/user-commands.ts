import type { Command } from 'commander';
import { AdminClient, type AdminFlags } from '../admin-client.js';
import { adminOptions } from './admin-commands.js';

/** What `POST /user-revocations` answers. */
interface Revocation {
  readonly name: string;
  readonly not_before: string;
  readonly sessions_ended?: number;
}

/** `postern users revoke`: end everything a user holds (needs an admin token). */
export function usersCommand(program: Command): void {
  const users = program.command('users').description("act on users' access (admin only)");
  adminOptions(users.command('revoke'))
    .description(
      "end a user's browser sessions on every edge, refuse their CLI tokens issued until now, and cut their open connections",
    )
    .requiredOption('--identity-provider <name>', 'the identity provider the user logs in with')
    .requiredOption('--subject <sub>', "the user's subject (sub claim), as the activity log shows")
    .action(
      async (o: AdminFlags & { identityProvider: string; subject: string; json?: boolean }) => {
        const client = await AdminClient.fromFlags(o);
        const revoked = await client.request<Revocation>('POST', '/user-revocations', {
          identity_provider: o.identityProvider,
          subject: o.subject,
        });
        process.stdout.write(
          o.json
            ? `${JSON.stringify(revoked, null, 2)}\n`
            : `revoked ${revoked.name}: ${revoked.sessions_ended ?? 0} browser session(s) ended; credentials issued before ${revoked.not_before} are refused\n`,
        );
      },
    );
}
