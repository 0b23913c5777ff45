import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec } from './encryption';
import type { Keyring } from './keyring';

/**
 * The one DataConverter every Temporal Client and Worker of the project is built with: JSON
 * payloads, encrypted by EncryptionCodec when a keyring is configured. Without a keyring the
 * codec still decodes nothing and encodes nothing, and an encrypted payload fails with a named
 * error instead of a JSON parse error deep in the SDK.
 */
export function dataConverter(keyring: Keyring | undefined): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keyring)] };
}
