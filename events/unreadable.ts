/**
 * Why a message cannot be read. Each reason is a poison-message reason: retrying will not help,
 * so the consumer parks the original bytes in the dead-letter topic and goes on.
 */
export type UnreadableReason =
  | 'undecodable'
  | 'invalid-envelope'
  | 'unknown-type'
  | 'unsupported-version'
  | 'invalid-data'
  /** The reader's own upcaster threw on this message: a bug, but one retrying cannot fix either. */
  | 'upcaster-failed';

export class UnreadableEvent extends Error {
  override readonly name = 'UnreadableEvent';
  constructor(
    readonly reason: UnreadableReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}
