package io.streamrlhf.cli;

import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sft.CorpusSftConfig;
import io.streamrlhf.models.sft.CorpusSftResult;
import io.streamrlhf.models.sft.HfSftJob;
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
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf sft}: trains the SFT policy on the synthetic world's corpus and writes its checkpoint; with
 * {@code --model DIR --data FILE}, fine-tunes a Hugging Face causal LM on a user's JSONL corpus instead.
 */
@Command(name = "sft", mixinStandardHelpOptions = true,
        description = {
                "Supervised fine-tuning of the demo's policy on the built-in synthetic world's corpus "
                        + "(next-token cross-entropy on responses, AdamW), with a progress bar; writes a policy "
                        + "checkpoint and prints the held-out perplexity before and after.",
                "With --preferences, also samples pairs from the trained policy, labels them with simulated "
                        + "raters and writes the offline preference set (JSONL) the first reward models train on.",
                "With --model DIR --data FILE.jsonl, fine-tunes that Hugging Face causal LM (or 'hf' policy "
                        + "checkpoint) on the corpus instead: one {\"prompt\", \"response\"}, {\"messages\"} or "
                        + "{\"text\"} object per line, encoded with the model's tokenizer and chat template, the "
                        + "response (the last assistant turn, or the whole text) learned; prints the loss per learned "
                        + "token before and after and writes a policy checkpoint that rlhf learn --init-checkpoint "
                        + "takes."})
final class SftCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "checkpoints/sft-policy",
            description = "Checkpoint directory to write (replaced atomically). Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "" + SftConfig.DEMO_STEPS,
            description = "Optimiser steps. Default: ${DEFAULT-VALUE}, as rlhf demo; with --model, --epochs "
                    + "passes unless given.")
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

    @Option(names = "--model", paramLabel = "DIR",
            description = "A Hugging Face causal-LM folder (or an 'hf' policy checkpoint) to fine-tune on --data.")
    Path model;

    @Option(names = "--data", paramLabel = "FILE",
            description = "With --model: the JSONL corpus (see docs/models.md).")
    Path data;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "3",
            description = "With --model: passes over the corpus when --steps is not given. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8",
            description = "With --model: sequences per step. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "2e-5",
            description = "With --model: AdamW peak learning rate (cosine decay to 10 %% of it). "
                    + "Default: ${DEFAULT-VALUE}.")
    double learningRate;

    @Option(names = "--weight-decay", paramLabel = "W", defaultValue = "0",
            description = "With --model: AdamW decoupled weight decay. Default: ${DEFAULT-VALUE}.")
    double weightDecay;

    @Option(names = "--warmup-steps", paramLabel = "N", defaultValue = "0",
            description = "With --model: steps of linear learning-rate warm-up. Default: ${DEFAULT-VALUE}.")
    int warmupSteps;

    @Option(names = "--max-length", paramLabel = "N", defaultValue = "0",
            description = "With --model: longest sequence in tokens, longer ones cut (0: the model's context). "
                    + "Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        if (model != null) {
            return fineTuneModel(err);
        }
        for (String hfOnly : HF_ONLY) {
            if (given(hfOnly)) {
                throw new ParameterException(spec.commandLine(), hfOnly + " needs --model (the Hugging Face model "
                        + "to fine-tune)");
            }
        }
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

    /** Options of the --model path only. */
    private static final List<String> HF_ONLY = List.of("--data", "--epochs", "--batch", "--lr", "--weight-decay",
            "--warmup-steps", "--max-length");

    /** {@code rlhf sft --model DIR --data FILE}: the Hugging Face path. */
    private int fineTuneModel(PrintWriter err) {
        if (data == null) {
            throw new ParameterException(spec.commandLine(), "--model needs --data FILE.jsonl (the corpus to "
                    + "fine-tune on)");
        }
        for (String syntheticOnly : List.of("--preferences", "--pairs", "--flip-share", "--tau")) {
            if (given(syntheticOnly)) {
                throw new ParameterException(spec.commandLine(), syntheticOnly + " belongs to the synthetic world's "
                        + "policy and cannot be used with --model");
            }
        }
        if (given("--steps") && steps < 1) {
            throw new ParameterException(spec.commandLine(), "--steps must be >= 1, got " + steps);
        }
        CorpusSftConfig config = new CorpusSftConfig(epochs, given("--steps") ? steps : 0, batch, learningRate,
                weightDecay, warmupSteps, maxLength, seed);
        ModelRuntime.init(threads);
        CorpusSftResult result = HfSftJob.run(model, data, config, out, !noProgress);
        err.printf("Corpus: %s%n", result.corpusSummary());
        err.printf("SFT policy written to %s: %d steps in %.1f s, loss per learned token %.4f -> %.4f "
                        + "(on the corpus's first %d examples)%n", out.toAbsolutePath(), result.steps(),
                result.trainSeconds(), result.initialLoss(), result.finalLoss(), result.evalExamples());
        err.flush();
        return 0;
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }
}
