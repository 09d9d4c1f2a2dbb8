package io.streamrlhf.cli;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.CommonOptions;
import io.streamrlhf.cli.config.MetricsOptions;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.ops.ServiceMeters;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.rewardstream.app.ScoringApp;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf score}: runs the reward stream (generations → scored, feedback → preferences, rm.versions hot swap)
 * until stopped. The ensemble and its settings come from the config file ({@code reward.sources=...}), the
 * {@code RLHF_REWARD_SOURCES}-style environment variables, or the flags below.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Run the reward stream: score 'generations' into 'scored' with a reward ensemble (micro-batched, "
                + "exactly-once), join 'feedback' into 'preferences', dead-letter bad records, hot-swap reward models "
                + "from 'rm.versions'. Runs until stopped (Ctrl-C).",
                "Reward settings (reward.sources, reward.aggregation, scoring.batch.size, ...) are read from --config "
                        + "FILE and RLHF_* variables (e.g. RLHF_REWARD_SOURCES); see docs/reward-stream.md."})
final class ScoreCommand implements Callable<Integer> {

    @Mixin CommonOptions common;

    @Mixin MetricsOptions metrics;

    @Option(names = {"--reward", "--sources"}, paramLabel = "SPECS",
            description = "The ensemble, overriding reward.sources: comma-separated specs such as "
                    + "'rm:/ckpt/rm-0,rule:length,judge:http://host/v1/chat/completions;model=m'; hf:DIR takes a "
                    + "Hugging Face *ForSequenceClassification folder with its tokenizer; verify:numeric (or exact, "
                    + "normalised, json-schema) checks responses against the prompts' reference answers "
                    + "(docs/reward-stream.md).")
    String sources;

    @Option(names = "--aggregation", paramLabel = "NAME",
            description = "mean, min, mean_minus_k_std or majority_vote (overrides reward.aggregation).")
    String aggregation;

    @Option(names = "--reference", paramLabel = "DIR",
            description = "The frozen reference policy, as the learner's learner.init.checkpoint names it (a "
                    + "checkpoint directory or a Hugging Face folder): scored records then carry its log-probs, and the learner skips its "
                    + "own reference forward (scoring.reference.checkpoint).")
    String reference;

    @Option(names = "--batch-size", paramLabel = "B", description = "Records per micro-batch (scoring.batch.size).")
    Integer batchSize;

    @Option(names = "--max-wait-ms", paramLabel = "T",
            description = "Longest wait of a partial batch in ms (scoring.batch.max.wait.ms).")
    Long maxWaitMs;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Kafka Streams' state directory (reward.stream.state.dir); one per instance on a machine.")
    String stateDir;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Map<String, Object> settings = settings(System.getenv());
        PrintWriter out = spec.commandLine().getOut();
        try (ServiceMeters meters = ServiceMeters.create("score");
             ScoringApp app = ScoringApp.create(settings, meters.component("score"));
             MetricsOptions.Serving endpoint = metrics.serve(meters, app.health(new HealthChecks()), out)) {
            out.printf("reward stream %s: ensemble %s, %s, batch %d / %d ms, pipeline %s, reference %s%n",
                    app.config().applicationId(),
                    app.ensemble().sources().stream().map(s -> s.name() + " v" + s.version()).toList(),
                    app.ensemble().aggregation().wireName(), app.config().batchSize(),
                    app.config().batchMaxWait().toMillis(), app.config().pipelined() ? "on" : "off",
                    app.config().referenceCheckpoint().map(Object::toString).orElse("none (the learner runs it)"));
            out.flush();
            app.start();
            if (app.awaitReady(Duration.ofMinutes(2))) {
                out.println("ready: scoring (Ctrl-C to stop)");
            } else {
                out.println("not ready after 2 minutes (state " + app.state() + "); still trying");
            }
            out.flush();
            app.awaitTermination();
            return app.state() == KafkaStreams.State.ERROR ? 1 : 0;
        }
    }

    /** The reward stream's settings: the flags over {@link #settings(CommonConfig, Map)}. */
    Map<String, Object> settings(Map<String, String> env) {
        Map<String, Object> settings = settings(common.resolve(), env);
        put(settings, RewardStreamConfig.SOURCES, sources);
        put(settings, RewardStreamConfig.AGGREGATION, aggregation);
        put(settings, RewardStreamConfig.BATCH_SIZE, batchSize);
        put(settings, RewardStreamConfig.BATCH_MAX_WAIT_MS, maxWaitMs);
        put(settings, RewardStreamConfig.REFERENCE_CHECKPOINT, reference);
        put(settings, RewardStreamConfig.STATE_DIR, stateDir);
        return settings;
    }

    /**
     * The common settings plus the reward-stream keys from the environment ({@code RLHF_} + key upper-cased, dots
     * as underscores), which override the config file as the common keys do.
     */
    static Map<String, Object> settings(CommonConfig config, Map<String, String> env) {
        Map<String, Object> settings = config.settings();
        settings.putAll(config.clientProperties());
        for (String key : RewardStreamConfig.definition().names()) {
            String value = env.get(CommonConfig.envName(key));
            if (value != null) {
                settings.put(key, value);
            }
        }
        return settings;
    }

    private static void put(Map<String, Object> settings, String key, Object value) {
        if (value != null) {
            settings.put(key, value);
        }
    }
}
