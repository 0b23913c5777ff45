// Invariant: the exported JSON Schema of the catalog is usable without TypeScript: a standard
// 2020-12 validator accepts every stored example's data under its event version and rejects data
// the zod schema rejects.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Envelope } from '../../../events/envelope';
import { readExamples } from '../../../events/examples';
import { eventSources } from '../../../versioning/event-sources';

const document = JSON.parse(readFileSync(eventSources.catalogSchema, 'utf8')) as { $defs: Record<string, unknown> };
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(document, 'catalog');
const validator = (key: string) => {
  const validate = ajv.getSchema(`catalog#/$defs/${key}`);
  assert.ok(validate, `no $defs entry ${key}`);
  return validate;
};

test('every stored example validates against its exported event version', () => {
  const examples = readExamples(eventSources.examplesDir);
  assert.ok(examples.length > 0);
  for (const example of examples) {
    const validate = validator(`${example.type}.v${example.version}`);
    assert.equal(validate((example.envelope as Envelope).data), true, `${example.file}: ${ajv.errorsText(validate.errors)}`);
  }
});

test('the export rejects what the schema rejects and tolerates unknown fields', () => {
  const validate = validator('OrderConfirmed.v1');
  const example = readExamples(eventSources.examplesDir).find((e) => e.file === 'OrderConfirmed.v1.json');
  const data = (example?.envelope as Envelope).data as Record<string, unknown>;
  assert.equal(validate({ ...data, loyaltyTier: 'gold' }), true);
  assert.equal(validate({ ...data, total: { amount: 12.5, currency: 'EUR' } }), false);
  const { customer: _customer, ...withoutCustomer } = data;
  assert.equal(validate(withoutCustomer), false);
});
