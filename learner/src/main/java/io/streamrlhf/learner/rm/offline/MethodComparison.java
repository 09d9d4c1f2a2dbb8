package io.streamrlhf.learner.rm.offline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.learner.rm.PairEncoder;
import io.streamrlhf.learner.rm.PairStrength;
import io.streamrlhf.learner.rm.PreferenceRelabeling;
import io.streamrlhf.learner.rm.RewardModelFactory;
import io.streamrlhf.learner.rm.RewardModelTrainer;
import io.streamrlhf.learner.rm.RmEnsemble;
import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.learner.rm.RmProgress;
import io.streamrlhf.learner.rm.RmTrainingConfig;
import io.streamrlhf.learner.rm.TrainingPair;
import io.streamrlhf.learner.rm.eval.RmEvaluation;
import io.streamrlhf.models.reward.RewardModel;
import io.streamrlhf.models.world.SyntheticWorld;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The benchmark of Secrets of RLHF Part II's methods on the synthetic world: for each seed, one data
 * set with a share of flipped labels, one Bradley–Terry ensemble that measures every training pair's
 * strength, and one reward model per method trained on the same pairs from the same initial weights
 * and data order; each is evaluated on held-out pairs (against their noisy labels and the gold reward)
 * and on Best-of-N groups. Reported: means over the seeds, and each seed's numbers.
 */
public final class MethodComparison {

