import type { SearchSpec } from './model';

/** Saved searches: the lists an analyst starts from in Discover, also shown on the dashboards. */
export const SEARCHES: SearchSpec[] = [
  {
    id: 'dockward-alert-triage', title: '[dockward] Alert triage', description: 'Every alert, newest first: rule, severity, container and ATT&CK technique.',
    dataView: 'dockward-alerts', where: [],
    columns: ['dockward.alert.severity', 'rule.name', 'container.name', 'threat.technique.name', 'dockward.alert.count', 'message'],
  },
  {
    id: 'dockward-process-starts', title: '[dockward] Process starts', description: 'Processes started in containers (polling, kernel events and exec sessions).',
    dataView: 'dockward-processes', where: [{ field: 'event.type', is: 'start' }],
    columns: ['container.name', 'event.provider', 'process.user.name', 'process.command_line', 'process.parent.pid'],
  },
  {
    id: 'dockward-exec-sessions', title: '[dockward] Exec sessions', description: '`docker exec` sessions: who ran what in which container, with or without a TTY.',
    dataView: 'dockward-processes', where: [{ field: 'event.provider', is: 'exec' }],
    columns: ['container.name', 'event.type', 'dockward.exec.user', 'dockward.exec.tty', 'dockward.exec.privileged', 'process.command_line', 'process.exit_code'],
  },
  {
    id: 'dockward-file-drift', title: '[dockward] File drift', description: 'Paths created, changed or deleted in containers against their image.',
    dataView: 'dockward-files', where: [],
    columns: ['container.name', 'event.type', 'file.path', 'dockward.drift.baseline', 'dockward.file.executed'],
  },
  {
    id: 'dockward-dead-letters', title: '[dockward] Dead letters', description: 'Documents Elasticsearch refused, with the reason; the original is in dockward.deadletter.document.',
    dataView: 'dockward-deadletter', where: [],
    columns: ['dockward.deadletter.index', 'dockward.deadletter.status', 'error.type', 'message'],
  },
];

export function savedSearch(id: string): SearchSpec {
  const s = SEARCHES.find((x) => x.id === id);
  if (!s) throw new Error(`no saved search ${id}`);
  return s;
}
