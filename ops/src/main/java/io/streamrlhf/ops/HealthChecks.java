package io.streamrlhf.ops;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * A process's named health checks. Live: the process can make progress (an orchestrator restarts it when not).
 * Ready: it does its work now, which for a service means connected to the brokers, holding its assignment and with
 * its model loaded (an orchestrator routes to it, a dependent starts, only when ready). A check that throws counts
 * as failing.
 */
public final class HealthChecks {

    /** The outcome of every check of one kind, in the order they were added. */
    public record Report(boolean ok, Map<String, Boolean> checks) {

        /** One line per check, {@code name ok} or {@code name FAILING}, for the endpoint's body. */
        public String text() {
            StringBuilder out = new StringBuilder(ok ? "ok\n" : "not ok\n");
            checks.forEach((name, passed) -> out.append(name).append(passed ? " ok" : " FAILING").append('\n'));
            return out.toString();
        }
    }

    private final Map<String, BooleanSupplier> live = new LinkedHashMap<>();
    private final Map<String, BooleanSupplier> ready = new LinkedHashMap<>();

    /** Adds a liveness check; replaces one of the same name. */
    public synchronized HealthChecks live(String name, BooleanSupplier check) {
        live.put(name, check);
        return this;
    }

    /** Adds a readiness check; replaces one of the same name. */
    public synchronized HealthChecks ready(String name, BooleanSupplier check) {
        ready.put(name, check);
        return this;
    }

    /**
     * Adds every check of {@code other} as {@code component: name}: one process that runs several components
     * ({@code rlhf demo}) is ready when all of them are.
     */
    public HealthChecks include(String component, HealthChecks other) {
        other.snapshot(other.live).forEach((name, check) -> live(component + ": " + name, check));
        other.snapshot(other.ready).forEach((name, check) -> ready(component + ": " + name, check));
        return this;
    }

    /** Runs the liveness checks (none: live). */
    public Report live() {
        return run(snapshot(live));
    }

    /** Runs the readiness checks; with none added the process is not ready (it has not said what ready means). */
    public Report ready() {
        Map<String, BooleanSupplier> checks = snapshot(ready);
        return checks.isEmpty() ? new Report(false, Map.of()) : run(checks);
    }

    /** Exports {@code rlhf_ready} and {@code rlhf_live} (1 or 0) so that alerts can use them too. */
    public HealthChecks register(MeterRegistry meters) {
        Gauge.builder("rlhf.ready", this, h -> h.ready().ok() ? 1 : 0)
                .description("1 when every readiness check passes (connected, assigned, model loaded)")
                .register(meters);
        Gauge.builder("rlhf.live", this, h -> h.live().ok() ? 1 : 0)
                .description("1 when every liveness check passes").register(meters);
        return this;
    }

    private synchronized Map<String, BooleanSupplier> snapshot(Map<String, BooleanSupplier> checks) {
        return new LinkedHashMap<>(checks);
    }

    private static Report run(Map<String, BooleanSupplier> checks) {
        Map<String, Boolean> results = new LinkedHashMap<>();
        boolean ok = true;
        for (Map.Entry<String, BooleanSupplier> e : checks.entrySet()) {
            boolean passed;
            try {
                passed = e.getValue().getAsBoolean();
            } catch (RuntimeException ex) {
                passed = false;
            }
            results.put(e.getKey(), passed);
            ok &= passed;
        }
        return new Report(ok, results);
    }
}
