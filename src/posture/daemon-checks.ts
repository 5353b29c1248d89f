import { fail, notApplicable, pass, type Check, type CheckSpec, type Verdict } from './check';

/** What section 2 (and 5.1) is judged from: the engine's own answers plus its config file when readable. */
export interface DaemonInput {
  /** GET /info */
  info: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** GET /version */
  version: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** daemon.json: parsed, or why not. Flags on dockerd's command line are not visible through the API. */
  daemonJson: { path: string; config?: Record<string, unknown>; error?: string };
  /** The default bridge network's options; null when the engine has no default bridge. */
  bridge: Record<string, string> | null;
  /** How dockward itself reaches the engine. */
  connection: { host: string; tls: boolean };
  /** Plain-HTTP `/_ping` probes of addresses where an engine API is commonly exposed. */
  tcpProbes: Array<{ address: string; answered: boolean }>;
}

const SECTION = '2 Docker daemon configuration';

function check(spec: Omit<CheckSpec, 'section' | 'resource'>, evaluate: (d: DaemonInput) => Verdict, section = SECTION): Check<DaemonInput> {
  return { ...spec, section, resource: 'daemon', evaluate };
}

const secOpt = (d: DaemonInput, name: string) => ((d.info.SecurityOptions ?? []) as string[]).find((o) => o.startsWith(`name=${name}`));

/** A daemon.json-only setting: its value, or not applicable when the file cannot tell. */
function fromFile(d: DaemonInput, key: string, judge: (v: unknown) => Verdict): Verdict {
  if (!d.daemonJson.config) return notApplicable(`${d.daemonJson.path}: ${d.daemonJson.error ?? 'not read'}; dockerd flags are not visible through the API`);
  return judge(d.daemonJson.config[key]);
}

