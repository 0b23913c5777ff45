import {
  context,
  defaultTextMapGetter,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { ClientInterceptors } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TRACER, w3c } from './trace-context';

/**
 * The one place that sets up tracing (OpenTelemetry). One trace runs from `POST /orders` through
 * the Temporal client, the saga's workflow task and every activity, into the outbox row's
 * `traceparent`, out as the event's `ce_traceparent` header, and into the consumer's effect.
 *
 * Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set: no tracer provider, no
 * exporter, spans are the API's no-ops. What stays on is cheap and needed for `ce_traceparent`:
 * the W3C propagator and the async-context manager, so an activity still sees the saga's trace
 * context (made in the workflow sandbox, which carries the same interceptors either way: the
 * workflow bundle, and so the build id, must not depend on configuration).
 */
export interface Tracing {
  /** Spans are recorded and exported. */
  enabled: boolean;
  /** Where the saga worker sends the workflow sandbox's spans (a no-op when off). */
  processor: SpanProcessor | undefined;
  resource: Resource;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** `service.name` of the spans (the first role of a process names them all). */
  serviceName: string;
  env?: NodeJS.ProcessEnv;
  /** Tests: record into this exporter (e.g. InMemorySpanExporter) whatever the environment says. */
  exporter?: SpanExporter;
}

type WorkflowSpanSinks = { exporter: OpenTelemetryWorkflowExporter };
let installed: Tracing | undefined;

/** Whether the environment asks for OTLP export. */
export function otlpConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

/**
 * Sets tracing up for the process, once: later calls (several roles in one process, `npm start`)
 * get the first set-up back.
 */
export function setupTracing({ serviceName, env = process.env, exporter }: TracingOptions): Tracing {
  if (installed) return installed;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(w3c);
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || serviceName });
  const processor = exporter
    ? new SimpleSpanProcessor(exporter)
    : otlpConfigured(env)
      ? new BatchSpanProcessor(otlpExporter())
      : undefined;
  if (!processor) {
    installed = { enabled: false, processor: undefined, resource, forceFlush: async () => {}, shutdown: async () => {} };
    return installed;
  }
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register({ propagator: w3c });
  installed = {
    enabled: true,
    processor,
    resource,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
  return installed;
}

/** The OTLP/HTTP exporter reads the OTEL_EXPORTER_OTLP_* variables (endpoint, headers, timeout) itself. */
function otlpExporter(): SpanExporter {
  return new OTLPTraceExporter();
}

/** The Temporal client's interceptors: a start, signal, update or query carries the caller's trace. */
export function tracingClientInterceptors(): ClientInterceptors {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/**
 * The saga worker's share: activities run inside the span of their schedule (their events then
 * carry it), and the `exporter` sink takes the workflow sandbox's spans (dropped when off). Every
 * worker or replayer of a bundle from `bundleWorkflows` needs the sink, or the SDK logs an error
 * per workflow task.
 */
export function workerTracing(tracing: Pick<Tracing, 'processor' | 'resource'> | undefined = installed): {
  interceptors: Pick<WorkerInterceptors, 'activity'>;
  sinks: InjectedSinks<WorkflowSpanSinks>;
} {
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: workflowSpanSinks(tracing),
  };
}

/** The sink the workflow sandbox's spans leave through: to the processor when on, nowhere when off. */
export function workflowSpanSinks(
  tracing: Pick<Tracing, 'processor' | 'resource'> | undefined = installed,
): InjectedSinks<WorkflowSpanSinks> {
  if (tracing?.processor) return { exporter: makeWorkflowExporter(tracing.processor, tracing.resource) };
  return { exporter: { export: { fn: () => undefined } } };
}

/**
 * A SERVER span per HTTP request, named by its route (`POST /orders`), continuing the caller's
 * `traceparent`; the route's handler runs inside it, so the Temporal client's start is its child.
 * Done with Fastify's hooks rather than a require-hook instrumentation of node:http, which would
 * have to load before any module that imports http (not true of tsx entry points or `npm start`).
 * Call before the routes are added.
 */
export function traceRequests(app: FastifyInstance): void {
  const spans = new WeakMap<FastifyRequest, Context>();
  const tracer = trace.getTracer(TRACER);
  app.addHook('onRequest', async (req) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const route = req.routeOptions.url ?? 'unknown route';
    const span = tracer.startSpan(
      `${req.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'http.route': route, 'url.path': req.url.split('?')[0] ?? '/' },
      },
      parent,
    );
    spans.set(req, trace.setSpan(parent, span));
  });
  app.addHook('onResponse', async (req, reply) => {
    const span = trace.getSpan(spans.get(req) ?? ROOT_CONTEXT);
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  // A body is read on the socket's own async context, not the hook's: the handler is wrapped so
  // that it (and what it awaits) runs inside the request's span.
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function traced(this: unknown, req, reply) {
      return context.with(spans.get(req) ?? context.active(), () => handler.call(this as never, req, reply));
    };
  });
}
