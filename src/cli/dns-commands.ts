// CLI commands for the DNS tooling. Each action imports its implementation lazily.
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerDnsCommands(program: Command, ctx: CliContext): void {
  void program;
  void ctx;
}
