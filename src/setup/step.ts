import type { Client } from '@elastic/elasticsearch';
import type { ClusterInfo } from '../ship/client';
import type { Telemetry } from '../telemetry/telemetry';
import type { AssetOptions } from './setup-config';

export interface SetupContext {
  client: Client;
  cluster: ClusterInfo;
  telemetry: Telemetry;
  /** Kibana, retention and watcher settings from `setup.*`; the defaults when absent. */
  options?: AssetOptions;
}

export type StepStatus = 'created' | 'updated' | 'unchanged' | 'skipped' | 'failed';

export interface StepResult {
  step: string;
  /** What the step touched (a template name, a dashboard id). */
  target: string;
  status: StepStatus;
  message: string;
}

/** One idempotent part of `dockward setup`, selectable by name. */
export interface SetupStep {
  readonly name: string;
  readonly description: string;
  run(ctx: SetupContext): Promise<StepResult[]>;
  /** What would be installed on a full default distribution, for `setup --print`. */
  render(): Record<string, unknown>;
}
