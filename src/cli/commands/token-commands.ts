import type { Command } from 'commander';
import { AdminClient, type AdminFlags } from '../admin-client.js';
import { parseDuration, printTable } from '../output.js';
import { adminOptions } from './admin-commands.js';

type Item = Record<string, unknown>;

/** `postern tokens create|list|revoke`: admin API tokens with roles (needs an admin token). */
export function tokensCommand(program: Command): void {
  const tokens = program
    .command('tokens')
    .description('manage admin API tokens (roles: admin, operator, viewer)');
  adminOptions(tokens.command('create'))
    .description('create an admin API token; prints the token alone on stdout (shown only once)')
    .argument('<name>', 'a name for the token, shown in the audit log as token:<name>')
    .requiredOption('--role <role>', 'admin, operator or viewer')
    .option('--expires <duration>', 'expire after this long, e.g. 24h or 90d')
    .action(
      async (name: string, o: AdminFlags & { role: string; expires?: string; json?: boolean }) => {
        const client = await AdminClient.fromFlags(o);
        const body: Item = { name, role: o.role };
        if (o.expires !== undefined) {
          body.expires_at = new Date(Date.now() + parseDuration(o.expires)).toISOString();
        }
        const created = await client.request<Item & { secret: string }>(
          'POST',
          '/admin-tokens',
          body,
        );
        process.stdout.write(
          o.json ? `${JSON.stringify(created, null, 2)}\n` : `${created.secret}\n`,
        );
      },
    );
  adminOptions(tokens.command('list'))
    .description('list admin API tokens (never their secrets)')
    .action(async (o: AdminFlags & { json?: boolean }) => {
      const client = await AdminClient.fromFlags(o);
      printTable(
        await client.list<Item>('/admin-tokens?limit=1000'),
        ['id', 'name', 'role', 'created_at', 'last_used_at', 'expires_at', 'revoked'],
        o.json,
      );
    });
  adminOptions(tokens.command('revoke'))
    .description('revoke an admin API token for good')
    .argument('<id>', 'token id (see `postern tokens list`)')
    .action(async (id: string, o: AdminFlags) => {
      const client = await AdminClient.fromFlags(o);
      await client.request('POST', `/admin-tokens/${encodeURIComponent(id)}/revoke`);
      process.stdout.write(`revoked ${id}\n`);
    });
}
