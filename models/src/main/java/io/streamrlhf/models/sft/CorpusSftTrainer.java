package io.streamrlhf.models.sft;

import ai.djl.training.optimizer.Optimizer;
import io.streamrlhf.models.policy.PolicyModel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import me.tongfei.progressbar.ProgressBar;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Supervised fine-tuning of any {@link PolicyModel} on an {@link EncodedCorpus}: next-token cross-entropy on the
 * learned tokens (a prompt is conditioned on), AdamW with linear warm-up and cosine decay to 10 %, global
 * gradient-norm clipping at 1 — {@link SftTrainer}'s step and schedule, on a user's corpus instead of the synthetic
 * world's. Batches come from shuffled epochs, grouped by similar length. The loss is measured before and after on
 * the corpus's first {@value #EVAL_EXAMPLES} sequences, without gradients.
 *
 * <p>Uses the JVM's one {@code GradientCollector}: do not run it beside another trainer in the same process.
 */
public final class CorpusSftTrainer {

    /** Sequences the loss before and after is measured on, at most. */
    public static final int EVAL_EXAMPLES = 256;

    private static final Logger LOG = LoggerFactory.getLogger(CorpusSftTrainer.class);
    private static final int POOL_BATCHES = 8;

    private final CorpusSftConfig config;

    /** A trainer with these settings. */
    public CorpusSftTrainer(CorpusSftConfig config) {
        this.config = config;
    }

    /**
     * Trains {@code policy} in place on {@code corpus} for {@link CorpusSftConfig#stepsFor} steps.
     *
     * @param padId        the padding id of the policy's tokenizer
     * @param showProgress draw a progress bar on stderr (for people at a terminal)
     */
    public CorpusSftResult train(PolicyModel policy, EncodedCorpus corpus, int padId, boolean showProgress) {
        int vocab = policy.config().vocabSize();
        for (EncodedCorpus.Sequence s : corpus.sequences()) {
            for (int id : s.ids()) {
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException(corpus.file() + ":" + s.line() + ": token id " + id
                            + " is outside the policy's vocabulary of " + vocab + " (is the corpus encoded with "
                            + "this model's tokenizer?)");
                }
            }
        }
        int steps = config.stepsFor(corpus.size());
        List<EncodedCorpus.Sequence> eval = corpus.sequences().subList(0, Math.min(EVAL_EXAMPLES, corpus.size()));
        double initial = SftEvaluation.meanLoss(policy, eval, padId, config.batchSize());
        policy.freeze(false);
        Optimizer adamW = Optimizer.adamW()
                .optLearningRateTracker(SftTrainer.schedule(config.warmupSteps(), steps, config.learningRate()))
                .optWeightDecays((float) config.weightDecay())
                .build();
        BatchOrder batches = new BatchOrder(corpus.sequences(), new SplittableRandom(config.seed() ^ 0x5f7L));
        long start = System.nanoTime();
        try (ProgressBar bar = showProgress ? SftTrainer.progressBar("SFT", steps) : null) {
            for (int s = 0; s < steps; s++) {
                double loss = SftTrainer.step(policy, adamW, SftBatch.of(batches.next(), padId,
                        policy.config().contextLength()));
                if (bar != null) {
                    bar.step();
                    bar.setExtraMessage(String.format(" loss %.3f", loss));
                }
                if (LOG.isDebugEnabled() && s % 50 == 0) {
                    LOG.debug("sft step {} loss {}", s, loss);
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double finalLoss = SftEvaluation.meanLoss(policy, eval, padId, config.batchSize());
        LOG.info("SFT on {}: {} steps in {} s, loss per learned token {} -> {}", corpus.file(), steps,
                String.format("%.1f", seconds), String.format("%.4f", initial), String.format("%.4f", finalLoss));
        return new CorpusSftResult(steps, corpus.size(), eval.size(), initial, finalLoss, seconds, corpus.summary());
    }

    /**
     * Shuffled epochs over the corpus, cut into batches of similar length: a pool of {@value #POOL_BATCHES} batches
     * is sorted by length, cut, and the batches shuffled, so padding stays small while every sequence is still seen
     * once per epoch (a batch larger than the corpus repeats sequences).
     */
    private final class BatchOrder {
        private final List<EncodedCorpus.Sequence> sequences;
        private final SplittableRandom random;
        private final ArrayDeque<List<EncodedCorpus.Sequence>> ready = new ArrayDeque<>();
        private int[] order;
        private int cursor;

        BatchOrder(List<EncodedCorpus.Sequence> sequences, SplittableRandom random) {
            this.sequences = sequences;
            this.random = random;
            this.order = SftTrainer.shuffled(sequences.size(), random);
        }

        List<EncodedCorpus.Sequence> next() {
            if (ready.isEmpty()) {
                int size = config.batchSize();
                int poolSize = Math.min(POOL_BATCHES * size, Math.max(size, sequences.size()));
                poolSize = (poolSize + size - 1) / size * size;
                List<EncodedCorpus.Sequence> pool = new ArrayList<>(poolSize);
                for (int i = 0; i < poolSize; i++) {
                    if (cursor == order.length) {
                        order = SftTrainer.shuffled(sequences.size(), random);
                        cursor = 0;
                    }
                    pool.add(sequences.get(order[cursor++]));
                }
                pool.sort(Comparator.comparingInt(s -> s.ids().length));
                List<List<EncodedCorpus.Sequence>> cut = new ArrayList<>();
                for (int i = 0; i < pool.size(); i += size) {
                    cut.add(pool.subList(i, i + size));
                }
                for (int i : SftTrainer.shuffled(cut.size(), random)) {
                    ready.add(cut.get(i));
                }
            }
            return ready.poll();
        }
    }
}
