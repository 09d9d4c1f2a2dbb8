package io.streamrlhf.cli.bench;

import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.learner.app.FailoverBench;
import io.streamrlhf.models.bench.DeltaBench;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.hf.gpt2.Gpt2Config;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sft.SftConfig;
import io.streamrlhf.producer.swap.CheckpointFetcher;
import io.streamrlhf.producer.swap.KafkaChunkSource;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.chunks.ChunkIndex;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench failover}: on an embedded cluster, two learners of the demo policy on synthetic scored data, the
 * active one (a child JVM) SIGKILLed half-way, or silenced in this JVM with {@code --death SILENCE}
 * ({@link FailoverBench}), the standby taking over; then a worker fetches every
 * published version from the checkpoints topic (deltas applied), verifies and loads it. The last line is
 * {@code {"takeover_s":..., "bytes_per_version":..., "delta_bytes_per_version":..., "swap_p99_ms":...,
 * "versions_lost":..., "state_bytes_per_version":..., ...}} (the learners share no directory: the standby resumes
 * from the learner state published on Kafka); with {@code --gpt2} it adds the full and delta bytes and the swap p99 (apply, verify,
 * load; no Kafka) of a GPT-2-shaped Hugging Face policy under simulated Adam steps ({@link DeltaBench#runHf}).
 */
@Command(name = "failover", mixinStandardHelpOptions = true,
        description = {
            "Benchmarks the learner's failover on an embedded cluster: two learners of the demo policy, the active "
                    + "one (a child JVM) SIGKILLed after half the versions, the standby taking "
                    + "over; reports the takeover time, versions lost, bytes per full and per delta version, and a "
                    + "worker's swap p99 (fetch from Kafka, apply the delta, verify, load).",
            "With --gpt2 also the bytes and swap of a GPT-2-shaped Hugging Face policy (d 256, 4 layers, "
                    + "vocabulary 50257, safetensors weights) under simulated Adam steps, without Kafka."})
public final class BenchFailoverCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Print only the JSON line (no progress).")
    boolean json;

    @Option(names = "--versions", paramLabel = "N", defaultValue = "12",
            description = "Versions the learners publish in all (at least 4); the active one goes silent after half. "
                    + "Default: ${DEFAULT-VALUE}.")
    int versions;

    @Option(names = "--full-every", paramLabel = "K", defaultValue = "10",
            description = "learner.delta.full.every: a full version every K, deltas between (0 or 1: all full). "
                    + "Default: ${DEFAULT-VALUE}.")
    int fullEvery;

    @Option(names = "--session-timeout-ms", paramLabel = "MS", defaultValue = "10000",
            description = "learner.lease.session.timeout.ms: how long the group waits for a silent learner. "
                    + "Default: ${DEFAULT-VALUE}.")
    int sessionTimeoutMs;

    @Option(names = "--death", paramLabel = "HOW", defaultValue = "SIGKILL",
            description = "How the active learner dies: SIGKILL (a child JVM killed) or SILENCE (frozen in this JVM, "
                    + "as SIGSTOP leaves it, then fenced). Default: ${DEFAULT-VALUE}.")
    FailoverBench.Death death;

    @Option(names = "--gpt2", description = "Also measure a GPT-2-shaped policy's delta bytes and swap (no Kafka).")
    boolean gpt2;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() throws Exception {
        if (versions < 4 || fullEvery < 0 || sessionTimeoutMs < 6000) {
            spec.commandLine().getErr().println("rlhf bench failover: --versions must be >= 4, --full-every >= 0 and "
                    + "--session-timeout-ms >= 6000 (the broker's group.min.session.timeout.ms); got " + versions + ", " + fullEvery + ", " + sessionTimeoutMs);
            return 2;
        }
        PrintWriter out = spec.commandLine().getOut();
        Consumer<String> progress = json ? line -> { } : line -> {
            out.println(line);
            out.flush();
        };
        Path dir = Files.createTempDirectory("rlhf-bench-failover");
        Result result;
        try {
            progress.accept("starting an embedded cluster");
            try (EmbeddedCluster cluster = EmbeddedCluster.builder().dataDir(dir.resolve("cluster")).start()) {
                FailoverBench.Run run = FailoverBench.run(cluster.bootstrapServers(), cluster.registryUrl(),
                        dir.resolve("learners"), SftConfig.DEMO_MODEL, versions, fullEvery,
                        Duration.ofMillis(sessionTimeoutMs), death, seed, progress);
                result = measureSwaps(run.published(), run.settings(), run.init(), run.takeoverSeconds(), progress);
            }
        } finally {
            deleteQuietly(dir);
        }
        String line = result.toJson();
        if (gpt2) {
            ModelRuntime.init(Math.max(1, Runtime.getRuntime().availableProcessors()));
            progress.accept("GPT-2-shaped Hugging Face policy (vocabulary 50257, positions 1024, d 256, 4 layers)");
            Path folder = Files.createTempDirectory("rlhf-bench-gpt2");
            DeltaBench.Result big;
            try {
                // A GPT-2-shaped Hugging Face folder (d 256, 4 layers, GPT-2's vocabulary and positions), loaded as a
                // worker loads a brought model; its weights travel as safetensors bytes.
                TinyHfModels.write(folder, Gpt2Config.of(50257, 1024, 256, 4, 4, true), seed, SafetensorsDtype.F32, 1);
                TinyHfModels.writeTokenizer(folder, 50257);
                big = DeltaBench.runHf(folder, 1024, 4, 1, 1e-4, seed, progress);
            } finally {
                deleteQuietly(folder);
            }
            line = line.substring(0, line.length() - 1) + String.format(Locale.ROOT,
                    ",\"gpt2_bytes_per_version\":%.0f,\"gpt2_delta_bytes_per_version\":%.0f,"
                            + "\"gpt2_swap_p99_ms\":%.2f}", big.fullBytes(), big.deltaBytes(), big.swapP99Ms());
        }
        out.println(line);
        out.flush();
        return 0;
    }

    /**
     * What the run measured.
     *
     * @param takeoverSeconds      death (SIGKILL or silence) of the active learner → the standby's first new version
     * @param bytesPerVersion      mean chunk bytes of a full version
     * @param deltaBytesPerVersion mean chunk bytes of a delta version (NaN when none was published)
     * @param swapP99Ms            99th percentile of a worker's fetch + apply + verify + load, ms
     * @param versionsLost         versions missing between the first and the newest published
     * @param published            the published versions in order
     * @param stateBytesPerVersion mean bytes of the learner state published with a version (NaN when none was)
     */
    record Result(double takeoverSeconds, double bytesPerVersion, double deltaBytesPerVersion, double swapP99Ms,
                  long versionsLost, List<Long> published, double stateBytesPerVersion) {

        String toJson() {
            return String.format(Locale.ROOT, "{\"takeover_s\":%.3f,\"bytes_per_version\":%.0f,"
                            + "\"delta_bytes_per_version\":%s,\"swap_p99_ms\":%.2f,\"versions_lost\":%d,"
                            + "\"versions\":%d,\"state_bytes_per_version\":%s}", takeoverSeconds, bytesPerVersion,
                    Double.isNaN(deltaBytesPerVersion) ? "null"
                            : String.format(Locale.ROOT, "%.0f", deltaBytesPerVersion),
                    swapP99Ms, versionsLost, published.size(),
                    Double.isNaN(stateBytesPerVersion) ? "null"
                            : String.format(Locale.ROOT, "%.0f", stateBytesPerVersion));
        }
    }

    /**
     * A worker following the run: each published version fetched from the checkpoints topic (its delta applied to
     * the version before), verified and loaded into a running policy, in order.
     */
    static Result measureSwaps(List<PolicyVersion> records, Map<String, Object> settings, Path init, double takeover,
                               Consumer<String> progress) {
        Map<Long, Integer> chunkBytes = new HashMap<>();
        KafkaChunkSource kafka = new KafkaChunkSource(settings, Duration.ofSeconds(30));
        CheckpointFetcher fetcher = new CheckpointFetcher(new CheckpointFetcher.ChunkSource() {
            @Override
            public byte[] read(String topic, String name, long version) {
                return kafka.read(topic, name, version);
            }

            @Override
            public byte[] read(String topic, String name, long version, ChunkIndex index) {
                byte[] bytes = kafka.read(topic, name, version, index);
                if (index != null) {
                    chunkBytes.put(version, bytes.length);
                }
                return bytes;
            }
        });
        List<Long> versions = new ArrayList<>();
        long full = 0;
        int fulls = 0;
        long delta = 0;
        int deltas = 0;
        double[] swapMs = new double[records.size()];
        try (TransformerPolicy worker = TransformerPolicy.fromCheckpoint(CheckpointStore.load(init))) {
            for (int i = 0; i < records.size(); i++) {
                PolicyVersion r = records.get(i);
                long start = System.nanoTime();
                Checkpoint c = fetcher.fetch(r);
                worker.loadWeights(c);
                swapMs[i] = (System.nanoTime() - start) / 1e6;
                versions.add(r.getVersion());
                int bytes = chunkBytes.getOrDefault(r.getVersion(), 0);
                if (r.getDeltaBaseVersion() == null) {
                    full += bytes;
                    fulls++;
                } else {
                    delta += bytes;
                    deltas++;
                }
                progress.accept(String.format(Locale.ROOT, "version %d: %s, %,d bytes, swap %.1f ms", r.getVersion(),
                        r.getDeltaBaseVersion() == null ? "full" : "delta on " + r.getDeltaBaseVersion(), bytes,
                        swapMs[i]));
            }
        }
        long lost = versions.isEmpty() ? 0
                : versions.get(versions.size() - 1) - versions.get(0) + 1 - versions.stream().distinct().count();
        Arrays.sort(swapMs);
        double p99 = swapMs.length == 0 ? Double.NaN
                : swapMs[Math.min(swapMs.length - 1, (int) Math.ceil(0.99 * swapMs.length) - 1)];
        double stateBytes = records.stream().map(PolicyVersion::getStateSizeBytes).filter(java.util.Objects::nonNull)
                .mapToLong(Long::longValue).average().orElse(Double.NaN);
        return new Result(takeover, fulls == 0 ? Double.NaN : (double) full / fulls,
                deltas == 0 ? Double.NaN : (double) delta / deltas, p99, lost, versions, stateBytes);
    }


    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory: the OS cleans it eventually
        }
    }
}
