import { sleep as durableSleep } from '@temporalio/workflow';
import { rootMessage } from '../domain/failure';
import type { CompensationRecord } from './definitions';

/**
 * A saga's undo list. Each undo is registered BEFORE its step runs: a step whose reply was lost
 * may have taken effect anyway, so its undo must run (and be safe when there is nothing to undo).
 * `compensate` runs the registered undos in reverse order, one after another or all at once, and
 * retries each until it succeeds: a saga never ends half-undone. A failing undo stays visible in
 * `records` (state `retrying`, rounds, last error) so an operator can see what is stuck and why.
 *
 * Deterministic: no clocks or randomness; pauses between rounds are durable workflow timers.
 */
export interface UndoOptions {
  /** Pause between failed rounds; the workflow's durable timer unless a test provides one. */
  sleep?: (ms: number) => Promise<void>;
  /** First pause after a failed round; doubles up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Told about every change of a record, e.g. to refresh the UI's current details. */
  onChange?: (records: readonly CompensationRecord[]) => void;
  /** Runs before every retry round, e.g. to continue as new before the history grows too long. */
  beforeRetry?: () => Promise<void>;
}

interface Entry {
  record: CompensationRecord;
  undo: () => Promise<unknown>;
}

export type CompensationMode = 'sequential' | 'parallel';

export class Undos {
  private readonly entries: Entry[] = [];
  private started = 0;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly onChange: (records: readonly CompensationRecord[]) => void;
  private readonly beforeRetry: () => Promise<void>;

  constructor(options: UndoOptions = {}) {
    this.sleep = options.sleep ?? ((ms) => durableSleep(ms));
    this.initialDelayMs = options.initialDelayMs ?? 1_000;
    // An undo stuck for days is retried hourly: often enough to finish soon after the fault
    // clears, rarely enough that its rounds stay a few hundred events a day.
    this.maxDelayMs = options.maxDelayMs ?? 3_600_000;
    this.onChange = options.onChange ?? (() => undefined);
    this.beforeRetry = options.beforeRetry ?? (async () => undefined);
  }

  /** Registers the undo of the step about to run. */
  add(name: string, undo: () => Promise<unknown>): void {
    this.entries.push({ record: { name, state: 'registered', rounds: 0 }, undo });
    this.changed();
  }

  /** Takes over the undo list of an earlier run of the same saga, with each undo's state. */
  restore(records: readonly CompensationRecord[], undoOf: (name: string) => () => Promise<unknown>): void {
    for (const record of records) this.entries.push({ record: { ...record }, undo: undoOf(record.name) });
    this.started = Math.max(0, ...records.map((r) => r.sequence ?? 0));
    this.changed();
  }

  registered(name: string): boolean {
    return this.entries.some((e) => e.record.name === name);
  }

  get records(): readonly CompensationRecord[] {
    return this.entries.map((e) => e.record);
  }

  /** The first undo that has failed and is being retried, if any. */
  get stuck(): CompensationRecord | undefined {
    return this.entries.find((e) => e.record.state === 'retrying')?.record;
  }

  /**
   * Runs every undo not yet done, newest first. Sequential waits for each undo to succeed before
   * the next (an undo may depend on a later step being undone first); parallel starts them all
   * in reverse order and waits for all. Returns only when every undo has succeeded.
   */
  async compensate(mode: CompensationMode = 'sequential'): Promise<void> {
    const pending = this.entries.filter((e) => e.record.state !== 'done').reverse();
    if (mode === 'parallel') {
      await Promise.all(pending.map((e) => this.untilDone(e)));
      return;
    }
    for (const entry of pending) await this.untilDone(entry);
  }

  private async untilDone(entry: Entry): Promise<void> {
    let delay = Math.min(this.initialDelayMs * 2 ** entry.record.rounds, this.maxDelayMs);
    entry.record.sequence ??= ++this.started;
    for (;;) {
      if (entry.record.rounds > 0) await this.beforeRetry();
      entry.record.state = entry.record.rounds === 0 ? 'running' : 'retrying';
      entry.record.rounds += 1;
      this.changed();
      try {
        entry.record.result = await entry.undo();
        entry.record.state = 'done';
        delete entry.record.lastError;
        this.changed();
        return;
      } catch (err) {
        entry.record.state = 'retrying';
        entry.record.lastError = rootMessage(err);
        this.changed();
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.maxDelayMs);
      }
    }
  }

  private changed(): void {
    this.onChange(this.records);
  }
}
