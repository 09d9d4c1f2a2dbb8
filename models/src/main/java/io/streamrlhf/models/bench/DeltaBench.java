package io.streamrlhf.models.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointDelta;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Bytes per policy version, full and as a {@link CheckpointDelta}, and the swap latency of a delta version: apply
 * it to the held bytes, verify the result ({@link CheckpointStore#fromBytes}) and load the weights into a running
 * policy. Versions differ as Adam steps make them differ: every weight moved by about the learning rate, in a random
 * sign (the first Adam step moves each weight by exactly lr; later ones by less).
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
     * Publishes {@code versions} versions of a policy of {@code shape} in memory, each {@code stepsPerVersion} Adam
     * steps of {@code lr} after the one before, and measures them.
     */
    public static Result run(TransformerConfig shape, int versions, int stepsPerVersion, double lr, long seed,
                             Consumer<String> progress) {
        if (versions < 2) {
            throw new IllegalArgumentException("versions must be at least 2, got " + versions);
        }
        try (TransformerPolicy learner = TransformerPolicy.create(shape, seed);
             TransformerPolicy worker = TransformerPolicy.create(shape, seed + 1)) {
            Checkpoint current = learner.toCheckpoint(Map.of("version", "1"), null);
            byte[] held = CheckpointStore.toBytes(current);
            worker.loadWeights(CheckpointStore.fromBytes(held));
            long fullTotal = 0;
            long deltaTotal = 0;
            double[] swapMs = new double[versions - 1];
            for (int v = 2; v <= versions; v++) {
                byte[] weights = current.weights();
                for (int s = 0; s < stepsPerVersion; s++) {
                    weights = adamStep(weights, lr, seed * 1000 + v * 10L + s);
                }
                current = new Checkpoint(current.kind(), current.architecture(), current.config(), weights, null,
                        Map.of("version", Integer.toString(v)), current.modelFiles());
                byte[] full = CheckpointStore.toBytes(current);
                byte[] delta = CheckpointDelta.encode(v - 1L, held, full);
                long start = System.nanoTime();
                byte[] rebuilt = CheckpointDelta.apply(held, delta);
                worker.loadWeights(CheckpointStore.fromBytes(rebuilt));
                swapMs[v - 2] = (System.nanoTime() - start) / 1e6;
                if (!Arrays.equals(rebuilt, full)) {
                    throw new IllegalStateException("delta of version " + v + " did not rebuild the full bytes");
                }
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
    }

    /** Every weight moved by lr in a random sign, as the first Adam step moves it. */
    static byte[] adamStep(byte[] weights, double lr, long seed) {
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed((int) seed);
            NDList out = new NDList();
            for (NDArray a : NDList.decode(m, weights)) {
                NDArray moved = a.add(m.randomNormal(a.getShape()).sign().mul((float) lr));
                moved.setName(a.getName());
                out.add(moved);
            }
            return out.encode();
        }
    }
}
