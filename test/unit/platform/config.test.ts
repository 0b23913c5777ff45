// Invariant: KAFKA_TOPIC_PREFIX moves every topic and consumer group of a process under one prefix
// (or none when unset), and the relay's and consumers' crash hooks are off unless asked for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kafkaIsolation, readConfig } from '../../../platform/config';

describe('KAFKA_TOPIC_PREFIX', () => {
  test('unset (or empty): the contexts’ own topics and groups', () => {
    assert.equal(kafkaIsolation(readConfig({})), undefined);
    assert.equal(kafkaIsolation(readConfig({ KAFKA_TOPIC_PREFIX: ' ' })), undefined);
  });

  test('set: every topic and consumer group under the prefix', () => {
    const isolation = kafkaIsolation(readConfig({ KAFKA_TOPIC_PREFIX: 'staging-2' }));
    assert.equal(isolation?.route('trapeze.orders'), 'staging-2.trapeze.orders');
    assert.equal(isolation?.groupId('order-view'), 'staging-2.trapeze.order-view');
  });

  test('a prefix Kafka would refuse as part of a topic name fails at start', () => {
    assert.throws(() => readConfig({ KAFKA_TOPIC_PREFIX: 'a/b' }));
  });
});

describe('RELAY_CRASH_AFTER_SENDS, CONSUMER_CRASH_AFTER_APPLIES', () => {
  test('off unless set to a positive count', () => {
    assert.equal(readConfig({}).relay.crashAfterSends, undefined);
    assert.equal(readConfig({ RELAY_CRASH_AFTER_SENDS: '3' }).relay.crashAfterSends, 3);
    assert.throws(() => readConfig({ RELAY_CRASH_AFTER_SENDS: '0' }));
    assert.equal(readConfig({}).consumers.crashAfterApplies, undefined);
    assert.equal(readConfig({ CONSUMER_CRASH_AFTER_APPLIES: '2' }).consumers.crashAfterApplies, 2);
    assert.throws(() => readConfig({ CONSUMER_CRASH_AFTER_APPLIES: '-1' }));
  });
});
