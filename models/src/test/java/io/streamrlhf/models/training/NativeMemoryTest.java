package io.streamrlhf.models.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sampling.Sampler;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * 1,000 training steps (plus sampling and hot swaps) must not grow the process's resident memory.
 * The module's Surefire runs with a fixed, pre-touched heap (see models/pom.xml), so VmRSS growth is
 * native growth.
 */
class NativeMemoryTest {

    private static final Logger LOG = LoggerFactory.getLogger(NativeMemoryTest.class);

    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void thousandTrainingStepsGrowRssByLessThanFivePercent() throws IOException {
        ModelRuntime.init(1);
        TransformerConfig config = new TransformerConfig(32, 16, 32, 1, 2);
        try (TransformerPolicy policy = TransformerPolicy.create(config, 1);
             TransformerPolicy other = TransformerPolicy.create(config, 2)) {
            LmTrainer trainer = new LmTrainer(policy, 1e-3f);
            Sampler sampler = new Sampler(policy);
            var swap = other.toCheckpoint(Map.of(), null);
            Random random = new Random(3);
            int[][] rows = new int[8][16];
            Runnable step = () -> {
                for (int[] row : rows) {
                    for (int j = 0; j < row.length; j++) {
                        row[j] = random.nextInt(32);
                    }
                }
                trainer.step(rows);
            };
            for (int i = 0; i < 300; i++) {  // warm-up: allocator pools, JIT, optimiser state
                step.run();
            }
            System.gc();
            long before = rssKb();

            float first = Float.NaN;
            float last = Float.NaN;
            long middle = 0;
            for (int i = 0; i < 1000; i++) {
                if (i == 500) {
                    middle = rssKb();
                }
                step.run();
                if (i % 100 == 0) {
                    // the other native paths a worker exercises, on the side
                    sampler.sample(new int[][] {{1, 2, 3}, {4, 5}}, SamplingParams.of(6, -1, 0, i));
                    other.loadWeights(swap);
                }
            }
            System.gc();
            long after = rssKb();

            double growth = (after - before) / (double) before;
            LOG.info("RSS before {} kB, after 500 steps {} kB, after 1000 steps {} kB, growth {}%", before, middle,
                    after, String.format("%.2f", 100 * growth));
            assertThat(growth).isLessThan(0.05);
            // A leak grows with every step; allocator and JIT settling does not. The second 500 steps
            // must add under 10 kB a step (an unfreed gradient set is ~100 kB a step here).
            assertThat(after - middle).isLessThan(5_000L);
        }
    }
}
