import type { Command } from 'commander';
import { AdminClient, type AdminFlags } from '../admin-client.js';
import { parseDuration, printTable } from '../output.js';
import { parseMaxUsage } from './key-flags.js';
import { keyState } from './key-state.js';

type Item = Record<string, unknown>;

/** Adds the flags every admin command shares (--admin, --token, --data-dir, --json). */
export function adminOptions(cmd: Command): Command {
  return cmd
    .option('--admin <url>', 'admin API URL (env POSTERN_ADMIN_URL; default http://127.0.0.1:9090)')
    .option(
      '--token <token>',
      'admin token (env POSTERN_ADMIN_TOKEN; default read from --data-dir)',
    )
    .option(
      '--data-dir <dir>',
      'edge data dir to read the admin token from (default ./postern-data)',
    )
    .option('--json', 'print JSON');
}

/** `postern keys list` rows: the API's items with their state and CIDRs as one cell. */
function keyRows(items: readonly Item[], now: number): Item[] {
  return items.map((k) => ({
    ...k,
    state: keyState(k, now),
    ...(Array.isArray(k.source_cidrs) ? { source_cidrs: k.source_cidrs.join(',') } : {}),
  }));
}

/** `postern keys create|list|update|enable|disable|revoke`. */
export function keysCommand(program: Command): void {
  const keys = program.command('keys').description('manage provisioning keys');
  adminOptions(keys.command('create'))
    .description('create a provisioning key; prints the key value alone on stdout')
    .requiredOption('--group <name>', 'connector group the key enrolls into')
    .option('--max-usage <n>', 'how many connectors may enroll with it (default 100)')
    .option('--expires <duration>', 'expire after this long, e.g. 24h or 7d')
    .option('--source-cidr <cidr...>', 'accept enrollments only from these networks')
    .action(
      async (
        o: AdminFlags & {
          group: string;
          maxUsage?: string;
          expires?: string;
          sourceCidr?: string[];
          json?: boolean;
        },
      ) => {
        const body: Item = { group: o.group };
        if (o.maxUsage !== undefined) body.max_usage = parseMaxUsage(o.maxUsage);
        const client = await AdminClient.fromFlags(o);
        if (o.expires !== undefined)
          body.expires_at = new Date(Date.now() + parseDuration(o.expires)).toISOString();
        if (o.sourceCidr) body.source_cidrs = o.sourceCidr;
        const key = await client.request<Item & { value: string }>(
          'POST',
          '/provisioning-keys',
          body,
        );
        process.stdout.write(o.json ? `${JSON.stringify(key, null, 2)}\n` : `${key.value}\n`);
      },
    );
  adminOptions(keys.command('list'))
    .description('list provisioning keys')
    .option('--group <name>', 'only keys of this group')
    .action(async (o: AdminFlags & { group?: string; json?: boolean }) => {
      const client = await AdminClient.fromFlags(o);
      const items = await client.list<Item>(
        `/provisioning-keys${o.group ? `?group=${encodeURIComponent(o.group)}` : ''}`,
      );
      if (o.json) {
        printTable(items, [], true);
        return;
      }
      printTable(keyRows(items, Date.now()), [
        'id',
        'group',
        'state',
        'usage_count',
        'max_usage',
        'expires_at',
        'source_cidrs',
      ]);
    });
  adminOptions(keys.command('update'))
    .description('change a provisioning key, e.g. raise the limit of an exhausted key')
    .argument('<id>', 'key id')
    .requiredOption('--max-usage <n>', 'how many connectors may enroll with it in total')
    .action(async (id: string, o: AdminFlags & { maxUsage: string; json?: boolean }) => {
      const maxUsage = parseMaxUsage(o.maxUsage);
      const client = await AdminClient.fromFlags(o);
      const key = await client.request<Item>(
        'PATCH',
        `/provisioning-keys/${encodeURIComponent(id)}`,
        { max_usage: maxUsage },
      );
      process.stdout.write(
        o.json
          ? `${JSON.stringify(key, null, 2)}\n`
          : `updated ${id}: max_usage ${String(key.max_usage)} (used ${String(key.usage_count)})\n`,
      );
    });
  for (const verb of ['enable', 'disable'] as const) {
    adminOptions(keys.command(verb))
      .description(`${verb} a provisioning key`)
      .argument('<id>', 'key id')
      .action(async (id: string, o: AdminFlags) => {
        const client = await AdminClient.fromFlags(o);
        await client.request('POST', `/provisioning-keys/${encodeURIComponent(id)}/${verb}`);
        process.stdout.write(`${verb}d ${id}\n`);
      });
  }
  adminOptions(keys.command('revoke'))
    .description('revoke a provisioning key for good')
    .argument('<id>', 'key id')
    .action(async (id: string, o: AdminFlags) => {
      const client = await AdminClient.fromFlags(o);
      await client.request('POST', `/provisioning-keys/${encodeURIComponent(id)}/revoke`);
      process.stdout.write(`revoked ${id}\n`);
    });
}

