package io.streamrlhf.learner.ppo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.util.Pair;
import io.streamrlhf.models.checkpoint.ModelWeights;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.engine.NoGrad;
import io.streamrlhf.models.policy.PolicyOutput;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The flat all-parameter AdamW against DJL's per-parameter kernel (the reference), with clipping
 * active, through critic warm-up (a subset trains) and a save/restore.
 */
class CheckpointableAdamWTest {

    private static final TransformerConfig SHAPE = new TransformerConfig(16, 12, 16, 1, 2);
    private static final Predicate<String> ALL = name -> true;
    private static final Predicate<String> VALUE_HEAD = name -> name.contains("value");

    private TransformerPolicy fused;
    private TransformerPolicy reference;

    @BeforeEach
    void create() {
        ModelRuntime.init(1);
        fused = TransformerPolicy.create(SHAPE, 3);
        reference = TransformerPolicy.create(SHAPE, 4);
        ModelWeights.copyInto(reference.block(), ModelWeights.encode(fused.block()));
        fused.freeze(false);
        reference.freeze(false);
    }

    @AfterEach
    void close() {
        fused.close();
        reference.close();
    }

    /** Backward of a loss that touches every parameter, then one optimiser step; returns the grad norm. */
    private static double step(TransformerPolicy policy, CheckpointableAdamW adam, int seed, Predicate<String> trainable,
                               double maxNorm) {
        Engine engine = policy.manager().getEngine();
        try (NDManager m = policy.manager().newSubManager()) {
            int[] tokens = new int[2 * 6];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = (i * 7 + seed * 3) % SHAPE.vocabSize();
            }
            NDArray input = m.create(tokens, new Shape(2, 6));
            try (GradientCollector gc = engine.newGradientCollector()) {
                PolicyOutput out = policy.forward(input, null, true);
                NDArray loss = out.logits().logSoftmax(-1).get(":, :, 1").mean().neg()
                        .add(out.values().square().mean());
                gc.backward(loss);
            }
            return adam.step(policy.block(), m, 1e-2f, 0.01f, trainable, maxNorm);
        }
    }

    /** Steps {@code from} until {@code to}, clip 1.0: {@code onFused} on one policy, {@code onReference} on the other. */
    private void stepBoth(CheckpointableAdamW onFused, CheckpointableAdamW onReference, int from, int to,
                          Predicate<String> trainable) {
        for (int s = from; s < to; s++) {
            step(fused, onFused, s, trainable, 1.0);
            step(reference, onReference, s, trainable, 1.0);
        }
    }

    private static Map<String, float[]> weights(TransformerPolicy policy) {
        Map<String, float[]> out = new HashMap<>();
        for (Pair<String, Parameter> p : policy.block().getParameters()) {
            out.put(p.getKey(), p.getValue().getArray().toFloatArray());
        }
        return out;
    }

    private void assertSameWeights() {
        Map<String, float[]> expected = weights(reference);
        Map<String, float[]> actual = weights(fused);
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        for (String name : expected.keySet()) {
            assertThat(actual.get(name)).as(name).containsExactly(expected.get(name), within(2e-6f));
        }
    }

    @Test
    void flatUpdateMatchesPerParameterKernelWithClippingAndCriticWarmup() {
        CheckpointableAdamW flat = new CheckpointableAdamW();
        CheckpointableAdamW perParameter = new CheckpointableAdamW().perParameter();
        Map<String, float[]> before = weights(fused);
        for (int s = 0; s < 6; s++) {
            // Two critic warm-up steps (value head only), then all parameters; a tight clip on odd steps.
            Predicate<String> trainable = s < 2 ? VALUE_HEAD : ALL;
            double maxNorm = s % 2 == 1 ? 0.05 : 0.0;
            double a = step(fused, flat, s, trainable, maxNorm);
            double b = step(reference, perParameter, s, trainable, maxNorm);
            assertThat(a).isCloseTo(b, within(1e-5 * b));
            assertThat(a).isGreaterThan(0.05);  // so the odd steps did clip
            assertSameWeights();
        }
        // It really trained, and the frozen-during-warm-up layers moved only after it.
        String fc1 = before.keySet().stream().filter(n -> n.contains("fc1_weight")).findFirst().orElseThrow();
        assertThat(weights(fused).get(fc1)).isNotEqualTo(before.get(fc1));
        // After the warm-up the value head is two steps ahead of the actor; the steps stayed flat.
        assertThat(flat.flatSteps()).isEqualTo(4);
        assertThat(perParameter.flatSteps()).isZero();
    }

    @Test
    void stepsOnAThreadThatRecordsGradients() throws Exception {
        // PyTorch records autograd graphs by default on every thread but the one that loaded the
        // engine (a learner thread, a stream thread); an in-place update of a leaf that takes
        // gradients then fails. The step must not depend on the caller's grad mode.
        CheckpointableAdamW flat = new CheckpointableAdamW();
        CheckpointableAdamW perParameter = new CheckpointableAdamW().perParameter();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean recordingBefore = new AtomicBoolean();
        AtomicBoolean recordingAfter = new AtomicBoolean();
        Thread worker = new Thread(() -> {
            try {
                recordingBefore.set(NoGrad.recording());
                stepBoth(flat, perParameter, 0, 1, VALUE_HEAD);
                stepBoth(flat, perParameter, 1, 4, ALL);
                recordingAfter.set(NoGrad.recording());
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "adamw-test-recording-thread");
        worker.start();
        worker.join();
        assertThat(failure.get()).isNull();
        assertThat(recordingBefore.get()).as("a new thread records by default").isTrue();
        assertThat(recordingAfter.get()).as("the caller's grad mode is restored").isTrue();
        assertThat(flat.flatSteps()).isEqualTo(3);
        assertSameWeights();
    }

    @Test
    void stateRoundTripsThroughTheFlatLayout() {
        saveAfterAndTrainOnRestored(3, ALL);
        assertSameWeights();
    }

    @Test
    void stateSavedDuringCriticWarmupRestoresAndTrainsOnLikeTheUninterruptedRun() {
        // A checkpoint after warm-up steps only: the actor's parameters have zero moments and no steps yet.
        saveAfterAndTrainOnRestored(2, VALUE_HEAD);
        assertSameWeights();
    }

    /**
     * Steps 0 until {@code saveAt} with {@code trainableBefore}, saves the flat optimiser's state into a new one
     * (checking the round trip: same bytes, same parameters), and trains both policies on to step 5 with all
     * parameters, the fused one with the restored optimiser.
     */
    private void saveAfterAndTrainOnRestored(int saveAt, Predicate<String> trainableBefore) {
        CheckpointableAdamW flat = new CheckpointableAdamW();
        CheckpointableAdamW perParameter = new CheckpointableAdamW().perParameter();
        stepBoth(flat, perParameter, 0, saveAt, trainableBefore);
        CheckpointableAdamW restored = new CheckpointableAdamW();
        restored.restore(flat.state(), fused.block());
        assertThat(restored.state()).isEqualTo(flat.state());
        assertThat(restored.size()).isEqualTo(flat.size());
        stepBoth(restored, perParameter, saveAt, 5, ALL);
    }
}
