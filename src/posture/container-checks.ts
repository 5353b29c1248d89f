import { basename } from 'node:path';
import type Docker from 'dockerode';
import type { securitySettings } from '../collect/config-snapshot';
import { fail, notApplicable, pass, type Check, type CheckSpec, type Verdict } from './check';

/** What section 5 (and 4.1 as a container runs it) is judged from: one inspect plus a little more. */
export interface ContainerInput {
  inspect: Docker.ContainerInspectInfo;
  /** The same extraction the config collector ships, so both streams agree on what was seen. */
  settings: ReturnType<typeof securitySettings>;
  /** The daemon's `SecurityOptions` (name=apparmor, name=selinux, name=seccomp,…). */
  hostSecurity: string[];
  /** Paths of the engine's socket on the host: the well-known ones and the one dockward uses. */
  socketPaths: string[];
  /** Command lines of the running processes (`top`); undefined when the container is not running. */
  processes?: string[];
  /** Exec instances the engine still keeps for this container. */
  execs: Array<{ id: string; privileged: boolean; user: string }>;
}

type Host = Docker.HostConfig & { CgroupParent?: string; DeviceCgroupRules?: string[]; Ulimits?: Array<{ Name: string; Soft: number; Hard: number }>; NanoCpus?: number };

const SECTION = '5 Container Runtime';
/** Capabilities the engine grants by default; adding one of these changes nothing (docker-bench's list). */
const DEFAULT_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
/** CIS 5.6's list of host directories that must not be mounted. */
const SENSITIVE_DIRS = ['/', '/boot', '/dev', '/etc', '/lib', '/proc', '/sys', '/usr'];

const host = (i: ContainerInput) => i.inspect.HostConfig as Host;
const binds = (i: ContainerInput) => Object.entries((host(i).PortBindings ?? {}) as Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>)
  .flatMap(([port, list]) => (list ?? []).map((b) => ({ port, ip: b.HostIp ?? '', hostPort: b.HostPort ?? '' })));
const under = (path: string, dir: string) => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);
const hostMode = (label: string, mode: string | undefined): Verdict =>
  mode === 'host' ? fail(`${label} mode is host`) : pass(`${label} mode is ${mode || 'private'}`);

function check(spec: Omit<CheckSpec, 'section' | 'resource'>, evaluate: (i: ContainerInput) => Verdict): Check<ContainerInput> {
  return { ...spec, section: SECTION, resource: 'container', evaluate };
}

