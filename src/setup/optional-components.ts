/**
 * Per-stream component templates that the pipelines and retention steps write only where the
 * cluster supports them. Index templates list them as optional (ignore_missing_component_templates),
 * so a cluster without ingest or ILM still gets working templates, and adding them later needs
 * no change to the index templates.
 */
export function optionalComponents(type: string, dataset: string): string[] {
  return [`${type}-${dataset}@pipeline`, `${type}-${dataset}@lifecycle`];
}
