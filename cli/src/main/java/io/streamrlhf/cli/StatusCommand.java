package io.streamrlhf.cli;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.CommonOptions;
import io.streamrlhf.cli.config.MetricsOptions;
import io.streamrlhf.loop.stack.ClusterStatus;
import io.streamrlhf.ops.BrokerConnection;
import io.streamrlhf.ops.ConsumerGroupLag;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.ops.ServiceMeters;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf status}: the operator's picture of a cluster in the terminal, for users without Prometheus: versions,
 * lag per consumer group, dead letters ({@link ClusterStatus}).
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Print a cluster's state: live brokers, the newest policy and reward-model versions, every "
                + "consumer group's lag by topic, and the records in each dead-letter topic.",
                "The same figures Prometheus scrapes (docs/operations.md, Metrics), read from Kafka directly."})
final class StatusCommand implements Callable<Integer> {

    @Mixin CommonOptions common;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "How long to wait for the cluster (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    /** With a port: print once, then keep exporting every group's lag until stopped (compose's status service). */
    @Mixin MetricsOptions metrics;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommonConfig config = common.resolve();
        Map<String, Object> settings = config.settings();
        settings.putAll(config.clientProperties());
        PrintWriter out = spec.commandLine().getOut();
        ClusterStatus status;
        try {
            status = ClusterStatus.read(settings, Duration.ofSeconds(timeoutSeconds));
        } catch (TimeoutException e) {
            spec.commandLine().getErr().println("rlhf status: the cluster at "
                    + settings.get(CommonConfig.BOOTSTRAP_SERVERS) + " did not answer within " + timeoutSeconds + " s");
            return 1;
        }
        status.print(out);
        if (metrics.port().isPresent()) {
            export(settings, out);
        }
        return 0;
    }

    /** Serves {@code rlhf_consumer_group_lag_records} until the process is stopped. */
    private void export(Map<String, Object> settings, PrintWriter out) throws InterruptedException {
        Map<String, Object> adminProps = new HashMap<>(settings);
        adminProps.keySet().retainAll(AdminClientConfig.configNames());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "rlhf-status-shutdown"));
        try (ServiceMeters meters = ServiceMeters.create("status");
             Admin admin = Admin.create(adminProps);
             ConsumerGroupLag lag = new ConsumerGroupLag(admin, Duration.ofSeconds(timeoutSeconds))
                     .bindTo(meters.component("status"), Duration.ofSeconds(10));
             MetricsOptions.Serving endpoint = metrics.serve(meters, new HealthChecks()
                     .ready("connected", BrokerConnection.check(admin::metrics)), out)) {
            stopped.await();
        }
    }
}
