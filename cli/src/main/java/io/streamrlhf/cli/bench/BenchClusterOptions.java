package io.streamrlhf.cli.bench;

import io.streamrlhf.schemas.bench.BenchCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * Where a Kafka benchmark runs (a picocli mixin): the embedded plaintext broker by default, an embedded secure one
 * ({@code --secure}), or the cluster a component's properties file describes ({@code --config}); with
 * {@code --compare-plaintext} also on an embedded plaintext broker first, the two side by side in one run.
 */
final class BenchClusterOptions {

    @Option(names = "--config", paramLabel = "FILE",
            description = "Run on the cluster this component properties file describes (e.g. the worker.properties or "
                    + "scorer.properties of 'rlhf cluster up --secure'); the measured component runs with it, the "
                    + "bench's own clients (input, versions, output) and its topics (bench-XXXXXXXX.*, deleted after) "
                    + "with --admin-config.")
    Path config;

    @Option(names = "--admin-config", paramLabel = "FILE",
            description = "Properties for the bench's own clients and topic set-up (default: admin.properties beside "
                    + "--config when it exists, else --config).")
    Path adminConfig;

    @Option(names = "--secure",
            description = "Run on an embedded broker made as 'rlhf cluster up --secure' makes it: TLS, SASL/SCRAM-SHA-512, "
                    + "the components' ACLs; the measured component runs as its own user.")
    boolean secure;

    @Option(names = "--compare-plaintext",
            description = "Also run on an embedded plaintext broker, in the order plaintext, secure, secure, plaintext "
                    + "(so that a machine that speeds up or slows down during the run favours neither side), and end "
                    + "with one JSON line comparing the means of both "
                    + "(plaintext_*, secure_*, ratio = secure / plaintext throughput, ratio_normalised = secure / "
                    + "plaintext of each run's ratio to its component without Kafka). Needs --secure or --config.")
    boolean comparePlaintext;

    /** The clusters to run on, in order, by label: {@code plaintext} and/or {@code secure}. */
    Map<String, Supplier<BenchCluster>> clusters(CommandSpec spec) {
        if (config != null && secure) {
            throw new ParameterException(spec.commandLine(), "--config and --secure exclude each other: --config runs "
                    + "on an existing cluster, --secure on an embedded one");
        }
        if (comparePlaintext && config == null && !secure) {
            throw new ParameterException(spec.commandLine(), "--compare-plaintext needs --secure or --config FILE");
        }
        if (adminConfig != null && config == null) {
            throw new ParameterException(spec.commandLine(), "--admin-config needs --config FILE");
        }
        for (Path file : new Path[] {config, adminConfig}) {
            if (file != null && !Files.isRegularFile(file)) {
                throw new ParameterException(spec.commandLine(), "config file " + file + " does not exist");
            }
        }
        Map<String, Supplier<BenchCluster>> clusters = new LinkedHashMap<>();
        if (config == null && !secure || comparePlaintext) {
            clusters.put("plaintext", EmbeddedBenchCluster::start);
        }
        if (secure) {
            clusters.put("secure", EmbeddedBenchCluster::startSecure);
        } else if (config != null) {
            Path admin = adminConfig != null ? adminConfig : EmbeddedBenchCluster.adminConfigBeside(config);
            clusters.put("secure", () -> EmbeddedBenchCluster.onCluster(config, admin));
        }
        return clusters;
    }

    /**
     * The order to run {@code labels} in: one run when there is one, else A B B A (plaintext, secure, secure,
     * plaintext), so that a linear drift in the machine's speed favours neither side.
     */
    static List<String> order(Collection<String> labels) {
        List<String> once = List.copyOf(labels);
        if (once.size() == 1) {
            return once;
        }
        return List.of(once.get(0), once.get(1), once.get(1), once.get(0));
    }

    /** The mean of each key over {@code runs} (every run has the same keys). */
    static Map<String, Double> mean(List<Map<String, Double>> runs) {
        Map<String, Double> mean = new LinkedHashMap<>();
        for (String key : runs.get(0).keySet()) {
            mean.put(key, runs.stream().mapToDouble(r -> r.get(key)).average().orElseThrow());
        }
        return mean;
    }

    /**
     * The comparison line: each of {@code keys} from both runs as {@code plaintext_KEY} and {@code secure_KEY}, then
     * {@code ratio} = secure / plaintext of the first key, and {@code ratio_normalised} = secure / plaintext of the
     * last key. The last key is each run's throughput against the same component without Kafka, measured in
     * alternation within that run: on a shared machine whose speed changes between the two runs it is the fairer
     * comparison.
     */
    static String comparison(Map<String, Double> plaintext, Map<String, Double> secure) {
        StringBuilder json = new StringBuilder("{");
        for (String key : plaintext.keySet()) {
            json.append(String.format(Locale.ROOT, "\"plaintext_%s\":%.3f, \"secure_%s\":%.3f, ", key,
                    plaintext.get(key), key, secure.get(key)));
        }
        String first = plaintext.keySet().iterator().next();
        String last = plaintext.keySet().stream().reduce((x, y) -> y).orElseThrow();
        json.append(String.format(Locale.ROOT, "\"ratio\":%.3f, \"ratio_normalised\":%.3f}",
                secure.get(first) / plaintext.get(first), secure.get(last) / plaintext.get(last)));
        return json.toString();
    }
}
