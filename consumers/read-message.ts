import type { IHeaders } from 'kafkajs';
import { ZodError } from 'zod';
import type { EventCatalog } from '../events/definition';
import type { Envelope } from '../events/envelope';
import { fromKafkaMessage } from '../events/kafka-binding';
import { UnreadableEvent } from '../events/unreadable';
import { upcast, type ReadEvent, type Upcasters } from '../events/upcasting';

/**
 * Decodes a Kafka message (CloudEvents binary mode) into its envelope, turning every way it can
 * fail into an `UnreadableEvent` with a poison reason, never a retryable error.
 */
export function decodeEnvelope(message: { value: Buffer | null; headers?: IHeaders }): Envelope {
  if (!message.headers?.ce_specversion)
    throw new UnreadableEvent('undecodable', 'no ce_specversion header: not a CloudEvent in binary mode');
  try {
    return fromKafkaMessage(message);
  } catch (err) {
    if (err instanceof ZodError) {
      throw new UnreadableEvent(
        'invalid-envelope',
        err.issues.map((i) => `${i.path.join('.') || '(envelope)'}: ${i.message}`).join('; '),
      );
    }
    // Not the parser's message: it quotes the start of the value, which may be personal data.
    throw new UnreadableEvent('undecodable', `value is not JSON (${message.value?.length ?? 0} bytes): ${(err as Error).name}`);
  }
}

/** The envelope, then the data validated and upcast to the newest version the reader knows. */
export function readEvent(catalog: EventCatalog, upcasters: Upcasters, envelope: Envelope): ReadEvent {
  return upcast(catalog, upcasters, envelope);
}
