package io.streamrlhf.models.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.streamrlhf.models.checkpoint.CheckpointDelta;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Bytes per policy version, full and as a {@link CheckpointDelta}, and the swap latency of a delta version: apply
 * it to the held bytes, verify the result ({@link CheckpointStore#fromBytes}) and load the weights into a running
 * policy. Versions differ as Adam steps make them differ: every weight moved by up to the learning rate, by an amount
 * that varies from weight to weight.
 */
public final class DeltaBench {

    private DeltaBench() {
    }

    /**
     * What one shape measured.
     *
     * @param fullBytes  mean bytes of a full version
     * @param deltaBytes mean bytes of a delta version
     * @param swapP99Ms  99th percentile of apply + verify + load, in milliseconds
     */
    public record Result(double fullBytes, double deltaBytes, double swapP99Ms) {
        /** Delta bytes over full bytes. */
        public double ratio() {
            return deltaBytes / fullBytes;
        }
    }

    /**
     * Publishes {@code versions} versions of a policy of {@code shape}, each {@code stepsPerVersion} Adam steps of
     * {@code lr} after the one before, and measures them.
     */
    public static Result run(TransformerConfig shape, int versions, int stepsPerVersion, double lr, long seed,
                             Consumer<String> progress) {
        try (TransformerPolicy learner = TransformerPolicy.create(shape, seed);
             TransformerPolicy worker = TransformerPolicy.create(shape, seed + 1)) {
            List<NDArray> params = new ArrayList<>();
            learner.block().getParameters().forEach(p -> params.add(p.getValue().getArray()));
            return run(learner, params, worker, versions, stepsPerVersion, lr, seed, progress);
        }
    }

    /**
     * The same for a Hugging Face folder ({@link HfPolicy}; its weights travel as safetensors bytes), loaded twice: the
     * learner's copy and the worker's.
     */
    public static Result runHf(Path folder, int context, int versions, int stepsPerVersion, double lr, long seed,
                               Consumer<String> progress) {
        try (HfPolicy learner = HfPolicy.load(folder, context);
             HfPolicy worker = HfPolicy.load(folder, context)) {
            List<NDArray> params = new ArrayList<>(learner.namedArrays(true).values());
            return run(learner, params, worker, versions, stepsPerVersion, lr, seed, progress);
        }
    }

    /**
     * Steps {@code params} (the learner's live arrays) in place, publishes a checkpoint of {@code learner} per
     * version, and swaps each into {@code worker} through its delta.
     */
    static Result run(PolicyModel learner, List<NDArray> params, PolicyModel worker, int versions,
                      int stepsPerVersion, double lr, long seed, Consumer<String> progress) {
        if (versions < 2) {
            throw new IllegalArgumentException("versions must be at least 2, got " + versions);
        }
        byte[] held = CheckpointStore.toBytes(learner.toCheckpoint(Map.of("version", "1"), null));
        worker.loadWeights(CheckpointStore.fromBytes(held));
        byte[] prior = null;
        long fullTotal = 0;
        long deltaTotal = 0;
        double[] swapMs = new double[versions - 1];
        for (int v = 2; v <= versions; v++) {
            for (int s = 0; s < stepsPerVersion; s++) {
                adamStep(params, lr, seed * 1000 + v * 10L + s);
            }
            byte[] full = CheckpointStore.toBytes(learner.toCheckpoint(Map.of("version", Integer.toString(v)), null));
            byte[] delta = CheckpointDelta.encode(v - 1L, held, prior, full);
            long start = System.nanoTime();
            byte[] rebuilt = CheckpointDelta.apply(held, prior, delta);
            worker.loadWeights(CheckpointStore.fromBytes(rebuilt));
            swapMs[v - 2] = (System.nanoTime() - start) / 1e6;
            if (!Arrays.equals(rebuilt, full)) {
                throw new IllegalStateException("delta of version " + v + " did not rebuild the full bytes");
            }
            prior = held;
            held = rebuilt;
            fullTotal += full.length;
            deltaTotal += delta.length;
            progress.accept(String.format("version %d: full %,d bytes, delta %,d bytes (%.3f), swap %.1f ms", v,
                    full.length, delta.length, (double) delta.length / full.length, swapMs[v - 2]));
        }
        Arrays.sort(swapMs);
        double p99 = swapMs[Math.min(swapMs.length - 1, (int) Math.ceil(0.99 * swapMs.length) - 1)];
        return new Result((double) fullTotal / (versions - 1), (double) deltaTotal / (versions - 1), p99);
    }

    /**
     * Every array moved in place by up to lr, the amount varying from weight to weight, as an Adam step after the
     * first moves it (m/sqrt(v) spreads over (-1, 1); the first step moves every weight by exactly ±lr, which
     * flatters a delta: the bit difference is then almost fixed by the weight's exponent).
     */
    static void adamStep(List<NDArray> params, double lr, long seed) {
        for (NDArray a : params) {
            try (NDManager m = a.getManager().newSubManager()) {
                m.getEngine().setRandomSeed((int) seed);
                NDArray moved = a.add(m.randomUniform(-1f, 1f, a.getShape(), a.getDataType()).mul((float) lr));
                a.set(moved.toByteBuffer());
            }
        }
    }
}
