import { Client, Connection } from '@temporalio/client';
import { dataConverter } from '../platform/codec/data-converter';
import type { Keyring } from '../platform/codec/keyring';
import { tracingClientInterceptors } from '../platform/tracing';

/**
 * A Temporal Client with the project's data converter: what it sends is encrypted under the
 * keyring's current key, what it reads (results, queries, update answers, summaries) is
 * decrypted. Close it with `client.connection.close()`. Wrap it with createOrderClient for orders.
 * A start, signal, update or query carries the caller's trace context to the saga (platform/tracing.ts).
 */
export async function connectClient({
  address,
  namespace = 'default',
  keyring,
}: {
  address: string;
  namespace?: string;
  keyring: Keyring | undefined;
}): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace, dataConverter: dataConverter(keyring), interceptors: tracingClientInterceptors() });
}
