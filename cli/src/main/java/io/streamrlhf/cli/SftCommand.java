package io.streamrlhf.cli;

import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sft.OfflinePreferenceSet;
import io.streamrlhf.models.sft.SftConfig;
import io.streamrlhf.models.sft.SftJob;
import io.streamrlhf.models.sft.SftResult;
import io.streamrlhf.models.world.PreferenceRecord;
import io.streamrlhf.models.world.PreferenceSetGenerator;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.models.world.SyntheticWorld;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code rlhf sft}: trains the SFT policy on the synthetic world's corpus and writes its checkpoint. */
@Command(name = "sft", mixinStandardHelpOptions = true,
        description = {
                "Supervised fine-tuning of the demo's policy on the built-in synthetic world's corpus "
                        + "(next-token cross-entropy on responses, AdamW), with a progress bar; writes a policy "
                        + "checkpoint and prints the held-out perplexity before and after.",
                "With --preferences, also samples pairs from the trained policy, labels them with simulated "
                        + "raters and writes the offline preference set (JSONL) the first reward models train on."})
final class SftCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "checkpoints/sft-policy",
            description = "Checkpoint directory to write (replaced atomically). Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "" + SftConfig.DEMO_STEPS,
            description = "Optimiser steps. Default: ${DEFAULT-VALUE}, as rlhf demo.")
    int steps;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "Seeds the corpus, the initial weights and the batch order. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "PyTorch intra-op threads; 0 for all cores. Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--preferences", paramLabel = "FILE",
            description = "Also write an offline preference set (JSONL) sampled from the trained policy.")
    Path preferences;

    @Option(names = "--pairs", paramLabel = "N", defaultValue = "2000",
            description = "Pairs in the preference set. Default: ${DEFAULT-VALUE}.")
    int pairs;

    @Option(names = "--flip-share", paramLabel = "F", defaultValue = "0.1",
            description = "Share of rater labels flipped in the preference set. Default: ${DEFAULT-VALUE}.")
    double flipShare;

    @Option(names = "--tau", paramLabel = "T", defaultValue = "0.5",
            description = "Rater temperature on the gold scale: P(A>B) = sigmoid((gA - gB) / T). Default: ${DEFAULT-VALUE}.")
    double tau;

    @Option(names = "--no-progress", description = "Do not draw a progress bar.")
    boolean noProgress;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        ModelRuntime.init(threads);
        SftConfig config = SftConfig.demo().withSeed(seed).withSteps(steps);
        SftResult result = SftJob.run(config, out, !noProgress);
        err.printf("SFT policy written to %s: %d steps in %.1f s (%.1f CPU s), held-out perplexity %.2f -> %.2f%n",
                out.toAbsolutePath(), result.steps(), result.trainSeconds(), result.trainCpuSeconds(),
                result.initialPerplexity(), result.finalPerplexity());
        if (preferences != null) {
            SyntheticWorld world = SyntheticWorld.standard();
            try (TransformerPolicy policy = TransformerPolicy.fromCheckpoint(CheckpointStore.load(out))) {
                List<PreferenceRecord> set = OfflinePreferenceSet.generate(policy, world,
                        new SimulatedRater(tau, flipShare, seed + 2), pairs, seed + 3);
                PreferenceSetGenerator.writeJsonl(set, preferences);
                long flipped = set.stream().filter(PreferenceRecord::flipped).count();
                err.printf("Preference set written to %s: %d pairs, %d flipped labels%n",
                        preferences.toAbsolutePath(), set.size(), flipped);
            }
        }
        err.flush();
        return 0;
    }
}