    private static final Logger LOG = LoggerFactory.getLogger(MethodComparison.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private MethodComparison() {
    }

    /**
     * What to compare.
     *
     * @param config       training settings; its seed is the base seed, its ensemble size M
     * @param methods      the methods ({@code bt} is member 0 of the strength ensemble)
     * @param seeds        how many seeds (data sets and initialisations)
     * @param trainPairs   training pairs per seed
     * @param heldOutPairs held-out pairs per seed
     * @param groups       Best-of-N groups per seed
     * @param groupSize    responses per group
     * @param flipRate     share of flipped rater labels
     */
    public record Settings(RmTrainingConfig config, List<RmMethod> methods, int seeds, int trainPairs, int heldOutPairs,
                           int groups, int groupSize, double flipRate) {

        /** Checks the values. */
        public Settings {
            methods = List.copyOf(methods);
            if (methods.isEmpty() || seeds < 1 || trainPairs < config.batchSize() || heldOutPairs < 1 || groups < 0
                    || groupSize < 2 || flipRate < 0 || flipRate > 1) {
                throw new IllegalArgumentException("MethodComparison.Settings: need >= 1 method and seed, trainPairs >= "
                        + "batchSize, heldOutPairs >= 1, groupSize >= 2 and flipRate in [0, 1]; got methods=" + methods.size()
                        + " seeds=" + seeds + " trainPairs=" + trainPairs + " heldOutPairs=" + heldOutPairs
                        + " groupSize=" + groupSize + " flipRate=" + flipRate);
            }
        }
    }

    /**
     * One method's numbers.
     *
     * @param goldAccuracy    mean over seeds of held-out accuracy against the gold reward
     * @param heldOutAccuracy mean over seeds of held-out accuracy against the (noisy) labels
     * @param bestOfNAccuracy mean over seeds of Best-of-N accuracy
     * @param goldPerSeed     gold accuracy of each seed
     * @param heldOutPerSeed  held-out accuracy of each seed
     * @param meanFlipped     mean number of training labels the method flipped
     */
    public record MethodResult(String method, double goldAccuracy, double heldOutAccuracy, double bestOfNAccuracy,
                               double[] goldPerSeed, double[] heldOutPerSeed, double meanFlipped) {
    }

    /**
     * The comparison.
     *
     * @param methods          results by method name, in the order asked
     * @param flipPrecision    over seeds, share of pairs with μ̂ &lt; 0 whose label the rater really flipped
     * @param flipRecall       over seeds, share of the rater's flipped labels that have μ̂ &lt; 0
     * @param observedFlipRate share of training labels the rater flipped
     * @param seconds          wall time
     */
    public record Result(double flipRate, int seeds, Map<String, MethodResult> methods, double flipPrecision,
                         double flipRecall, double observedFlipRate, double seconds) {

        /** The benchmark's one-line JSON: {@code {"flip_rate":..,"seeds":..,"methods":{"bt":{"gold_acc":..,...}}}}. */
        public String toJson() {
            ObjectNode root = JSON.createObjectNode();
            root.put("flip_rate", flipRate);
            root.put("seeds", seeds);
            ObjectNode ms = root.putObject("methods");
            methods.forEach((name, r) -> {
                ObjectNode m = ms.putObject(name);
                m.put("gold_acc", round(r.goldAccuracy()));
                m.put("heldout_acc", round(r.heldOutAccuracy()));
                if (!Double.isNaN(r.bestOfNAccuracy())) {
                    m.put("bon_acc", round(r.bestOfNAccuracy()));
                }
                m.put("flipped", round(r.meanFlipped()));
            });
            root.put("flip_precision", round(flipPrecision));
            root.put("flip_recall", round(flipRecall));
            root.put("observed_flip_rate", round(observedFlipRate));
            root.put("seconds", Math.round(seconds * 10) / 10.0);
            try {
                return JSON.writeValueAsString(root);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static double round(double v) {
            return Double.isNaN(v) ? v : Math.round(v * 10000) / 10000.0;
        }
    }

    /** Runs the comparison on the standard synthetic world with transformer reward models of {@code config.model()}. */
    public static Result run(Settings s, RmProgress progress) {
        SyntheticWorld world = SyntheticWorld.standard();
        return run(s, RewardModelFactory.transformer(s.config().model()),
                dataSeed -> SyntheticPreferences.generate(world, s.trainPairs(), s.heldOutPairs(), s.groups(),
                        s.groupSize(), s.flipRate(), dataSeed), progress);
    }

    /**
     * Runs the comparison on the standard synthetic world with the reward models {@code models} makes, on the world's
     * texts encoded by {@code encoder} (the same texts, labels and gold rewards as {@link #run(Settings, RmProgress)}).
     */
    public static Result run(Settings s, RewardModelFactory models, PairEncoder encoder, RmProgress progress) {
        SyntheticWorld world = SyntheticWorld.standard();
        return run(s, models, dataSeed -> SyntheticPreferences.generate(world, encoder, s.trainPairs(),
                s.heldOutPairs(), s.groups(), s.groupSize(), s.flipRate(), dataSeed), progress);
    }

    private static Result run(Settings s, RewardModelFactory models, LongFunction<SyntheticPreferences> dataOf,
                              RmProgress progress) {
        long start = System.nanoTime();
        int k = s.methods().size();
        double[][] gold = new double[k][s.seeds()];
        double[][] held = new double[k][s.seeds()];
        double[][] bon = new double[k][s.seeds()];
        double[] flipped = new double[k];
        long truePositives = 0;
        long predicted = 0;
        long actual = 0;
        long trainTotal = 0;
        for (int seed = 0; seed < s.seeds(); seed++) {
            long dataSeed = s.config().seed() * 1000 + seed;
            SyntheticPreferences data = dataOf.apply(dataSeed);
            RmTrainingConfig config = s.config().withSeed(s.config().seed() + 100L * seed);
            try (RmEnsemble ensemble = RmEnsemble.create(config, RmMethod.BRADLEY_TERRY, models)) {
                ensemble.train(data.train().stream().map(TrainingPair::plain).toList(), List.of(), progress);
                List<PairStrength> strengths = ensemble.strengths(data.train());
                for (int i = 0; i < strengths.size(); i++) {
                    boolean negative = strengths.get(i).mean() < 0;
                    boolean wasFlipped = Boolean.TRUE.equals(data.train().get(i).raterFlipped());
                    predicted += negative ? 1 : 0;
                    actual += wasFlipped ? 1 : 0;
                    truePositives += negative && wasFlipped ? 1 : 0;
                }
                trainTotal += data.train().size();
                for (int mi = 0; mi < k; mi++) {
                    RmMethod method = s.methods().get(mi);
                    RmEvaluation eval;
                    if (isPlainBradleyTerry(method)) {
                        // Member 0 is exactly this model: same seed, same data order, plain Bradley–Terry.
                        eval = RmEvaluation.of(ensemble.model(0), data.heldOut(), data.bestOfN());
                    } else {
                        List<TrainingPair> pairs = PreferenceRelabeling.prepare(data.train(), strengths, method);
                        flipped[mi] += pairs.stream().filter(TrainingPair::flipped).count() / (double) s.seeds();
                        try (RewardModel model = models.create(config.seed())) {
                            new RewardModelTrainer(model, config, method, config.seed())
                                    .train(pairs, List.of(), progress, method.name());
                            eval = RmEvaluation.of(model, data.heldOut(), data.bestOfN());
                        }
                    }
                    gold[mi][seed] = eval.goldAccuracy();
                    held[mi][seed] = eval.pairwiseAccuracy();
                    bon[mi][seed] = eval.bestOfNAccuracy();
                    LOG.info("seed {} method {}: gold {} held-out {} BoN {}", seed, method.name(),
                            fmt(eval.goldAccuracy()), fmt(eval.pairwiseAccuracy()), fmt(eval.bestOfNAccuracy()));
                }
            }
        }
        Map<String, MethodResult> results = new LinkedHashMap<>();
        for (int mi = 0; mi < k; mi++) {
            results.put(s.methods().get(mi).name(), new MethodResult(s.methods().get(mi).name(), mean(gold[mi]),
                    mean(held[mi]), mean(bon[mi]), gold[mi], held[mi], flipped[mi]));
        }
        return new Result(s.flipRate(), s.seeds(), results, predicted == 0 ? 0 : (double) truePositives / predicted,
                actual == 0 ? 0 : (double) truePositives / actual, (double) actual / trainTotal,
                (System.nanoTime() - start) / 1e9);
    }

    /** Parses a comma-separated list of method names ({@code bt,flip,smooth,margin,flip+margin}). */
    public static List<RmMethod> methods(String commaSeparated) {
        List<RmMethod> out = new ArrayList<>();
        for (String name : commaSeparated.split(",")) {
            if (!name.isBlank()) {
                out.add(RmMethod.parse(name.trim()));
            }
        }
        return out;
    }

    static boolean isPlainBradleyTerry(RmMethod m) {
        return m.flip() == RmMethod.FlipMode.NONE && !m.adaptiveMargin() && m.labelSmoothing() == 0 && !m.contrastive()
                && !m.meta();
    }

    private static double mean(double[] xs) {
        double sum = 0;
        int n = 0;
        for (double x : xs) {
            if (!Double.isNaN(x)) {
                sum += x;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    private static String fmt(double v) {
        return String.format(java.util.Locale.ROOT, "%.4f", v);
    }
}