export const CONTAINER_CHECKS: Array<Check<ContainerInput>> = [
  check({ id: '5.2', title: 'Ensure that, if applicable, an AppArmor Profile is enabled', level: 1, automated: true, severity: 'medium',
    rationale: 'An AppArmor profile limits which files, capabilities and mounts the container\'s processes can use.',
    remediation: 'Run the container with the default profile (docker-default) or a profile of your own: --security-opt apparmor=<profile>.' },
  (i) => {
    if (!i.hostSecurity.some((o) => o.startsWith('name=apparmor'))) return notApplicable('the engine does not report AppArmor support');
    const p = i.inspect.AppArmorProfile;
    return p && p !== 'unconfined' ? pass(`AppArmor profile ${p}`) : fail(`AppArmor profile ${p || 'none'}`);
  }),
  check({ id: '5.3', title: 'Ensure that, if applicable, SELinux security options are set', level: 2, automated: true, severity: 'medium',
    rationale: 'SELinux labels confine the container beyond discretionary access control.',
    remediation: 'Start the daemon with --selinux-enabled and give the container labels: --security-opt label=type:<type>.' },
  (i) => {
    if (!i.hostSecurity.some((o) => o.startsWith('name=selinux'))) return notApplicable('the engine does not report SELinux support');
    const labels = i.settings.security_opt.filter((o) => o.startsWith('label'));
    return labels.length ? pass(`SELinux options ${labels.join(', ')}`) : fail('no SELinux label options');
  }),
  check({ id: '5.4', title: 'Ensure that Linux kernel capabilities are restricted within containers', level: 1, automated: true, severity: 'high',
    rationale: 'Every capability beyond the default set widens what a compromised process can do to the host kernel.',
    remediation: 'Drop all capabilities and add back only those needed: --cap-drop=all --cap-add=<cap>.' },
  (i) => {
    const norm = (c: string) => c.toUpperCase().replace(/^CAP_/, '');
    const extra = i.settings.cap_add.filter((c: string) => !DEFAULT_CAPS.has(norm(c)));
    const dropped = i.settings.cap_drop.length ? `; dropped: ${i.settings.cap_drop.join(', ')}` : '';
    return extra.length ? fail(`capabilities added: ${extra.join(', ')}${dropped}`) : pass(`no capability added beyond the default set${dropped}`);
  }),
  check({ id: '5.5', title: 'Ensure that privileged containers are not used', level: 1, automated: true, severity: 'critical',
    rationale: 'A privileged container has every capability, every host device and no seccomp or AppArmor confinement: root on the host.',
    remediation: 'Do not use --privileged; grant the specific capabilities or devices needed instead.' },
  (i) => (i.settings.privileged ? fail('privileged: true') : pass('privileged: false'))),
  check({ id: '5.6', title: 'Ensure sensitive host system directories are not mounted on containers', level: 1, automated: true, severity: 'high',
    rationale: 'A container that can write to /, /etc, /usr, /proc and the like can change the host.',
    remediation: 'Do not bind-mount host system directories; mount only the data directories the service needs, read-only where possible.' },
  (i) => {
    const bad = i.settings.mounts.filter((m) => m.type === 'bind' && SENSITIVE_DIRS.some((d) => m.source === d || (m.rw && d !== '/' && under(m.source, d))));
    return bad.length ? fail(`host directories mounted: ${bad.map((m) => `${m.source} on ${m.destination} (${m.rw ? 'rw' : 'ro'})`).join(', ')}`) : pass('no sensitive host directory mounted');
  }),
  check({ id: '5.7', title: 'Ensure sshd is not run within containers', level: 1, automated: true, severity: 'medium',
    rationale: 'An SSH daemon in a container is one more service to patch and a way in that bypasses the engine.',
    remediation: 'Remove the SSH daemon; use docker exec to get into a container.' },
  (i) => {
    if (!i.processes) return notApplicable('not running: no processes to look at');
    const sshd = i.processes.filter((p) => basename(p.split(' ')[0] ?? '').startsWith('sshd'));
    return sshd.length ? fail(`sshd running: ${sshd.join('; ')}`) : pass(`${i.processes.length} processes, none is sshd`);
  }),
  check({ id: '5.8', title: 'Ensure privileged ports are not mapped within containers', level: 1, automated: true, severity: 'low',
    rationale: 'Host ports below 1024 are reserved for privileged services; mapping one lets a container pose as one.',
    remediation: 'Publish on host ports 1024 and above.' },
  (i) => {
    const b = binds(i);
    if (!b.length) return notApplicable('no published ports');
    const low = b.filter((x) => x.hostPort !== '' && Number(x.hostPort) < 1024);
    return low.length ? fail(`privileged host ports: ${low.map((x) => `${x.hostPort}->${x.port}`).join(', ')}`) : pass(`host ports ${b.map((x) => x.hostPort || 'random').join(', ')}`);
  }),
  check({ id: '5.10', title: 'Ensure that the host\'s network namespace is not shared', level: 1, automated: true, severity: 'high',
    rationale: 'With the host\'s network the container sees every interface and can bind or sniff host traffic.',
    remediation: 'Do not use --network=host.' },
  (i) => (i.settings.network_mode === 'host' ? fail('network mode is host') : pass(`network mode is ${i.settings.network_mode || 'default'}`))),
  check({ id: '5.11', title: 'Ensure that the memory usage for containers is limited', level: 1, automated: true, severity: 'medium',
    rationale: 'Without a limit one container can exhaust the host\'s memory and starve the others.',
    remediation: 'Set --memory to what the container needs.' },
  (i) => (i.settings.memory_limit > 0 ? pass(`memory limit ${i.settings.memory_limit} bytes`) : fail('no memory limit'))),
  check({ id: '5.12', title: 'Ensure that CPU priority is set appropriately on containers', level: 1, automated: true, severity: 'low',
    rationale: 'Without CPU shares or a quota every container competes equally, and a busy one slows the rest.',
    remediation: 'Set --cpu-shares (relative weight) or --cpus (hard limit).' },
  (i) => {
    const h = host(i);
    const parts = [h.CpuShares && h.CpuShares !== 1024 ? `cpu shares ${h.CpuShares}` : '', h.NanoCpus ? `cpus ${h.NanoCpus / 1e9}` : '', h.CpuQuota ? `cpu quota ${h.CpuQuota}` : ''].filter(Boolean);
    return parts.length ? pass(parts.join(', ')) : fail('no CPU shares, quota or limit');
  }),
  check({ id: '5.13', title: 'Ensure that the container\'s root filesystem is mounted as read only', level: 1, automated: true, severity: 'medium',
    rationale: 'A read-only root filesystem keeps an intruder from dropping tools or changing binaries in the container.',
    remediation: 'Run with --read-only and mount writable volumes or tmpfs only where the service writes.' },
  (i) => (i.settings.readonly_rootfs ? pass('root filesystem read-only') : fail('root filesystem writable'))),
  check({ id: '5.14', title: 'Ensure that incoming container traffic is bound to a specific host interface', level: 1, automated: true, severity: 'medium',
    rationale: 'A port published on 0.0.0.0 is reachable on every interface of the host, including public ones.',
    remediation: 'Publish on one address: --publish <host-ip>:<port>:<port>.' },
  (i) => {
    const b = binds(i);
    if (host(i).PublishAllPorts) return fail('--publish-all: every exposed port on all interfaces');
    if (!b.length) return notApplicable('no published ports');
    const wild = b.filter((x) => ['', '0.0.0.0', '::'].includes(x.ip));
    return wild.length ? fail(`bound to all interfaces: ${wild.map((x) => `${x.ip || '0.0.0.0'}:${x.hostPort}->${x.port}`).join(', ')}`) : pass(`bound to ${b.map((x) => x.ip).join(', ')}`);
  }),
  check({ id: '5.15', title: 'Ensure that the \'on-failure\' container restart policy is set to \'5\'', level: 1, automated: true, severity: 'low',
    rationale: 'Unbounded restarts hide a crashing (or crash-looping, attacked) container and can tie up the host.',
    remediation: 'Use --restart=on-failure:5, or no restart policy.' },
  (i) => {
    const r = host(i).RestartPolicy;
    const name = r?.Name || 'no';
    if (name === 'always' || name === 'unless-stopped') return fail(`restart policy ${name}`);
    if (name === 'on-failure') return r!.MaximumRetryCount && r!.MaximumRetryCount <= 5 ? pass(`on-failure:${r!.MaximumRetryCount}`) : fail(`on-failure:${r!.MaximumRetryCount || 'unlimited'}`);
    return pass('no automatic restart');
  }),
  check({ id: '5.16', title: 'Ensure that the host\'s process namespace is not shared', level: 1, automated: true, severity: 'critical',
    rationale: 'With the host\'s PID namespace the container sees, signals and (with ptrace) enters every host process.',
    remediation: 'Do not use --pid=host.' },
  (i) => hostMode('PID', i.inspect.HostConfig.PidMode)),
  check({ id: '5.17', title: 'Ensure that the host\'s IPC namespace is not shared', level: 1, automated: true, severity: 'high',
    rationale: 'With the host\'s IPC namespace the container reaches host shared memory and semaphores.',
    remediation: 'Do not use --ipc=host.' },
  (i) => hostMode('IPC', i.inspect.HostConfig.IpcMode)),
  check({ id: '5.18', title: 'Ensure that host devices are not directly exposed to containers', level: 1, automated: false, severity: 'high',
    rationale: 'A host device node gives raw access to disks, terminals or hardware, around every file permission.',
    remediation: 'Do not use --device; when one is needed, grant only the access needed (e.g. :r).' },
  (i) => {
    if (i.settings.privileged) return fail('privileged: every host device');
    const rules = host(i).DeviceCgroupRules ?? [];
    const all = [...i.settings.devices, ...rules.map((r) => `cgroup rule ${r}`)];
    return all.length ? fail(`host devices: ${all.join(', ')}`) : pass('no host device');
  }),
  check({ id: '5.19', title: 'Ensure that the default ulimit is overwritten at runtime if needed', level: 1, automated: false, severity: 'info',
    rationale: 'Per-container ulimits override the daemon\'s defaults; each override should be a deliberate choice.',
    remediation: 'Override ulimits (--ulimit) only where a service needs it, and review those that exist.' },
  (i) => {
    const u = host(i).Ulimits ?? [];
    return u.length ? fail(`overridden: ${u.map((x) => `${x.Name}=${x.Soft}:${x.Hard}`).join(', ')} (review)`) : pass('daemon defaults in force');
  }),
  check({ id: '5.20', title: 'Ensure mount propagation mode is not set to shared', level: 1, automated: true, severity: 'medium',
    rationale: 'A shared mount lets mounts made in the container appear on the host, and the reverse.',
    remediation: 'Do not mount volumes with shared or rshared propagation.' },
  (i) => {
    const shared = i.settings.mounts.filter((m) => m.propagation === 'shared' || m.propagation === 'rshared');
    return shared.length ? fail(`shared propagation: ${shared.map((m) => `${m.destination} (${m.propagation})`).join(', ')}`) : pass('no shared mount');
  }),
  check({ id: '5.21', title: 'Ensure that the host\'s UTS namespace is not shared', level: 1, automated: true, severity: 'medium',
    rationale: 'With the host\'s UTS namespace the container can change the host\'s name.',
    remediation: 'Do not use --uts=host.' },
  (i) => hostMode('UTS', i.inspect.HostConfig.UTSMode)),
  check({ id: '5.22', title: 'Ensure the default seccomp profile is not Disabled', level: 1, automated: true, severity: 'high',
    rationale: 'The default seccomp profile blocks about 44 system calls that containers seldom need and exploits often use.',
    remediation: 'Do not use --security-opt seccomp=unconfined (or --privileged).' },
  (i) => {
    if (!i.hostSecurity.some((o) => o.startsWith('name=seccomp'))) return notApplicable('the engine does not report seccomp support');
    if (i.settings.privileged) return fail('privileged: seccomp disabled');
    return i.settings.seccomp === 'unconfined' ? fail('seccomp=unconfined') : pass(`seccomp profile ${i.settings.seccomp}`);
  }),
  check({ id: '5.23', title: 'Ensure that docker exec commands are not used with the privileged option', level: 1, automated: true, severity: 'high',
    rationale: 'A privileged exec gives that process every capability even in a confined container.',
    remediation: 'Do not use docker exec --privileged.' },
  (i) => {
    if (!i.execs.length) return notApplicable('no exec instance kept by the engine');
    const p = i.execs.filter((e) => e.privileged);
    return p.length ? fail(`privileged exec: ${p.map((e) => e.id.slice(0, 12)).join(', ')}`) : pass(`${i.execs.length} exec instance(s), none privileged`);
  }),
  check({ id: '5.24', title: 'Ensure that docker exec commands are not used with the user=root option', level: 1, automated: false, severity: 'low',
    rationale: 'An exec as root in a container meant to run as another user undoes that choice.',
    remediation: 'Do not use docker exec --user=root (or 0).' },
  (i) => {
    if (!i.execs.length) return notApplicable('no exec instance kept by the engine');
    const r = i.execs.filter((e) => /^(root|0)(:|$)/.test(e.user));
    return r.length ? fail(`exec as root: ${r.map((e) => e.id.slice(0, 12)).join(', ')}`) : pass(`${i.execs.length} exec instance(s), none with --user root`);
  }),
  check({ id: '5.25', title: 'Ensure that cgroup usage is confirmed', level: 1, automated: true, severity: 'medium',
    rationale: 'A container under a cgroup parent of its choosing escapes the limits the daemon applies.',
    remediation: 'Do not use --cgroup-parent unless required.' },
  (i) => (host(i).CgroupParent ? fail(`cgroup parent ${host(i).CgroupParent}`) : pass('default cgroup parent'))),
  check({ id: '5.26', title: 'Ensure that the container is restricted from acquiring additional privileges', level: 1, automated: true, severity: 'medium',
    rationale: 'no-new-privileges keeps setuid binaries and file capabilities from raising a process\'s privileges.',
    remediation: 'Run with --security-opt=no-new-privileges (or set it daemon-wide).' },
  (i) => (i.settings.no_new_privileges ? pass('no-new-privileges set') : fail('no-new-privileges not set'))),
  check({ id: '5.27', title: 'Ensure that container health is checked at runtime', level: 1, automated: true, severity: 'low',
    rationale: 'Without a health check a hung or hijacked service keeps running unnoticed.',
    remediation: 'Give the container (or its image) a health check: --health-cmd.' },
  (i) => {
    const t = i.inspect.Config.Healthcheck?.Test;
    return t?.length && t[0] !== 'NONE' ? pass(`health check ${t.join(' ')}`) : fail(t?.[0] === 'NONE' ? 'health check disabled' : 'no health check');
  }),
  check({ id: '5.29', title: 'Ensure that the PIDs cgroup limit is used', level: 1, automated: true, severity: 'medium',
    rationale: 'Without a PIDs limit a fork bomb in one container takes down the host.',
    remediation: 'Set --pids-limit.' },
  (i) => (i.settings.pids_limit > 0 ? pass(`pids limit ${i.settings.pids_limit}`) : fail('no pids limit'))),
  check({ id: '5.30', title: 'Ensure that Docker\'s default bridge \'docker0\' is not used', level: 1, automated: false, severity: 'low',
    rationale: 'Containers on the default bridge can reach each other with no network policy.',
    remediation: 'Put containers on user-defined networks.' },
  (i) => {
    const nets = Object.keys(i.inspect.NetworkSettings?.Networks ?? {});
    const mode = i.settings.network_mode;
    return mode === 'bridge' || mode === 'default' || nets.includes('bridge') ? fail(`on the default bridge (network mode ${mode})`) : pass(`network mode ${mode}${nets.length ? `; networks ${nets.join(', ')}` : ''}`);
  }),
  check({ id: '5.31', title: 'Ensure that the host\'s user namespaces are not shared', level: 1, automated: true, severity: 'high',
    rationale: 'With the host\'s user namespace, root in the container is root on the host even where remapping is on.',
    remediation: 'Do not use --userns=host.' },
  (i) => (i.settings.userns_mode === 'host' ? fail('user namespace mode is host') : pass(`user namespace mode ${i.settings.userns_mode}`))),
  check({ id: '5.32', title: 'Ensure that the Docker socket is not mounted inside any containers', level: 1, automated: true, severity: 'critical',
    rationale: 'Whoever reaches the Docker socket can start a privileged container: it is root on the host.',
    remediation: 'Do not mount docker.sock (or a directory holding it); use a narrowly scoped proxy if a container must talk to the engine.' },
  (i) => {
    const hits = i.settings.mounts.filter((m) => m.type === 'bind' && (basename(m.source) === 'docker.sock' || i.socketPaths.some((s) => under(s, m.source))));
    return hits.length ? fail(`engine socket reachable: ${hits.map((m) => `${m.source} on ${m.destination}`).join(', ')}`) : pass('no engine socket mounted');
  }),
];

/** 4.1 as docker-bench audits it on a container: the user it actually runs as. */
export const CONTAINER_USER_CHECK: Check<ContainerInput> = {
  id: '4.1', title: 'Ensure that a user for the container has been created', section: '4 Container Images and Build File', level: 1, automated: true, severity: 'medium', resource: 'container',
  rationale: 'A process that runs as root in the container is root on the host once it escapes.',
  remediation: 'Create a user in the image (USER) or run the container with --user <uid>.',
  evaluate: (i) => (isRoot(i.inspect.Config.User) ? fail(`runs as ${i.inspect.Config.User || 'root (no user set)'}`) : pass(`runs as ${i.inspect.Config.User}`)),
};

export function isRoot(user: string | undefined): boolean {
  return !user || /^(root|0)(:|$)/.test(user);
}