/** `postern groups create|list|delete`. */
export function groupsCommand(program: Command): void {
  const groups = program.command('groups').description('manage connector groups');
  adminOptions(groups.command('create'))
    .description('create a connector group')
    .argument('<name>', 'group name')
    .option('--description <text>', 'free text')
    .action(async (name: string, o: AdminFlags & { description?: string }) => {
      const client = await AdminClient.fromFlags(o);
      await client.request('POST', '/connector-groups', {
        name,
        ...(o.description ? { description: o.description } : {}),
      });
      process.stdout.write(`created group ${name}\n`);
    });
  adminOptions(groups.command('list'))
    .description('list connector groups')
    .action(async (o: AdminFlags & { json?: boolean }) => {
      const client = await AdminClient.fromFlags(o);
      printTable(
        await client.list<Item>('/connector-groups'),
        ['name', 'description', 'owner'],
        o.json,
      );
    });
  adminOptions(groups.command('delete'))
    .description(
      'delete a connector group with its provisioning keys and revoked connectors; refused ' +
        'while it has live connectors (`postern connectors delete <id>` revokes one) or while ' +
        'pools or applications use it (each is named)',
    )
    .argument('<name>', 'group name')
    .action(async (name: string, o: AdminFlags) => {
      const client = await AdminClient.fromFlags(o);
      await client.request('DELETE', `/connector-groups/${encodeURIComponent(name)}`);
      process.stdout.write(`deleted group ${name}\n`);
    });
}

/** `postern connectors list|delete|drain|undrain`. */
export function connectorsCommand(program: Command): void {
  const connectors = program.command('connectors').description('list and delete connectors');
  adminOptions(connectors.command('list'))
    .description('list connectors and their status')
    .option('--group <name>', 'only connectors of this group')
    .action(async (o: AdminFlags & { group?: string; json?: boolean }) => {
      const client = await AdminClient.fromFlags(o);
      const items = await client.list<Item>(
        `/connectors${o.group ? `?group=${encodeURIComponent(o.group)}` : ''}`,
      );
      printTable(
        items,
        [
          'id',
          'group',
          'status',
          'version',
          'public_ip',
          'active_sessions',
          'cert_not_after',
          'last_seen_at',
        ],
        o.json,
      );
    });
  adminOptions(connectors.command('delete'))
    .description('delete (revoke) a connector: its tunnel closes and its certificate is refused')
    .argument('<id>', 'connector id')
    .action(async (id: string, o: AdminFlags) => {
      const client = await AdminClient.fromFlags(o);
      await client.request('DELETE', `/connectors/${encodeURIComponent(id)}`);
      process.stdout.write(`deleted ${id}\n`);
    });
  adminOptions(connectors.command('drain'))
    .description(
      'drain a connector on every edge: no new sessions (also after a reconnect) until undrain',
    )
    .argument('<id>', 'connector id')
    .action(async (id: string, o: AdminFlags) => {
      const client = await AdminClient.fromFlags(o);
      await client.request('POST', `/connectors/${encodeURIComponent(id)}/drain`);
      process.stdout.write(`draining ${id}\n`);
    });
  adminOptions(connectors.command('undrain'))
    .description('end an admin drain: the connector takes new sessions again')
    .argument('<id>', 'connector id')
    .action(async (id: string, o: AdminFlags) => {
      const client = await AdminClient.fromFlags(o);
      await client.request('POST', `/connectors/${encodeURIComponent(id)}/undrain`);
      process.stdout.write(`undrained ${id}\n`);
    });
}
