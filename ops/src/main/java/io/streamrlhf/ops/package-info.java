/**
 * What every service process shares to be operated like any Kafka service: {@link io.streamrlhf.ops.ServiceMeters}
 * (one Prometheus registry with JVM, process and Kafka client meters, and a {@code component} label on every
 * series), {@link io.streamrlhf.ops.HealthChecks} (named liveness and readiness checks, with
 * {@link io.streamrlhf.ops.BrokerConnection} for "connected"), {@link io.streamrlhf.ops.MetricsEndpoint} (the HTTP
 * server of {@code /metrics}, {@code /health/live} and {@code /health/ready}),
 * {@link io.streamrlhf.ops.ConsumerGroupLag} (every consumer group's lag, for {@code cluster up}, {@code status} and
 * the demo) and
 * {@link io.streamrlhf.ops.PrometheusText} (a strict reader of the text format, for tests and tools).
 */
package io.streamrlhf.ops;
