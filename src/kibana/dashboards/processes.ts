import type { DashboardSpec } from '../model';
import { EXEC, STARTS, count, lens, over, searchPanel, top } from './helpers';

export const processes: DashboardSpec = {
  id: 'dockward-processes',
  title: '[dockward] Processes and exec',
  description: 'What runs in containers: process starts by source (kernel events, polling, exec), top programs and command lines, and every exec session.',
  timeFrom: 'now-24h',
  panels: [
    lens('starts', 'Process starts by source', 'bar_stacked', 'dockward-processes', { buckets: [over(), top('event.provider', 3)], metrics: [count()], where: [STARTS], w: 32 }),
    lens('start-end', 'Starts and ends', 'donut', 'dockward-processes', { buckets: [top('event.type', 2, 'Type')], metrics: [count()], w: 16 }),
    lens('programs', 'Top programs', 'table', 'dockward-processes', { buckets: [top('process.name', 15, 'Program')], metrics: [count('Starts'), { op: 'unique_count', field: 'container.id', label: 'Containers' }], where: [STARTS] }),
    lens('command-lines', 'Top command lines', 'table', 'dockward-processes', { buckets: [top('process.command_line', 15, 'Command line')], metrics: [count('Starts')], where: [STARTS] }),
    lens('exec-over-time', 'Exec sessions by container', 'bar_stacked', 'dockward-processes', { buckets: [over(), top('container.name', 8)], metrics: [count()], where: [EXEC, STARTS] }),
    lens('exec-tty', 'Exec sessions with a TTY', 'donut', 'dockward-processes', { buckets: [top('dockward.exec.tty', 2, 'TTY')], metrics: [count()], where: [EXEC, STARTS] }),
    lens('exit-codes', 'Exit codes', 'bar_horizontal', 'dockward-processes', { buckets: [top('process.exit_code', 10, 'Exit code')], metrics: [count()], where: [{ field: 'event.type', is: 'end' }] }),
    lens('users', 'Process users', 'donut', 'dockward-processes', { buckets: [top('process.user.name', 8, 'User')], metrics: [count()], where: [STARTS] }),
    searchPanel('exec-list', 'Exec sessions', 'dockward-exec-sessions'),
  ],
};
