import type { IngestProcessorContainer, IngestPutPipelineRequest } from '@elastic/elasticsearch/lib/api/types';

/**
 * Ingest pipelines: what only Elasticsearch can do (the time it received a document) and parsing
 * that is cheaper to change there than in every shipper (JSON and access-log lines). They never
 * drop or rewrite the original `message`; a failure marks the document and keeps it.
 */
export const INGESTED = 'dockward-ingested';
export const CONTAINER_LOGS = 'dockward-container-logs';

// Each step may fail on the same odd document that failed the pipeline (run on OpenSearch: an
// `event` that is a string refused `event.kind`, and with it the whole document), so none of them
// may stop the handler; the tag, which cannot fail, comes first.
const keepOnFailure: IngestProcessorContainer[] = [
  { append: { field: 'tags', value: ['dockward_pipeline_error'] } },
  { set: { field: 'error.message', value: '{{{ _ingest.on_failure_message }}}', ignore_failure: true } },
  { set: { field: 'event.kind', value: 'pipeline_error', ignore_failure: true } },
];

/**
 * An Apache/nginx common or combined access-log line, mapped onto ECS. A "-" referrer or user
 * agent is the server saying "none": no field, not the string "-" (seen on OpenSearch's grok).
 */
export const ACCESS_LOG_PATTERN =
  '^%{IPORHOST:source.address} %{NOTSPACE} %{NOTSPACE} \\[%{HTTPDATE}\\] "(?:%{WORD:http.request.method} %{NOTSPACE:url.original}(?: HTTP/%{NUMBER:http.version})?|%{DATA})" %{NUMBER:http.response.status_code:int} (?:%{NUMBER:http.response.body.bytes:long}|-)(?: "(?:-|%{DATA:http.request.referrer})" "(?:-|%{DATA:user_agent.original})")?';
export const URL_PATTERN = '^%{URIPATH:url.path}(?:\\?%{GREEDYDATA:url.query})?$';

export const PIPELINES: IngestPutPipelineRequest[] = [
  {
    id: INGESTED,
    description: 'dockward: event.ingested, the time Elasticsearch received the document (lag = event.ingested - @timestamp)',
    _meta: { managed_by: 'dockward' },
    processors: [{ set: { field: 'event.ingested', value: '{{{_ingest.timestamp}}}' } }],
    on_failure: keepOnFailure,
  },
  {
    id: CONTAINER_LOGS,
    description: 'dockward: container log lines; JSON lines into dockward.json (and log.level), access-log lines into http.*, url.*, source.*',
    _meta: { managed_by: 'dockward' },
    processors: [
      { pipeline: { name: INGESTED } },
      {
        json: {
          field: 'message', target_field: 'dockward.json', if: "ctx.message instanceof String && ctx.message.startsWith('{')",
          // Text that only looks like JSON stays a plain line, marked.
          on_failure: [{ append: { field: 'tags', value: ['dockward_json_failure'] } }],
        },
      },
      { set: { field: 'log.level', copy_from: 'dockward.json.level', override: false, if: 'ctx.dockward?.json?.level instanceof String' } },
      { lowercase: { field: 'log.level', ignore_missing: true } },
      // Most lines are not access logs: no match is the normal case, not a failure.
      { grok: { field: 'message', patterns: [ACCESS_LOG_PATTERN], ignore_missing: true, ignore_failure: true, if: 'ctx.dockward?.json == null' } },
      { grok: { field: 'url.original', patterns: [URL_PATTERN], ignore_missing: true, ignore_failure: true } },
      { convert: { field: 'source.address', target_field: 'source.ip', type: 'ip', ignore_missing: true, ignore_failure: true } },
    ],
    on_failure: keepOnFailure,
  },
];

/** Which pipeline each stream's documents go through (index.default_pipeline). */
export function pipelineFor(dataset: string): string {
  return dataset === 'dockward.container' ? CONTAINER_LOGS : INGESTED;
}
