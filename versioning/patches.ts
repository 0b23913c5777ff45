import { z } from 'zod';

/**
 * The patch registry: every `patched()` id the order saga has ever carried, with its phase.
 * A patch moves patched → deprecated → removed, one release at a time, and only after the
 * sagas that could replay the old branch have drained (see docs/workflow-changes.md).
 * `npm run patches:check` (and the unit test) keep this list and the workflow code in step.
 */
export const PatchPhase = z.enum(['patched', 'deprecated', 'removed']);
export type PatchPhase = z.infer<typeof PatchPhase>;

export const PatchEntry = z.object({
  /** The id passed to `patched()` / `deprecatePatch()`; recorded in every history that took the new path. */
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'patch ids are kebab-case'),
  phase: PatchPhase,
  /** The release that introduced the patch (the folder under versioning/histories/). */
  release: z.string().regex(/^\d+\.\d+$/),
  /** The workflow type the patch lives in. */
  workflow: z.string().min(1),
  /** What the new branch changes, in business words. */
  change: z.string().min(1),
  /** The release that moved it to its current phase, when that is not the release that introduced it. */
  phaseSince: z
    .string()
    .regex(/^\d+\.\d+$/)
    .optional(),
});
export type PatchEntry = z.infer<typeof PatchEntry>;

export const patchRegistry: readonly PatchEntry[] = z.array(PatchEntry).parse([
  {
    id: 'fraud-screening',
    // 1.5: every saga screens (the 1.0 sagas that did not have drained, their folder retired); 1.8
    // removes the call once no saga started on 1.1 to 1.4 is open.
    phase: 'deprecated',
    phaseSince: '1.5',
    release: '1.1',
    workflow: 'orderFulfillment',
    change:
      'screen the order for fraud (FraudScreened) between submission and payment authorization; a rejection compensates and ends REJECTED',
  },
  {
    id: 'undo-waits-for-step',
    phase: 'patched',
    release: '1.2',
    workflow: 'orderFulfillment',
    change:
      "on an operator's cancellation the saga waits for the step in flight to finish (WAIT_CANCELLATION_COMPLETED) before any undo runs",
  },
  {
    id: 'payment-webhook-bound',
    phase: 'patched',
    release: '1.2',
    workflow: 'orderFulfillment',
    change: "only a payment result for the saga's own authorization id counts; others are ignored",
  },
  {
    id: 'escalation-never-undoes',
    phase: 'patched',
    release: '1.2',
    workflow: 'orderFulfillment',
    change: 'an SLA alert retries on its own until sent while the saga keeps waiting; a failing alert no longer undoes the order',
  },
  {
    id: 'finish-after-dispatch',
    phase: 'patched',
    release: '1.2',
    workflow: 'orderFulfillment',
    change:
      "after an accepted dispatch the remaining steps run non-cancellable: an operator's cancellation cannot abandon the capture",
  },
  {
    id: 'continue-as-new',
    phase: 'patched',
    release: '1.2',
    workflow: 'orderFulfillment',
    change:
      'past the history limit (or when the server suggests it) the saga continues as new between rounds or messages, carrying its state',
  },
  {
    id: 'undo-all-after-reset',
    phase: 'patched',
    release: '1.3',
    workflow: 'orderFulfillment',
    change:
      "a run made by an operator's reset that compensates runs every undo, not only those it registered: the run it replaced may have authorized, reserved, allocated or captured past the reset point",
  },
  {
    id: 'undo-all-when-compensating',
    phase: 'patched',
    release: '1.4',
    workflow: 'orderFulfillment',
    change:
      "a saga that compensates runs every undo, each a no-op where its step never took effect, so a reset run also undoes what the run it replaced did (1.3's undo-all-after-reset decided by the run id, which the SDK's replayer cannot reproduce)",
  },
  {
    id: 'search-attributes-by-status',
    phase: 'patched',
    release: '1.6',
    workflow: 'orderFulfillment',
    change:
      'SagaStep and SagaStatus are upserted when the status changes (and per undo, and per step past dispatch), not at every step; attributes the start already set are not upserted again',
  },
  {
    id: 'release-1-7',
    phase: 'patched',
    release: '1.7',
    workflow: 'orderFulfillment',
    change:
      'a saga started on 1.7 records this one marker, which stands for every change before it, instead of a marker per change (each marker costs an SDK upsert of TemporalChangeVersion); SagaStep is no longer upserted per step past dispatch',
  },
]);
