package io.streamrlhf.learner.ppo;

import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.Sampler;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.models.world.WorldPrompt;
import java.util.ArrayList;
import java.util.List;

/**
 * PPO-max on the synthetic world without Kafka: draw prompts, sample a group of responses per
 * prompt from the current policy, score them with the world's gold reward, update, repeat. Each
 * update publishes (in memory) a new version, so every batch is on-policy. Used by the learning
 * test and for quick experiments; the streaming learner does the same with topics in between.
 */
public final class OfflinePpoLoop {

    /**
     * One iteration.
     *
     * @param update   the update's number, from 1
     * @param goldMean mean gold reward of the batch it trained on (sampled before the update)
     * @param stats    the update's metrics
     */
    public record Iteration(int update, double goldMean, PpoStats stats) {
    }

    private final SyntheticWorld world;
    private final Vocabulary vocabulary;
    private final PpoUpdate ppo;
    private final Sampler sampler;
    private final int prompts;
    private final int groupSize;
    private final int maxNewTokens;
    private final long seed;
    private long version;
    private int iteration;

    /**
     * @param world        the synthetic world (prompts and gold reward)
     * @param ppo          the update, over {@code policy}
     * @param policy       the policy it trains (sampled from)
     * @param prompts      prompts per batch
     * @param groupSize    responses per prompt
     * @param maxNewTokens response budget
     * @param seed         seeds prompts and sampling
     */
    public OfflinePpoLoop(SyntheticWorld world, PpoUpdate ppo, TransformerPolicy policy, int prompts, int groupSize,
                          int maxNewTokens, long seed) {
        this.world = world;
        this.vocabulary = world.vocabulary();
        this.ppo = ppo;
        this.sampler = new Sampler(policy);
        this.prompts = prompts;
        this.groupSize = groupSize;
        this.maxNewTokens = maxNewTokens;
        this.seed = seed;
    }

    /** Samples a batch, scores it with the gold reward and runs one update. */
    public Iteration iterate() {
        iteration++;
        List<WorldPrompt> drawn = world.prompts(seed * 1_000_003L + iteration).next(prompts);
        Batch batch = sample(drawn, seed + 7919L * iteration);
        List<RolloutSample> samples = new ArrayList<>();
        for (int i = 0; i < batch.result.batchSize(); i++) {
            samples.add(new RolloutSample("u" + iteration + "-" + i, "u" + iteration + "-p" + i / groupSize, groupSize,
                    i % groupSize, batch.result.prompts()[i], batch.result.tokens()[i], batch.result.logProbs()[i],
                    version, batch.gold[i], 0.0));
        }
        PpoStats stats = ppo.update(samples, version);
        version++;
        return new Iteration(iteration, mean(batch.gold), stats);
    }

    /** Mean gold reward of {@code n} fresh responses (one per prompt) to prompts drawn with {@code evalSeed}. */
    public double evaluateGold(int n, long evalSeed) {
        return mean(sampleOne(world.prompts(evalSeed).next(n), evalSeed).gold);
    }

    private Batch sample(List<WorldPrompt> drawn, long drawSeed) {
        List<WorldPrompt> rows = new ArrayList<>();
        for (WorldPrompt p : drawn) {
            for (int g = 0; g < groupSize; g++) {
                rows.add(p);
            }
        }
        return sampleOne(rows, drawSeed);
    }

    private Batch sampleOne(List<WorldPrompt> rows, long drawSeed) {
        int[][] ids = new int[rows.size()][];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = vocabulary.encodePrompt(rows.get(i));
        }
        SampleResult result = sampler.sample(ids,
                SamplingParams.of(maxNewTokens, vocabulary.eosId(), vocabulary.padId(), drawSeed));
        double[] gold = new double[ids.length];
        for (int i = 0; i < ids.length; i++) {
            gold[i] = world.gold().score(rows.get(i), vocabulary.responseWords(result.tokens()[i])).total();
        }
        return new Batch(result, gold);
    }

    private record Batch(SampleResult result, double[] gold) {
    }

    private static double mean(double[] xs) {
        double s = 0;
        for (double x : xs) {
            s += x;
        }
        return s / xs.length;
    }
}
