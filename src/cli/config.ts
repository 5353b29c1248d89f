import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { renderReference } from '../config/reference';
import { healthCommand } from './health';

/** `dockward health` and `dockward config reference`: commands for deployments and their docs. */
export function registerDeployCommands(program: Command, withGlobals: (cmd: Command) => Command): void {
  withGlobals(program.command('health').description("ask a running dockward's /health (http.host, http.port of the same config): exit 0 when healthy"))
    .option('--timeout <ms>', 'how long to wait for the answer', '4000')
    .action((opts) => healthCommand(opts));

  const config = program.command('config').description('the configuration schema');
  config
    .command('reference')
    .description('print the configuration reference (docs/configuration-reference.md): every key, type, default, variable, example')
    .option('--out <file>', 'write it to this file instead')
    .action((opts: { out?: string }) => {
      const text = renderReference();
      if (opts.out) writeFileSync(opts.out, text);
      else process.stdout.write(text);
    });
}
