/**
 * How the relay reads a failed publish. Three kinds, three answers:
 * - the records themselves are refused (too large for the broker or the topic, invalid) or cannot
 *   be encoded: sending them again never helps, so the batch is split until the rows stand alone
 *   and are parked as dead letters;
 * - the broker refused the request for good otherwise (authorisation, an invalid topic): retried
 *   with backoff, and parked after a capped number of attempts;
 * - anything else (timeouts, connections, leaders moving: an outage) is retried with backoff
 *   for as long as it lasts, never parked.
 */
const ROW_REFUSALS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

class EncodeFault extends Error {}

/** A row that could not be turned into a Kafka message. */
export function publishFault(kind: 'encode', cause: unknown): Error {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new EncodeFault(`${kind}: ${message}`, { cause });
}

function* chain(err: unknown): Generator<unknown> {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
    yield e;
    e = (e as { cause?: unknown }).cause;
  }
}

const protocolErrors = (err: unknown) =>
  [...chain(err)].filter(
    (e): e is { name: string; type?: string; retriable?: boolean } =>
      typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'KafkaJSProtocolError',
  );

export function rowFault(err: unknown): boolean {
  return (
    [...chain(err)].some((e) => e instanceof EncodeFault) ||
    protocolErrors(err).some((e) => e.type !== undefined && ROW_REFUSALS.has(e.type))
  );
}

export function refusedByBroker(err: unknown): boolean {
  return !rowFault(err) && protocolErrors(err).some((e) => e.retriable === false);
}
