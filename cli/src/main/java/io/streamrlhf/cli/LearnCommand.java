package io.streamrlhf.cli;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.CommonOptions;
import io.streamrlhf.cli.config.MetricsOptions;
import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.app.LearnerMain;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.ops.ServiceMeters;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf learn}: the PPO-max learner as a service. Reads {@code scored} (read_committed), trains, checkpoints
 * and publishes {@code PolicyVersion}s until stopped (Ctrl-C / SIGTERM stop it after the current update).
 *
 * <p>Every learner ({@code learner.*}) and PPO ({@code ppo.*}) setting can be given in the {@code --config} file;
 * the flags below override the file.
 */
@Command(name = "learn", mixinStandardHelpOptions = true,
        description = {"Run the PPO-max learner: consume scored generations, train, checkpoint and publish policy "
                + "versions (exactly once across restarts).",
                "learner.* and ppo.* settings come from the --config file (see docs/learner.md); these flags override it."})
final class LearnCommand implements Callable<Integer> {

    @Mixin CommonOptions common;

    @Mixin MetricsOptions metrics;

    @Spec CommandSpec spec;

    @Option(names = {"--model", "--init-checkpoint"}, paramLabel = "DIR|URI",
            description = {"Policy to start from and keep as the KL reference: a Hugging Face causal-LM folder "
                    + "(GPT-2, Llama, Qwen2, Mistral; config.json, safetensors, tokenizer.json), trained with a value "
                    + "head, a policy checkpoint directory (normally the SFT policy), or a full version published "
                    + "on Kafka, kafka:<checkpoints topic>/<policy>/<version>, for a learner that shares no disk."})
    String initCheckpoint;

    @Option(names = "--from", paramLabel = "TOPIC",
            description = "Train from this topic (full name) instead of the catalog's scored topic, e.g. one 'rlhf "
                    + "rescore --to' wrote (learner.scored.topic).")
    String from;

    @Option(names = "--start", paramLabel = "POS",
            description = "Where to start reading a partition no checkpoint knows: earliest (default), latest, an "
                    + "offset or an ISO-8601 time (learner.start).")
    String start;

    @Option(names = "--checkpoint-dir", paramLabel = "DIR", description = "Directory of learner checkpoints.")
    Path checkpointDir;

    @Option(names = "--policy-name", paramLabel = "NAME", description = "Name of the policy on policy.versions.")
    String policyName;

    @Option(names = "--max-updates", paramLabel = "N", description = "Stop after N updates in total (0: run until stopped).")
    Long maxUpdates;

    @Option(names = "--threads", paramLabel = "N", description = "PyTorch intra-op threads (0: all cores).")
    Integer threads;

    @Option(names = "--ptx-data", paramLabel = "FILE",
            description = {"JSONL corpus for PPO-ptx (learner.ptx.data; needs ppo.ptx.coef > 0 and a Hugging Face "
                    + "policy): one {\"prompt\", \"response\"}, {\"messages\"} or {\"text\"} object per line, "
                    + "encoded with the policy's tokenizer and chat template. Without it PPO-ptx uses the synthetic "
                    + "world's corpus."})
    Path ptxData;

    @Override
    public Integer call() {
        AtomicReference<MetricsOptions.Serving> endpoint = new AtomicReference<>(MetricsOptions.Serving.NONE);
        try (ServiceMeters meters = ServiceMeters.create("learn")) {
            LearnerMain.run(settings(), meters.component("learn"), learner -> endpoint.set(
                    metrics.serve(meters, learner.health(new HealthChecks()), spec.commandLine().getOut())));
        } finally {
            endpoint.get().close();
        }
        return 0;
    }

    /** The learner's settings: the flags over the common configuration (environment, --config file, defaults). */
    Map<String, Object> settings() {
        CommonConfig config = common.resolve();
        Map<String, Object> settings = config.settings();
        settings.putAll(config.clientProperties());
        put(settings, LearnerConfig.INIT_CHECKPOINT, initCheckpoint);
        put(settings, LearnerConfig.CHECKPOINT_DIR, checkpointDir);
        put(settings, LearnerConfig.POLICY_NAME, policyName);
        put(settings, LearnerConfig.MAX_UPDATES, maxUpdates);
        put(settings, LearnerConfig.THREADS, threads);
        put(settings, LearnerConfig.PTX_DATA, ptxData);
        put(settings, LearnerConfig.SCORED_TOPIC, from);
        put(settings, LearnerConfig.START, start);
        return settings;
    }

    private static void put(Map<String, Object> settings, String key, Object value) {
        if (value != null) {
            settings.put(key, value.toString());
        }
    }
}
