import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { createHash } from 'node:crypto';

/**
 * Trace context for the code that writes and reads events (outbox, consumers): light enough for
 * every process, tracing on or off. The set-up (provider, exporter, interceptors) is tracing.ts.
 */
export const TRACER = 'trapeze';
export const w3c = new W3CTraceContextPropagator();

/** The W3C `traceparent` of a context's span (the active one by default), if it has a valid one. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

/**
 * The traceparent an event carries when no span is active (a participant called outside a traced
 * worker): the same trace id for every event of one saga (derived from its correlation id), a span
 * id per event, and the sampled flag off, so a tracing reader links them without recording more.
 */
export function derivedTraceparent(correlationId: string, eventId: string): string {
  const traceId = createHash('sha256').update(`trace\u0000${correlationId}`).digest('hex').slice(0, 32);
  const spanId = createHash('sha256').update(`span\u0000${eventId}`).digest('hex').slice(0, 16);
  return `00-${traceId}-${spanId}-00`;
}

/** The context a W3C traceparent continues (the root context when it is missing or malformed). */
export function contextOf(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return w3c.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
}

/**
 * Runs `fn` inside a span continuing `parent` (e.g. an event's traceparent): ended when `fn`
 * settles, marked as an error when it throws.
 */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; parent?: Context; attributes?: Attributes },
  fn: () => Promise<T>,
): Promise<T> {
  const span = trace
    .getTracer(TRACER)
    .startSpan(
      name,
      { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} },
      options.parent ?? context.active(),
    );
  try {
    return await context.with(trace.setSpan(options.parent ?? context.active(), span), fn);
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    span.recordException(err as Error);
    throw err;
  } finally {
    span.end();
  }
}
