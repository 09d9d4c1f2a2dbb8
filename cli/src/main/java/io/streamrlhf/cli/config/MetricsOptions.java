package io.streamrlhf.cli.config;

import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.ops.MetricsEndpoint;
import io.streamrlhf.ops.ServiceMeters;
import java.io.PrintWriter;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The operations endpoint's options, shared by every service command (a picocli mixin): without
 * {@code --metrics-port} nothing is served; with it the command serves {@code /metrics}, {@code /health/live} and
 * {@code /health/ready} and prints {@code metrics=http://HOST:PORT/metrics}.
 */
public final class MetricsOptions {

    /** The environment variable that gives the port when the flag does not (compose sets it for every service). */
    public static final String PORT_ENV = "RLHF_METRICS_PORT";

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Serve Prometheus /metrics, /health/live and /health/ready on PORT (0: a free port, "
                    + "printed as metrics=http://HOST:PORT/metrics; env RLHF_METRICS_PORT). Default: not served.")
    Integer port;

    @Option(names = "--metrics-bind", paramLabel = "ADDRESS", defaultValue = "0.0.0.0",
            description = "Address the metrics endpoint listens on (default ${DEFAULT-VALUE}: every interface).")
    String bind = "0.0.0.0";

    /** The port asked for: the flag, else {@code RLHF_METRICS_PORT}; empty when neither is given. */
    public Optional<Integer> port() {
        if (port != null) {
            return Optional.of(port);
        }
        String env = System.getenv(PORT_ENV);
        if (env == null || env.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Integer.parseInt(env.trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(PORT_ENV + "='" + env + "' is not a port number");
        }
    }

    /** The endpoint a command serves, if it was asked for one; closing it stops serving. */
    public record Serving(Optional<MetricsEndpoint> endpoint) implements AutoCloseable {
        /** Nothing served. */
        public static final Serving NONE = new Serving(Optional.empty());

        @Override
        public void close() {
            endpoint.ifPresent(MetricsEndpoint::close);
        }
    }

    /**
     * Serves {@code meters} and {@code health} when a port was asked for, and prints where.
     *
     * @return what is served (the caller closes it); an empty endpoint when none was asked for
     */
    public Serving serve(ServiceMeters meters, HealthChecks health, PrintWriter out) {
        Optional<Integer> p = port();
        if (p.isEmpty()) {
            return Serving.NONE;
        }
        health.register(meters.component(meters.process()));
        MetricsEndpoint endpoint = MetricsEndpoint.start(bind, p.get(), meters, health);
        out.println("metrics=" + endpoint.metricsUrl());
        out.flush();
        return new Serving(Optional.of(endpoint));
    }
}
