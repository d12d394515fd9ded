#!/usr/bin/env node
/**
 * The composition root: the only place that reads argv and the environment, or exits.
 */
import { Command, CommanderError } from 'commander';
import { isPosternError } from '../core/index.js';
import { adminCommand } from './commands/admin-backup-command.js';
import { connectorsCommand, groupsCommand, keysCommand } from './commands/admin-commands.js';
import { connectorCommand } from './commands/connector-command.js';
import { demoCommand } from './commands/demo-command.js';
import { edgeCommand } from './commands/edge-command.js';
import { loginCommand } from './commands/login-command.js';
import { tcpCommand } from './commands/tcp-command.js';
import { tokensCommand } from './commands/token-commands.js';
import { packageVersion } from './version.js';

/** Builds the `postern` command tree. */
export function buildProgram(): Command {
  const program = new Command('postern')
    .description(
      'Zero-trust access to private applications through outbound connectors.\n' +
        'Run `postern <command> --help` for the flags of each command.',
    )
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  edgeCommand(program);
  connectorCommand(program);
  keysCommand(program);
  groupsCommand(program);
  connectorsCommand(program);
  tokensCommand(program);
  adminCommand(program);
  demoCommand(program);
  tcpCommand(program);
  loginCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (isPosternError(err)) {
      process.stderr.write(`postern: ${err.message} (${err.code})\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

await main(process.argv);
