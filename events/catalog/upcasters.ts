import type { Upcasters } from '../upcasting';

/**
 * Every upcaster of the domain catalog, by event type and the version it starts from. Readers
 * upgrade first: a new version ships here with its upcaster while producers still write the old
 * one (`producedVersion` in events/catalog), and producers switch in a later release.
 */
export const upcasters: Upcasters = {
  ShipmentDispatched: {
    // v1 did not say when the parcel left; the event was written at hand-over, so its time is it.
    1: (data, envelope) => ({ ...data, dispatchedAt: envelope.time }),
  },
};
