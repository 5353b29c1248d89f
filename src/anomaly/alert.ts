/**
 * The rule an anomaly alert is filed under. Not a matcher (it never matches a document by itself):
 * it gives the anomaly finding the identity, severity and grouping key every rule alert has, so
 * anomaly alerts land in logs-dockward.alert-<ns> beside rule alerts and group the same way.
 */
import type { Rule } from '../detect/rules';
import { ANOMALY_RULE_ID } from './detector';

export const ANOMALY_RULE: Rule = {
  id: ANOMALY_RULE_ID,
  name: 'Container behaves unlike its baseline',
  description:
    "The container's anomaly score stayed at or over the threshold for several intervals in a row; the message names the signal that contributed most and its usual level.",
  severity: 'medium',
  class: 'alert',
  risk_score: 47,
  tactics: [],
  techniques: [],
  enabled: true,
  tags: ['anomaly'],
  references: [],
  version: 1,
  examples: { match: [], no_match: [] } as unknown as Rule['examples'],
  kinds: ['stats'],
  file: '(built in: anomaly detector)',
  matches: () => false,
};
