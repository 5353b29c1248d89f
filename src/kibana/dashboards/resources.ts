import type { DashboardSpec } from '../model';
import { count, lens, over, top } from './helpers';

export const resources: DashboardSpec = {
  id: 'dockward-resources',
  title: '[dockward] Resources',
  description: 'Per-container CPU, memory, network, block I/O and pids from the stats samples.',
  timeFrom: 'now-4h',
  panels: [
    lens('containers', 'Containers sampled', 'metric', 'dockward-stats', { metrics: [{ op: 'unique_count', field: 'container.id', label: 'Containers' }], w: 16, h: 8 }),
    lens('samples', 'Samples', 'metric', 'dockward-stats', { metrics: [count('Samples')], w: 16, h: 8 }),
    lens('peak-memory', 'Peak memory', 'metric', 'dockward-stats', { metrics: [{ op: 'max', field: 'docker.memory.usage.bytes', label: 'Bytes' }], w: 16, h: 8 }),
    lens('cpu', 'CPU % by container', 'line', 'dockward-stats', { buckets: [over(), top('container.name', 10)], metrics: [{ op: 'average', field: 'docker.cpu.pct' }] }),
    lens('memory', 'Memory % of limit by container', 'line', 'dockward-stats', { buckets: [over(), top('container.name', 10)], metrics: [{ op: 'max', field: 'docker.memory.pct' }] }),
    lens('rx', 'Network received bytes/s', 'area_stacked', 'dockward-stats', { buckets: [over(), top('container.name', 10)], metrics: [{ op: 'average', field: 'docker.network.rx.rate' }] }),
    lens('pids', 'Pids', 'line', 'dockward-stats', { buckets: [over(), top('container.name', 10)], metrics: [{ op: 'max', field: 'docker.pids' }] }),
    lens('table', 'Containers', 'table', 'dockward-stats', {
      buckets: [top('container.name', 50, 'Container')],
      metrics: [
        { op: 'average', field: 'docker.cpu.pct', label: 'CPU % (avg)' }, { op: 'max', field: 'docker.memory.usage.bytes', label: 'Memory (max)' },
        { op: 'max', field: 'container.disk.write.bytes', label: 'Written' }, { op: 'max', field: 'docker.pids', label: 'Pids (max)' },
      ],
      w: 48,
    }),
  ],
};
