import { z } from 'zod';
import { fileSchema, ruleSchema } from './rules';

/**
 * The JSON schema of a rule file, for editors (yaml-language-server) and other tools. Generated
 * from the same zod schemas the loader validates with, so the two cannot disagree; conditions,
 * which the loader checks by compiling them, are described here by hand. The committed copy,
 * rules/rule-file.schema.json, is tested to be current (`dockward rules schema` writes it).
 */
const scalar = { type: ['string', 'number', 'boolean'] };
const strings = { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] };
const ref = { $ref: '#/$defs/condition' };
const conditionDefs = {
  condition: {
    description: 'all / any / not / macro, or a field with exactly one operator',
    oneOf: [
      { type: 'object', properties: { all: { type: 'array', items: ref, minItems: 1 } }, required: ['all'], additionalProperties: false },
      { type: 'object', properties: { any: { type: 'array', items: ref, minItems: 1 } }, required: ['any'], additionalProperties: false },
      { type: 'object', properties: { not: ref }, required: ['not'], additionalProperties: false },
      { type: 'object', properties: { macro: { type: 'string' } }, required: ['macro'], additionalProperties: false },
      { $ref: '#/$defs/leaf' },
    ],
  },
  leaf: {
    type: 'object',
    required: ['field'],
    minProperties: 2,
    additionalProperties: false,
    properties: {
      field: { type: 'string', minLength: 1, description: 'an ECS field, dotted' },
      equals: { oneOf: [scalar, { type: 'array', items: scalar, minItems: 1 }] },
      in: { oneOf: [{ type: 'string', pattern: '^@' }, { type: 'array', items: scalar, minItems: 1 }] },
      contains: strings,
      startswith: strings,
      endswith: strings,
      regex: { type: 'string', description: 'RE2 syntax' },
      cidr: strings,
      gt: { type: 'number' },
      gte: { type: 'number' },
      lt: { type: 'number' },
      lte: { type: 'number' },
      exists: { type: 'boolean' },
      nocase: { type: 'boolean' },
    },
  },
};

type Json = Record<string, unknown>;

export function ruleFileJsonSchema(): Json {
  const file = z.toJSONSchema(fileSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  const rule = z.toJSONSchema(ruleSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  const props = rule.properties as Record<string, Json>;
  props.condition = ref;
  props.exceptions = { type: 'array', items: ref };
  delete rule.$schema;
  const fileProps = file.properties as Record<string, Json>;
  fileProps.rules = { type: 'array', items: { $ref: '#/$defs/rule' } };
  fileProps.macros = { type: 'object', additionalProperties: ref };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/dockward/dockward/rules/rule-file.schema.json',
    title: 'dockward rule file',
    ...file,
    $defs: { rule, ...conditionDefs },
  };
}
