package io.streamrlhf.cli;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.CommonOptions;
import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.app.LearnerMain;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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

    @Option(names = {"--model", "--init-checkpoint"}, paramLabel = "DIR",
            description = {"Policy to start from and keep as the KL reference: a Hugging Face causal-LM folder "
                    + "(GPT-2, Llama, Qwen2, Mistral; config.json, safetensors, tokenizer.json), trained with a value "
                    + "head, or a policy checkpoint directory (normally the SFT policy)."})
    Path initCheckpoint;

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
        LearnerMain.run(settings());
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
        return settings;
    }

    private static void put(Map<String, Object> settings, String key, Object value) {
        if (value != null) {
            settings.put(key, value.toString());
        }
    }
}
