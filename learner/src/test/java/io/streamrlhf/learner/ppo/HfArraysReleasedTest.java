package io.streamrlhf.learner.ppo;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.policy.ResponseLogProbs;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.SamplingParams;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Sampling, reference log-probs and PPO updates of a Hugging Face policy leave no array behind in the model's
 * managers: an operation's result belongs to its receiver's manager, so one whose receiver is a weight (a norm's
 * {@code weight · x}, a transposed projection) would leave an array in the model's manager on every forward, native
 * memory that only closing the model frees (the demo on a tiny Qwen2 grew by gigabytes a minute).
 */
class HfArraysReleasedTest {

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(TinyHfModels.Architecture.class)
    void repeatedSamplingScoringAndUpdatesKeepTheModelsArrayCountFlat(TinyHfModels.Architecture arch)
            throws Exception {
        ModelRuntime.init(1);
        int vocab = arch.config().vocabSize();
        Path dir = TinyHfModels.writeTokenizer(TinyHfModels.write(tmp.resolve("policy"), arch, 1), vocab);
        try (HfPolicy policy = HfPolicy.load(dir, 32); HfPolicy reference = policy.referenceCopy()) {
            NDManager root = policy.manager();
            while (root.getParentManager() != null && root.getParentManager() != root) {
                root = root.getParentManager();
            }
            PpoUpdate ppo = new PpoUpdate(new PpoConfig(Map.of(PpoConfig.LEARNING_RATE, 1e-3,
                    PpoConfig.WARMUP_STEPS, 0, PpoConfig.MINIBATCH_SIZE, 8, PpoConfig.EPOCHS, 1)), policy, reference,
                    null);
            Random random = new Random(1);
            List<Integer> counts = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                int[][] prompts = new int[8][];
                for (int i = 0; i < prompts.length; i++) {
                    prompts[i] = new int[] {4 + random.nextInt(vocab - 4), 5, 6};
                }
                SampleResult r = PolicyLoader.sampler(policy).sample(prompts, SamplingParams.of(8, 3, 0, round),
                        new int[0]);
                List<int[]> promptList = new ArrayList<>();
                List<int[]> responses = new ArrayList<>();
                List<RolloutSample> samples = new ArrayList<>();
                for (int i = 0; i < r.batchSize(); i++) {
                    promptList.add(prompts[i]);
                    responses.add(r.tokens()[i]);
                    samples.add(new RolloutSample("g" + round + "-" + i, "p" + round + "-" + i / 2, 2, i % 2,
                            prompts[i], r.tokens()[i], r.logProbs()[i], 1, random.nextGaussian(), 0.1));
                }
                ResponseLogProbs.compute(reference, promptList, responses);
                ppo.update(samples, 1);
                counts.add(arrays(root));
            }
            // the first update makes the optimiser's moments; after it nothing may accumulate
            assertThat(counts.get(2)).as("arrays after rounds 1, 2, 3: %s", counts).isEqualTo(counts.get(1));
        }
    }

    /** Arrays and managers below {@code manager}, read from DJL's own bookkeeping (no public count exists). */
    private static int arrays(NDManager manager) throws ReflectiveOperationException {
        Field resources = BaseNDManager.class.getDeclaredField("resources");
        resources.setAccessible(true);
        int n = 0;
        for (Object r : ((Map<?, ?>) resources.get(manager)).values()) {
            n += r instanceof NDManager sub ? 1 + arrays(sub) : 1;
        }
        return n;
    }
}
