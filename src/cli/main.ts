#!/usr/bin/env node
/**
 * The composition root: the only place that reads argv and the environment, or exits.
 */
import { Command, CommanderError } from 'commander';
import { adminCommand } from './commands/admin-backup-command.js';
import { connectorsCommand, groupsCommand, keysCommand } from './commands/admin-commands.js';
import { connectorCommand } from './commands/connector-command.js';
import { demoCommand } from './commands/demo-command.js';
import { edgeCommand } from './commands/edge-command.js';
import { EdgeWorkerStartError, reportStartFailure } from './commands/edge-workers.js';
import { loginCommand } from './commands/login-command.js';
import { poolsCommand } from './commands/pool-commands.js';
import { tcpCommand } from './commands/tcp-command.js';
import { tokensCommand } from './commands/token-commands.js';
import { usersCommand } from './commands/user-commands.js';
import { USAGE_EXIT_CODE, describeFailure, describeUsageError } from './error-report.js';
import { packageVersion } from './version.js';

/** Builds the `postern` command tree. */
export function buildProgram(): Command {
  const program = new Command('postern')
    .description(
      'Zero-trust access to private applications through outbound connectors.\n' +
        'Run `postern <command> --help` for the flags of each command.',
    )
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .exitOverride();
  edgeCommand(program);
  connectorCommand(program);
  keysCommand(program);
  groupsCommand(program);
  connectorsCommand(program);
  poolsCommand(program);
  tokensCommand(program);
  usersCommand(program);
  adminCommand(program);
  demoCommand(program);
  tcpCommand(program);
  loginCommand(program);
  reportUsageErrors(program, 'postern');
  return program;
}

/**
 * Usage errors read like every other error, one `postern: <what>` line, and name the `--help`
 * of the command that was mistyped: commander says only what was wrong.
 */
function reportUsageErrors(command: Command, commandPath: string): void {
  command.configureOutput({
    outputError: (text, write) => write(describeUsageError(text, commandPath)),
  });
  for (const sub of command.commands) reportUsageErrors(sub, `${commandPath} ${sub.name()}`);
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with 0; every mistake on the command line with 2 (its line or
      // the help is printed already), so scripts can tell it from a command that failed (1).
      process.exitCode = err.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
      return;
    }
    process.exitCode = 1;
    if (err instanceof EdgeWorkerStartError) {
      process.stderr.write(err.report);
      return;
    }
    const { text } = describeFailure(err, { debug: process.env.POSTERN_DEBUG === '1' });
    // A worker of a multi-core edge leaves the report to its primary, which prints it once and
    // stops the edge; the channel to the primary would otherwise keep this process alive.
    if (await reportStartFailure(text)) process.exit(1);
    process.stderr.write(text);
  }
}

await main(process.argv);
