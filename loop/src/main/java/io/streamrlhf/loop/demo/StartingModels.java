package io.streamrlhf.loop.demo;

import io.streamrlhf.learner.rm.EncodedPair;
import io.streamrlhf.learner.rm.PairEncoder;
import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.learner.rm.RmProgress;
import io.streamrlhf.learner.rm.RmTrainingConfig;
import io.streamrlhf.learner.rm.eval.RmEvaluation;
import io.streamrlhf.learner.rm.offline.RmPipeline;
import io.streamrlhf.learner.rm.offline.SyntheticPreferences;
import io.streamrlhf.learner.rm.online.RmCheckpoint;
import io.streamrlhf.learner.rm.online.RmCheckpointStore;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.sft.OfflinePreferenceSet;
import io.streamrlhf.models.sft.SftConfig;
import io.streamrlhf.models.sft.SftJob;
import io.streamrlhf.models.sft.SftResult;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.PreferenceRecord;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.models.world.SyntheticWorld;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The models the loop starts from: the SFT policy and the initial reward-model ensemble (Bradley–Terry on the offline
 * preference set: pairs of SFT samples labelled by simulated raters). Both are cached on disk under
 * {@link DemoOptions#cacheDir()}, keyed by every setting that shapes them, so only the first run pays for training.
 *
 * @param sftDir         the SFT policy checkpoint
 * @param rmMemberDirs   one checkpoint directory per reward model
 * @param rmShape        the reward models' shape (the online trainer continues with the same)
 * @param sftCached      whether the SFT policy came from the cache
 * @param rmCached       whether the reward models came from the cache
 * @param sftSeconds     time spent on SFT in this run (0 when cached)
 * @param rmSeconds      time spent making the preference set and training the reward models (0 when cached)
 * @param rmHeldOutAccuracy mean held-out pairwise accuracy of the members on the offline set (one pair in ten)
 */
public record StartingModels(Path sftDir, List<Path> rmMemberDirs, TransformerConfig rmShape, boolean sftCached,
                             boolean rmCached, double sftSeconds, double rmSeconds, double rmHeldOutAccuracy) {

    /** Rater temperature and flip share of the offline set (the world's defaults). */
    static final double TAU = SyntheticWorld.DEFAULT_TAU;
    static final double FLIP = SyntheticWorld.DEFAULT_FLIP_SHARE;
    private static final String ACCURACY_FILE = "heldout-accuracy.txt";

    /**
     * The reward models' shape: d 32, 1 layer, 2 heads, context 64. Measured on 3,600 pairs of SFT samples (τ 0.5, 10 %
     * flipped): held-out accuracy 0.63 and gold accuracy 0.72 against 0.64 / 0.74 for d 48 with 2 layers, at about
     * 60 % of the training time; the data, not the width, is what limits these models.
     */
    public static TransformerConfig rewardShape() {
        return new TransformerConfig(SyntheticWorld.standard().vocabulary().size(), 64, 32, 1, 2);
    }

    /** Learning rate of the initial reward models (AdamW; 3e-3 suits the small shape). */
    static final double RM_LEARNING_RATE = 3e-3;

    /** Loads both from the cache, or trains what is missing (SFT first: the preference set samples from it). */
    public static StartingModels prepare(DemoOptions options, PrintWriter log) {
        Path cache = options.cacheDir();
        Path sftDir = cache.resolve("sft-seed" + options.seed() + "-steps" + options.sftSteps());
        boolean sftCached = isCheckpoint(sftDir);
        double sftSeconds = 0;
        if (sftCached) {
            log.printf("SFT policy: cached at %s%n", sftDir);
        } else {
            log.printf("SFT policy: training %d steps on the synthetic corpus (first run only; cached at %s)%n",
                    options.sftSteps(), sftDir);
            log.flush();
            long t0 = System.nanoTime();
            SftResult r = SftJob.run(SftConfig.demo().withSeed(options.seed()).withSteps(options.sftSteps()), sftDir,
                    options.showProgress());
            sftSeconds = (System.nanoTime() - t0) / 1e9;
            log.printf("SFT policy: held-out perplexity %.2f -> %.2f in %.1f s%n", r.initialPerplexity(),
                    r.finalPerplexity(), sftSeconds);
        }
        TransformerConfig shape = rewardShape();
        Path rmDir = cache.resolve("rm-seed" + options.seed() + "-sft" + options.sftSteps() + "-pairs"
                + options.preferencePairs() + "-m" + options.rmEnsemble() + "-e" + options.rmEpochs() + "-d"
                + shape.dModel() + "l" + shape.layers() + "-" + options.rmMethod().replaceAll("[^A-Za-z0-9.]+", "_"));
        List<Path> members = new ArrayList<>();
        for (int m = 0; m < options.rmEnsemble(); m++) {
            members.add(rmDir.resolve("member-" + m));
        }
        boolean rmCached = members.stream().allMatch(StartingModels::isCheckpoint)
                && Files.exists(rmDir.resolve(ACCURACY_FILE));
        double rmSeconds = 0;
        double accuracy;
        if (rmCached) {
            accuracy = readAccuracy(rmDir.resolve(ACCURACY_FILE));
            log.printf("Reward models: %d cached at %s (held-out accuracy %.3f)%n", members.size(), rmDir, accuracy);
        } else {
            log.printf("Reward models: labelling %d pairs of SFT samples with simulated raters (τ %.1f, %.0f %% flipped) "
                    + "and training an ensemble of %d with %s (first run only)%n", options.preferencePairs(), TAU,
                    FLIP * 100, options.rmEnsemble(), options.rmMethod());
            log.flush();
            long t0 = System.nanoTime();
            accuracy = trainRewardModels(options, sftDir, shape, members);
            writeAccuracy(rmDir.resolve(ACCURACY_FILE), accuracy);
            rmSeconds = (System.nanoTime() - t0) / 1e9;
            log.printf("Reward models: held-out pairwise accuracy %.3f, %.1f s%n", accuracy, rmSeconds);
        }
        log.flush();
        return new StartingModels(sftDir, List.copyOf(members), shape, sftCached, rmCached, sftSeconds, rmSeconds,
                accuracy);
    }

    private static double trainRewardModels(DemoOptions options, Path sftDir, TransformerConfig shape,
                                            List<Path> memberDirs) {
        SyntheticWorld world = SyntheticWorld.standard();
        List<PreferenceRecord> records;
        try (TransformerPolicy sft = TransformerPolicy.fromCheckpoint(CheckpointStore.load(sftDir))) {
            records = OfflinePreferenceSet.generate(sft, world, new SimulatedRater(TAU, FLIP, options.seed() + 2),
                    options.preferencePairs(), options.seed() + 3);
        }
        PairEncoder encoder = PairEncoder.of(world.vocabulary());
        List<EncodedPair> train = new ArrayList<>();
        List<EncodedPair> heldOut = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            EncodedPair p = SyntheticPreferences.fromRecord(encoder, records.get(i), "offline-" + i);
            (i % 10 == 9 ? heldOut : train).add(p);
        }
        RmTrainingConfig config = new RmTrainingConfig(shape, options.rmEnsemble(), options.rmEpochs(), 32,
                RM_LEARNING_RATE, 0.01, 1.0, options.seed() + 7);
        RmMethod method = RmMethod.parse(options.rmMethod());
        RmPipeline.Outcome outcome = RmPipeline.train(config, method, train, List.of(), RmProgress.NONE);
        try {
            double accuracy = 0;
            for (int m = 0; m < outcome.ensemble().size(); m++) {
                TransformerRewardModel model = outcome.ensemble().member(m);
                accuracy += RmEvaluation.of(model, heldOut, List.of()).pairwiseAccuracy() / outcome.ensemble().size();
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("name", memberName(m));
                meta.put("version", "1");
                meta.put("method", method.name());
                meta.put("source", "demo-offline-preferences");
                CheckpointStore.save(model.toCheckpoint(meta, null), memberDirs.get(m));
            }
            return accuracy;
        } finally {
            outcome.ensemble().close();
        }
    }

    /** The name member m is scored and published under ({@code rm-<m>}, the online trainer's naming). */
    static String memberName(int m) {
        return "rm-" + m;
    }

    /**
     * Seeds the online trainer's checkpoint directory with the initial ensemble as its version 1 (no offsets: every
     * live preference is new to it), so its first round fine-tunes these models and publishes version 2.
     */
    public void seedOnlineTrainer(Path rmCheckpointDir) {
        List<Checkpoint> checkpoints = rmMemberDirs.stream().map(CheckpointStore::load).toList();
        new RmCheckpointStore(rmCheckpointDir).save(new RmCheckpoint(1, 0, checkpoints, Map.of(), 0, 0,
                Map.of("eval/pairwise_accuracy", rmHeldOutAccuracy)));
    }

    private static boolean isCheckpoint(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try {
            CheckpointStore.verify(dir);
            return true;
        } catch (RuntimeException e) {
            return false;  // half-written or damaged: train again
        }
    }

    private static void writeAccuracy(Path file, double accuracy) {
        try {
            Files.writeString(file, Double.toString(accuracy));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + file, e);
        }
    }

    private static double readAccuracy(Path file) {
        try {
            return Double.parseDouble(Files.readString(file).trim());
        } catch (Exception e) {
            return Double.NaN;
        }
    }
}
