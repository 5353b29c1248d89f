import { SIGNALS } from '../../anomaly/signals';
import type { DashboardSpec } from '../model';
import { count, lens, over, top } from './helpers';

export const resources: DashboardSpec = {
  id: 'dockward-resources',
  title: '[dockward] Resources',
  description: 'Per-container CPU, memory, network, block I/O and pids from the stats samples, and the anomaly score per container with the signal behind it.',
  timeFrom: 'now-4h',
  panels: [
    lens('containers', 'Containers sampled', 'metric', 'dockward-stats', { metrics: [{ op: 'unique_count', field: 'container.id', label: 'Containers' }], w: 16, h: 8 }),
    lens('samples', 'Samples', 'metric', 'dockward-stats', { metrics: [count('Samples')], w: 16, h: 8 }),
    lens('peak-memory', 'Peak memory', 'metric', 'dockward-stats', { metrics: [{ op: 'max', field: 'docker.memory.usage.bytes', label: 'Bytes' }], w: 16, h: 8 }),
    lens('cpu', 'CPU % by container', 'line', 'dockward-stats', { buckets: [over(), top('container.name', 10)], metrics: [{ op: 'average', field: 'docker.cpu.pct' }] }),
    lens('memory', 'Memory % of limit by container', 'line', 'dockward-stats', { buckets: [over(), top('container.name', 10)], metrics: [{ op: 'max', field: 'docker.memory.pct' }] }),
    lens('rx', 'Network received bytes/s', 'area_stacked', 'dockward-stats', { buckets: [over(), top('container.name', 10)], metrics: [{ op: 'average', field: 'docker.network.rx.rate' }] }),
    lens('pids', 'Pids', 'line', 'dockward-stats', { buckets: [over(), top('container.name', 10)], metrics: [{ op: 'max', field: 'docker.pids' }] }),
    // Scores are written from a container's first stats intervals on, warm or not (dockward.anomaly.warm says whether the baseline is trusted yet).
    lens('anomaly', 'Anomaly score by container (0-100)', 'line', 'dockward-anomaly', { buckets: [over(), top('container.name', 10)], metrics: [{ op: 'max', field: 'dockward.anomaly.score' }], w: 32 }),
    lens('anomaly-top', 'Top anomaly signal', 'donut', 'dockward-anomaly', { buckets: [top('dockward.anomaly.top', SIGNALS.length, 'Signal')], metrics: [count('Intervals')], w: 16 }),
    lens('anomaly-table', 'Anomaly by container', 'table', 'dockward-anomaly', {
      buckets: [top('container.name', 50, 'Container'), top('dockward.anomaly.top', 3, 'Top signal')],
      metrics: [{ op: 'max', field: 'dockward.anomaly.score', label: 'Score (max)' }, { op: 'average', field: 'dockward.anomaly.score', label: 'Score (avg)' }, { op: 'max', field: 'dockward.anomaly.samples', label: 'Samples' }],
      w: 48,
    }),
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
