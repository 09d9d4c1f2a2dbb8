package io.streamrlhf.learner.ppo;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sft.SftConfig;
import io.streamrlhf.models.sft.SftTrainer;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.SyntheticWorld;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The learning test: PPO-max on the synthetic world, no Kafka, raises the gold reward of an SFT
 * policy while the KL to the SFT reference stays bounded.
 */
class OfflineLearningTest {

    private static final Logger LOG = LoggerFactory.getLogger(OfflineLearningTest.class);
    static final int UPDATES = 40;
    static final double MARGIN = 0.25;
    static final double MAX_KL = 15.0;

    @Test
    void ppoRaisesGoldRewardOfTheSftPolicyWithBoundedKl() {
        ModelRuntime.init(2);
        SyntheticWorld world = SyntheticWorld.standard();
        TransformerConfig shape = new TransformerConfig(world.vocabulary().size(), 48, 64, 2, 4);
        SftConfig sft = SftConfig.demo().withModel(shape).withSteps(300);
        long start = System.nanoTime();
        try (TransformerPolicy policy = TransformerPolicy.create(shape, 1)) {
            new SftTrainer(world, sft).train(policy, false);
            double sftSeconds = (System.nanoTime() - start) / 1e9;
            try (TransformerPolicy reference = policy.referenceCopy()) {
                PpoConfig config = PpoConfig.defaults().with(Map.of(
                        PpoConfig.LEARNING_RATE, 3e-4,
                        PpoConfig.KL_COEF, 0.02,
                        PpoConfig.EPOCHS, 2,
                        PpoConfig.MINIBATCH_SIZE, 32,
                        PpoConfig.CRITIC_WARMUP_UPDATES, 2,
                        PpoConfig.WARMUP_STEPS, 4));
                PpoUpdate ppo = new PpoUpdate(config, policy, reference, null);
                OfflinePpoLoop loop = new OfflinePpoLoop(world, ppo, policy, 16, 4, 40, 11);
                double before = loop.evaluateGold(256, 99);
                double kl = 0;
                for (int u = 0; u < UPDATES; u++) {
                    OfflinePpoLoop.Iteration it = loop.iterate();
                    kl = it.stats().get("policy/kl_ref");
                    if (u % 5 == 0 || u == UPDATES - 1) {
                        LOG.info("update {}: gold {} kl_ref {} approx_kl {} clipfrac {} ev {}", it.update(),
                                fmt(it.goldMean()), fmt(kl), fmt(it.stats().get("losses/approx_kl")),
                                fmt(it.stats().get("losses/clipfrac")),
                                fmt(it.stats().get("losses/explained_variance")));
                    }
                }
                double after = loop.evaluateGold(256, 99);
                double seconds = (System.nanoTime() - start) / 1e9;
                LOG.info("gold before {} after {} (+{}) in {} updates; kl_ref {}; SFT {}s, total {}s", fmt(before),
                        fmt(after), fmt(after - before), UPDATES, fmt(kl), fmt(sftSeconds), fmt(seconds));
                assertThat(after - before).as("gold gain after %d updates", UPDATES).isGreaterThan(MARGIN);
                assertThat(kl).as("KL to the SFT reference, nats per sequence").isBetween(-1.0, MAX_KL);
            }
        }
    }

    private static String fmt(double v) {
        return String.format("%.3f", v);
    }
}
