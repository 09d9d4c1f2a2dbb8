package io.streamrlhf.cli;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.CommonOptions;
import io.streamrlhf.cli.config.MetricsOptions;
import io.streamrlhf.models.checkpoint.CheckpointCopy;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.ops.ServiceMeters;
import io.streamrlhf.producer.worker.PolicyWorker;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.producer.worker.WorkerPool;
import io.streamrlhf.schemas.chunks.PublishedPolicyCheckpoint;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf worker}: policy workers as a service. Consumes {@code prompts}, publishes {@code generations}
 * exactly once, and hot-swaps to each new version on {@code policy.versions} until stopped (Ctrl-C / SIGTERM
 * finish or abort the open transaction within {@code worker.shutdown.grace.ms}).
 *
 * <p>Every {@code worker.*} setting ({@link WorkerConfig}) can be given in the {@code --config} file; the flags
 * below override it.
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = {"Run policy workers: consume prompts, sample responses, publish generations and the prompt "
                + "offsets in one transaction (exactly once), and hot-swap to new policy versions.",
                "worker.* settings come from the --config file (see docs/producer.md); these flags override it."})
final class WorkerCommand implements Callable<Integer> {

    @Mixin CommonOptions common;

    @Mixin MetricsOptions metrics;

    @Spec CommandSpec spec;

    @Option(names = "--policy", paramLabel = "NAME", description = "Policy to serve (its key on policy.versions).")
    String policy;

    @Option(names = "--batch", paramLabel = "N",
            description = "Most sequences (prompts x samples) per sampling call and transaction.")
    Integer batch;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "1",
            description = "Workers in this process, each with its own policy copy (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--max-wait-ms", paramLabel = "MS", description = "Longest wait for a batch to fill.")
    Long maxWaitMs;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "Most tokens sampled per response.")
    Integer maxNewTokens;

    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature.")
    Double temperature;

    @Option(names = "--worker-id", paramLabel = "ID",
            description = "Stable id of this worker (default <host>-w<n>, stable across restarts on this host); part of its transactional.id.")
    String workerId;

    @Option(names = {"--model", "--checkpoint"}, paramLabel = "DIR|URI",
            description = {"Policy to serve while nothing is published on policy.versions: a Hugging Face causal-LM "
                    + "folder (its tokenizer and chat_template encode the prompts), a policy checkpoint directory, or "
                    + "a version published on Kafka, kafka:<checkpoints topic>/<policy>/<version> (checked as "
                    + "published versions are, fetched once into --cache-dir). Published versions replace it; they "
                    + "carry their own tokenizer files."})
    String checkpoint;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Where a kafka: --checkpoint is kept once fetched (default: ~/.cache/streamrlhf/published).")
    Path cacheDir;

    @Option(names = "--checkpoint-version", paramLabel = "V", defaultValue = "0",
            description = "Version number generations from --model carry (default ${DEFAULT-VALUE}).")
    long checkpointVersion;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "PyTorch intra-op threads (0: all cores).")
    int threads;

    /** How long a kafka: starting policy may take to be found and read. */
    private static final Duration STARTING_POLICY_TIMEOUT = Duration.ofSeconds(60);

    @Override
    public Integer call() throws Exception {
        Map<String, Object> settings = settings();
        ModelRuntime.init(threads);
        Optional<WorkerPool.Bootstrap> bootstrap = checkpoint == null ? Optional.empty()
                : Optional.of(new WorkerPool.Bootstrap(PolicyLoader.initialCheckpoint(startingPolicy(settings), 0),
                        checkpointVersion));
        ServiceMeters meters = ServiceMeters.create("worker");
        WorkerPool pool = new WorkerPool(settings, workers, bootstrap, meters.component("worker"));
        MetricsOptions.Serving endpoint = metrics.serve(meters, pool.health(new HealthChecks()),
                spec.commandLine().getOut());
        Thread hook = new Thread(pool::close, "rlhf-worker-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            pool.start();
            pool.awaitTermination();
            pool.close();
        } finally {
            endpoint.close();
            meters.close();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down
        }
        boolean failed = false;
        for (PolicyWorker w : pool.workers()) {
            if (w.failure().isPresent()) {
                System.err.println("worker " + w.workerId() + " failed: " + w.failure().get().getMessage());
                failed = true;
            }
        }
        return failed ? 1 : 0;
    }

    /** The local directory of {@code --checkpoint}: itself, or the published version it names, fetched. */
    private Path startingPolicy(Map<String, Object> settings) {
        Path cache = cacheDir != null ? cacheDir
                : Path.of(System.getProperty("user.home"), ".cache", "streamrlhf", "published");
        return PublishedPolicyCheckpoint.resolve("--checkpoint", checkpoint, cache, Topics.create(settings), settings,
                STARTING_POLICY_TIMEOUT, PublishedPolicyCheckpoint.LocalCopies.of(CheckpointCopy::holds,
                        CheckpointCopy::write));
    }

    /** The workers' settings: the flags over the common configuration (environment, --config file, defaults). */
    Map<String, Object> settings() {
        CommonConfig config = common.resolve();
        Map<String, Object> settings = config.settings();
        settings.putAll(config.clientProperties());
        put(settings, WorkerConfig.POLICY_NAME, policy);
        put(settings, WorkerConfig.BATCH_MAX_SIZE, batch);
        put(settings, WorkerConfig.BATCH_MAX_WAIT_MS, maxWaitMs);
        put(settings, WorkerConfig.MAX_NEW_TOKENS, maxNewTokens);
        put(settings, WorkerConfig.TEMPERATURE, temperature);
        put(settings, WorkerConfig.WORKER_ID, workerId);
        return settings;
    }

    private static void put(Map<String, Object> settings, String key, Object value) {
        if (value != null) {
            settings.put(key, value.toString());
        }
    }
}