export const DAEMON_CHECKS: Array<Check<DaemonInput>> = [
  check({ id: '2.1', title: 'Run the Docker daemon as a non-root user, if possible', level: 2, automated: false, severity: 'low',
    rationale: 'A rootless daemon turns an engine compromise into a user compromise instead of root on the host.',
    remediation: 'Install the engine in rootless mode where its limits are acceptable.' },
  (d) => (secOpt(d, 'rootless') ? pass('rootless mode') : fail('the daemon runs as root (no name=rootless in SecurityOptions)'))),
  check({ id: '2.2', title: 'Ensure network traffic is restricted between containers on the default bridge', level: 1, automated: true, severity: 'medium',
    rationale: 'With inter-container communication on, every container on the default bridge reaches every other.',
    remediation: 'Set "icc": false in daemon.json and link or network containers explicitly.' },
  (d) => {
    if (d.bridge === null) return notApplicable('no default bridge network');
    const icc = d.bridge['com.docker.network.bridge.enable_icc'];
    return icc === 'false' ? pass('default bridge enable_icc=false') : fail(`default bridge enable_icc=${icc ?? 'true (default)'}`);
  }),
  check({ id: '2.3', title: 'Ensure the logging level is set to \'info\'', level: 1, automated: true, severity: 'low',
    rationale: 'Below info the daemon drops events an investigation needs; debug logs too much, secrets included.',
    remediation: 'Set "log-level": "info" in daemon.json (or --log-level=info).' },
  (d) => {
    if (d.info.Debug) return fail('debug mode is on');
    const level = d.daemonJson.config?.['log-level'];
    if (level !== undefined) return level === 'info' ? pass('log-level info in daemon.json') : fail(`log-level ${String(level)} in daemon.json`);
    return d.daemonJson.config ? pass('debug off; log-level not set (info)') : notApplicable(`debug off; ${d.daemonJson.path}: ${d.daemonJson.error}; --log-level is not visible through the API`);
  }),
  check({ id: '2.5', title: 'Ensure insecure registries are not used', level: 1, automated: true, severity: 'medium',
    rationale: 'Images pulled over plain HTTP or unverified TLS can be swapped in transit.',
    remediation: 'Remove insecure-registries; give every registry a trusted certificate.' },
  (d) => {
    const cidrs = ((d.info.RegistryConfig?.InsecureRegistryCIDRs ?? []) as string[]).filter((c) => c !== '127.0.0.0/8'); // the engine always trusts loopback
    const names = Object.values((d.info.RegistryConfig?.IndexConfigs ?? {}) as Record<string, { Name: string; Secure: boolean }>).filter((r) => !r.Secure).map((r) => r.Name);
    const all = [...cidrs, ...names];
    return all.length ? fail(`insecure registries: ${all.join(', ')}`) : pass('no insecure registry beyond 127.0.0.0/8');
  }),
  check({ id: '2.6', title: 'Ensure aufs storage driver is not used', level: 1, automated: true, severity: 'low',
    rationale: 'aufs is deprecated and has known kernel crashes.',
    remediation: 'Use overlay2.' },
  (d) => (d.info.Driver === 'aufs' ? fail('storage driver aufs') : pass(`storage driver ${d.info.Driver}`))),
  check({ id: '2.7', title: 'Ensure TLS authentication for Docker daemon is configured', level: 1, automated: true, severity: 'critical',
    rationale: 'An engine API on TCP without TLS client authentication is root on the host for anyone who can reach the port.',
    remediation: 'Listen on a unix socket only, or on TCP with --tlsverify, --tlscacert, --tlscert and --tlskey.' },
  (d) => {
    const problems: string[] = [];
    if (/^(tcp|http):/.test(d.connection.host) && !d.connection.tls) problems.push(`dockward reaches the engine at ${d.connection.host} without TLS`);
    const hosts = (d.daemonJson.config?.hosts ?? []) as string[];
    if (hosts.some((h) => h.startsWith('tcp://')) && d.daemonJson.config?.tlsverify !== true) problems.push(`${d.daemonJson.path} listens on ${hosts.filter((h) => h.startsWith('tcp://')).join(', ')} without tlsverify`);
    for (const p of d.tcpProbes.filter((x) => x.answered)) problems.push(`engine API answers plain HTTP on ${p.address}`);
    if (problems.length) return fail(problems.join('; '));
    const seen = [`dockward uses ${d.connection.host}${d.connection.tls ? ' with TLS' : ''}`, d.tcpProbes.length ? `no plain-HTTP API on ${d.tcpProbes.map((p) => p.address).join(', ')}` : '', d.daemonJson.config ? `no TCP host in ${d.daemonJson.path}` : ''];
    return pass(seen.filter(Boolean).join('; '));
  }),
  check({ id: '2.9', title: 'Enable user namespace support', level: 2, automated: true, severity: 'medium',
    rationale: 'With user namespace remapping, root in a container is an unprivileged user on the host.',
    remediation: 'Start the daemon with --userns-remap=default (needs /etc/subuid and /etc/subgid).' },
  (d) => (secOpt(d, 'userns') ? pass('user namespace remapping on') : fail('no user namespace remapping'))),
  check({ id: '2.12', title: 'Ensure that authorization for Docker client commands is enabled', level: 2, automated: true, severity: 'low',
    rationale: 'Without an authorization plugin, anyone who reaches the socket may do everything.',
    remediation: 'Install an authorization plugin and start the daemon with --authorization-plugin=<id>.' },
  (d) => {
    const plugins = (d.info.Plugins?.Authorization ?? []) as string[];
    return plugins.length ? pass(`authorization plugins: ${plugins.join(', ')}`) : fail('no authorization plugin');
  }),
  check({ id: '2.13', title: 'Ensure centralized and remote logging is configured', level: 2, automated: true, severity: 'low',
    rationale: 'Logs kept only on the host are lost with it, and an intruder on the host can edit them.',
    remediation: 'Use a remote log driver (syslog, gelf, fluentd, …), or ship the local logs off the host (e.g. dockward\'s logs collector) and record that as an exception.' },
  (d) => (['json-file', 'local', 'none'].includes(d.info.LoggingDriver) ? fail(`default log driver ${d.info.LoggingDriver} keeps logs on the host`) : pass(`default log driver ${d.info.LoggingDriver}`))),
  check({ id: '2.14', title: 'Ensure containers are restricted from acquiring new privileges', level: 1, automated: true, severity: 'low',
    rationale: 'Daemon-wide no-new-privileges protects every container, including those started without the option.',
    remediation: 'Set "no-new-privileges": true in daemon.json.' },
  (d) => fromFile(d, 'no-new-privileges', (v) => (v === true ? pass('no-new-privileges true in daemon.json') : fail('no-new-privileges not set in daemon.json')))),
  check({ id: '2.15', title: 'Ensure live restore is enabled', level: 1, automated: true, severity: 'low',
    rationale: 'With live restore, containers keep running while the daemon restarts or is upgraded.',
    remediation: 'Set "live-restore": true in daemon.json.' },
  (d) => (d.info.LiveRestoreEnabled ? pass('live restore enabled') : fail('live restore disabled'))),
  check({ id: '2.16', title: 'Ensure Userland Proxy is Disabled', level: 1, automated: true, severity: 'low',
    rationale: 'The userland proxy is one more process listening for every published port; hairpin NAT does the same in the kernel.',
    remediation: 'Set "userland-proxy": false in daemon.json.' },
  (d) => fromFile(d, 'userland-proxy', (v) => (v === false ? pass('userland-proxy false in daemon.json') : fail('userland-proxy not disabled in daemon.json')))),
  check({ id: '2.17', title: 'Ensure that a daemon-wide custom seccomp profile is applied if appropriate', level: 2, automated: false, severity: 'low',
    rationale: 'Every container should at least get the default seccomp profile; a custom one can narrow it further.',
    remediation: 'Keep seccomp on; set "seccomp-profile" in daemon.json where the default is too wide.' },
  (d) => {
    const s = secOpt(d, 'seccomp');
    if (!s) return fail('seccomp not enabled');
    return s.includes('profile=unconfined') ? fail(`daemon seccomp ${s}`) : pass(`daemon seccomp ${s}`);
  }),
  check({ id: '2.18', title: 'Ensure that experimental features are not implemented in production', level: 1, automated: true, severity: 'medium',
    rationale: 'Experimental features are not covered by the engine\'s stability and security guarantees.',
    remediation: 'Do not start the daemon with --experimental in production.' },
  (d) => (d.info.ExperimentalBuild || d.version.Experimental === true ? fail('experimental features on') : pass('experimental features off'))),
  check({ id: '5.1', title: 'Ensure swarm mode is not Enabled, if not needed', level: 1, automated: true, severity: 'low',
    rationale: 'Swarm mode opens management ports and keeps cluster secrets on the host.',
    remediation: 'If swarm mode is not needed: docker swarm leave.' },
  (d) => (d.info.Swarm?.LocalNodeState === 'active' ? fail('swarm mode active') : pass(`swarm ${d.info.Swarm?.LocalNodeState ?? 'inactive'}`)), '5 Container Runtime'),
];
