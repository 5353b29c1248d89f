import type { DashboardSpec } from '../model';
import { CONTAINER_LOGS, EXEC, STARTS, count, lens, over, top } from './helpers';

/** One container's story; filter the dashboard on container.name (or click a value) to follow one. */
export const container: DashboardSpec = {
  id: 'dockward-container',
  title: '[dockward] Container',
  description: 'One container at a time (add a container.name filter): log rate, processes, exec sessions, file changes, risky configuration, CPU, memory and network.',
  timeFrom: 'now-24h',
  panels: [
    lens('log-rate', 'Log lines', 'bar_stacked', 'dockward-logs', { buckets: [over(), top('stream', 2)], metrics: [count()], where: [CONTAINER_LOGS] }),
    lens('levels', 'Log levels', 'donut', 'dockward-logs', { buckets: [top('log.level', 6, 'Level')], metrics: [count()], where: [CONTAINER_LOGS] }),
    lens('process-starts', 'Process starts', 'bar_stacked', 'dockward-processes', { buckets: [over(), top('process.name', 8)], metrics: [count()], where: [STARTS] }),
    lens('exec', 'Exec sessions', 'table', 'dockward-processes', { buckets: [top('process.command_line', 20, 'Command'), top('dockward.exec.user', 5, 'User')], metrics: [count()], where: [EXEC, STARTS] }),
    lens('files', 'File changes', 'table', 'dockward-files', { buckets: [top('file.path', 20, 'Path'), top('event.type', 3, 'Change')], metrics: [count()] }),
    lens('config', 'Risky configuration', 'table', 'dockward-config', {
      buckets: [top('container.name', 20, 'Container'), top('docker.config.privileged', 2, 'Privileged'), top('docker.config.user', 3, 'User'), top('docker.config.network_mode', 3, 'Network')],
      metrics: [count('Snapshots')],
    }),
    lens('cpu', 'CPU %', 'line', 'dockward-stats', { buckets: [over(), top('container.name', 5)], metrics: [{ op: 'average', field: 'docker.cpu.pct' }], w: 16 }),
    lens('memory', 'Memory', 'line', 'dockward-stats', { buckets: [over(), top('container.name', 5)], metrics: [{ op: 'max', field: 'docker.memory.usage.bytes' }], w: 16 }),
    lens('network', 'Network rx/tx bytes/s', 'line', 'dockward-stats', { buckets: [over()], metrics: [{ op: 'average', field: 'docker.network.rx.rate', label: 'rx' }, { op: 'average', field: 'docker.network.tx.rate', label: 'tx' }], w: 16 }),
  ],
};
