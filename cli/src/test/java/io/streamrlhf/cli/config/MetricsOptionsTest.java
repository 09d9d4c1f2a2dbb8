package io.streamrlhf.cli.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.ops.PrometheusText;
import io.streamrlhf.ops.ServiceMeters;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code --metrics-port}: parsed by picocli, served on a free port with 0, announced as {@code metrics=URL}. */
class MetricsOptionsTest {

    @Command(name = "svc")
    static final class Svc implements Callable<Integer> {
        @Mixin MetricsOptions metrics;

        @Override
        public Integer call() {
            return 0;
        }
    }

    @Test
    void portZeroServesOnAFreePortAndPrintsTheUrl() throws Exception {
        Svc svc = new Svc();
        new CommandLine(svc).parseArgs("--metrics-port", "0", "--metrics-bind", "127.0.0.1");
        assertThat(svc.metrics.port()).hasValue(0);
        StringWriter out = new StringWriter();
        try (ServiceMeters meters = ServiceMeters.create("worker");
             MetricsOptions.Serving serving = svc.metrics.serve(meters,
                     new HealthChecks().ready("model loaded", () -> true), new PrintWriter(out))) {
            assertThat(serving.endpoint()).isPresent();
            String line = out.toString().strip();
            assertThat(line).matches("metrics=http://127\\.0\\.0\\.1:\\d+/metrics");
            URI url = URI.create(line.substring("metrics=".length()));
            assertThat(url.getPort()).isEqualTo(serving.endpoint().get().port()).isPositive();
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(url).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(PrometheusText.parse(r.body()).sum("rlhf_ready", Map.of("component", "worker"))).isEqualTo(1);
        }
    }

    @Test
    void withoutTheFlagNothingIsServedOrPrinted() {
        Svc svc = new Svc();
        new CommandLine(svc).parseArgs();
        assumeTrue(System.getenv(MetricsOptions.PORT_ENV) == null, MetricsOptions.PORT_ENV + " is set here");
        StringWriter out = new StringWriter();
        try (ServiceMeters meters = ServiceMeters.create("worker")) {
            assertThat(svc.metrics.serve(meters, new HealthChecks(), new PrintWriter(out)).endpoint()).isEmpty();
        }
        assertThat(out.toString()).isEmpty();
    }
}
