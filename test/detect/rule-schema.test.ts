import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import { parse } from 'yaml';
import { ruleFileJsonSchema } from '../../src/detect/rule-schema';
import { BUILTIN_RULES, ruleFiles } from '../../src/detect/rules';

describe('rule file JSON schema', () => {
  it('the committed rules/rule-file.schema.json is the one the loader generates', () => {
    const committed = JSON.parse(readFileSync(join(BUILTIN_RULES, 'rule-file.schema.json'), 'utf8'));
    assert.deepEqual(committed, ruleFileJsonSchema(), 'run: node dist/src/cli/main.js rules schema > rules/rule-file.schema.json');
  });

  it('accepts every built-in rule file and rejects what the loader rejects', () => {
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(ruleFileJsonSchema());
    for (const file of ruleFiles([BUILTIN_RULES])) {
      assert.ok(validate(parse(readFileSync(file, 'utf8'))), `${file}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
    }
    const rule = { id: 'x', name: 'x', description: 'x', kind: 'log', severity: 'low', risk_score: 1, condition: { field: 'message', contains: 'abc' }, examples: { match: [{}], no_match: [{}] } };
    assert.ok(validate({ rules: [rule] }), JSON.stringify(validate.errors));
    for (const bad of [
      { ...rule, severity: 'urgent' },
      { ...rule, kind: 'logs' },
      { ...rule, condition: { field: 'message' } },
      { ...rule, condition: { field: 'message', matches: 'x' } },
      { ...rule, condition: { all: [] } },
      { ...rule, extra: 1 },
    ]) assert.ok(!validate({ rules: [bad] }), `accepted ${JSON.stringify(bad)}`);
  });
});
