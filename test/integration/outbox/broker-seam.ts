import { createRequire } from 'node:module';

/**
 * kafkajs's own broker connection, reached where loopback cannot fail: `produce` is wrapped so a
 * test decides what the client sees after the request really reached the broker.
 */
interface ProduceRequest {
  topicData: { topic: string }[];
}
type Produce = (this: unknown, request: ProduceRequest) => Promise<unknown>;

const load = createRequire(__filename);
const Broker = load('kafkajs/src/broker') as { prototype: { produce: Produce } };
const { createErrorFromCode } = load('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error };

/** A retriable error kafkajs would raise for a request that timed out on the broker (REQUEST_TIMED_OUT). */
export const requestTimedOut = () => createErrorFromCode(7);

/**
 * Runs `after` once the broker answered a produce request for `topic`; what it throws is what the
 * client sees instead of the answer. Returns the undo.
 */
export function afterProduce(topic: string, after: (request: ProduceRequest) => Promise<void>): () => void {
  const original = Broker.prototype.produce;
  Broker.prototype.produce = async function (this: unknown, request: ProduceRequest) {
    const response = await original.call(this, request);
    if (request.topicData.some((t) => t.topic === topic)) await after(request);
    return response;
  };
  return () => {
    Broker.prototype.produce = original;
  };
}
