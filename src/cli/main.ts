#!/usr/bin/env node
// First: the stand-ins must be in require's cache before any dependency loads.
import '../lazy-deps';
import { Command } from 'commander';
import { VERSION } from '../version';
import { SETUP_STEPS } from '../setup/steps';
import { checkCommand } from './check';
import { collect } from './common';
import { runCommand } from './run';
import { setupCommand } from './setup';
import { exportDashboards } from '../kibana/export';
import { ruleFileJsonSchema } from '../detect/rule-schema';
import { coverageTable } from '../detect/coverage-table';
import { BUILTIN_RULES, loadRules } from '../detect/rules';
import { notifyTestCommand } from './notify';
import { rulesCommand } from './rules';
import { registerDeployCommands } from './config';
import { scanCommand } from './scan';

const program = new Command('dockward')
  .version(VERSION)
  .description('Guards Docker hosts and feeds the Elastic Stack')
  .showHelpAfterError();

function withGlobals(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML config file (default: $DOCKWARD_CONFIG, then ./dockward.yml)')
    .option('-E, --set <key=value>', 'override a config key, e.g. -E elasticsearch.hosts=[https://es:9200]', collect, []);
}

withGlobals(program.command('run').description('ship container logs and engine events to Elasticsearch'))
  .option('--stop-after <duration>', 'stop cleanly after this long (e.g. 30s), as on SIGTERM')
  .action((opts) => runCommand(opts));

const setup = withGlobals(program.command('setup').description('install templates and other assets (all steps unless some are named)'))
  .option('--print', 'print what would be installed on a full default distribution, and exit')
  .option('--retention <mode>', 'retention through ilm or dsl (data stream lifecycle); default setup.retention.mode');
for (const step of SETUP_STEPS) setup.option(`--${step.name}`, step.description);
setup.action((opts) => setupCommand(opts));

withGlobals(program.command('check').description('validate the config, then reach the engine and the cluster'))
  .option('--offline', 'validate the config only')
  .action((opts) => checkCommand(opts));

withGlobals(program.command('scan').description('CIS Docker Benchmark checks of the daemon, containers and images, once; no Elasticsearch needed'))
  .option('-f, --format <format>', 'table, json or sarif', 'table')
  .option('--fail-on <severity>', 'exit 1 when a check of this severity or above failed: info, low, medium, high, critical, or none', 'none')
  .option('-a, --all', 'stopped containers too (default: running and created)')
  .option('-n, --name <glob>', 'only containers whose name matches (repeatable, * wildcard)', collect, [])
  .option('--failed-only', 'table: show failed checks only')
  .option('-o, --output <file>', 'write the report to a file instead of stdout')
  .option('--color', 'colour the table even when stdout is not a terminal')
  .option('--no-color', 'never colour the table')
  .action((opts) => scanCommand(opts));

const rules = program.command('rules').description('detection rules: lint, test their examples, list');
for (const action of ['lint', 'test', 'list'] as const) {
  rules
    .command(`${action} [paths...]`)
    .description(`${action} rule files or directories (default: the built-in pack)`)
    .option('--sigma <paths...>', 'Sigma rule files or directories too')
    .action((paths: string[], opts: { sigma?: string[] }) => rulesCommand(action, paths ?? [], opts.sigma ?? []));
}

withGlobals(program.command('notify').description('notifications').command('test <route>').description('send a sample alert through one route now and print each attempt')).action(
  (route: string, opts) => notifyTestCommand(route, opts),
);

rules
  .command('coverage')
  .description('print the ATT&CK coverage table of the built-in pack (docs/rules.md)')
  .action(() => void process.stdout.write(coverageTable(loadRules([BUILTIN_RULES]).rules) + '\n'));

rules
  .command('schema')
  .description('print the JSON schema of rule files (rules/rule-file.schema.json)')
  .action(() => void process.stdout.write(JSON.stringify(ruleFileJsonSchema(), null, 2) + '\n'));

program.command('export').description('write assets for installing by hand').command('dashboards')
  .description('the Kibana saved objects (data views, searches, dashboards) as NDJSON for Kibana\'s import')
  .option('-o, --output <file>', 'write to a file instead of stdout')
  .action((opts: { output?: string }) => exportDashboards(opts.output));

registerDeployCommands(program, withGlobals);

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`dockward: ${err.message}\n`);
  process.exit(1);
});
